// The journal of replicas on a shared store keeps what each replica journaled, trace ids included,
// bounded as the local journal is, and its live stream follows every replica by polling the store.
import { setTimeout as delay } from 'node:timers/promises'
import t from 'tap'
import { ManualClock } from '../../src/core/clock.js'
import type { JournalEntry } from '../../src/core/journal.js'
import {
  FOLLOW_INTERVAL_MS, GAP_LOOKS, JOURNAL_SEQUENCE, SharedJournal, type SharedJournalCollections
} from '../../src/core/shared-journal.js'
import type { Store } from '../../src/core/store.js'
import { MemoryStore } from '../../src/store/memory.js'
import { sharedMemoryStore, START } from './support.js'

t.test('an entry written to the shared journal keeps its trace id, in its number of the one sequence', async (t) => {
  const store = new MemoryStore<SharedJournalCollections>(new ManualClock(START))
  const journal = new SharedJournal(store, 10)
  const entry: JournalEntry = {
    id: 7,
    time: '2026-11-25T12:00:00.000Z',
    operation: 'verify',
    method: 'POST',
    path: '/camara/api/number-verification/v1/verify',
    status: 200,
    durationMs: 2,
    correlator: 'c-1',
    traceId: '0af7651916cd43dd8448eb211c80319c',
    scenarios: [],
    seed: 1
  }
  await journal.record(entry)
  t.strictSame(await journal.list(), [{ ...entry, id: 1 }])
})

function entry (overrides: Partial<JournalEntry> = {}): JournalEntry {
  return {
    id: 0,
    time: '2026-11-25T12:00:00.000Z',
    operation: 'verify',
    method: 'POST',
    path: '/camara/api/number-verification/v1/verify',
    status: 200,
    durationMs: 1,
    scenarios: [],
    seed: 1,
    ...overrides
  }
}

function sharedJournal (capacity: number): {
  journal: SharedJournal
  store: Store<SharedJournalCollections>
  unavailable: (down: boolean) => void
} {
  const { store, unavailable } = sharedMemoryStore<SharedJournalCollections>(new ManualClock(START))
  return { journal: new SharedJournal(store, capacity), store, unavailable }
}

/** Resolves once the listener has seen `count` entries (a live stream polls every FOLLOW_INTERVAL_MS) */
function collect (
  journal: SharedJournal,
  count: number
): { seen: JournalEntry[], done: Promise<void>, stop: () => void } {
  const seen: JournalEntry[] = []
  let finish = (): void => {}
  let timer: NodeJS.Timeout | undefined
  // The stream's timer is unref'd: this one keeps the process alive while the test waits
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve
    timer = setTimeout(() => {
      reject(new Error(`saw ${seen.length} of ${count} entries`))
    }, 20 * FOLLOW_INTERVAL_MS)
  }).finally(() => {
    clearTimeout(timer)
  })
  const stop = journal.follow((e) => {
    seen.push(e)
    if (seen.length === count) finish()
  })
  return { seen, done, stop }
}

const ticks = async (n: number): Promise<void> => { await delay(n * FOLLOW_INTERVAL_MS + 50) }

t.test('the journal keeps the newest `capacity` entries of every replica, oldest first', async (t) => {
  const { journal } = sharedJournal(3)
  for (const operation of ['authorize', 'token', 'verify', 'jwks', 'share']) await journal.record(entry({ operation }))
  t.strictSame((await journal.list()).map((e) => [e.id, e.operation]), [[3, 'verify'], [4, 'jwks'], [5, 'share']])
})

t.test('a filter picks the matching entries and limit keeps the newest of them', async (t) => {
  const { journal } = sharedJournal(10)
  for (const [operation, flowId] of [['authorize', 'f1'], ['token', 'f2'], ['verify', 'f1'], ['verify', 'f1']]) {
    await journal.record(entry({ operation, flowId }))
  }
  t.strictSame((await journal.list({ flowId: 'f1', limit: 2 })).map((e) => e.id), [3, 4])
  t.strictSame((await journal.list({ operation: 'verify', sinceId: 3 })).map((e) => e.id), [4])
  t.strictSame(await journal.list({ limit: 0 }), [])
  t.strictSame(await journal.list({ limit: -1 }), [])
})

t.test('a cleared journal lists nothing and numbers the next entry after the last one', async (t) => {
  const { journal } = sharedJournal(10)
  await journal.record(entry())
  await journal.record(entry())
  await journal.clear()
  t.strictSame(await journal.list(), [])
  await journal.record(entry({ operation: 'token' }))
  t.strictSame((await journal.list()).map((e) => [e.id, e.operation]), [[3, 'token']])
})

t.test('a live stream gets the entries written after it opened, in sequence order, until stopped', async (t) => {
  const { journal } = sharedJournal(10)
  await journal.record(entry({ operation: 'before' }))
  const { seen, done, stop } = collect(journal, 2)
  await ticks(0)
  await journal.record(entry({ operation: 'first' }))
  await journal.record(entry({ operation: 'second' }))
  await done
  stop()
  await journal.record(entry({ operation: 'after-stop' }))
  await ticks(2)
  t.strictSame(seen.map((e) => [e.id, e.operation]), [[2, 'first'], [3, 'second']])
})

t.test('a live stream follows the sequence from its start again after a reset of the store', async (t) => {
  const { journal, store } = sharedJournal(10)
  for (let i = 0; i < 3; i++) await journal.record(entry())
  const { seen, done, stop } = collect(journal, 1)
  t.teardown(stop)
  await ticks(0)
  await store.clear()
  await journal.record(entry({ operation: 'after-reset' }))
  await done
  t.strictSame(seen.map((e) => [e.id, e.operation]), [[1, 'after-reset']])
})

t.test('a live stream misses nothing when a reset and as many new entries as it had seen fall between looks',
  async (t) => {
    const { journal, store } = sharedJournal(10)
    for (let i = 0; i < 3; i++) await journal.record(entry({ operation: 'before' }))
    const { seen, done, stop } = collect(journal, 4)
    t.teardown(stop)
    await ticks(0)
    await store.clear()
    for (let i = 1; i <= 4; i++) await journal.record(entry({ operation: `after-reset-${i}` }))
    await done
    t.strictSame(seen.map((e) => [e.id, e.operation]),
      [[1, 'after-reset-1'], [2, 'after-reset-2'], [3, 'after-reset-3'], [4, 'after-reset-4']])
    await journal.record(entry({ operation: 'later' }))
    await ticks(2)
    t.strictSame(seen.map((e) => e.id), [1, 2, 3, 4, 5], 'then it goes on from there, each entry once')
  })

t.test('a live stream waits for a number a replica took but has not written yet, and keeps the order',
  async (t) => {
    const { journal, store } = sharedJournal(10)
    const { seen, done, stop } = collect(journal, 2)
    t.teardown(stop)
    await ticks(0)
    // Another replica took number 1 and is still writing its entry; this one writes number 2
    t.equal(await store.increment(JOURNAL_SEQUENCE), 1)
    await journal.record(entry({ operation: 'second' }))
    await ticks(1)
    t.strictSame(seen, [], 'number 2 waits while number 1 is empty')
    await store.put('journal', '1', entry({ id: 1, operation: 'first' }), 60_000)
    await done
    t.strictSame(seen.map((e) => [e.id, e.operation]), [[1, 'first'], [2, 'second']])
  })

t.test('a live stream goes on without a number that stays empty, and without numbers that left the ring',
  async (t) => {
    const { journal, store } = sharedJournal(2)
    const { seen, done, stop } = collect(journal, 4)
    t.teardown(stop)
    await ticks(0)
    // A replica took number 1 and stopped before writing it
    await store.increment(JOURNAL_SEQUENCE)
    await journal.record(entry({ operation: 'after-the-gap' }))
    await ticks(GAP_LOOKS - 1)
    t.strictSame(seen, [], `it waits ${GAP_LOOKS} looks for the empty number`)
    await ticks(3)
    t.strictSame(seen.map((e) => [e.id, e.operation]), [[2, 'after-the-gap']])
    // Four entries at once in a ring of two: 3 and 4 are gone before the next look, nothing waits for them
    for (let i = 3; i <= 6; i++) await journal.record(entry({ operation: `burst-${i}` }))
    await ticks(1)
    t.strictSame(seen.map((e) => e.id), [2, 5, 6])
    await journal.record(entry({ operation: 'last' }))
    await done
    t.strictSame(seen.map((e) => e.id), [2, 5, 6, 7])
  })

t.test('a live stream notices a reset even while the number it had reached is still being written', async (t) => {
  const { journal, store } = sharedJournal(10)
  for (let i = 0; i < 3; i++) await journal.record(entry({ operation: 'before' }))
  const { seen, done, stop } = collect(journal, 4)
  t.teardown(stop)
  await ticks(0)
  await store.clear()
  // Four requests after the reset take numbers 1 to 4; the one with number 3 has not written yet
  for (let i = 1; i <= 4; i++) t.equal(await store.increment(JOURNAL_SEQUENCE), i)
  for (const id of [1, 2, 4]) await store.put('journal', String(id), entry({ id, operation: `new-${id}` }), 60_000)
  await ticks(1)
  t.strictSame(seen.map((e) => e.id), [1, 2], 'the new sequence from its start, up to the gap')
  await store.put('journal', '3', entry({ id: 3, operation: 'new-3' }), 60_000)
  await done
  t.strictSame(seen.map((e) => [e.id, e.operation]), [[1, 'new-1'], [2, 'new-2'], [3, 'new-3'], [4, 'new-4']])
})

t.test('a live stream skips the polls a store cannot answer and resumes when it can', async (t) => {
  const { journal, unavailable } = sharedJournal(10)
  const { seen, done, stop } = collect(journal, 1)
  t.teardown(stop)
  await ticks(0)
  unavailable(true)
  await ticks(2)
  unavailable(false)
  await journal.record(entry({ operation: 'after-outage' }))
  await done
  t.strictSame(seen.map((e) => [e.id, e.operation]), [[1, 'after-outage']])
})

t.test('a live stream polls once at a time: a slow store is not asked again before it answers', async (t) => {
  const memory = new MemoryStore<SharedJournalCollections>(new ManualClock(START))
  let counts = 0
  let release = (): void => {}
  const answered = new Promise<void>((resolve) => { release = resolve })
  const slow = new Proxy(memory, {
    get (target, property, receiver) {
      if (property !== 'count') return Reflect.get(target, property, receiver)
      return async (counter: string) => { counts++; await answered; return await target.count(counter) }
    }
  })
  const stop = new SharedJournal(slow, 10).follow(() => {})
  t.teardown(stop)
  await ticks(3)
  t.equal(counts, 1)
  release()
  await ticks(1)
  t.ok(counts > 1, `polled again once answered (${counts} polls)`)
})
