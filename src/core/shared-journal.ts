// The journal of replicas on a shared store: every replica writes the entries of its requests to
// the store, numbered in one sequence, so the journal read from any replica lists the requests of
// all of them (linked by flow), and the live stream of any replica follows all of them. Bounded as
// the local journal is: an entry past the capacity is removed as the next one is written, and every
// entry has a lifetime. With the memory store none of this runs: the local journal is the journal.
import type { JournalEntry, JournalFilter } from './journal.js'
import { journalMatches } from './journal.js'
import { nanoid } from 'nanoid'
import type { Store } from './store.js'

export interface SharedJournalCollections {
  journal: JournalEntry
  /** One random id per life of the sequence: a reset of the store removes it, the next look adds another */
  journalEpoch: string
}

/** The counter that numbers the entries of every replica */
export const JOURNAL_SEQUENCE = 'journal-sequence'
/** An entry outlives its place in the ring by at most this long */
const ENTRY_TTL_MS = 24 * 3600 * 1000
const EPOCH_KEY = 'current'
/** Longer than any stream follows: an epoch that expired would read as a reset (entries again, not lost) */
const EPOCH_TTL_MS = 366 * 24 * 3600 * 1000
/** How often a live stream looks for entries other replicas wrote */
export const FOLLOW_INTERVAL_MS = 250
/**
 * How many looks a live stream waits for a number that was counted but not written yet (a replica
 * writes its entry a store round trip after taking its number) before it goes on without it
 */
export const GAP_LOOKS = 4

export class SharedJournal {
  private readonly store: Store<SharedJournalCollections>
  readonly capacity: number

  constructor (store: Store<SharedJournalCollections>, capacity: number) {
    this.store = store
    this.capacity = capacity
  }

  /** Writes an entry this replica journaled, with its number in the one sequence */
  async record (entry: Readonly<JournalEntry>): Promise<void> {
    const id = await this.store.increment(JOURNAL_SEQUENCE)
    await this.store.put('journal', String(id), { ...entry, id }, ENTRY_TTL_MS)
    if (id > this.capacity) await this.store.delete('journal', String(id - this.capacity))
  }

  /** Matching entries of every replica, oldest first */
  async list (filter: JournalFilter = {}): Promise<JournalEntry[]> {
    const entries = (await this.store.list('journal'))
      .map(({ value }) => value as JournalEntry)
      .filter((entry) => journalMatches(entry, filter))
      .sort((a, b) => a.id - b.id)
    if (filter.limit === undefined) return entries
    return filter.limit <= 0 ? [] : entries.slice(-filter.limit)
  }

  /** Removes every entry; the sequence goes on, so pollers using sinceId see only new entries */
  async clear (): Promise<void> {
    const entries = await this.store.list('journal')
    await Promise.all(entries.map(async ({ key }) => await this.store.delete('journal', key)))
  }

  /** The sequence's epoch: the one stored, or, after a reset, the one the first to look adds */
  private async epoch (): Promise<string> {
    const current = await this.store.get('journalEpoch', EPOCH_KEY)
    if (current !== undefined) return current
    await this.store.add('journalEpoch', EPOCH_KEY, nanoid(), EPOCH_TTL_MS)
    return await this.store.get('journalEpoch', EPOCH_KEY) ?? ''
  }

  /**
   * Calls the listener with each entry any replica writes from now on, in sequence order; returns
   * the function that stops it. A store that cannot answer is skipped until it can.
   */
  follow (listener: (entry: JournalEntry) => void): () => void {
    /** The last number the stream has passed, in the sequence of `epoch` */
    let mark: number | undefined
    let epoch: string | undefined
    /** Looks in a row that found the next number empty while later ones were written */
    let waited = 0
    let busy = false
    const poll = async (): Promise<void> => {
      const now = await this.epoch()
      const head = await this.store.count(JOURNAL_SEQUENCE)
      const entries = await this.list()
      // The first look fixes where the stream starts: entries written after it opened
      if (mark === undefined) {
        mark = head
        epoch = now
        return
      }
      // A reset restarted the sequence (its epoch went with it): follow the new one from its start.
      // A reset between this look's reads shows at the next look: entries again, none lost.
      if (now !== epoch || head < mark) {
        mark = 0
        epoch = now
        waited = 0
      }
      for (const entry of entries) {
        if (entry.id <= mark) continue
        // Numbers before this one are empty: wait for them, unless they left the ring already
        if (entry.id > mark + 1 && entry.id - 1 > head - this.capacity && waited++ < GAP_LOOKS) break
        waited = 0
        mark = entry.id
        listener(entry)
      }
    }
    const tick = (): void => {
      if (busy) return
      busy = true
      poll().catch(() => {}).finally(() => { busy = false })
    }
    const timer = setInterval(tick, FOLLOW_INTERVAL_MS)
    timer.unref()
    tick()
    return () => { clearInterval(timer) }
  }
}
