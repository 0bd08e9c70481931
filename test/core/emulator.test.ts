// The assembled emulator: its state in one process (memory store), replicas acting as one on a
// shared store (runtime scenarios, fixture changes, the journal), namespaces' worlds, fixture
// changes checked by the fixture rules, and reset back to the baseline.
import { setTimeout as delay } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { ManualClock } from '../../src/core/clock.js'
import type { Emulator } from '../../src/core/emulator.js'
import type { SubscriberFixture } from '../../src/core/fixture-schema.js'
import { FixtureError } from '../../src/core/fixtures.js'
import type { JournalEntry, JournalRecord } from '../../src/core/journal.js'
import { STATE_COLLECTIONS, type StateCollections } from '../../src/core/records.js'
import { FOLLOW_INTERVAL_MS } from '../../src/core/shared-journal.js'
import { StoreUnavailableError } from '../../src/core/store.js'
import { MemoryStore } from '../../src/store/memory.js'
import { latencyScenario } from './scenarios/support.js'
import {
  authorizeQuery,
  buildEmulator,
  defaultFixtureDocument,
  fixturesFrom,
  rejected,
  SEED_IPV4,
  SEED_MSISDN,
  sharedMemoryStore,
  START,
  thrown,
  type SharedTestStore
} from './support.js'

const NEW_MSISDN = '+34600000077'

function subscriber (msisdn: string, overrides: Partial<SubscriberFixture> = {}): SubscriberFixture {
  return {
    msisdn,
    operator: 'telco-es',
    ipv4: [],
    ipv6: [],
    connection: 'mobile-data',
    authMethods: ['network'],
    ...overrides
  }
}

function record (overrides: Partial<JournalRecord> = {}): JournalRecord {
  return {
    operation: 'verify',
    method: 'POST',
    path: '/camara/api/number-verification/v1/verify',
    status: 200,
    durationMs: 1,
    ...overrides
  }
}

/** Two emulators on one shared store and one clock, as replicas behind a load balancer */
async function replicas (t: Test): Promise<{ a: Emulator, b: Emulator, shared: SharedTestStore<StateCollections> }> {
  const clock = new ManualClock(START)
  const shared = sharedMemoryStore<StateCollections>(clock)
  const [{ emulator: a }, { emulator: b }] = await Promise.all([
    buildEmulator({ store: shared.store, clock }),
    buildEmulator({ store: shared.store, clock })
  ])
  t.teardown(async () => { shared.unavailable(false); await a.close() })
  return { a, b, shared }
}

t.test('in one process nothing waits before a request and the engine is the runtime state', async (t) => {
  const { emulator } = await buildEmulator()
  t.equal(emulator.beforeRequest(), undefined)
  const activation = await emulator.activateScenario('operator-unavailable', { remaining: 2 })
  const defined = await emulator.changeRuntime((engine) => engine.define(latencyScenario('slow-one', 10)))
  t.equal(defined.name, 'slow-one')
  t.strictSame(await emulator.liveActivations(), [activation])
  emulator.runtimeChanged()
  t.strictSame(emulator.scenarios.activations(), [activation])
})

t.test('in one process the journal is the local journal, followed by subscription', async (t) => {
  const { emulator } = await buildEmulator()
  const followed: Array<Readonly<JournalEntry>> = []
  const stop = emulator.followJournal((entry) => { followed.push(entry) })
  emulator.journal.append(record({ flowId: 'f1' }))
  stop()
  emulator.journal.append(record({ operation: 'token' }))
  t.strictSame(followed.map((e) => e.flowId), ['f1'])
  t.strictSame((await emulator.journalEntries({ operation: 'token' })).map((e) => e.id), [2])
  await emulator.clearJournal()
  t.strictSame(await emulator.journalEntries(), [])
})

t.test('an activation made on one replica applies on another, its uses counted over both', async (t) => {
  const { a, b } = await replicas(t)
  const activation = await a.activateScenario('operator-unavailable', { remaining: 3 })
  await b.beforeRequest()
  t.strictSame(await b.liveActivations(), [{ ...activation, appliedCount: 0, remaining: 3 }])
  await b.changeRuntime((engine) => engine.deactivate(activation.id))
  await a.beforeRequest()
  t.strictSame(await a.liveActivations(), [])
})

t.test('a change the programmatic API made directly is published for the other replicas', async (t) => {
  const { a, b } = await replicas(t)
  a.scenarios.define(latencyScenario('slow-programmatic', 25))
  a.runtimeChanged()
  // Published in the background: b sees it once the write landed
  await delay(0)
  await b.beforeRequest()
  t.strictSame(b.scenarios.get('slow-programmatic'), latencyScenario('slow-programmatic', 25))
})

t.test('a publication the store cannot take is dropped without failing the caller', async (t) => {
  const { a, shared } = await replicas(t)
  shared.unavailable(true)
  a.runtimeChanged()
  a.journal.append(record())
  await delay(0)
  shared.unavailable(false)
  t.strictSame(await a.journalEntries(), [], 'the entry was not written while the store was down')
})

t.test('on a shared store a request waits for the runtime state, and fails while the store is down', async (t) => {
  const { a, shared } = await replicas(t)
  shared.unavailable(true)
  t.type(await rejected(a.beforeRequest() ?? Promise.resolve()), StoreUnavailableError)
})

t.test('a subscriber added on one replica is known to another; a reset brings both back', async (t) => {
  const { a, b } = await replicas(t)
  t.strictSame(a.upsertSubscriber(subscriber(NEW_MSISDN)), { created: true })
  a.runtimeChanged()
  await delay(0)
  await b.beforeRequest()
  t.equal(b.directory.subscriber(NEW_MSISDN)?.msisdn, NEW_MSISDN)
  await a.reset()
  t.equal(a.directory.subscriber(NEW_MSISDN), undefined)
  await b.beforeRequest()
  t.equal(b.directory.subscriber(NEW_MSISDN), undefined, 'b went back to its baseline')
  t.equal(b.directory.subscriber(SEED_MSISDN)?.msisdn, SEED_MSISDN)
})

t.test('runtime fixtures from another replica that break a rule here are not taken', async (t) => {
  const { a, b } = await replicas(t)
  // A subscriber naming a scenario only a's fixtures define: a accepts it, b cannot
  a.loadFixtures(fixturesFrom({ ...defaultFixtureDocument(), scenarios: [latencyScenario('only-on-a', 5)] }))
  a.upsertSubscriber(subscriber(NEW_MSISDN, { scenarios: ['only-on-a'] }))
  a.runtimeChanged()
  await delay(0)
  // The refresh succeeds: a rejection here would fail every later request of this replica
  await b.beforeRequest()
  t.equal(b.directory.subscriber(NEW_MSISDN), undefined)
  t.equal(b.directory.subscriber(SEED_MSISDN)?.msisdn, SEED_MSISDN)
  t.match(b.fixturesNotAdopted, /only-on-a/, 'b says why it kept its own')
  t.equal(a.fixturesNotAdopted, undefined)
  await b.beforeRequest()
  // A later copy b can take is taken, and the refusal is forgotten
  a.upsertSubscriber(subscriber(NEW_MSISDN))
  a.runtimeChanged()
  await delay(0)
  await b.beforeRequest()
  t.equal(b.directory.subscriber(NEW_MSISDN)?.msisdn, NEW_MSISDN)
  t.equal(b.fixturesNotAdopted, undefined)
})

t.test('on a shared store the journal lists and follows the entries of every replica', async (t) => {
  const { a, b } = await replicas(t)
  const followed: Array<Readonly<JournalEntry>> = []
  const stop = b.followJournal((entry) => { followed.push(entry) })
  t.teardown(stop)
  await delay(0)
  a.journal.append(record({ flowId: 'on-a' }))
  b.journal.append(record({ flowId: 'on-b' }))
  await delay(FOLLOW_INTERVAL_MS + 100)
  t.strictSame(followed.map((e) => [e.id, e.flowId]), [[1, 'on-a'], [2, 'on-b']])
  t.strictSame((await a.journalEntries({ flowId: 'on-b' })).map((e) => e.id), [2])
  await b.clearJournal()
  t.strictSame(await a.journalEntries(), [])
})

t.test('a namespace\'s world is served under /ns/<name> with its own store, the baseline and the seed', async (t) => {
  const { emulator, clock } = await buildEmulator()
  const store = new MemoryStore<StateCollections>(clock, { sweepIntervalMs: 0, collections: STATE_COLLECTIONS })
  const world = emulator.inNamespace('team-a', { store })
  t.equal(world.urls.publicUrl, `${emulator.urls.publicUrl}/ns/team-a`)
  t.equal(world.random.seed, emulator.random.seed)
  t.equal(world.directory.subscriber(SEED_MSISDN)?.msisdn, SEED_MSISDN)
  await world.authorization.start(authorizeQuery(), SEED_IPV4)
  t.strictSame((await world.capacity()).pending.live, 1)
  t.strictSame((await emulator.capacity()).pending.live, 0, 'the namespace keeps its state apart')
  const seeded = emulator.inNamespace('team-b', {
    store,
    seed: 99,
    fixtures: fixturesFrom({ ...defaultFixtureDocument(), subscribers: [] })
  })
  t.equal(seeded.random.seed, 99)
  t.equal(seeded.directory.subscriber(SEED_MSISDN), undefined)
})

t.test('capacity reports the pending requests and grants against their caps', async (t) => {
  const { emulator } = await buildEmulator({ settings: { maxPending: 7, maxGrants: 9 } })
  await emulator.authorization.start(authorizeQuery(), SEED_IPV4)
  t.strictSame(await emulator.capacity(), {
    pending: { live: 1, max: 7 }, grants: { live: 0, max: 9 }, dpopProofs: { live: 0, max: 100_000 }
  })
})

t.test('subscribers are added, replaced and removed; removing an unknown one changes nothing', async (t) => {
  const { emulator } = await buildEmulator()
  t.strictSame(emulator.upsertSubscriber(subscriber(NEW_MSISDN)), { created: true })
  t.strictSame(emulator.upsertSubscriber(subscriber(NEW_MSISDN, { name: 'renamed' })), { created: false })
  t.equal(emulator.directory.subscriber(NEW_MSISDN)?.name, 'renamed')
  t.equal(emulator.removeSubscriber(NEW_MSISDN), true)
  t.equal(emulator.directory.subscriber(NEW_MSISDN), undefined)
  t.equal(emulator.removeSubscriber(NEW_MSISDN), false)
})

t.test('a fixture change that breaks a rule changes nothing and names the JSON path', async (t) => {
  const { emulator } = await buildEmulator()
  const before = emulator.directory
  const error = thrown(() => emulator.upsertSubscriber(subscriber(NEW_MSISDN, { operator: 'no-such-operator' })))
  t.type(error, FixtureError)
  t.match((error as FixtureError).file, 'control API')
  t.match((error as FixtureError).jsonPath, /^\$\.subscribers\[\d+\]/)
  t.equal(emulator.directory, before)
  t.equal(emulator.directory.subscriber(NEW_MSISDN), undefined)
})

t.test('reset forgets runtime changes and returns to the fixtures last loaded', async (t) => {
  const { emulator } = await buildEmulator()
  emulator.loadFixtures(fixturesFrom({ ...defaultFixtureDocument(), scenarios: [latencyScenario('from-reload', 5)] }))
  t.ok(emulator.scenarios.get('from-reload'), 'the reloaded files\' scenarios are defined')
  emulator.upsertSubscriber(subscriber(NEW_MSISDN))
  await emulator.activateScenario('from-reload', {})
  emulator.journal.append(record())
  await emulator.authorization.start(authorizeQuery(), SEED_IPV4)
  await emulator.reset()
  t.equal(emulator.directory.subscriber(NEW_MSISDN), undefined)
  t.ok(emulator.scenarios.get('from-reload'), 'the loaded fixtures are the baseline')
  t.strictSame(await emulator.liveActivations(), [])
  t.strictSame(await emulator.journalEntries(), [])
  t.strictSame((await emulator.capacity()).pending.live, 0)
})
