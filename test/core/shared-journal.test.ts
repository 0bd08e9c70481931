// The journal of replicas on a shared store keeps what each replica journaled, trace ids included.
import t from 'tap'
import { ManualClock } from '../../src/core/clock.js'
import type { JournalEntry } from '../../src/core/journal.js'
import { SharedJournal, type SharedJournalCollections } from '../../src/core/shared-journal.js'
import { MemoryStore } from '../../src/store/memory.js'

t.test('an entry written to the shared journal keeps its trace id, in its number of the one sequence', async (t) => {
  const store = new MemoryStore<SharedJournalCollections>(new ManualClock(Date.UTC(2026, 10, 25, 12, 0, 0)))
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
