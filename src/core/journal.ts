// The flow journal: what happened to each request (status, time taken, scenarios applied, why the
// emulator refused), linked by flow id so authorize -> operator -> token -> API calls read as one
// story. A ring buffer, so memory stays bounded however long the emulator runs.
import type { Clock } from './clock.js'
import type { Check } from './conformance.js'

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
  /** The request's OpenTelemetry trace (32 hex digits), when tracing is on (--otlp-endpoint) */
  traceId?: string
  clientId?: string
  msisdn?: string
  operatorId?: string
  /** Names of the scenarios applied */
  scenarios: readonly string[]
  /** Why the emulator refused, in words (e.g. 'code already used') */
  reason?: string
  /** What the request showed of the client against the conformance rules (a client's report reads them) */
  checks?: readonly Check[]
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

/**
 * One place of the ring, overwritten in place by each request that lands there: recording
 * allocates nothing that outlives the request (retained garbage was most of the journal's cost
 * under load). The entry readers see is built from it on first read and kept until overwritten.
 */
interface Slot {
  id: number
  startedAt: number
  seed: number
  operation: string
  method: string
  path: string
  status: number
  durationMs: number
  flowId: string | undefined
  correlator: string | undefined
  traceId: string | undefined
  clientId: string | undefined
  msisdn: string | undefined
  operatorId: string | undefined
  reason: string | undefined
  scenarios: readonly string[]
  checks: readonly Check[] | undefined
  entry: Readonly<JournalEntry> | undefined
}

function emptySlot (): Slot {
  return {
    id: 0,
    startedAt: 0,
    seed: 0,
    operation: '',
    method: '',
    path: '',
    status: 0,
    durationMs: 0,
    flowId: undefined,
    correlator: undefined,
    traceId: undefined,
    clientId: undefined,
    msisdn: undefined,
    operatorId: undefined,
    reason: undefined,
    scenarios: NO_SCENARIOS,
    checks: undefined,
    entry: undefined
  }
}

/** The reader's view of a slot: optional fields left out when undefined, frozen, in a fixed key order */
function entryOf (slot: Slot): Readonly<JournalEntry> {
  if (slot.entry !== undefined) return slot.entry
  const entry: JournalEntry = {
    id: slot.id,
    time: new Date(slot.startedAt).toISOString(),
    operation: slot.operation,
    method: slot.method,
    path: slot.path,
    status: slot.status,
    durationMs: slot.durationMs
  } as JournalEntry
  if (slot.flowId !== undefined) entry.flowId = slot.flowId
  if (slot.correlator !== undefined) entry.correlator = slot.correlator
  if (slot.traceId !== undefined) entry.traceId = slot.traceId
  if (slot.clientId !== undefined) entry.clientId = slot.clientId
  if (slot.msisdn !== undefined) entry.msisdn = slot.msisdn
  if (slot.operatorId !== undefined) entry.operatorId = slot.operatorId
  if (slot.reason !== undefined) entry.reason = slot.reason
  if (slot.checks !== undefined) entry.checks = slot.checks
  entry.scenarios = slot.scenarios
  entry.seed = slot.seed
  // Frozen: listeners and list() callers share the stored object
  slot.entry = Object.freeze(entry)
  return slot.entry
}

export class Journal {
  readonly capacity: number
  private readonly clock: Clock
  private readonly seed: number
  /** Fixed-size ring: slot `(start + i) % capacity` holds the i-th oldest entry; made as it fills */
  private readonly slots: Array<Slot | undefined>
  private start = 0
  private count = 0
  private lastId = 0
  private readonly listeners = new Set<JournalListener>()

  constructor (options: JournalOptions) {
    const capacity = options.capacity ?? DEFAULT_JOURNAL_CAPACITY
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`journal capacity must be a positive integer, got ${capacity}`)
    }
    this.capacity = capacity
    this.clock = options.clock
    this.seed = options.seed
    this.slots = new Array<Slot | undefined>(capacity).fill(undefined)
  }

  get size (): number {
    return this.count
  }

  /** Records a request; the hot path (every request of the emulated surfaces) */
  append (record: JournalRecord): void {
    let index: number
    if (this.count < this.capacity) {
      index = (this.start + this.count) % this.capacity
      this.count++
    } else {
      index = this.start
      this.start = (this.start + 1) % this.capacity
    }
    let slot = this.slots[index]
    if (slot === undefined) {
      slot = emptySlot()
      this.slots[index] = slot
    }
    slot.id = ++this.lastId
    slot.startedAt = record.startedAt ?? this.clock.now()
    slot.seed = record.seed ?? this.seed
    slot.operation = record.operation
    slot.method = record.method
    slot.path = record.path
    slot.status = record.status
    slot.durationMs = record.durationMs
    slot.flowId = record.flowId
    slot.correlator = record.correlator
    slot.traceId = record.traceId
    slot.clientId = record.clientId
    slot.msisdn = record.msisdn
    slot.operatorId = record.operatorId
    slot.reason = record.reason
    // The leg's own list: the request is over, nothing adds to it any more
    slot.checks = record.checks === undefined || record.checks.length === 0 ? undefined : Object.freeze(record.checks)
    // A copy: the caller may change its array afterwards
    slot.scenarios = record.scenarios === undefined || record.scenarios.length === 0
      ? NO_SCENARIOS
      : Object.freeze([...record.scenarios])
    slot.entry = undefined
    if (this.listeners.size === 0) return
    const entry = entryOf(slot)
    for (const listener of this.listeners) {
      try {
        listener(entry)
      } catch {
        // A broken dashboard connection must not fail the request being journaled
      }
    }
  }

  /** Matching entries, oldest first */
  list (filter: JournalFilter = {}): Array<Readonly<JournalEntry>> {
    const matching: Slot[] = []
    for (let i = 0; i < this.count; i++) {
      const slot = this.slots[(this.start + i) % this.capacity]
      if (slot !== undefined && matches(slot, filter)) matching.push(slot)
    }
    const chosen = filter.limit === undefined ? matching : filter.limit <= 0 ? [] : matching.slice(-filter.limit)
    return chosen.map(entryOf)
  }

  /** Empties the journal; ids keep increasing so pollers using sinceId see only new entries */
  clear (): void {
    this.slots.fill(undefined)
    this.start = 0
    this.count = 0
  }

  /** Live subscriptions (streams that readers hold open) */
  get subscriberCount (): number {
    return this.listeners.size
  }

  /** Calls the listener with every new entry; returns the function that stops it */
  subscribe (listener: JournalListener): () => void {
    // Wrapped so the same function subscribed twice is two independent subscriptions
    const subscription: JournalListener = (entry) => listener(entry)
    this.listeners.add(subscription)
    return () => { this.listeners.delete(subscription) }
  }
}

type Filtered = Pick<JournalEntry, 'id' | 'operation'> & Partial<Pick<JournalEntry, 'flowId' | 'correlator' | 'msisdn'>>

const matches = journalMatches

/** Whether an entry (or a slot of the ring) passes the filter's fields (limit aside) */
export function journalMatches (entry: Filtered, filter: JournalFilter): boolean {
  return (filter.flowId === undefined || entry.flowId === filter.flowId) &&
    (filter.correlator === undefined || entry.correlator === filter.correlator) &&
    (filter.msisdn === undefined || entry.msisdn === filter.msisdn) &&
    (filter.operation === undefined || entry.operation === filter.operation) &&
    (filter.sinceId === undefined || entry.id > filter.sinceId)
}
