// The store port: every piece of state that outlives a request lives behind it, in typed
// collections with a time to live. Reads return frozen values and every change is an explicit
// write; `take` (read and remove in one step) is how anything single-use is spent, so N parallel
// uses of one credential see exactly one success on any implementation. src/store/ holds the
// implementations (memory, the default); each passes the one contract suite (test/store/contract.ts).

/** Collection name -> the type of its values */
export type CollectionMap = object

export type CollectionName<M extends CollectionMap> = keyof M & string

export interface Store<M extends CollectionMap> {
  /** Whether other processes (replicas) share this store's state */
  readonly shared: boolean
  /** The live value, frozen; undefined when absent or expired */
  get: <C extends CollectionName<M>>(collection: C, key: string) => Promise<Readonly<M[C]> | undefined>
  /** Writes (or replaces) a value that expires after ttlMs; the store keeps a frozen value */
  put: <C extends CollectionName<M>>(collection: C, key: string, value: M[C], ttlMs: number) => Promise<void>
  /** Writes only when no live value has the key: true when written (a `jti` seen once) */
  add: <C extends CollectionName<M>>(collection: C, key: string, value: M[C], ttlMs: number) => Promise<boolean>
  /** Reads and removes in one atomic step: of N parallel takes of one key, one gets the value */
  take: <C extends CollectionName<M>>(collection: C, key: string) => Promise<Readonly<M[C]> | undefined>
  /** Removes a value; true when there was a live one */
  delete: <C extends CollectionName<M>>(collection: C, key: string) => Promise<boolean>
  /**
   * Adds one to a counter and returns the new count, atomically (first use: 1). ttlMs, when
   * given, restarts the counter's lifetime at each increment; without it the counter lasts until
   * cleared.
   */
  increment: (counter: string, ttlMs?: number) => Promise<number>
  /** A counter's count, without counting (0 when it was never incremented or has expired) */
  count: (counter: string) => Promise<number>
  /**
   * Restarts a live value's time to live without rewriting it; false, and nothing written, when
   * no live value has the key (so a refresh never brings back what another replica removed)
   */
  touch: <C extends CollectionName<M>>(collection: C, key: string, ttlMs: number) => Promise<boolean>
  /** The live entries of one collection, in no set order: only for collections kept small by a cap */
  list: <C extends CollectionName<M>>(collection: C) => Promise<Array<{ key: string, value: Readonly<M[C]> }>>
  /** Removes every value of every collection and every counter (of this store, not its namespaces) */
  clear: () => Promise<void>
  /** Live entries per collection (expired ones not counted) */
  sizes: () => Promise<Record<CollectionName<M>, number>>
  /**
   * Live entries of one collection, cheaply enough for caps checked on every request: the store
   * lets the collection's expired entries go first (the memory store walks only those), so a cap
   * frees up the moment entries expire, never at the next sweep.
   */
  size: (collection: CollectionName<M>) => Promise<number>
  /**
   * A store of the same kind, on the same server, whose values and counters live apart from this
   * one's and from every other namespace's; closing it leaves the shared connection open
   */
  namespace: (name: string) => Store<M>
  close: () => Promise<void>
}

/** A namespace's name as the control API allows it */
export const NAMESPACE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/

/**
 * A store namespace's name: a user's namespace, or the emulator's own bookkeeping, whose names
 * start with '-' so that no user's namespace can take them
 */
const STORE_NAMESPACE = /^[a-z0-9-]{1,64}$/

export function checkNamespaceName (name: string): void {
  if (!STORE_NAMESPACE.test(name)) {
    throw new RangeError(`a store namespace's name must match ${STORE_NAMESPACE.source} (got "${name}")`)
  }
}

/** A shared store's address: redis:// or rediss:// with a host (Valkey, Redis 7+) */
export function isSharedStoreUrl (url: string): boolean {
  try {
    const parsed = new URL(url)
    return (parsed.protocol === 'redis:' || parsed.protocol === 'rediss:') && parsed.hostname !== ''
  } catch {
    return false
  }
}

/** Every implementation refuses a time to live that is not above zero */
export function checkTtl (ttlMs: number): void {
  if (!(ttlMs > 0)) throw new RangeError(`a time to live must be above 0 ms (got ${ttlMs})`)
}

/**
 * The store cannot answer now (a shared store's server is unreachable or too slow). Not a
 * defect: every surface answers it as "try again later" (503, temporarily_unavailable or
 * UNAVAILABLE), and service resumes by itself once the store is back.
 */
export class StoreUnavailableError extends Error {
  /** What a client is told (the message, naming the server, is for the journal and the log) */
  static readonly answer = 'the emulator cannot reach its store (--store); try again shortly'

  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StoreUnavailableError'
  }
}
