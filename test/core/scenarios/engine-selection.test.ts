import t from 'tap'
import { parseScenarioList } from '../../../src/core/scenarios/engine.js'
import type { Scenario } from '../../../src/core/scenarios/scenario-schema.js'
import { buildEngine, facts, latencyScenario } from './support.js'

const CAMARA = (name: string, status: number, code: string, latencyMs: number): Scenario => ({
  name,
  description: code,
  effects: { error: { camara: { status, code } } as Scenario['effects']['error'], latency: { fixedMs: latencyMs } }
})

const SCENARIOS: Scenario[] = [
  CAMARA('h-error', 503, 'UNAVAILABLE', 1),
  CAMARA('f-error', 502, 'BAD_GATEWAY', 10),
  CAMARA('c-error', 504, 'TIMEOUT', 100),
  CAMARA('x-error', 500, 'INTERNAL', 1000)
]

t.test('with no scenario selected the decision is empty', async (t) => {
  const { engine } = buildEngine()
  t.strictSame(engine.decide(facts()), { applied: [], latencyMs: 0, unknown: [], skipped: [] })
})

t.test('header > flow > control > fixture for errors, while latencies add up', async (t) => {
  const { engine } = buildEngine(SCENARIOS)
  engine.activate('c-error')
  const all = facts({ headerScenarios: ['h-error'], flowScenarios: ['f-error'], fixtureScenarios: ['x-error'] })
  const decision = engine.decide(all)
  t.strictSame(decision.applied, [
    { name: 'h-error', source: 'header' },
    { name: 'f-error', source: 'flow' },
    { name: 'c-error', source: 'control', activationId: 'activation-1' },
    { name: 'x-error', source: 'fixture' }
  ])
  t.equal(decision.latencyMs, 1111)
  t.strictSame(decision.error, { kind: 'camara', scenario: 'h-error', status: 503, code: 'UNAVAILABLE' })

  t.equal(engine.decide({ ...all, headerScenarios: [] }).error?.scenario, 'f-error', 'flow beats control and fixture')
  t.equal(
    engine.decide({ ...all, headerScenarios: [], flowScenarios: [] }).error?.scenario,
    'c-error',
    'control beats fixture'
  )
  engine.deactivate('c-error')
  t.equal(engine.decide({ ...all, headerScenarios: [], flowScenarios: [] }).error?.scenario, 'x-error')
})

t.test('the precedence holds whatever order the lists are given in', async (t) => {
  const { engine } = buildEngine(SCENARIOS)
  const decision = engine.decide(facts({ fixtureScenarios: ['x-error'], flowScenarios: ['f-error'] }))
  t.equal(decision.error?.scenario, 'f-error')
})

t.test('within the header list the first name wins', async (t) => {
  const { engine } = buildEngine(SCENARIOS)
  t.equal(engine.decide(facts({ headerScenarios: ['x-error', 'h-error'] })).error?.scenario, 'x-error')
  t.equal(engine.decide(facts({ headerScenarios: ['h-error', 'x-error'] })).error?.scenario, 'h-error')
})

t.test('error, fault and forced result are each taken from the highest-precedence scenario giving one', async (t) => {
  const { engine } = buildEngine()
  const decision = engine.decide(facts({
    headerScenarios: ['verify-always-false'],
    flowScenarios: ['connection-reset', 'verify-always-true'],
    fixtureScenarios: ['rate-limited', 'hang']
  }))
  t.equal(decision.verifiedResult, false, 'header forced result beats the flow one')
  t.strictSame(
    decision.fault,
    { scenario: 'connection-reset', type: 'connection-reset' },
    'flow fault beats the fixture one'
  )
  t.strictSame(decision.error, {
    kind: 'camara', scenario: 'rate-limited', status: 429, code: 'TOO_MANY_REQUESTS', retryAfterSeconds: 30
  }, 'the only error, from a fixture, still applies')
  t.strictSame(
    decision.applied.map((a) => a.name),
    ['verify-always-false', 'connection-reset', 'verify-always-true', 'rate-limited', 'hang']
  )
})

t.test('a scenario named by several sources applies once, under the highest one', async (t) => {
  const { engine } = buildEngine([latencyScenario('slow', 50)])
  const id = engine.activate('slow', { remaining: 1 }).id
  const decision = engine.decide(
    facts({ headerScenarios: ['slow', 'slow'], flowScenarios: ['slow'], fixtureScenarios: ['slow'] })
  )
  t.strictSame(decision.applied, [{ name: 'slow', source: 'header' }])
  t.equal(decision.latencyMs, 50, 'not 200')
  t.strictSame(
    engine.activations().map((a) => [a.id, a.remaining]),
    [[id, 1]],
    'the control activation did not apply, so it is not used up'
  )
})

t.test('unknown header and flow names are reported, known ones still apply', async (t) => {
  const { engine } = buildEngine([latencyScenario('slow', 50)])
  const decision = engine.decide(facts({ headerScenarios: ['nope', 'slow', 'nope'], flowScenarios: ['gone'] }))
  t.strictSame(decision.unknown, ['nope', 'gone'])
  t.equal(decision.latencyMs, 50)
})

t.test('unknown fixture names are ignored: a client must not get 400 for the fixtures', async (t) => {
  const { engine } = buildEngine()
  t.strictSame(engine.decide(facts({ fixtureScenarios: ['renamed-away'] })), {
    applied: [],
    latencyMs: 0,
    unknown: [],
    skipped: []
  })
})

t.test('skipped lists header and flow selections that did not apply, not fixture or control ones', async (t) => {
  const { engine } = buildEngine()
  engine.activate('token-server-error')
  const decision = engine.decide(
    facts({
      operation: 'verify',
      headerScenarios: ['consent-denied'],
      flowScenarios: ['token-invalid-grant'],
      fixtureScenarios: ['slow-operator']
    })
  )
  t.strictSame(decision.skipped, [
    { name: 'consent-denied', source: 'header', because: 'operation' },
    { name: 'token-invalid-grant', source: 'flow', because: 'operation' }
  ])
  t.strictSame(decision.applied, [])
})

t.test('validateNames returns each unknown name once, in order', async (t) => {
  const { engine } = buildEngine([latencyScenario('mine', 1)])
  t.strictSame(engine.validateNames(['rate-limited', 'mine']), [])
  t.strictSame(engine.validateNames(['b', 'rate-limited', 'a', 'b']), ['b', 'a'])
})

t.test('errors are resolved with the surface defaults', async (t) => {
  const { engine } = buildEngine([
    { name: 'bad-client', description: 'x', effects: { error: { oauth: { error: 'invalid_client' } } } },
    {
      name: 'teapot-token',
      description: 'x',
      effects: { error: { oauth: { error: 'invalid_request', description: 'custom', status: 418 } } }
    },
    {
      name: 'custom-camara',
      description: 'x',
      effects: { error: { camara: { status: 403, code: 'PERMISSION_DENIED', message: 'no scope for you' } } }
    }
  ])
  const error = (operation: 'token' | 'verify' | 'operator' | 'authorize', name: string): unknown =>
    engine.decide(facts({ operation, headerScenarios: [name] })).error
  t.strictSame(error('token', 'bad-client'), {
    kind: 'oauth',
    scenario: 'bad-client',
    error: 'invalid_client',
    status: 401,
    description: 'Client authentication failed.'
  })
  t.strictSame(error('token', 'teapot-token'), {
    kind: 'oauth',
    scenario: 'teapot-token',
    error: 'invalid_request',
    status: 418,
    description: 'custom'
  })
  t.strictSame(error('token', 'token-server-error'), {
    kind: 'oauth',
    scenario: 'token-server-error',
    error: 'server_error',
    status: 500,
    description: 'The authorization server encountered an unexpected condition.'
  })
  t.strictSame(error('token', 'token-invalid-grant'), {
    kind: 'oauth',
    scenario: 'token-invalid-grant',
    error: 'invalid_grant',
    status: 400,
    description: 'The authorization code is invalid or expired.'
  })
  t.strictSame(error('verify', 'custom-camara'), {
    kind: 'camara',
    scenario: 'custom-camara',
    status: 403,
    code: 'PERMISSION_DENIED',
    message: 'no scope for you'
  })
  t.strictSame(error('verify', 'token-expired-on-api'), {
    kind: 'camara', scenario: 'token-expired-on-api', status: 401, code: 'UNAUTHENTICATED'
  })
  t.strictSame(error('operator', 'consent-required'), {
    kind: 'authorize',
    scenario: 'consent-required',
    error: 'consent_required',
    description: 'The authorization server requires user consent.'
  })
  t.strictSame(error('authorize', 'auth-temporarily-unavailable'), {
    kind: 'authorize',
    scenario: 'auth-temporarily-unavailable',
    error: 'temporarily_unavailable',
    description: 'The authorization server is temporarily unable to handle the request.'
  })
})

t.test('faults carry their timing: slow-body gets a default chunk delay, hang its give-up time', async (t) => {
  const { engine } = buildEngine([
    { name: 'dribble', description: 'x', effects: { fault: { type: 'slow-body' } } },
    { name: 'hang-5s', description: 'x', effects: { fault: { type: 'hang', afterMs: 5000 } } }
  ])
  t.strictSame(engine.decide(facts({ headerScenarios: ['dribble'] })).fault, {
    scenario: 'dribble',
    type: 'slow-body',
    chunkDelayMs: 500
  })
  t.strictSame(engine.decide(facts({ headerScenarios: ['slow-body'] })).fault, {
    scenario: 'slow-body',
    type: 'slow-body',
    chunkDelayMs: 500
  })
  t.strictSame(engine.decide(facts({ headerScenarios: ['hang-5s'] })).fault, {
    scenario: 'hang-5s',
    type: 'hang',
    afterMs: 5000
  })
  t.strictSame(
    engine.decide(facts({ headerScenarios: ['hang'] })).fault,
    { scenario: 'hang', type: 'hang' },
    'no afterMs: until the client leaves'
  )
})

t.test('the forced verify result comes out as a boolean', async (t) => {
  const { engine } = buildEngine()
  t.equal(engine.decide(facts({ headerScenarios: ['verify-always-true'] })).verifiedResult, true)
  t.equal(engine.decide(facts({ headerScenarios: ['verify-always-false'] })).verifiedResult, false)
  t.equal(
    engine.decide(facts({ operation: 'share', headerScenarios: ['verify-always-true'] })).verifiedResult,
    undefined
  )
})

t.test('parseScenarioList splits the header on commas and drops blanks', async (t) => {
  t.strictSame(parseScenarioList(undefined), [])
  t.strictSame(parseScenarioList(''), [])
  t.strictSame(parseScenarioList('rate-limited'), ['rate-limited'])
  t.strictSame(parseScenarioList(' rate-limited , slow-network,,'), ['rate-limited', 'slow-network'])
  t.strictSame(
    parseScenarioList(['hang', 'slow-body, verify-always-true']),
    ['hang', 'slow-body', 'verify-always-true'],
    'a repeated header'
  )
})
