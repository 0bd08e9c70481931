// The flow journal: what happened to each request (status, time taken, scenarios applied, why the
// emulator refused), linked by flow id so authorize -> operator -> token -> API calls read as one
// story. A ring buffer, so memory stays bounded however long the emulator runs.
import type { Clock } from './clock.js'

export interface JournalEntry {
  /** Sequence number, increasing for the life of the journal (clear() does not restart it) */
  id: number
  /** When the request arrived, ISO 8601 */
  time: string
  operation: string
  method: string
  path: string
  status: number
  durationMs: number
  flowId?: string
  correlator?: string
  clientId?: string
  msisdn?: string
  operatorId?: string
  /** Names of the scenarios applied */
  scenarios: readonly string[]
  /** Why the emulator refused, in words (e.g. 'code already used') */
  reason?: string
  /** The generator seed, so the run can be replayed */
  seed: number
}

export type JournalRecord = Omit<JournalEntry, 'id' | 'time' | 'seed' | 'scenarios'> & {
  /** Ms since the epoch when the request arrived; defaults to now */
  startedAt?: number
  scenarios?: readonly string[]
  /** Defaults to the journal's seed */
  seed?: number
}

export interface JournalFilter {
  flowId?: string
  correlator?: string
  msisdn?: string
  operation?: string
  /** Only the newest `limit` matching entries (still oldest first) */
  limit?: number
  /** Only entries with an id above this one: for polling */
  sinceId?: number
}

export type JournalListener = (entry: Readonly<JournalEntry>) => void

export interface JournalOptions {
  clock: Clock
  seed: number
  /** Entries kept; older ones are dropped. Default 1000. */
  capacity?: number
}

export const DEFAULT_JOURNAL_CAPACITY = 1000
const NO_SCENARIOS: readonly string[] = Object.freeze([])

export class Journal {
  readonly capacity: number
  private readonly clock: Clock
  private readonly seed: number
  /** Fixed-size ring: slot `(start + i) % capacity` holds the i-th oldest entry */
  private readonly slots: Array<Readonly<JournalEntry> | undefined>
  private start = 0
  private count = 0
  private lastId = 0
  private readonly listeners = new Set<JournalListener>()

  constructor (options: JournalOptions) {
    const capacity = options.capacity ?? DEFAULT_JOURNAL_CAPACITY
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`journal capacity must be a positive integer, got ${capacity}`)
    this.capacity = capacity
    this.clock = options.clock
    this.seed = options.seed
    this.slots = new Array<Readonly<JournalEntry> | undefined>(capacity).fill(undefined)
  }

  get size (): number {
    return this.count
  }

  record (record: JournalRecord): Readonly<JournalEntry> {
    const { startedAt, scenarios, seed, ...rest } = record
    const entry = { id: ++this.lastId, time: new Date(startedAt ?? this.clock.now()).toISOString() } as JournalEntry
    // Optional fields given as undefined are left out, so entries serialise and compare cleanly
    // (a plain loop: this runs for every request, and entries/fromEntries showed in profiles)
    for (const key in rest) {
      const value = rest[key as keyof typeof rest]
      if (value !== undefined) (entry as unknown as Record<string, unknown>)[key] = value
    }
    entry.scenarios = scenarios === undefined || scenarios.length === 0 ? NO_SCENARIOS : Object.freeze([...scenarios])
    entry.seed = seed ?? this.seed
    // Frozen: listeners and list() callers share the stored object
    const stored = Object.freeze(entry)
    if (this.count < this.capacity) {
      this.slots[(this.start + this.count) % this.capacity] = stored
      this.count++
    } else {
      this.slots[this.start] = stored
      this.start = (this.start + 1) % this.capacity
    }
    for (const listener of this.listeners) {
      try {
        listener(stored)
      } catch {
        // A broken dashboard connection must not fail the request being journaled
      }
    }
    return stored
  }

  /** Matching entries, oldest first */
  list (filter: JournalFilter = {}): Array<Readonly<JournalEntry>> {
    const matching: Array<Readonly<JournalEntry>> = []
    for (let i = 0; i < this.count; i++) {
      const entry = this.slots[(this.start + i) % this.capacity]
      if (entry !== undefined && matches(entry, filter)) matching.push(entry)
    }
    if (filter.limit !== undefined) return filter.limit <= 0 ? [] : matching.slice(-filter.limit)
    return matching
  }

  /** Empties the journal; ids keep increasing so pollers using sinceId see only new entries */
  clear (): void {
    this.slots.fill(undefined)
    this.start = 0
    this.count = 0
  }

  /** Calls the listener with every new entry; returns the function that stops it */
  subscribe (listener: JournalListener): () => void {
    // Wrapped so the same function subscribed twice is two independent subscriptions
    const subscription: JournalListener = (entry) => listener(entry)
    this.listeners.add(subscription)
    return () => { this.listeners.delete(subscription) }
  }
}

function matches (entry: Readonly<JournalEntry>, filter: JournalFilter): boolean {
  return (filter.flowId === undefined || entry.flowId === filter.flowId) &&
    (filter.correlator === undefined || entry.correlator === filter.correlator) &&
    (filter.msisdn === undefined || entry.msisdn === filter.msisdn) &&
    (filter.operation === undefined || entry.operation === filter.operation) &&
    (filter.sinceId === undefined || entry.id > filter.sinceId)
}
