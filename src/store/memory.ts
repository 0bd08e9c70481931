// The embedded store (the default): nothing to install, state in this process only.
import type { Clock } from '../core/clock.js'
import { deepFreeze } from '../core/scenarios/freeze.js'
import { checkNamespaceName, checkTtl, type CollectionMap, type CollectionName, type Store } from '../core/store.js'

/** Time to live of a value that never expires on its own (counters without a lifetime) */
const FOREVER = Number.POSITIVE_INFINITY

interface Entry {
  value: unknown
  expiresAt: number
  /** The entries of its collection with the same time to live, oldest first */
  lane: Map<string, Entry>
}

/** One collection's entries, kept in lanes per time to live so the sweep never walks live ones */
class Lanes {
  readonly entries = new Map<string, Entry>()
  private readonly lanes = new Map<number, Map<string, Entry>>()

  live (key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= now) {
      this.remove(key)
      return undefined
    }
    return entry
  }

  set (key: string, value: unknown, ttlMs: number, now: number): void {
    // Re-inserting moves the entry to the end of its (new) lane
    this.entries.get(key)?.lane.delete(key)
    let lane = this.lanes.get(ttlMs)
    if (lane === undefined) {
      lane = new Map()
      this.lanes.set(ttlMs, lane)
    }
    const entry: Entry = { value, expiresAt: now + ttlMs, lane }
    lane.set(key, entry)
    this.entries.set(key, entry)
  }

  remove (key: string): boolean {
    const entry = this.entries.get(key)
    if (entry === undefined) return false
    entry.lane.delete(key)
    this.entries.delete(key)
    return true
  }

  sweep (now: number): number {
    let removed = 0
    for (const [ttl, lane] of this.lanes) {
      // Within a lane insertion order is expiry order: stop at the first live entry
      for (const [key, entry] of lane) {
        if (entry.expiresAt > now) break
        lane.delete(key)
        this.entries.delete(key)
        removed++
      }
      // Callers whose TTL is a remaining lifetime (assertion ids, revoked grants) open a lane per
      // value: an emptied lane goes, or the lanes would pile up for the life of the process
      if (lane.size === 0) this.lanes.delete(ttl)
    }
    return removed
  }

  clear (): void {
    this.entries.clear()
    this.lanes.clear()
  }

  count (now: number): number {
    let live = 0
    for (const entry of this.entries.values()) if (entry.expiresAt > now) live++
    return live
  }
}

/**
 * In-memory store. Expired entries are invisible at once and removed on read or by a periodic
 * sweep, so memory stays flat under sustained load. Every operation completes synchronously
 * inside its call (the promise only reports it), which is what makes `take` and `increment`
 * atomic here: JavaScript runs one call at a time.
 */
export interface MemoryStoreOptions<M extends CollectionMap> {
  /** How often expired entries are dropped (0: never by a timer; tests call sweep()) */
  sweepIntervalMs?: number
  collections?: ReadonlyArray<CollectionName<M>>
}

export class MemoryStore<M extends CollectionMap> implements Store<M> {
  readonly shared = false
  private readonly collections = new Map<string, Lanes>()
  private readonly counters = new Lanes()
  private readonly clock: Clock
  private readonly timer: NodeJS.Timeout | undefined
  private readonly options: MemoryStoreOptions<M>

  /** `collections`: the names sizes() always lists, even before a first write */
  constructor (clock: Clock, options: MemoryStoreOptions<M> = {}) {
    this.clock = clock
    this.options = options
    for (const name of options.collections ?? []) this.lanes(name)
    const interval = options.sweepIntervalMs ?? 1_000
    if (interval > 0) {
      this.timer = setInterval(() => this.sweep(), interval)
      this.timer.unref()
    }
  }

  private lanes (collection: string): Lanes {
    let lanes = this.collections.get(collection)
    if (lanes === undefined) {
      lanes = new Lanes()
      this.collections.set(collection, lanes)
    }
    return lanes
  }

  async get<C extends CollectionName<M>>(collection: C, key: string): Promise<Readonly<M[C]> | undefined> {
    return this.lanes(collection).live(key, this.clock.now())?.value as Readonly<M[C]> | undefined
  }

  async put<C extends CollectionName<M>>(collection: C, key: string, value: M[C], ttlMs: number): Promise<void> {
    checkTtl(ttlMs)
    this.lanes(collection).set(key, deepFreeze(value), ttlMs, this.clock.now())
  }

  async add<C extends CollectionName<M>>(collection: C, key: string, value: M[C], ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs)
    const lanes = this.lanes(collection)
    const now = this.clock.now()
    if (lanes.live(key, now) !== undefined) return false
    lanes.set(key, deepFreeze(value), ttlMs, now)
    return true
  }

  async take<C extends CollectionName<M>>(collection: C, key: string): Promise<Readonly<M[C]> | undefined> {
    const lanes = this.lanes(collection)
    const entry = lanes.live(key, this.clock.now())
    if (entry === undefined) return undefined
    lanes.remove(key)
    return entry.value as Readonly<M[C]>
  }

  async delete<C extends CollectionName<M>>(collection: C, key: string): Promise<boolean> {
    const lanes = this.lanes(collection)
    const live = lanes.live(key, this.clock.now()) !== undefined
    lanes.remove(key)
    return live
  }

  async increment (counter: string, ttlMs?: number): Promise<number> {
    if (ttlMs !== undefined) checkTtl(ttlMs)
    const now = this.clock.now()
    const count = ((this.counters.live(counter, now)?.value as number | undefined) ?? 0) + 1
    this.counters.set(counter, count, ttlMs ?? FOREVER, now)
    return count
  }

  async count (counter: string): Promise<number> {
    return (this.counters.live(counter, this.clock.now())?.value as number | undefined) ?? 0
  }

  async touch<C extends CollectionName<M>>(collection: C, key: string, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs)
    const lanes = this.lanes(collection)
    const now = this.clock.now()
    const entry = lanes.live(key, now)
    if (entry === undefined) return false
    lanes.set(key, entry.value, ttlMs, now)
    return true
  }

  async list<C extends CollectionName<M>>(collection: C): Promise<Array<{ key: string, value: Readonly<M[C]> }>> {
    const lanes = this.collections.get(collection)
    if (lanes === undefined) return []
    lanes.sweep(this.clock.now())
    return [...lanes.entries].map(([key, entry]) => ({ key, value: entry.value as Readonly<M[C]> }))
  }

  /** Another memory store: a namespace's state is simply kept in a map of its own */
  namespace (name: string): MemoryStore<M> {
    checkNamespaceName(name)
    return new MemoryStore<M>(this.clock, this.options)
  }

  async clear (): Promise<void> {
    for (const lanes of this.collections.values()) lanes.clear()
    this.counters.clear()
  }

  async sizes (): Promise<Record<CollectionName<M>, number>> {
    const now = this.clock.now()
    const sizes: Record<string, number> = {}
    for (const [name, lanes] of this.collections) sizes[name] = lanes.count(now)
    return sizes as Record<CollectionName<M>, number>
  }

  async size (collection: CollectionName<M>): Promise<number> {
    const lanes = this.collections.get(collection)
    if (lanes === undefined) return 0
    // Lanes keep expiry order, so this checks one entry per lane unless some expired
    lanes.sweep(this.clock.now())
    return lanes.entries.size
  }

  /** Drops expired entries; returns how many (the timer calls it; tests call it directly) */
  sweep (): number {
    const now = this.clock.now()
    let removed = this.counters.sweep(now)
    for (const lanes of this.collections.values()) removed += lanes.sweep(now)
    return removed
  }

  async close (): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
  }
}
