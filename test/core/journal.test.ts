import t from 'tap'
import { ManualClock } from '../../src/core/clock.js'
import { Journal, type JournalEntry, type JournalRecord } from '../../src/core/journal.js'

const START = Date.UTC(2026, 10, 25, 12, 0, 0)

function request (overrides: Partial<JournalRecord> = {}): JournalRecord {
  return {
    operation: 'verify',
    method: 'POST',
    path: '/camara/api/number-verification/v1/verify',
    status: 200,
    durationMs: 3,
    ...overrides
  }
}

function build (capacity?: number): { journal: Journal, clock: ManualClock } {
  const clock = new ManualClock(START)
  return { journal: new Journal({ clock, seed: 1234, ...(capacity === undefined ? {} : { capacity }) }), clock }
}

/** A journal holding one flow (authorize -> operator -> token -> verify) and some other traffic */
function withFlows (): Journal {
  const { journal, clock } = build()
  journal.append(request({
    operation: 'authorize',
    method: 'GET',
    path: '/camara/api/auth/v1/authorize',
    status: 302,
    flowId: 'flow-1',
    clientId: 'demo-app'
  }))
  clock.advance(10)
  journal.append(request({
    operation: 'operator',
    method: 'GET',
    path: '/operators/movistar-es/authorize',
    status: 302,
    flowId: 'flow-1',
    msisdn: '+34666666666',
    operatorId: 'movistar-es'
  }))
  journal.append(request({
    operation: 'discovery', method: 'GET', path: '/camara/api/auth/v1/.well-known/openid-configuration'
  }))
  journal.append(request({
    operation: 'token',
    method: 'POST',
    path: '/camara/api/auth/v1/token',
    status: 400,
    flowId: 'flow-2',
    reason: 'code already used'
  }))
  journal.append(request({
    operation: 'token', method: 'POST', path: '/camara/api/auth/v1/token', flowId: 'flow-1', msisdn: '+34666666666'
  }))
  journal.append(request({
    flowId: 'flow-1', correlator: 'corr-1', msisdn: '+34666666666', scenarios: ['slow-network']
  }))
  journal.append(request({
    correlator: 'corr-2', msisdn: '+34600000002', status: 503, scenarios: ['operator-unavailable']
  }))
  return journal
}

t.test('append numbers entries, stamps time and seed, and keeps what it is told', async (t) => {
  const { journal, clock } = build()
  journal.append(request({
    flowId: 'flow-1',
    correlator: 'c-1',
    clientId: 'demo-app',
    msisdn: '+34666666666',
    operatorId: 'movistar-es',
    scenarios: ['rate-limited'],
    status: 429,
    reason: 'scenario rate-limited'
  }))
  const [first] = journal.list()
  t.strictSame(first, {
    id: 1,
    time: '2026-11-25T12:00:00.000Z',
    operation: 'verify',
    method: 'POST',
    path: '/camara/api/number-verification/v1/verify',
    status: 429,
    durationMs: 3,
    flowId: 'flow-1',
    correlator: 'c-1',
    clientId: 'demo-app',
    msisdn: '+34666666666',
    operatorId: 'movistar-es',
    reason: 'scenario rate-limited',
    scenarios: ['rate-limited'],
    seed: 1234
  })
  clock.advance(1500)
  journal.append(request())
  t.equal(journal.size, 2)
  t.strictSame(journal.list()[0], first, 'the first entry is unchanged by the second')
  t.strictSame(journal.list()[1], {
    id: 2,
    time: '2026-11-25T12:00:01.500Z',
    operation: 'verify',
    method: 'POST',
    path: '/camara/api/number-verification/v1/verify',
    status: 200,
    durationMs: 3,
    scenarios: [],
    seed: 1234
  })
})

t.test('append takes the arrival time and a seed when given, and leaves undefined fields out', async (t) => {
  const { journal } = build()
  journal.append(request({ startedAt: START - 250, seed: 99, flowId: undefined, reason: undefined }))
  const entry = journal.list()[0]
  if (entry === undefined) return t.fail('no entry')
  t.equal(entry.time, '2026-11-25T11:59:59.750Z')
  t.equal(entry.seed, 99)
  t.notOk('flowId' in entry)
  t.notOk('reason' in entry)
  t.strictSame(Object.keys(JSON.parse(JSON.stringify(entry)) as object), [
    'id',
    'time',
    'operation',
    'method',
    'path',
    'status',
    'durationMs',
    'scenarios',
    'seed'
  ])
})

t.test('a trace id is kept when given, and gone from a slot the next request reuses without one', async (t) => {
  const { journal } = build(1)
  journal.append(request({ correlator: 'c-1', traceId: '0af7651916cd43dd8448eb211c80319c' }))
  const traced = journal.list()[0]
  t.equal(traced?.traceId, '0af7651916cd43dd8448eb211c80319c')
  t.strictSame(
    Object.keys(traced ?? {}),
    ['id', 'time', 'operation', 'method', 'path', 'status', 'durationMs', 'correlator', 'traceId', 'scenarios', 'seed'],
    'beside the correlator'
  )
  journal.append(request({ correlator: 'c-2' }))
  const untraced = journal.list()[0]
  t.equal(untraced?.correlator, 'c-2', 'the one slot was reused')
  t.notOk(untraced !== undefined && 'traceId' in untraced, 'no trace id left from the earlier request')
})

t.test('entries are frozen: a listener or reader cannot alter the journal', async (t) => {
  const { journal } = build()
  const scenarios = ['hang']
  const heard: Array<Readonly<JournalEntry>> = []
  journal.subscribe((entry) => heard.push(entry))
  journal.append(request({ scenarios }))
  scenarios.push('later')
  const entry = journal.list()[0]
  if (entry === undefined) return t.fail('no entry')
  t.strictSame(entry.scenarios, ['hang'], 'a copy of the array the caller keeps')
  t.equal(heard[0], entry, 'the listener was given the very object readers get')
  t.throws(() => { (entry as JournalEntry).status = 500 }, TypeError)
  t.throws(() => { (entry.scenarios as string[]).push('x') }, TypeError)
  t.strictSame(journal.list()[0], {
    id: 1,
    time: '2026-11-25T12:00:00.000Z',
    operation: 'verify',
    method: 'POST',
    path: '/camara/api/number-verification/v1/verify',
    status: 200,
    durationMs: 3,
    scenarios: ['hang'],
    seed: 1234
  }, 'unaltered')
})

t.test('list returns everything oldest first, newest last', async (t) => {
  const journal = withFlows()
  t.strictSame(journal.list().map((e) => e.id), [1, 2, 3, 4, 5, 6, 7])
})

t.test('list filters by flow, correlator, subscriber and operation', async (t) => {
  const journal = withFlows()
  t.strictSame(
    journal.list({ flowId: 'flow-1' }).map((e) => e.operation),
    ['authorize', 'operator', 'token', 'verify'],
    'one flow, every leg in order'
  )
  t.strictSame(journal.list({ correlator: 'corr-2' }).map((e) => e.id), [7])
  t.strictSame(journal.list({ msisdn: '+34666666666' }).map((e) => e.id), [2, 5, 6])
  t.strictSame(
    journal.list({ operation: 'token' }).map((e) => [e.id, e.status, e.reason]),
    [
      [4, 400, 'code already used'],
      [5, 200, undefined]
    ]
  )
  t.strictSame(journal.list({ flowId: 'flow-1', operation: 'token' }).map((e) => e.id), [5], 'filters combine')
  t.strictSame(journal.list({ flowId: 'no-such-flow' }), [])
})

t.test('limit keeps the newest matching entries, still oldest first', async (t) => {
  const journal = withFlows()
  t.strictSame(journal.list({ limit: 3 }).map((e) => e.id), [5, 6, 7])
  t.strictSame(journal.list({ flowId: 'flow-1', limit: 2 }).map((e) => e.id), [5, 6])
  t.strictSame(journal.list({ limit: 100 }).length, 7)
  t.strictSame(journal.list({ limit: 0 }), [])
})

t.test('sinceId returns only later entries, for polling', async (t) => {
  const journal = withFlows()
  t.strictSame(journal.list({ sinceId: 5 }).map((e) => e.id), [6, 7])
  t.strictSame(journal.list({ sinceId: 7 }), [])
  t.strictSame(journal.list({ sinceId: 2, operation: 'token', limit: 1 }).map((e) => e.id), [5])
})

t.test('the journal never holds more than its capacity: the oldest entries go first', async (t) => {
  const { journal } = build(3)
  for (let i = 0; i < 10; i++) journal.append(request({ correlator: `c-${i}` }))
  t.equal(journal.size, 3)
  t.equal(journal.capacity, 3)
  t.strictSame(journal.list().map((e) => [e.id, e.correlator]), [[8, 'c-7'], [9, 'c-8'], [10, 'c-9']])
  t.strictSame(journal.list({ correlator: 'c-0' }), [], 'dropped')
})

t.test('the ring stays in order across many wrap-arounds', async (t) => {
  const { journal } = build(7)
  for (let i = 1; i <= 1000; i++) {
    journal.append(request())
    const ids = journal.list().map((e) => e.id)
    const expected = Array.from({ length: Math.min(i, 7) }, (_, k) => i - Math.min(i, 7) + 1 + k)
    if (ids.join() !== expected.join()) {
      t.fail(`after ${i} appends: ${ids.join()}`)
      break
    }
  }
  t.strictSame(journal.list().map((e) => e.id), [994, 995, 996, 997, 998, 999, 1000])
})

t.test('the default capacity is 1000', async (t) => {
  const { journal } = build()
  for (let i = 0; i < 1005; i++) journal.append(request())
  t.equal(journal.size, 1000)
  t.equal(journal.list()[0]?.id, 6)
  t.equal(journal.list().at(-1)?.id, 1005)
})

t.test('a capacity must be a positive integer', async (t) => {
  const clock = new ManualClock()
  for (const capacity of [0, -1, 2.5, Number.NaN]) {
    t.throws(
      () => new Journal({ clock, seed: 1, capacity }),
      { name: 'RangeError', message: /journal capacity must be a positive integer/ },
      String(capacity)
    )
  }
})

t.test('clear empties the journal but ids keep increasing', async (t) => {
  const journal = withFlows()
  journal.clear()
  t.equal(journal.size, 0)
  t.strictSame(journal.list(), [])
  journal.append(request())
  t.strictSame(journal.list().map((e) => e.id), [8])
})

t.test('subscribers receive each new entry until they unsubscribe', async (t) => {
  const { journal } = build()
  const seen: number[] = []
  const unsubscribe = journal.subscribe((entry) => seen.push(entry.id))
  journal.append(request())
  journal.append(request())
  unsubscribe()
  journal.append(request())
  t.strictSame(seen, [1, 2])
  unsubscribe()
})

t.test('the same listener subscribed twice is two subscriptions', async (t) => {
  const { journal } = build()
  const seen: number[] = []
  const listener = (entry: Readonly<JournalEntry>): void => { seen.push(entry.id) }
  const first = journal.subscribe(listener)
  journal.subscribe(listener)
  journal.append(request())
  first()
  journal.append(request())
  t.strictSame(seen, [1, 1, 2])
})

t.test('a throwing listener neither fails the append nor starves the other listeners', async (t) => {
  const { journal } = build()
  const seen: number[] = []
  journal.subscribe(() => { throw new Error('dashboard socket closed') })
  journal.subscribe((entry) => seen.push(entry.id))
  t.doesNotThrow(() => journal.append(request()))
  t.strictSame(seen, [1])
  t.equal(journal.size, 1)
})
