import t from 'tap'
import { ManualClock } from '../../../src/core/clock.js'
import { SeededRandom } from '../../../src/core/random.js'
import { CATALOGUE } from '../../../src/core/scenarios/catalogue.js'
import {
  catalogueDefinitions,
  fixtureDefinitions,
  ScenarioEngine,
  ScenarioRegistryError
} from '../../../src/core/scenarios/engine.js'
import { ScenarioError, type Scenario } from '../../../src/core/scenarios/scenario-schema.js'
import { buildEngine, facts, latencyScenario } from './support.js'

const random = (): SeededRandom => new SeededRandom(1)

t.test('by default the engine knows the built-in catalogue', async (t) => {
  const engine = new ScenarioEngine({ random: random(), clock: new ManualClock() })
  t.strictSame(engine.list().map((s) => s.name), CATALOGUE.map((s) => s.name))
  t.strictSame(engine.list()[0], {
    name: 'operator-unavailable',
    description: CATALOGUE[0]?.description,
    origin: 'catalogue',
    active: false,
    scenario: CATALOGUE[0]
  })
})

t.test('list tells where each scenario came from and whether it is active', async (t) => {
  const { engine } = buildEngine([latencyScenario('from-fixture', 1)])
  engine.define(latencyScenario('from-control', 2))
  engine.activate('from-fixture')
  const byName = new Map(engine.list().map((s) => [s.name, s]))
  t.strictSame(byName.get('from-fixture'), {
    name: 'from-fixture',
    description: '1 ms',
    origin: 'fixture',
    file: 'fixtures/test.json',
    active: true,
    scenario: latencyScenario('from-fixture', 1)
  })
  t.strictSame(byName.get('from-control'), {
    name: 'from-control',
    description: '2 ms',
    origin: 'control',
    active: false,
    scenario: latencyScenario('from-control', 2)
  })
  t.equal(byName.get('hang')?.origin, 'catalogue')
})

t.test('a name defined twice is refused, naming both sources', async (t) => {
  const clock = new ManualClock()
  t.throws(
    () =>
      new ScenarioEngine({
        random: random(),
        clock,
        definitions: [
          ...catalogueDefinitions(),
          ...fixtureDefinitions('fixtures/mine.json', [latencyScenario('hang', 1)])
        ]
      }),
    new ScenarioRegistryError(
      'duplicate',
      'scenario "hang" is defined twice: in the built-in catalogue and in fixtures/mine.json'
    )
  )
  t.throws(
    () =>
      new ScenarioEngine({
        random: random(),
        clock,
        definitions: [
          ...fixtureDefinitions('a.json', [latencyScenario('x', 1)]),
          ...fixtureDefinitions('b.json', [latencyScenario('x', 2)])
        ]
      }),
    { kind: 'duplicate', message: 'scenario "x" is defined twice: in a.json and in b.json' }
  )
})

t.test('definitions are validated when the engine takes them, naming the source', async (t) => {
  const bad = { name: 'bad', description: 'x', effects: { latency: { minMs: 10, maxMs: 1 } } } as Scenario
  const error = t.throws(
    () =>
      new ScenarioEngine({
        random: random(),
        clock: new ManualClock(),
        definitions: fixtureDefinitions('fixtures/slow.json', [bad])
      })
  ) as ScenarioError
  t.ok(error instanceof ScenarioError)
  t.equal(error.message, 'fixtures/slow.json: $.effects.latency.maxMs: must be at least minMs (10)')
})

t.test('define adds a runtime scenario that can be selected at once', async (t) => {
  const { engine } = buildEngine()
  const listing = engine.define(latencyScenario('my-slow', 30))
  t.strictSame(listing, {
    name: 'my-slow',
    description: '30 ms',
    origin: 'control',
    active: false,
    scenario: latencyScenario('my-slow', 30)
  })
  t.equal(engine.decide(facts({ headerScenarios: ['my-slow'] })).latencyMs, 30)
  t.strictSame(engine.validateNames(['my-slow']), [])
})

t.test('define replaces an earlier runtime definition, and its activations follow the new one', async (t) => {
  const { engine } = buildEngine()
  engine.define(latencyScenario('my-slow', 30, { firstN: 1 }))
  engine.activate('my-slow')
  t.equal(engine.decide(facts({ headerScenarios: ['my-slow'] })).latencyMs, 30, 'header selection counted once')
  engine.define(latencyScenario('my-slow', 40, { firstN: 1 }))
  t.equal(
    engine.decide(facts({ headerScenarios: ['my-slow'] })).latencyMs,
    40,
    'new definition, its own count from zero'
  )
  t.equal(engine.list().filter((s) => s.name === 'my-slow').length, 1)
  engine.define(latencyScenario('my-slow', 40, { operations: ['token'] }))
  t.equal(engine.decide(facts()).latencyMs, 0, 'the activation follows the new match')
  t.equal(engine.decide(facts({ operation: 'token' })).latencyMs, 40)
})

t.test('define refuses names of the catalogue and of fixtures', async (t) => {
  const { engine } = buildEngine([latencyScenario('from-fixture', 1)])
  t.throws(
    () => engine.define(latencyScenario('rate-limited', 1)),
    new ScenarioRegistryError('duplicate', 'scenario "rate-limited" is already defined in the built-in catalogue')
  )
  t.throws(() => engine.define(latencyScenario('from-fixture', 1)), {
    kind: 'duplicate',
    message: 'scenario "from-fixture" is already defined in fixtures/test.json'
  })
  t.equal(engine.get('rate-limited')?.effects.error !== undefined, true, 'unchanged')
})

t.test('define validates the scenario', async (t) => {
  const { engine } = buildEngine()
  const error = t.throws(() =>
    engine.define({ name: 'NoGood', description: 'x', effects: { verifiedResult: true } })
  ) as ScenarioError
  t.ok(error instanceof ScenarioError)
  t.equal(error.message, 'the control API: $.name: must match pattern ^[a-z0-9]+(-[a-z0-9]+)*$')
  t.equal(engine.get('NoGood'), undefined)
})

t.test('the engine keeps its own frozen copy of what it is given', async (t) => {
  const { engine } = buildEngine()
  const scenario = latencyScenario('mutable', 10)
  engine.define(scenario)
  ;(scenario.effects.latency as { fixedMs: number }).fixedMs = 999
  t.equal(engine.decide(facts({ headerScenarios: ['mutable'] })).latencyMs, 10)
  t.throws(() => { (engine.get('mutable')!.effects as { verifiedResult?: boolean }).verifiedResult = true }, TypeError)
})

t.test('remove deletes a runtime scenario and its activations', async (t) => {
  const { engine } = buildEngine()
  engine.define(latencyScenario('temp', 10))
  engine.activate('temp')
  t.equal(engine.remove('temp'), true)
  t.strictSame(engine.activations(), [])
  t.equal(engine.get('temp'), undefined)
  t.strictSame(engine.decide(facts({ headerScenarios: ['temp'] })).unknown, ['temp'])
  t.equal(engine.remove('temp'), false, 'unknown: nothing to remove')
})

t.test('remove refuses catalogue and fixture scenarios', async (t) => {
  const { engine } = buildEngine([latencyScenario('from-fixture', 1)])
  t.throws(
    () => engine.remove('hang'),
    new ScenarioRegistryError(
      'read-only',
      'scenario "hang" is defined in the built-in catalogue and cannot be removed at runtime'
    )
  )
  t.throws(() => engine.remove('from-fixture'), {
    kind: 'read-only',
    message: 'scenario "from-fixture" is defined in fixtures/test.json and cannot be removed at runtime'
  })
  t.ok(engine.get('hang'))
})

t.test('replaceFixtureDefinitions swaps the fixture scenarios and drops activations of removed ones', async (t) => {
  const { engine } = buildEngine([latencyScenario('old-one', 1), latencyScenario('kept', 2)])
  engine.define(latencyScenario('runtime', 3))
  engine.activate('old-one')
  engine.activate('kept')
  engine.replaceFixtureDefinitions(
    fixtureDefinitions('fixtures/new.json', [latencyScenario('kept', 20), latencyScenario('new-one', 4)])
  )
  const byName = new Map(engine.list().map((s) => [s.name, s]))
  t.equal(byName.has('old-one'), false)
  t.equal(byName.get('kept')?.file, 'fixtures/new.json')
  t.equal(byName.get('new-one')?.origin, 'fixture')
  t.equal(byName.get('runtime')?.origin, 'control', 'runtime definitions survive a reload')
  t.equal(byName.get('hang')?.origin, 'catalogue')
  t.strictSame(engine.activations().map((a) => a.name), ['kept'])
  t.equal(engine.decide(facts()).latencyMs, 20, 'the kept activation uses the new definition')
})

t.test('a bad reload changes nothing', async (t) => {
  const { engine } = buildEngine([latencyScenario('old-one', 1)])
  engine.define(latencyScenario('runtime', 3))
  const before = engine.list()
  t.throws(
    () =>
      engine.replaceFixtureDefinitions(
        fixtureDefinitions('fixtures/new.json', [latencyScenario('fine', 1), latencyScenario('runtime', 1)])
      ),
    { kind: 'duplicate', message: 'scenario "runtime" is defined twice: in the control API and in fixtures/new.json' }
  )
  t.throws(
    () =>
      engine.replaceFixtureDefinitions(
        fixtureDefinitions('fixtures/new.json', [{ name: 'x', description: 'x', effects: {} } as Scenario])
      ),
    ScenarioError
  )
  t.strictSame(engine.list(), before)
})
