import t from 'tap'
import { Value } from '@sinclair/typebox/value'
import { CATALOGUE } from '../../../src/core/scenarios/catalogue.js'
import { CAMARA_ERRORS } from '../../../src/core/scenarios/protocol-errors.js'
import {
  checkScenarioRules,
  fittingOperations,
  ScenarioError,
  ScenarioSchema,
  validateScenario
} from '../../../src/core/scenarios/scenario-schema.js'

const BRIEF_NAMES = [
  'operator-unavailable', 'upstream-bad-gateway', 'gateway-timeout', 'rate-limited', 'quota-exceeded', 'internal-error',
  'slow-network', 'slow-operator', 'flaky-5-percent', 'consent-denied', 'consent-required', 'login-required',
  'operator-auth-server-error', 'auth-temporarily-unavailable', 'token-server-error', 'token-invalid-grant',
  'connection-reset', 'hang', 'empty-reply', 'malformed-body', 'truncated-body', 'slow-body', 'verify-always-true',
  'verify-always-false', 'token-expired-on-api'
]

/** The ScenarioError a document raises: its path and rule */
function problem (document: unknown): { jsonPath: string, rule: string } {
  try {
    validateScenario(document)
  } catch (error) {
    if (error instanceof ScenarioError) return { jsonPath: error.jsonPath, rule: error.rule }
    throw error
  }
  throw new Error('expected a ScenarioError, got none')
}

function scenario (overrides: Record<string, unknown>): Record<string, unknown> {
  return { name: 'my-scenario', description: 'for a test', effects: { latency: { fixedMs: 10 } }, ...overrides }
}

t.test('every catalogue scenario passes the schema and the cross-field rules', async (t) => {
  for (const entry of CATALOGUE) {
    t.ok(Value.Check(ScenarioSchema, entry), `${entry.name} matches the schema`)
    t.equal(checkScenarioRules(entry), undefined, `${entry.name} keeps the cross-field rules`)
    t.equal(validateScenario(structuredClone(entry)).name, entry.name)
  }
})

t.test('the catalogue holds every scenario the README promises, each name once', async (t) => {
  const names = CATALOGUE.map((entry) => entry.name)
  t.equal(new Set(names).size, names.length, 'no duplicate name')
  for (const name of BRIEF_NAMES) t.ok(names.includes(name), name)
})

t.test('catalogue scenarios have the effects their names promise', async (t) => {
  const byName = new Map(CATALOGUE.map((entry) => [entry.name, entry]))
  t.strictSame(byName.get('rate-limited')?.effects, {
    error: { camara: { status: 429, code: 'TOO_MANY_REQUESTS', retryAfterSeconds: 30 } }
  })
  t.strictSame(byName.get('flaky-5-percent')?.match, { operations: ['verify'], probability: 0.05 })
  t.strictSame(byName.get('slow-network'), {
    name: 'slow-network',
    description: byName.get('slow-network')?.description,
    effects: { latency: { medianMs: 300, p99Ms: 2000 } }
  }, 'no match: every operation')
  t.strictSame(byName.get('slow-operator')?.effects, { latency: { fixedMs: 2000 } })
  t.strictSame(byName.get('token-server-error')?.effects, { error: { oauth: { error: 'server_error', status: 500 } } })
  t.strictSame(byName.get('consent-denied')?.effects.error, {
    authorize: { error: 'access_denied', description: 'The subscriber denied consent.' }
  })
  t.strictSame(byName.get('token-expired-on-api')?.effects, {
    error: { camara: { status: 401, code: 'UNAUTHENTICATED' } }
  })
  t.strictSame(byName.get('malformed-body')?.effects, { fault: { type: 'malformed-json' } })
  t.strictSame(byName.get('verify-always-false')?.effects, { verifiedResult: false })
})

t.test('the catalogue cannot be changed by whoever reads it', async (t) => {
  const first = CATALOGUE[0]!
  t.throws(() => { (first as { name: string }).name = 'changed' }, TypeError)
  t.throws(() => { (first.match?.operations as string[]).push('token') }, TypeError)
})

t.test('a scenario with each latency shape, error kind and fault is accepted', async (t) => {
  const accepted = [
    { latency: { fixedMs: 0 } },
    { latency: { minMs: 100, maxMs: 100 } },
    { latency: { medianMs: 50, p99Ms: 50 } },
    { error: { camara: { status: 403, code: 'INVALID_TOKEN_CONTEXT', message: 'custom' } } },
    { error: { camara: { status: 503, code: 'UNAVAILABLE', retryAfterSeconds: 0 } } },
    { error: { oauth: { error: 'invalid_client', description: 'no', status: 401 } } },
    { error: { authorize: { error: 'interaction_required' } } },
    { verifiedResult: true },
    { fault: { type: 'hang', afterMs: 1000 } },
    { fault: { type: 'slow-body', chunkDelayMs: 10 } },
    { latency: { fixedMs: 5 }, fault: { type: 'truncated-json' }, error: { camara: { status: 500, code: 'INTERNAL' } } }
  ]
  for (const effects of accepted) t.doesNotThrow(() => validateScenario(scenario({ effects })), JSON.stringify(effects))
  t.doesNotThrow(() => validateScenario(scenario({
    match: {
      operations: ['verify'],
      clients: ['demo-app'],
      subscribers: ['+34666666666'],
      operators: ['movistar-es'],
      probability: 0.5,
      firstN: 3,
      everyNth: 2,
      afterN: 0
    }
  })))
})

t.test('schema violations name the JSON path and the rule', async (t) => {
  t.strictSame(problem(scenario({ name: 'Not_Kebab' })), {
    jsonPath: '$.name',
    rule: 'must match pattern ^[a-z0-9]+(-[a-z0-9]+)*$'
  })
  t.strictSame(problem(scenario({ name: 'trailing-' })), {
    jsonPath: '$.name',
    rule: 'must match pattern ^[a-z0-9]+(-[a-z0-9]+)*$'
  })
  t.strictSame(problem({ name: 'x', effects: { verifiedResult: true } }), {
    jsonPath: '$.description',
    rule: 'expected required property'
  })
  t.strictSame(problem(scenario({ effects: {} })), {
    jsonPath: '$.effects',
    rule: 'needs at least one of latency, error, verifiedResult, fault'
  })
  t.strictSame(problem(scenario({ colour: 'red' })), {
    jsonPath: '$.colour',
    rule: 'unknown property "colour"'
  })
  t.strictSame(problem(scenario({ match: { probability: 1.5 } })), {
    jsonPath: '$.match.probability',
    rule: 'expected number to be less or equal to 1'
  })
  t.strictSame(problem(scenario({ match: { subscribers: ['34666666666'] } })), {
    jsonPath: '$.match.subscribers[0]',
    rule: 'must match pattern ^\\+[1-9][0-9]{4,14}$'
  })
  t.strictSame(problem(scenario({ match: { operations: ['login'] } })).jsonPath, '$.match.operations[0]')
  t.strictSame(problem(scenario({ match: { firstN: 0 } })), {
    jsonPath: '$.match.firstN',
    rule: 'expected integer to be greater or equal to 1'
  })
  t.strictSame(problem('rate-limited'), { jsonPath: '$', rule: 'expected object' })
})

t.test('a failed union reports the variant the value was written for', async (t) => {
  t.strictSame(problem(scenario({ effects: { error: { camara: { status: 503, code: 'DOWN' } } } })).jsonPath,
    '$.effects.error.camara.code')
  t.match(problem(scenario({ effects: { error: { camara: { status: 503, code: 'DOWN' } } } })).rule, /UNAVAILABLE/, 'the rule lists the codes')
  t.strictSame(problem(scenario({ effects: { error: { oauth: { error: 'invalid_grant', status: 200 } } } })), {
    jsonPath: '$.effects.error.oauth.status',
    rule: 'expected integer to be greater or equal to 400'
  })
  t.strictSame(problem(scenario({ effects: { latency: { minMs: 10 } } })), {
    jsonPath: '$.effects.latency.maxMs',
    rule: 'expected required property'
  })
  t.strictSame(problem(scenario({ effects: { latency: { medianMs: 0, p99Ms: 10 } } })), {
    jsonPath: '$.effects.latency.medianMs',
    rule: 'expected number to be greater than 0'
  })
  t.strictSame(problem(scenario({ effects: { latency: { ms: 10 } } })), {
    jsonPath: '$.effects.latency',
    rule: 'expected one of { fixedMs }, { minMs, maxMs } (uniform) or { medianMs, p99Ms } (lognormal, long-tailed)'
  })
  t.strictSame(problem(scenario({ effects: { fault: { type: 'explode' } } })).jsonPath, '$.effects.fault.type')
  t.strictSame(problem(scenario({ effects: { latency: { minMs: 1, p99Ms: 2 } } })), {
    jsonPath: '$.effects.latency',
    rule: 'expected one of { fixedMs }, { minMs, maxMs } (uniform) or { medianMs, p99Ms } (lognormal, long-tailed)'
  }, 'a value mixing two variants gets the list of shapes')
})

t.test('cross-field rules are enforced with the path of the offending value', async (t) => {
  t.strictSame(problem(scenario({ effects: { latency: { minMs: 200, maxMs: 100 } } })), {
    jsonPath: '$.effects.latency.maxMs',
    rule: 'must be at least minMs (200)'
  })
  t.strictSame(problem(scenario({ effects: { latency: { medianMs: 300, p99Ms: 299 } } })), {
    jsonPath: '$.effects.latency.p99Ms',
    rule: 'must be at least medianMs (300)'
  })
  t.strictSame(problem(scenario({ effects: { error: { camara: { status: 503, code: 'TOO_MANY_REQUESTS' } } } })), {
    jsonPath: '$.effects.error.camara.status',
    rule: 'must be 429 for code TOO_MANY_REQUESTS'
  })
  t.strictSame(problem(scenario({ effects: { fault: { type: 'connection-reset', afterMs: 10 } } })), {
    jsonPath: '$.effects.fault.afterMs',
    rule: 'only applies to the hang fault'
  })
  t.strictSame(problem(scenario({ effects: { fault: { type: 'hang', chunkDelayMs: 10 } } })), {
    jsonPath: '$.effects.fault.chunkDelayMs',
    rule: 'only applies to the slow-body fault'
  })
})

t.test('every CAMARA code is accepted with its own status only', async (t) => {
  for (const [code, { status }] of Object.entries(CAMARA_ERRORS)) {
    t.doesNotThrow(() => validateScenario(scenario({ effects: { error: { camara: { status, code } } } })), code)
    t.throws(() => validateScenario(scenario({
      effects: { error: { camara: { status: status === 500 ? 503 : 500, code } } }
    })), ScenarioError, `${code} with another status`)
  }
})

t.test('an error or a forced result may only name operations whose surface can render it', async (t) => {
  t.strictSame(problem(scenario({
    match: { operations: ['verify', 'token'] },
    effects: { error: { camara: { status: 503, code: 'UNAVAILABLE' } } }
  })), {
    jsonPath: '$.match.operations',
    rule: 'camara errors cannot be answered on token (fits verify, share, discovery, jwks)'
  })
  t.strictSame(problem(scenario({
    match: { operations: ['verify'] },
    effects: { error: { oauth: { error: 'server_error' } } }
  })).rule, 'oauth errors cannot be answered on verify (fits token, operator-token, bc-authorize, ciba-decision)')
  t.strictSame(problem(scenario({
    match: { operations: ['token'] },
    effects: { error: { authorize: { error: 'access_denied' } } }
  })).rule, 'authorize errors cannot be answered on token (fits authorize, operator)')
  t.strictSame(problem(scenario({ match: { operations: ['share'] }, effects: { verifiedResult: true } })), {
    jsonPath: '$.match.operations',
    rule: 'verifiedResult cannot be applied to share (fits verify)'
  })
})

t.test('without an operations list a scenario fits the operations its effects can be rendered on', async (t) => {
  t.strictSame(fittingOperations({ latency: { fixedMs: 1 } }), [
    'authorize', 'operator', 'token', 'verify', 'share', 'discovery', 'jwks',
    'operator-token', 'bc-authorize', 'ciba-decision'
  ])
  t.strictSame(fittingOperations({ fault: { type: 'hang' } }), [
    'authorize', 'operator', 'token', 'verify', 'share', 'discovery', 'jwks',
    'operator-token', 'bc-authorize', 'ciba-decision'
  ])
  t.strictSame(fittingOperations({ error: { camara: { status: 503, code: 'UNAVAILABLE' } } }),
    ['verify', 'share', 'discovery', 'jwks'])
  t.strictSame(fittingOperations({ error: { oauth: { error: 'invalid_grant' } } }),
    ['token', 'operator-token', 'bc-authorize', 'ciba-decision'])
  t.strictSame(fittingOperations({ error: { authorize: { error: 'login_required' } } }), ['authorize', 'operator'])
  t.strictSame(fittingOperations({ verifiedResult: false, latency: { fixedMs: 1 } }), ['verify'])
})

t.test('a ScenarioError message names where the scenario came from', async (t) => {
  const error = t.throws(() => validateScenario(scenario({ name: 'BAD' }), 'fixtures/extra.json')) as ScenarioError
  t.equal(error.message, 'fixtures/extra.json: $.name: must match pattern ^[a-z0-9]+(-[a-z0-9]+)*$')
  t.strictSame(checkScenarioRules(validateScenario(scenario({})), '$.scenarios[2]'), undefined)
  const shifted = checkScenarioRules({
    name: 'x',
    description: 'y',
    effects: { latency: { minMs: 2, maxMs: 1 } }
  }, '$.scenarios[2]')
  t.strictSame(shifted, { jsonPath: '$.scenarios[2].effects.latency.maxMs', rule: 'must be at least minMs (2)' })
})
