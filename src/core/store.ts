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
}

const COLLECTIONS: Collection[] = ['pending', 'codes', 'grants', 'accessTokens', 'refreshTokens', 'assertionIds']

/**
 * In-memory store. Expired entries are invisible at once and removed on read or by a periodic
 * sweep, so memory stays flat under sustained load. Map iteration follows insertion order and
 * TTLs per collection are mostly uniform, so the sweep stops at the first live entry.
 */
export class MemoryStore implements Store {
  private readonly maps = new Map<Collection, Map<string, Entry>>(COLLECTIONS.map((name) => [name, new Map()]))
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
    // Re-inserting keeps the sweep's insertion-order assumption true
    map.delete(key)
    map.set(key, { value, expiresAt: this.clock.now() + ttlMs })
  }

  get<T>(collection: Collection, key: string): T | undefined {
    const map = this.map(collection)
    const entry = map.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= this.clock.now()) {
      map.delete(key)
      return undefined
    }
    return entry.value as T
  }

  delete (collection: Collection, key: string): boolean {
    return this.map(collection).delete(key)
  }

  clear (): void {
    for (const map of this.maps.values()) map.clear()
  }

  sizes (): Record<Collection, number> {
    const sizes = {} as Record<Collection, number>
    for (const [name, map] of this.maps) sizes[name] = map.size
    return sizes
  }

  sweep (): number {
    const now = this.clock.now()
    let removed = 0
    for (const map of this.maps.values()) {
      let live = 0
      for (const [key, entry] of map) {
        if (entry.expiresAt <= now) {
          map.delete(key)
          removed++
        } else if (++live > 64) {
          // Past a run of live entries the rest are younger (insertion order): stop early
          break
        }
      }
    }
    return removed
  }

  close (): void {
    if (this.timer !== undefined) clearInterval(this.timer)
  }
}
