// The shared store against a real server (Valkey or Redis, started here on a free port): the one
// store contract, then what only a shared store can get wrong: two clients (two replicas) on one
// state, expiry by the server's clock, worlds kept apart by prefix, outage and recovery.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { isSharedStoreUrl, StoreUnavailableError } from '../../src/core/store.js'
import { redactUrl, RedisStore } from '../../src/store/redis.js'
import { redisMissing, startRedis } from '../helpers/redis.js'
import { storeContract, type ContractCollections } from './contract.js'

if (!redisMissing(t, 'the Redis store against a real server')) {
  const server = await startRedis(t)
  let worlds = 0

  /** A store on its own prefix, so each test starts empty without touching the others */
  async function connect (prefix = `t${++worlds}`, collections?: string[]): Promise<RedisStore<ContractCollections>> {
    const store = await RedisStore.connect<ContractCollections>({
      url: server.url,
      prefix,
      collections,
      commandTimeoutMs: 1_000
    })
    t.teardown(async () => { await store.close() })
    return store
  }

  t.test('the Redis store keeps the store contract', async (t) => {
    storeContract(t, async () => ({ store: await connect(), advance: async (ms) => { await sleep(ms) } }))
  })

  t.test('two clients on one prefix see one state: a take on one is gone on the other', async (t) => {
    const prefix = `shared${++worlds}`
    const [a, b, c] = await Promise.all([connect(prefix), connect(prefix), connect(prefix)])
    await a.put('codes', 'code-1', { grantId: 'g1' }, 10_000)
    t.strictSame(await b.get('codes', 'code-1'), { grantId: 'g1' })
    const replicas = [a, b, c]
    const taken = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => await replicas[i % 3]?.take('codes', 'code-1'))
    )
    t.strictSame(
      taken.filter((value) => value !== undefined),
      [{ grantId: 'g1' }],
      'exactly one of 30 takes over three clients'
    )
    const counts = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => await replicas[i % 3]?.increment('every-nth'))
    )
    t.strictSame(
      [...counts].sort((x, y) => (x ?? 0) - (y ?? 0)),
      Array.from({ length: 30 }, (_, i) => i + 1),
      'one counter for all'
    )
    t.equal(await c.size('codes'), 0)
  })

  t.test('prefixes are separate worlds, and clear empties only its own', async (t) => {
    const one = await connect()
    const two = await connect()
    await one.put('codes', 'k', { grantId: 'one' }, 10_000)
    await two.put('codes', 'k', { grantId: 'two' }, 10_000)
    await one.increment('n')
    await one.clear()
    t.equal(await one.get('codes', 'k'), undefined)
    t.strictSame(await two.get('codes', 'k'), { grantId: 'two' }, 'the other world keeps its value')
    t.equal(await one.increment('n'), 1)
  })

  t.test('sizes lists the collections given at connect, and any another client wrote', async (t) => {
    const prefix = `sizes${++worlds}`
    const a = await connect(prefix, ['codes', 'grants'])
    t.strictSame(await a.sizes(), { codes: 0, grants: 0 }, 'listed before a first write')
    const b = await connect(prefix)
    await b.put('uses', 'u', { grantId: 'g' }, 10_000)
    t.strictSame(await a.sizes(), { codes: 0, grants: 0, uses: 1 })
  })

  t.test('values are JSON: what goes in comes out, deeply frozen', async (t) => {
    const store = await connect()
    await store.put('codes', 'c', { grantId: 'ü ✓ "quoted"', scopes: ['openid', 'number-verification:verify'] }, 10_000)
    const read = await store.get('codes', 'c')
    t.strictSame(read, { grantId: 'ü ✓ "quoted"', scopes: ['openid', 'number-verification:verify'] })
    t.ok(Object.isFrozen(read) && Object.isFrozen(read?.scopes))
  })

  t.test('keys are the caller\'s strings, whatever they hold', async (t) => {
    const store = await connect()
    for (const key of ['a:b:c', '{nv}', '*', 'spaced key', 'ü']) {
      await store.put('codes', key, { grantId: key }, 10_000)
      t.strictSame(await store.take('codes', key), { grantId: key }, key)
    }
    t.equal(await store.size('codes'), 0)
  })

  t.test('a URL that is not redis:// or rediss:// is refused before anything connects', async (t) => {
    t.equal(isSharedStoreUrl('redis://127.0.0.1:6379'), true)
    t.equal(isSharedStoreUrl('rediss://cache.example:6380/2'), true)
    t.equal(isSharedStoreUrl('http://127.0.0.1:6379'), false)
    t.equal(isSharedStoreUrl('redis://'), false)
    await t.rejects(RedisStore.connect({ url: 'memcached://127.0.0.1:11211' }), {
      name: 'RangeError',
      message: 'not a redis:// or rediss:// URL: memcached://127.0.0.1:11211'
    })
  })

  t.test('a password never shows in a message', async (t) => {
    t.equal(redactUrl('redis://user:s3cret@cache.example:6379/0'), 'redis://user:***@cache.example:6379/0')
    t.equal(redactUrl('redis://cache.example:6379'), 'redis://cache.example:6379')
    const refused = RedisStore.connect({ url: 'redis://user:s3cret@127.0.0.1:1', connectTimeoutMs: 500 })
    await t.rejects(refused, StoreUnavailableError)
    await t.rejects(refused, { message: /^cannot reach the store at redis:\/\/user:\*\*\*@127\.0\.0\.1:1/ })
    const error = await refused.catch((error: Error) => error)
    t.notMatch(String((error as Error).message), /s3cret/)
  })

  t.test('while the server is down every operation is unavailable at once; then it resumes by itself', async (t) => {
    const events: boolean[] = []
    const store = await RedisStore.connect<ContractCollections>({
      url: server.url,
      prefix: `outage${++worlds}`,
      commandTimeoutMs: 1_000,
      onConnectionChange: ({ up }) => events.push(up)
    })
    t.teardown(async () => { await store.close() })
    await store.put('codes', 'before', { grantId: 'g' }, 60_000)
    await server.stop({ crash: true })
    const started = Date.now()
    for (const operation of [
      store.get('codes', 'before'),
      store.put('codes', 'k', { grantId: 'g' }, 1_000),
      store.take('codes', 'before'),
      store.increment('n'),
      store.size('codes'),
      store.ping()
    ] as Array<Promise<unknown>>) await t.rejects(operation.then(() => undefined), StoreUnavailableError)
    t.ok(Date.now() - started < 1_000, 'refused without waiting for the command timeout')
    await t.rejects(store.get('codes', 'before'), {
      message: new RegExp(`^the store at redis://127\\.0\\.0\\.1:${server.port} is unavailable: `)
    })
    await server.start()
    let back = false
    for (let i = 0; i < 100 && !back; i++) {
      back = await store.ping().then(() => true, () => false)
      if (!back) await sleep(50)
    }
    t.equal(back, true, 'reconnected without being asked')
    t.equal(await store.get('codes', 'before'), undefined, 'a restarted server without persistence starts empty')
    await store.put('codes', 'after', { grantId: 'g' }, 10_000)
    t.strictSame(await store.take('codes', 'after'), { grantId: 'g' })
    t.strictSame(events, [false, true], 'told once when it went down and once when it came back, not at every retry')
  })

  t.test('a server that hangs (connected, answering nothing) is unavailable after the command timeout', async (t) => {
    const store = await RedisStore.connect<ContractCollections>({
      url: server.url,
      prefix: `hang${++worlds}`,
      commandTimeoutMs: 300
    })
    t.teardown(async () => { await store.close() })
    await store.put('codes', 'k', { grantId: 'g' }, 60_000)
    server.freeze(true)
    t.teardown(() => { server.freeze(false) })
    const started = Date.now()
    await t.rejects(store.get('codes', 'k'), StoreUnavailableError)
    const waited = Date.now() - started
    t.ok(waited >= 250 && waited < 5_000, `refused after the command timeout, not never (${waited} ms)`)
    server.freeze(false)
    let value
    for (let i = 0; i < 100 && value === undefined; i++) {
      value = await store.get('codes', 'k').catch(() => undefined)
      if (value === undefined) await sleep(50)
    }
    t.strictSame(value, { grantId: 'g' }, 'answers again once the server does')
  })

  t.test('a closed store says so', async (t) => {
    const store = await connect()
    await store.close()
    await store.close()
    await t.rejects(store.get('codes', 'k'), { name: 'StoreUnavailableError', message: /the store is closed$/ })
  })
}
