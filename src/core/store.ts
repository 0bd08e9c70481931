// State with a time to live: pending authorizations, codes, grants, tokens, used assertion ids.
// All state lives behind this interface so a shared store can replace memory later.
import type { Clock } from './clock.js'

export type Collection = 'pending' | 'codes' | 'grants' | 'accessTokens' | 'refreshTokens' | 'assertionIds'

export interface Store {
  put: <T>(collection: Collection, key: string, value: T, ttlMs: number) => void
  get: <T>(collection: Collection, key: string) => T | undefined
  delete: (collection: Collection, key: string) => boolean
  /** Removes every entry of every collection */
  clear: () => void
  /** Entries per collection, expired ones included until swept */
  sizes: () => Record<Collection, number>
  /** Drops expired entries; returns how many */
  sweep: () => number
  close: () => void
}

interface Entry {
  value: unknown
  expiresAt: number
  /** The entries of its collection with the same time to live, oldest first */
  lane: Map<string, Entry>
}

const COLLECTIONS: Collection[] = ['pending', 'codes', 'grants', 'accessTokens', 'refreshTokens', 'assertionIds']

/**
 * In-memory store. Expired entries are invisible at once and removed on read or by a periodic
 * sweep, so memory stays flat under sustained load. Each collection keeps its entries in lanes,
 * one per time to live: within a lane insertion order is expiry order, so the sweep stops at a
 * lane's first live entry and never walks live ones. (One insertion-ordered map per collection
 * was not enough: a collection mixing lifetimes, like short grants behind 30-day offline ones,
 * kept its expired entries.)
 */
export class MemoryStore implements Store {
  private readonly maps = new Map<Collection, Map<string, Entry>>(COLLECTIONS.map((name) => [name, new Map()]))
  private readonly lanes = new Map<Collection, Map<number, Map<string, Entry>>>(COLLECTIONS.map((name) => [name, new Map()]))
  private readonly clock: Clock
  private readonly timer: NodeJS.Timeout | undefined

  constructor (clock: Clock, options: { sweepIntervalMs?: number } = {}) {
    this.clock = clock
    const interval = options.sweepIntervalMs ?? 1_000
    if (interval > 0) {
      this.timer = setInterval(() => this.sweep(), interval)
      this.timer.unref()
    }
  }

  private map (collection: Collection): Map<string, Entry> {
    return this.maps.get(collection) as Map<string, Entry>
  }

  put<T>(collection: Collection, key: string, value: T, ttlMs: number): void {
    const map = this.map(collection)
    // Re-inserting moves the entry to the end of its (new) lane
    map.get(key)?.lane.delete(key)
    const lanes = this.lanes.get(collection) as Map<number, Map<string, Entry>>
    let lane = lanes.get(ttlMs)
    if (lane === undefined) {
      lane = new Map()
      lanes.set(ttlMs, lane)
    }
    const entry: Entry = { value, expiresAt: this.clock.now() + ttlMs, lane }
    lane.set(key, entry)
    map.set(key, entry)
  }

  get<T>(collection: Collection, key: string): T | undefined {
    const map = this.map(collection)
    const entry = map.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= this.clock.now()) {
      map.delete(key)
      entry.lane.delete(key)
      return undefined
    }
    return entry.value as T
  }

  delete (collection: Collection, key: string): boolean {
    const map = this.map(collection)
    map.get(key)?.lane.delete(key)
    return map.delete(key)
  }

  clear (): void {
    for (const map of this.maps.values()) map.clear()
    for (const lanes of this.lanes.values()) lanes.clear()
  }

  sizes (): Record<Collection, number> {
    const sizes = {} as Record<Collection, number>
    for (const [name, map] of this.maps) sizes[name] = map.size
    return sizes
  }

  sweep (): number {
    const now = this.clock.now()
    let removed = 0
    for (const [collection, lanes] of this.lanes) {
      const map = this.map(collection)
      for (const [ttl, lane] of lanes) {
        for (const [key, entry] of lane) {
          if (entry.expiresAt > now) break
          lane.delete(key)
          map.delete(key)
          removed++
        }
        // Callers whose TTL is a remaining lifetime (assertion ids, pending requests) open a lane
        // per value: an emptied lane goes, or the lanes would pile up for the life of the process
        if (lane.size === 0) lanes.delete(ttl)
      }
    }
    return removed
  }

  close (): void {
    if (this.timer !== undefined) clearInterval(this.timer)
  }
}
