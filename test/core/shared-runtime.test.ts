// Replicas on a shared store act as one emulator: what the control API changes on one is adopted
// by the others at their next request, and the uses of an activation are counted over all of them.
// Each replica here is a scenario engine with its SharedRuntime, all on one shared memory store.
import t from 'tap'
import { ManualClock } from '../../src/core/clock.js'
import { SeededRandom } from '../../src/core/random.js'
import { ScenarioEngine, type Decision } from '../../src/core/scenarios/engine.js'
import { SharedRuntime, type RuntimeFixtures, type SharedRuntimeCollections } from '../../src/core/shared-runtime.js'
import { StoreUnavailableError, type Store } from '../../src/core/store.js'
import { facts, latencyScenario, START } from './scenarios/support.js'
import { rejected, sharedMemoryStore } from './support.js'

interface Replica {
  engine: ScenarioEngine
  runtime: SharedRuntime
  /** What the runtime handed to fixtures.adopt, in order */
  adopted: Array<RuntimeFixtures | undefined>
  /** What fixtures.current answers */
  fixtures: RuntimeFixtures | undefined
}

function replica (store: Store<SharedRuntimeCollections>, clock: ManualClock): Replica {
  const engine = new ScenarioEngine({ random: new SeededRandom(1), clock, usesCountedElsewhere: true })
  const replica: Replica = {
    engine,
    adopted: [],
    fixtures: undefined,
    runtime: new SharedRuntime(engine, store, {
      current: () => replica.fixtures,
      adopt: (fixtures) => { replica.adopted.push(fixtures) }
    })
  }
  return replica
}

interface Cluster {
  replicas: [Replica, Replica, Replica]
  store: Store<SharedRuntimeCollections>
  unavailable: (down: boolean) => void
}

/** Three replicas on one shared store and one clock */
function cluster (): Cluster {
  const clock = new ManualClock(START)
  const { store, unavailable } = sharedMemoryStore<SharedRuntimeCollections>(clock)
  return { replicas: [replica(store, clock), replica(store, clock), replica(store, clock)], store, unavailable }
}

const FIXTURES: RuntimeFixtures = {
  defaultOperator: 'movistar-es',
  operators: [],
  clients: [],
  subscribers: [{ msisdn: '+34600000009' }]
}

/** The decideAgain of a request that must not be decided again */
const notAgain = (): Decision => { throw new Error('decided again') }

const activationIds = (decision: Decision): Array<string | undefined> => decision.applied.map((a) => a.activationId)

t.test('a replica that finds nothing changed at runtime adopts nothing', async (t) => {
  const { replicas: [a] } = cluster()
  await a.runtime.refresh()
  t.strictSame(a.adopted, [])
})

t.test('a change published by one replica is adopted by another at its next refresh, once', async (t) => {
  const { replicas: [a, b] } = cluster()
  a.fixtures = FIXTURES
  const activation = await a.runtime.change(() => {
    a.engine.define(latencyScenario('slow-everywhere', 40))
    return a.engine.activate('slow-everywhere', { remaining: 3 })
  })
  t.match(activation.id, /^activation-/, 'change answers what the change returned')
  await b.runtime.refresh()
  t.strictSame(b.adopted, [FIXTURES])
  t.strictSame(b.engine.get('slow-everywhere'), latencyScenario('slow-everywhere', 40))
  t.strictSame(b.engine.activations(), [activation])
  await b.runtime.refresh()
  t.equal(b.adopted.length, 1, 'the same revision is not adopted twice')
})

t.test('a change is made on the latest state: one replica\'s change keeps another\'s', async (t) => {
  const { replicas: [a, b] } = cluster()
  const first = await a.runtime.activate('operator-unavailable', {})
  const second = await b.runtime.activate('gateway-timeout', {})
  t.not(first.id, second.id, 'replicas never give the same activation id')
  await a.runtime.refresh()
  t.strictSame(a.engine.activations().map((x) => x.name), ['operator-unavailable', 'gateway-timeout'])
})

t.test('a record without runtime fixtures tells the other replicas to go back to their baseline', async (t) => {
  const { replicas: [a, b], store } = cluster()
  await a.runtime.publish()
  const record = await store.get('runtimeState', 'runtime')
  t.strictSame(record, { revision: record?.revision, scenarios: { definitions: [], activations: [] } })
  await b.runtime.refresh()
  t.strictSame(b.adopted, [undefined])
})

t.test('a replica that did not reset adopts the reset of another; the one that reset forgets', async (t) => {
  const { replicas: [a, b], store } = cluster()
  await a.runtime.activate('operator-unavailable', {})
  await b.runtime.refresh()
  t.equal(b.engine.activations().length, 1)
  // What a reset does on replica a: the store emptied, the engine reset, the revision forgotten
  await store.clear()
  a.engine.reset()
  a.runtime.forget()
  await a.runtime.refresh()
  t.strictSame(a.adopted, [], 'nothing to adopt on the replica that reset')
  await b.runtime.refresh()
  t.strictSame(b.engine.activations(), [])
  t.strictSame(b.adopted, [undefined, undefined])
})

t.test('a change while the store cannot answer is refused before it is applied', async (t) => {
  const { replicas: [a], unavailable } = cluster()
  unavailable(true)
  let applied = false
  const error = await rejected(a.runtime.change(() => { applied = true }))
  t.type(error, StoreUnavailableError)
  t.equal(applied, false)
  unavailable(false)
  await a.runtime.activate('operator-unavailable', {})
  t.equal(a.engine.activations().length, 1, 'service resumes once the store is back')
})

t.test('the use that reaches remaining ends the activation on every replica', async (t) => {
  const { replicas: [a, b] } = cluster()
  const activation = await a.runtime.activate('operator-unavailable', { remaining: 2 })
  await b.runtime.refresh()
  const onA = a.engine.decide(facts())
  t.strictSame(activationIds(onA), [activation.id])
  t.equal(await a.runtime.settle(onA, notAgain), onA)
  t.equal(a.engine.activations().length, 1, 'one use of two: still live')
  const onB = b.engine.decide(facts())
  t.equal(await b.runtime.settle(onB, notAgain), onB, 'the last use applies')
  t.strictSame(b.engine.activations(), [])
  await a.runtime.refresh()
  t.strictSame(a.engine.activations(), [], 'published for the other replica')
})

t.test('an activation other replicas used up is dropped and the request decided again without it', async (t) => {
  const { replicas: [a, b] } = cluster()
  const activation = await a.runtime.activate('operator-unavailable', { remaining: 1 })
  await b.runtime.refresh()
  await a.runtime.settle(a.engine.decide(facts()), notAgain)
  // b has not refreshed: it still applies the activation a used up
  const stale = b.engine.decide(facts())
  t.strictSame(activationIds(stale), [activation.id])
  let again = 0
  const settled = await b.runtime.settle(stale, () => { again++; return b.engine.decide(facts()) })
  t.equal(again, 1)
  t.strictSame(settled, { applied: [], latencyMs: 0, unknown: [], skipped: [] })
  t.strictSame(b.engine.activations(), [])
})

t.test('a request counts each activation once, however often it is decided again', async (t) => {
  const { replicas: [a, b] } = cluster()
  const spent = await a.runtime.activate('operator-unavailable', { remaining: 1 })
  const kept = await a.runtime.activate('slow-network', { remaining: 5 })
  await b.runtime.refresh()
  await a.runtime.settle(
    {
      applied: [{ name: spent.name, source: 'control', activationId: spent.id }],
      latencyMs: 0,
      unknown: [],
      skipped: []
    },
    notAgain
  )
  const both = b.engine.decide(facts())
  t.strictSame(activationIds(both).sort(), [spent.id, kept.id].sort())
  await b.runtime.settle(both, () => b.engine.decide(facts()))
  const [live] = await b.runtime.activations()
  t.strictSame(live, { ...kept, appliedCount: 1, remaining: 4 }, 'kept was counted once though decided twice')
})

t.test('uses of activations without remaining, and scenarios not activated, are counted or ignored', async (t) => {
  const { replicas: [a, b] } = cluster()
  const unlimited = await a.runtime.activate('operator-unavailable', {})
  await b.runtime.refresh()
  for (const replica of [a, b]) {
    const decision = replica.engine.decide(facts({ headerScenarios: ['slow-network'] }))
    t.strictSame(decision.applied.map((x) => x.name).sort(), ['operator-unavailable', 'slow-network'])
    t.equal(await replica.runtime.settle(decision, notAgain), decision)
  }
  t.strictSame(await b.runtime.activations(), [{ ...unlimited, appliedCount: 2 }])
})

t.test('live activations show the uses of every replica, what is left never below 0', async (t) => {
  const { replicas: [a, b, c] } = cluster()
  const activation = await a.runtime.activate('operator-unavailable', { remaining: 1 })
  await b.runtime.refresh()
  await c.runtime.refresh()
  await b.runtime.settle(b.engine.decide(facts()), () => b.engine.decide(facts()))
  await c.runtime.settle(c.engine.decide(facts()), () => c.engine.decide(facts()))
  // a has not refreshed: its engine still lists the activation, used twice elsewhere
  t.strictSame(await a.runtime.activations(), [{ ...activation, appliedCount: 2, remaining: 0 }])
})

t.test('a request is decided again at most 8 times when every decision applies a used-up activation', async (t) => {
  const { replicas: [a, b] } = cluster()
  const activations = []
  for (let i = 0; i < 10; i++) activations.push(await a.runtime.activate('operator-unavailable', { remaining: 1 }))
  await b.runtime.refresh()
  for (const activation of activations) {
    const decision: Decision = {
      applied: [{ name: activation.name, source: 'control', activationId: activation.id }],
      latencyMs: 0,
      unknown: [],
      skipped: []
    }
    await a.runtime.settle(decision, notAgain)
  }
  // Each decision b makes again applies the next activation a used up
  const decisions = activations.map((activation): Decision => ({
    applied: [{ name: activation.name, source: 'control', activationId: activation.id }],
    latencyMs: 0,
    unknown: [],
    skipped: []
  }))
  let next = 0
  const settled = await b.runtime.settle(decisions[0] as Decision, () => decisions[++next] as Decision)
  t.equal(next, 8)
  t.equal(settled, decisions[8])
  t.strictSame(b.engine.activations().map((x) => x.id), activations.slice(8).map((x) => x.id))
})
