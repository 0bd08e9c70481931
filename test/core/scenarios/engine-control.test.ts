import { inspect } from 'node:util'
import t from 'tap'
import { MAX_EXPIRES_IN_SECONDS, ScenarioRegistryError } from '../../../src/core/scenarios/engine.js'
import { ScenarioError } from '../../../src/core/scenarios/scenario-schema.js'
import { buildEngine, camaraCode, facts, latencyScenario, START } from './support.js'

t.test('a global activation applies to every matching request until deactivated', async (t) => {
  const { engine } = buildEngine()
  const activation = engine.activate('operator-unavailable')
  t.strictSame(
    activation,
    { id: 'activation-1', name: 'operator-unavailable', activatedAt: START, appliedCount: 0 },
    'returns the activation'
  )
  const id = activation.id
  activation.appliedCount = 99
  t.equal(engine.activations()[0]?.appliedCount, 0, 'a copy: changing it changes nothing')
  for (let i = 0; i < 3; i++) t.equal(camaraCode(engine.decide(facts())), 'UNAVAILABLE')
  t.equal(engine.decide(facts({ operation: 'token' })).error, undefined, 'its match still holds: verify and share only')
  t.strictSame(engine.activations(), [{ id, name: 'operator-unavailable', activatedAt: START, appliedCount: 3 }])
  t.equal(engine.deactivate(id), 1)
  t.equal(engine.decide(facts()).error, undefined)
  t.strictSame(engine.activations(), [])
})

t.test('next-N: remaining counts down only on requests it applied to, then the activation vanishes', async (t) => {
  const { engine } = buildEngine()
  const id = engine.activate('rate-limited', { remaining: 2 }).id
  t.equal(engine.decide(facts({ operation: 'token' })).applied.length, 0, 'token: not a match, not counted')
  t.equal(engine.decide(facts({ operation: 'discovery' })).applied.length, 0)
  t.strictSame(engine.activations().map((a) => a.remaining), [2])
  t.equal(camaraCode(engine.decide(facts())), 'TOO_MANY_REQUESTS')
  t.strictSame(engine.activations(), [{ id, name: 'rate-limited', activatedAt: START, remaining: 1, appliedCount: 1 }])
  t.equal(camaraCode(engine.decide(facts({ operation: 'share' }))), 'TOO_MANY_REQUESTS')
  t.strictSame(engine.activations(), [], 'gone at 0')
  t.equal(engine.decide(facts()).error, undefined)
  t.strictSame(engine.list().find((s) => s.name === 'rate-limited')?.active, false)
})

t.test('next-N does not count requests the probability passed over', async (t) => {
  const { engine } = buildEngine([latencyScenario('coin', 1, { probability: 0.5 })])
  engine.activate('coin', { remaining: 3 })
  let requests = 0
  let applied = 0
  while (engine.activations().length > 0 && requests < 100) {
    requests++
    applied += engine.decide(facts()).applied.length
  }
  t.equal(applied, 3)
  t.ok(requests > 3, `took ${requests} requests at p = 0.5`)
})

t.test('an activation expires expiresInSeconds after it starts, on the injected clock', async (t) => {
  const { engine, clock } = buildEngine()
  clock.advance(5000)
  t.strictSame(
    engine.activate('internal-error', { expiresInSeconds: 60 }),
    {
      id: 'activation-1',
      name: 'internal-error',
      activatedAt: START + 5000,
      appliedCount: 0,
      expiresAt: START + 65_000
    },
    "counted from the clock's now"
  )
  clock.advance(59_999)
  t.equal(camaraCode(engine.decide(facts())), 'INTERNAL')
  t.equal(engine.activations().length, 1)
  clock.advance(1)
  t.equal(engine.decide(facts()).error, undefined, 'expired at exactly expiresAt')
  t.strictSame(engine.activations(), [])
})

t.test('expiry also ends a next-N activation that was not used up', async (t) => {
  const { engine, clock } = buildEngine()
  engine.activate('internal-error', { remaining: 5, expiresInSeconds: 1 })
  t.equal(camaraCode(engine.decide(facts())), 'INTERNAL')
  clock.advance(1000)
  t.strictSame(engine.activations(), [])
  t.equal(engine.list().find((s) => s.name === 'internal-error')?.active, false)
})

t.test('without expiresInSeconds an activation never expires', async (t) => {
  const { engine, clock } = buildEngine()
  engine.activate('internal-error')
  clock.advance(MAX_EXPIRES_IN_SECONDS * 1000 + 1)
  t.equal(camaraCode(engine.decide(facts())), 'INTERNAL')
  t.strictSame(engine.activations(), [
    { id: 'activation-1', name: 'internal-error', activatedAt: START, appliedCount: 1 }
  ])
})

t.test('expiresInSeconds: fractions round up to a whole ms, the maximum is accepted', async (t) => {
  const { engine, clock } = buildEngine()
  const cases: Array<[number, number]> = [
    [0.5, 500],
    [0.0004, 1],
    [Number.MIN_VALUE, 1],
    [1.0001, 1001],
    [MAX_EXPIRES_IN_SECONDS, MAX_EXPIRES_IN_SECONDS * 1000]
  ]
  for (const [expiresInSeconds, lifetimeMs] of cases) {
    const { expiresAt } = engine.activate('internal-error', { expiresInSeconds })
    t.equal(expiresAt, START + lifetimeMs, `${expiresInSeconds} s`)
  }
  t.equal(
    new Date(START + MAX_EXPIRES_IN_SECONDS * 1000).toISOString(),
    '2058-08-03T13:46:40.000Z',
    'the longest expiry is still a time a Date can show'
  )
  t.equal(engine.activations().length, 5, 'none is over the moment it starts')
  clock.advance(1)
  t.equal(engine.activations().length, 3, 'the two 1 ms lifetimes are over a ms later')
})

t.test('the newest control activation wins over older ones', async (t) => {
  const { engine } = buildEngine()
  engine.activate('gateway-timeout')
  engine.activate('upstream-bad-gateway')
  const decision = engine.decide(facts())
  t.equal(camaraCode(decision), 'BAD_GATEWAY')
  t.strictSame(decision.applied.map((a) => a.activationId), ['activation-2', 'activation-1'])
})

t.test('an activation match replaces the scenario rules of the same name for that activation', async (t) => {
  const { engine } = buildEngine()
  engine.activate('rate-limited', { match: { clients: ['demo-app'] } })
  t.equal(camaraCode(engine.decide(facts())), 'TOO_MANY_REQUESTS')
  t.equal(engine.decide(facts({ clientId: 'other-app' })).error, undefined, 'narrowed to one client')
  t.equal(engine.decide(facts({ operation: 'token' })).error, undefined, 'the scenario operations still hold')

  engine.reset()
  engine.activate('operator-unavailable', { match: { operations: ['share'] } })
  t.equal(engine.decide(facts({ operation: 'verify' })).error, undefined, 'operations replaced: share only')
  t.equal(camaraCode(engine.decide(facts({ operation: 'share' }))), 'UNAVAILABLE')
})

t.test('two activations of one scenario count separately and only the first that applies is used', async (t) => {
  const { engine } = buildEngine()
  const older = engine.activate('rate-limited', { remaining: 1 }).id
  const newer = engine.activate('rate-limited', { remaining: 1, match: { clients: ['other-app'] } }).id
  t.strictSame(
    engine.decide(facts()).applied,
    [{ name: 'rate-limited', source: 'control', activationId: older }],
    'newer one did not match demo-app'
  )
  t.strictSame(engine.activations().map((a) => a.id), [newer])
  t.strictSame(engine.decide(facts({ clientId: 'other-app' })).applied, [
    { name: 'rate-limited', source: 'control', activationId: newer }
  ])
  t.strictSame(engine.activations(), [])
})

t.test('counter rules of an activated scenario count per activation', async (t) => {
  const { engine } = buildEngine([latencyScenario('first-1', 5, { firstN: 1 })])
  engine.activate('first-1')
  t.equal(engine.decide(facts()).latencyMs, 5)
  t.equal(engine.decide(facts()).latencyMs, 0)
  engine.deactivate('first-1')
  engine.activate('first-1')
  t.equal(engine.decide(facts()).latencyMs, 5, 'a new activation starts counting afresh')
  t.equal(engine.decide(facts({ headerScenarios: ['first-1'] })).latencyMs, 5, 'the header selection has its own count')
})

t.test('deactivate by name ends every activation of the scenario, by id only that one', async (t) => {
  const { engine } = buildEngine()
  engine.activate('hang')
  const second = engine.activate('hang', { remaining: 2 }).id
  const other = engine.activate('slow-network').id
  t.equal(engine.deactivate('nothing-like-it'), 0)
  t.equal(engine.deactivate(second), 1)
  t.strictSame(engine.activations().map((a) => a.id), ['activation-1', other])
  t.equal(engine.deactivate('hang'), 1)
  t.strictSame(engine.activations().map((a) => a.id), [other])
})

t.test(
  'reset drops runtime definitions, activations and counters; catalogue and fixture definitions stay',
  async (t) => {
    const { engine } = buildEngine([latencyScenario('first-1', 5, { firstN: 1 })])
    engine.define(latencyScenario('runtime-one', 1))
    engine.activate('rate-limited')
    t.equal(engine.decide(facts({ headerScenarios: ['first-1'] })).latencyMs, 5)
    t.equal(engine.decide(facts({ headerScenarios: ['first-1'] })).latencyMs, 0)
    const before = engine.list().map((s) => s.name)
    engine.reset()
    t.strictSame(engine.activations(), [])
    t.equal(engine.decide(facts({ headerScenarios: ['first-1'] })).latencyMs, 5, 'firstN counts from zero again')
    t.strictSame(
      engine.list().map((s) => s.name),
      before.filter((name) => name !== 'runtime-one')
    )
    t.equal(engine.get('runtime-one'), undefined)
    t.ok(engine.get('first-1'))
    t.equal(engine.activate('hang').id, 'activation-2', 'ids are not reused, so a stale id cannot end a new activation')
  }
)

const EXPIRES_IN_SECONDS_RULE = 'must be a number of seconds above 0 and at most 1000000000'

t.test('activate refuses unknown scenarios and bad options, without activating anything', async (t) => {
  const { engine } = buildEngine()
  t.throws(() => engine.activate('no-such'), new ScenarioRegistryError('unknown', 'unknown scenario "no-such"'))
  const invalid: Array<[Parameters<typeof engine.activate>[1], string, string]> = [
    [{ remaining: 0 }, '$.remaining', 'must be an integer of at least 1'],
    [{ remaining: 1.5 }, '$.remaining', 'must be an integer of at least 1'],
    [{ expiresInSeconds: 0 }, '$.expiresInSeconds', EXPIRES_IN_SECONDS_RULE],
    [{ expiresInSeconds: -0 }, '$.expiresInSeconds', EXPIRES_IN_SECONDS_RULE],
    [{ expiresInSeconds: -1 }, '$.expiresInSeconds', EXPIRES_IN_SECONDS_RULE],
    [{ expiresInSeconds: Number.NaN }, '$.expiresInSeconds', EXPIRES_IN_SECONDS_RULE],
    [{ expiresInSeconds: Number.POSITIVE_INFINITY }, '$.expiresInSeconds', EXPIRES_IN_SECONDS_RULE],
    [{ expiresInSeconds: Number.NEGATIVE_INFINITY }, '$.expiresInSeconds', EXPIRES_IN_SECONDS_RULE],
    [{ expiresInSeconds: MAX_EXPIRES_IN_SECONDS + 0.001 }, '$.expiresInSeconds', EXPIRES_IN_SECONDS_RULE],
    [{ expiresInSeconds: 1e13 }, '$.expiresInSeconds', EXPIRES_IN_SECONDS_RULE],
    [{ expiresInSeconds: '60' as never }, '$.expiresInSeconds', EXPIRES_IN_SECONDS_RULE],
    [{ expiresInSeconds: null as never }, '$.expiresInSeconds', EXPIRES_IN_SECONDS_RULE],
    [{ expiresInSeconds: true as never }, '$.expiresInSeconds', EXPIRES_IN_SECONDS_RULE],
    [{ match: { probability: 2 } }, '$.match.probability', 'expected number to be less or equal to 1'],
    [{ match: { colour: 'red' } as never }, '$.match.colour', 'unknown property "colour"'],
    [
      { match: { operations: ['token'] } },
      '$.match.operations',
      'camara errors cannot be answered on token (fits verify, share, discovery, jwks)'
    ]
  ]
  for (const [options, jsonPath, rule] of invalid) {
    const error = t.throws(() => engine.activate('rate-limited', options)) as ScenarioError
    t.ok(error instanceof ScenarioError, inspect(options))
    t.strictSame({ jsonPath: error.jsonPath, rule: error.rule }, { jsonPath, rule })
  }
  t.strictSame(engine.activations(), [])
})

t.test('activations() hands out copies', async (t) => {
  const { engine } = buildEngine()
  engine.activate('hang', { remaining: 2 })
  const copy = engine.activations()[0]!
  copy.remaining = 99
  t.equal(engine.activations()[0]?.remaining, 2)
})
