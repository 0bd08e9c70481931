// The shared store: Valkey or Redis 7+ (standalone), so replicas of the emulator see one state.
// Client: @redis/client (node-redis), the client Redis maintains, which speaks to Valkey as well.
//
// Layout, every key under one hash tag (`{nv}` by default) so the scripts' keys share a slot:
//   {nv}:v:<collection>:<key>  the value, JSON, with the server's own expiry (PX)
//   {nv}:i:<collection>        a sorted set of the collection's keys scored by expiry (server ms),
//                              so size() is a ZCARD after trimming what expired, not a SCAN
//   {nv}:n:<counter>           a counter (INCR), its lifetime restarted at each increment
//   {nv}:collections           the collection names ever written, for sizes()
//   {nv:ns:<name>}:...         a namespace's store (namespace()): the same layout under its own tag
// Every change is one Lua script, so it is atomic on the server: take is GETDEL, add is SET NX;
// times come from the server's clock (TIME), so replicas with drifting clocks agree on expiry.
import { createClient, ErrorReply } from '@redis/client'
import { createHash } from 'node:crypto'
import { deepFreeze } from '../core/scenarios/freeze.js'
import {
  checkNamespaceName, checkTtl, isSharedStoreUrl, StoreUnavailableError,
  type CollectionMap, type CollectionName, type Store
} from '../core/store.js'

/** The server's time in ms, as `now` */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`
/** Drops from the index in KEYS[n] the keys that expired by `now` */
const trim = (n: number): string => `redis.call('ZREMRANGEBYSCORE', KEYS[${n}], '-inf', now)\n`

/** KEYS: value, index, collections; ARGV: json, ttl, key, collection */
const PUT = `${NOW}redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[3])
${trim(2)}redis.call('SADD', KEYS[3], ARGV[4])
return 1`

/** Same keys and arguments as PUT; 1 when written, 0 when a live value has the key */
const ADD = `${NOW}if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[3])
${trim(2)}redis.call('SADD', KEYS[3], ARGV[4])
return 1`

/** KEYS: value, index; ARGV: key. The value, or nil */
const TAKE = `local value = redis.call('GETDEL', KEYS[1])
if value then redis.call('ZREM', KEYS[2], ARGV[1]) end
return value`

/** KEYS: value, index; ARGV: key. 1 when a live value was removed */
const DELETE = `local removed = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return removed`

/** KEYS: counter; ARGV: ttl or ''. The new count */
const INCREMENT = `local count = redis.call('INCR', KEYS[1])
if ARGV[1] == '' then redis.call('PERSIST', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`

/** KEYS: value, index; ARGV: ttl, key. 1 when a live value's lifetime was restarted */
const TOUCH = `${NOW}if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], 'XX', now + tonumber(ARGV[1]), ARGV[2])
return 1`

/** KEYS: index. The keys of the collection's live entries */
const KEYS_OF = `${NOW}${trim(1)}return redis.call('ZRANGE', KEYS[1], 0, -1)`

/** KEYS: index. The live entries of the collection */
const SIZE = `${NOW}${trim(1)}return redis.call('ZCARD', KEYS[1])`

interface Script { source: string, sha: string }

function script (source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') }
}

const SCRIPTS = {
  put: script(PUT),
  add: script(ADD),
  take: script(TAKE),
  delete: script(DELETE),
  increment: script(INCREMENT),
  size: script(SIZE),
  touch: script(TOUCH),
  keys: script(KEYS_OF)
}

export interface RedisStoreOptions {
  /** redis://[user:password@]host:port[/db] or rediss://... */
  url: string
  /** The hash tag every key lives under; replicas sharing a world share it (default 'nv') */
  prefix?: string
  /** Collections sizes() always lists, even before a first write */
  collections?: readonly string[]
  /** Ms a command may take before the store counts as unavailable (default 2,000) */
  commandTimeoutMs?: number
  /** Ms the first connection may take (default 5,000) */
  connectTimeoutMs?: number
  /** Told once when the connection drops and once when it is back (the log), not at every retry */
  onConnectionChange?: (event: { up: boolean, error?: Error }) => void
}

function makeClient (options: RedisStoreOptions, connected: () => boolean) {
  return createClient({
    url: options.url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: options.connectTimeoutMs ?? 5_000,
      // Before the first connection: give up (start-up reports it); after: retry for ever, backing off
      reconnectStrategy: (retries: number) => connected() ? Math.min(50 * 2 ** Math.min(retries, 6), 2_000) : false
    }
  })
}

type Client = ReturnType<typeof makeClient>

/** The URL with any password replaced, for messages and the log */
export function redactUrl (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(unparseable URL)'
  }
}

/**
 * Valkey or Redis behind the store port. While the server is unreachable every operation rejects
 * with StoreUnavailableError at once (no offline queue: a request never waits for a reconnect) and
 * the client reconnects by itself in the background.
 */
export class RedisStore<M extends CollectionMap> implements Store<M> {
  readonly shared = true
  private readonly client: Client
  private readonly tag: string
  private readonly known: ReadonlySet<string>
  private readonly where: string
  private readonly options: RedisStoreOptions
  /** A namespace's store shares its parent's connection and never closes it */
  private readonly ownsClient: boolean
  private closed = false
  /**
   * A hung server (connected, answering nothing) fails a command after the timeout, sent or not:
   * the request answers 503 instead of hanging. A timed-out take may still have run on the server,
   * so the credential can be spent with a 503 answered, as with a real store behind a real service
   */
  private readonly commandOptions: { timeout: number, rejectInFlight: true }

  private constructor (client: Client, options: RedisStoreOptions, ownsClient = true) {
    this.client = client
    this.options = options
    this.ownsClient = ownsClient
    this.tag = `{${options.prefix ?? 'nv'}}`
    this.known = new Set(options.collections ?? [])
    this.commandOptions = { timeout: options.commandTimeoutMs ?? 2_000, rejectInFlight: true }
    this.where = redactUrl(options.url)
  }

  /** Connects, or rejects with StoreUnavailableError naming the server */
  static async connect<M extends CollectionMap>(options: RedisStoreOptions): Promise<RedisStore<M>> {
    if (!isSharedStoreUrl(options.url)) throw new RangeError(`not a redis:// or rediss:// URL: ${redactUrl(options.url)}`)
    let connected = false
    const client = makeClient(options, () => connected)
    // Without a listener an 'error' event would end the process; the outage is an answer instead.
    // The client reports an error at every failed retry: only the changes are passed on
    let up = true
    const change = (event: { up: boolean, error?: Error }): void => {
      if (!connected || event.up === up) return
      up = event.up
      options.onConnectionChange?.(event)
    }
    client.on('error', (error: Error) => { change({ up: false, error }) })
    client.on('ready', () => { change({ up: true }) })
    try {
      await client.connect()
    } catch (error) {
      client.destroy()
      throw new StoreUnavailableError(
        `cannot reach the store at ${redactUrl(options.url)}: ${(error as Error).message}`,
        { cause: error }
      )
    }
    connected = true
    return new RedisStore<M>(client, options)
  }

  private valueKey (collection: string, key: string): string {
    return `${this.tag}:v:${collection}:${key}`
  }

  private indexKey (collection: string): string {
    return `${this.tag}:i:${collection}`
  }

  private get collectionsKey (): string {
    return `${this.tag}:collections`
  }

  private async command<T>(args: string[]): Promise<T> {
    try {
      return await this.client.sendCommand(args, this.commandOptions) as T
    } catch (error) {
      throw this.unavailable(error)
    }
  }

  /** A script by its digest, sent whole once the server says it does not know it (NOSCRIPT) */
  private async run<T>(which: Script, keys: string[], args: string[]): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args]
    try {
      return await this.client.sendCommand(['EVALSHA', which.sha, ...tail], this.commandOptions) as T
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw this.unavailable(error)
    }
    return await this.command<T>(['EVAL', which.source, ...tail])
  }

  private unavailable (error: unknown): Error {
    // A reply error (a script bug, a wrong type) is a defect, not an outage: it stays as it is
    if (error instanceof ErrorReply) return error
    const why = this.closed ? 'the store is closed' : (error as Error)?.message ?? String(error)
    return new StoreUnavailableError(`the store at ${this.where} is unavailable: ${why}`, { cause: error })
  }

  private parse<T>(raw: unknown): T | undefined {
    if (raw === null || raw === undefined) return undefined
    return deepFreeze(JSON.parse(String(raw)) as T)
  }

  async get<C extends CollectionName<M>>(collection: C, key: string): Promise<Readonly<M[C]> | undefined> {
    return this.parse<M[C]>(await this.command(['GET', this.valueKey(collection, key)]))
  }

  private writeArgs (collection: string, key: string, value: unknown, ttlMs: number): [string[], string[]] {
    return [
      [this.valueKey(collection, key), this.indexKey(collection), this.collectionsKey],
      [JSON.stringify(value), String(Math.ceil(ttlMs)), key, collection]
    ]
  }

  async put<C extends CollectionName<M>>(collection: C, key: string, value: M[C], ttlMs: number): Promise<void> {
    checkTtl(ttlMs)
    await this.run(SCRIPTS.put, ...this.writeArgs(collection, key, value, ttlMs))
  }

  async add<C extends CollectionName<M>>(collection: C, key: string, value: M[C], ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs)
    return await this.run<number>(SCRIPTS.add, ...this.writeArgs(collection, key, value, ttlMs)) === 1
  }

  async take<C extends CollectionName<M>>(collection: C, key: string): Promise<Readonly<M[C]> | undefined> {
    return this.parse<M[C]>(
      await this.run(SCRIPTS.take, [this.valueKey(collection, key), this.indexKey(collection)], [key])
    )
  }

  async delete<C extends CollectionName<M>>(collection: C, key: string): Promise<boolean> {
    return await this.run<number>(
      SCRIPTS.delete, [this.valueKey(collection, key), this.indexKey(collection)], [key]
    ) === 1
  }

  async increment (counter: string, ttlMs?: number): Promise<number> {
    if (ttlMs !== undefined) checkTtl(ttlMs)
    return await this.run<number>(
      SCRIPTS.increment, [`${this.tag}:n:${counter}`], [ttlMs === undefined ? '' : String(Math.ceil(ttlMs))]
    )
  }

  async count (counter: string): Promise<number> {
    return Number(await this.command<string | null>(['GET', `${this.tag}:n:${counter}`]) ?? 0)
  }

  async touch<C extends CollectionName<M>>(collection: C, key: string, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs)
    return await this.run<number>(
      SCRIPTS.touch, [this.valueKey(collection, key), this.indexKey(collection)], [String(Math.ceil(ttlMs)), key]
    ) === 1
  }

  async list<C extends CollectionName<M>>(collection: C): Promise<Array<{ key: string, value: Readonly<M[C]> }>> {
    const keys = await this.run<string[]>(SCRIPTS.keys, [this.indexKey(collection)], [])
    if (keys.length === 0) return []
    const values = await this.command<Array<string | null>>(
      ['MGET', ...keys.map((key) => this.valueKey(collection, key))]
    )
    // A value that expired between the two commands is left out
    return keys.flatMap((key, i) => {
      const value = this.parse<M[C]>(values[i])
      return value === undefined ? [] : [{ key, value }]
    })
  }

  /**
   * The same server under the hash tag `{<prefix>:ns:<name>}`: the parent's SCAN for its own tag
   * never matches it, so the parent's clear() leaves every namespace alone and the reverse
   */
  namespace (name: string): RedisStore<M> {
    checkNamespaceName(name)
    return new RedisStore<M>(
      this.client, { ...this.options, prefix: `${this.options.prefix ?? 'nv'}:ns:${name}` }, false
    )
  }

  async clear (): Promise<void> {
    // Key by key (SCAN + UNLINK), never FLUSHDB: the database may hold other worlds or other data
    let cursor = '0'
    do {
      const [next, keys] = await this.command<[string, string[]]>(
        ['SCAN', cursor, 'MATCH', `${this.tag}:*`, 'COUNT', '500']
      )
      if (keys.length > 0) await this.command(['UNLINK', ...keys])
      cursor = String(next)
    } while (cursor !== '0')
  }

  async size (collection: CollectionName<M>): Promise<number> {
    return await this.run<number>(SCRIPTS.size, [this.indexKey(collection)], [])
  }

  async sizes (): Promise<Record<CollectionName<M>, number>> {
    const written = await this.command<string[]>(['SMEMBERS', this.collectionsKey])
    const names = [...new Set([...this.known, ...written])]
    const counts = await Promise.all(names.map(async (name) => await this.size(name as CollectionName<M>)))
    return Object.fromEntries(names.map((name, i) => [name, counts[i]])) as Record<CollectionName<M>, number>
  }

  /** Whether the server answers now (health) */
  async ping (): Promise<void> {
    await this.command(['PING'])
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (!this.ownsClient) return
    if (this.client.isOpen) await this.client.close()
    else this.client.destroy()
  }
}
