// The scenario control API (/_emulator/scenarios, /_emulator/activations): listing, activation for
// every request, the next N or until an expiry on the emulator's clock, a match override per
// activation, deactivation by name and by id, and scenarios defined and removed at runtime.
import t from 'tap'
import { CATALOGUE } from '../../../src/core/scenarios/catalogue.js'
import {
  accessTokenFor,
  activate,
  assertErrorInfo,
  buildScenarioApp,
  codeFor,
  control,
  exchangeCode,
  NEIGHBOUR_KONERA,
  NEIGHBOUR_MSISDN,
  share,
  UNKNOWN_HINT,
  verified,
  verify
} from '../../scenarios/support.js'

const RATE_LIMITED = { status: 429, code: 'TOO_MANY_REQUESTS', message: 'Rate limit reached.', retryAfter: '30' }
const NOW = '2026-11-25T12:00:00.000Z'

interface Listing {
  scenarios: Array<{ name: string, description: string, origin: string, active: boolean, scenario: unknown }>
  activations: Array<Record<string, unknown>>
}

t.test('GET /_emulator/scenarios lists the catalogue, in order, with no live activation', async (t) => {
  const { app } = await buildScenarioApp(t)
  const res = await control(app, 'GET', '/scenarios')
  t.equal(res.statusCode, 200)
  const listing = res.json() as Listing
  t.strictSame(
    listing.scenarios,
    CATALOGUE.map((scenario) => ({
      name: scenario.name,
      description: scenario.description,
      origin: 'catalogue',
      active: false,
      scenario
    }))
  )
  t.strictSame(listing.activations, [])
})

t.test('activation for the next N: remaining 2 applies to two matching requests, then stops', async (t) => {
  const { app } = await buildScenarioApp(t)
  const token = await accessTokenFor(app)
  const res = await control(app, 'POST', '/scenarios/rate-limited/activate', { remaining: 2 })
  t.equal(res.statusCode, 201)
  t.strictSame(res.json(), {
    id: 'activation-1',
    name: 'rate-limited',
    activatedAt: NOW,
    appliedCount: 0,
    remaining: 2
  })

  assertErrorInfo(t, await verify(app, token), RATE_LIMITED)
  let listing = (await control(app, 'GET', '/scenarios')).json() as Listing
  t.strictSame(listing.activations, [
    { id: 'activation-1', name: 'rate-limited', activatedAt: NOW, appliedCount: 1, remaining: 1 }
  ])
  t.equal(listing.scenarios.find((s) => s.name === 'rate-limited')?.active, true)

  t.equal(
    (await exchangeCode(app, await codeFor(app))).statusCode,
    200,
    'a token request does not match, so it does not count'
  )
  assertErrorInfo(t, await share(app, token), RATE_LIMITED)
  const third = await verify(app, token)
  t.equal(third.statusCode, 200)
  t.strictSame(third.json(), verified(true))

  listing = (await control(app, 'GET', '/scenarios')).json() as Listing
  t.strictSame(listing.activations, [], 'a spent activation is gone')
  t.equal(listing.scenarios.find((s) => s.name === 'rate-limited')?.active, false)
})

t.test('activation without a body applies to every matching request until deactivated by name', async (t) => {
  const { app } = await buildScenarioApp(t)
  const token = await accessTokenFor(app)
  const res = await app.inject({ method: 'POST', url: '/_emulator/scenarios/rate-limited/activate' })
  t.equal(res.statusCode, 201, 'curl -X POST with no body at all')
  t.strictSame(res.json(), { id: 'activation-1', name: 'rate-limited', activatedAt: NOW, appliedCount: 0 })
  for (let call = 0; call < 3; call++) assertErrorInfo(t, await verify(app, token), RATE_LIMITED)

  const off = await control(app, 'DELETE', '/scenarios/rate-limited/activate')
  t.equal(off.statusCode, 204)
  t.equal(off.body, '')
  t.equal((await verify(app, token)).statusCode, 200)
  const again = await control(app, 'DELETE', '/scenarios/rate-limited/activate')
  assertErrorInfo(t, again, {
    status: 404,
    code: 'NOT_FOUND',
    message: 'scenario "rate-limited" has no live activation'
  })
})

t.test('deactivation by id ends that activation only; DELETE /activations ends them all', async (t) => {
  const { app } = await buildScenarioApp(t)
  const token = await accessTokenFor(app)
  const first = await activate(app, 'rate-limited')
  const second = await activate(app, 'verify-always-false')
  const third = await activate(app, 'rate-limited', { remaining: 5 })
  t.strictSame([first.id, second.id, third.id], ['activation-1', 'activation-2', 'activation-3'])

  t.equal((await control(app, 'DELETE', '/activations/activation-1')).statusCode, 204)
  assertErrorInfo(t, await verify(app, token), RATE_LIMITED)
  t.equal((await control(app, 'DELETE', '/activations/activation-3')).statusCode, 204)
  const res = await verify(app, token)
  t.equal(res.statusCode, 200)
  t.strictSame(res.json(), verified(false), 'the other scenario\'s activation is still live')
  assertErrorInfo(t, await control(app, 'DELETE', '/activations/activation-1'), {
    status: 404,
    code: 'NOT_FOUND',
    message: 'no live activation "activation-1"'
  })

  await activate(app, 'rate-limited')
  t.equal((await control(app, 'DELETE', '/activations')).statusCode, 204)
  t.strictSame(((await control(app, 'GET', '/scenarios')).json() as Listing).activations, [])
  t.strictSame((await verify(app, token)).json(), verified(true))
})

t.test('an activation with an expiry ends when the emulator clock reaches it', async (t) => {
  const { app, clock } = await buildScenarioApp(t)
  const token = await accessTokenFor(app)
  const res = await control(app, 'POST', '/scenarios/rate-limited/activate', { expiresInSeconds: 60 })
  t.equal(res.statusCode, 201)
  t.strictSame(res.json(), {
    id: 'activation-1',
    name: 'rate-limited',
    activatedAt: NOW,
    appliedCount: 0,
    expiresAt: '2026-11-25T12:01:00.000Z'
  })
  assertErrorInfo(t, await verify(app, token), RATE_LIMITED)
  clock.advance(59_999)
  assertErrorInfo(t, await verify(app, token), RATE_LIMITED)
  clock.advance(1)
  t.equal((await verify(app, token)).statusCode, 200)
  t.strictSame(((await control(app, 'GET', '/scenarios')).json() as Listing).activations, [])
})

t.test('an activation\'s match replaces the scenario\'s match rules for that activation only', async (t) => {
  const { app } = await buildScenarioApp(t)
  const seedToken = await accessTokenFor(app)
  const neighbourToken = await accessTokenFor(app, { konera: NEIGHBOUR_KONERA })

  t.test('subscribers: only the named device is rate limited', async (t) => {
    await activate(app, 'rate-limited', { match: { subscribers: [NEIGHBOUR_MSISDN] } })
    t.equal((await verify(app, seedToken)).statusCode, 200)
    assertErrorInfo(t, await verify(app, neighbourToken, { phoneNumber: NEIGHBOUR_MSISDN }), RATE_LIMITED)
    t.equal((await control(app, 'DELETE', '/activations')).statusCode, 204)
  })

  t.test('operations: share only, where the scenario normally hits verify too', async (t) => {
    await activate(app, 'rate-limited', { match: { operations: ['share'] } })
    t.equal((await verify(app, seedToken)).statusCode, 200)
    assertErrorInfo(t, await share(app, seedToken), RATE_LIMITED)
    t.equal((await control(app, 'DELETE', '/activations')).statusCode, 204)
  })

  t.test('the header selection of the same scenario keeps the catalogue\'s rules', async (t) => {
    await activate(app, 'rate-limited', { match: { subscribers: [NEIGHBOUR_MSISDN] } })
    assertErrorInfo(t, await verify(app, seedToken, { scenarios: 'rate-limited' }), RATE_LIMITED)
  })
})

t.test('activation requests that break the rules are refused with the field and the rule', async (t) => {
  const { app } = await buildScenarioApp(t)
  const cases: Array<{ name: string, scenario: string, body: unknown, status: number, code: string, message: string }> =
    [
      {
        name: 'remaining 0',
        scenario: 'rate-limited',
        body: { remaining: 0 },
        status: 400,
        code: 'INVALID_ARGUMENT',
        message: 'body.remaining must be >= 1'
      },
      {
        name: 'remaining not an integer',
        scenario: 'rate-limited',
        body: { remaining: 1.5 },
        status: 400,
        code: 'INVALID_ARGUMENT',
        message: 'body.remaining must be integer'
      },
      {
        name: 'expiresInSeconds 0',
        scenario: 'rate-limited',
        body: { expiresInSeconds: 0 },
        status: 400,
        code: 'INVALID_ARGUMENT',
        message: 'body.expiresInSeconds must be > 0'
      },
      {
        name: 'expiresInSeconds negative',
        scenario: 'rate-limited',
        body: { expiresInSeconds: -1 },
        status: 400,
        code: 'INVALID_ARGUMENT',
        message: 'body.expiresInSeconds must be > 0'
      },
      {
        name: 'expiresInSeconds above the maximum',
        scenario: 'rate-limited',
        body: { expiresInSeconds: 1e9 + 0.001 },
        status: 400,
        code: 'INVALID_ARGUMENT',
        message: 'body.expiresInSeconds must be <= 1000000000'
      },
      {
        name: 'expiresInSeconds past any Date',
        scenario: 'rate-limited',
        body: { expiresInSeconds: 1e13 },
        status: 400,
        code: 'INVALID_ARGUMENT',
        message: 'body.expiresInSeconds must be <= 1000000000'
      },
      {
        name: 'expiresInSeconds that overflows to Infinity in ms',
        scenario: 'rate-limited',
        body: { expiresInSeconds: 1e308 },
        status: 400,
        code: 'INVALID_ARGUMENT',
        message: 'body.expiresInSeconds must be <= 1000000000'
      },
      {
        name: 'expiresInSeconds not a number',
        scenario: 'rate-limited',
        body: { expiresInSeconds: 'soon' },
        status: 400,
        code: 'INVALID_ARGUMENT',
        message: 'body.expiresInSeconds must be number'
      },
      {
        name: 'an unknown property',
        scenario: 'rate-limited',
        body: { forever: true },
        status: 400,
        code: 'INVALID_ARGUMENT',
        message: 'body has unknown property "forever"'
      },
      {
        name: 'a malformed subscriber in match',
        scenario: 'rate-limited',
        body: { match: { subscribers: ['34666666666'] } },
        status: 400,
        code: 'INVALID_ARGUMENT',
        message: 'body.match.subscribers.0 must match pattern "^\\+[1-9][0-9]{4,14}$"'
      },
      {
        name: 'a match naming an operation the error cannot be answered on',
        scenario: 'operator-unavailable',
        body: { match: { operations: ['token'] } },
        status: 400,
        code: 'INVALID_SCENARIO',
        message: '$.match.operations: camara errors cannot be answered on token (fits verify, share, discovery, jwks)'
      },
      {
        name: 'an unknown scenario',
        scenario: 'nope',
        body: {},
        status: 404,
        code: 'NOT_FOUND',
        message: 'unknown scenario "nope"'
      }
    ]
  for (const row of cases) {
    // Awaited: the check after the loop must see every refused request done
    await t.test(row.name, async (t) => {
      assertErrorInfo(t, await control(app, 'POST', `/scenarios/${row.scenario}/activate`, row.body), row)
    })
  }
  await t.test('expiresInSeconds that JSON reads as Infinity', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: '/_emulator/scenarios/rate-limited/activate',
      headers: { 'content-type': 'application/json' },
      payload: '{"expiresInSeconds":1e309}'
    })
    assertErrorInfo(t, res, { status: 400, code: 'INVALID_ARGUMENT', message: 'body.expiresInSeconds must be number' })
  })
  t.strictSame(((await control(app, 'GET', '/scenarios')).json() as Listing).activations, [], 'nothing was activated')
})

t.test(
  'expiresInSeconds: fractions round up to a whole ms, and the longest expiry is shown as an ISO time',
  async (t) => {
    const { app } = await buildScenarioApp(t)
    const tiny = await control(app, 'POST', '/scenarios/rate-limited/activate', { expiresInSeconds: 0.0004 })
    t.equal(tiny.statusCode, 201)
    t.strictSame(tiny.json(), {
      id: 'activation-1',
      name: 'rate-limited',
      activatedAt: NOW,
      appliedCount: 0,
      expiresAt: '2026-11-25T12:00:00.001Z'
    })
    const longest = await control(app, 'POST', '/scenarios/rate-limited/activate', { expiresInSeconds: 1e9 })
    t.equal(longest.statusCode, 201)
    t.strictSame(longest.json(), {
      id: 'activation-2',
      name: 'rate-limited',
      activatedAt: NOW,
      appliedCount: 0,
      expiresAt: '2058-08-03T13:46:40.000Z'
    })
    const listing = await control(app, 'GET', '/scenarios')
    t.equal(listing.statusCode, 200)
    t.strictSame(
      (listing.json() as Listing).activations.map((a) => a.expiresAt),
      ['2026-11-25T12:00:00.001Z', '2058-08-03T13:46:40.000Z']
    )
  }
)

t.test('an activation without expiresInSeconds outlives any clock advance', async (t) => {
  const { app, clock } = await buildScenarioApp(t)
  await activate(app, 'rate-limited')
  clock.advance(1e9 * 1000 + 1)
  // A token from after the advance: one from before would have expired
  const token = await accessTokenFor(app)
  assertErrorInfo(t, await verify(app, token), RATE_LIMITED)
  t.strictSame(((await control(app, 'GET', '/scenarios')).json() as Listing).activations, [
    { id: 'activation-1', name: 'rate-limited', activatedAt: NOW, appliedCount: 1 }
  ])
})

t.test('scenarios defined at runtime: usable at once, redefinable, removable; catalogue names are taken', async (t) => {
  const { app } = await buildScenarioApp(t)
  const token = await accessTokenFor(app)
  const maintenance = {
    name: 'operator-maintenance',
    description: 'verify answers 503 with the operator\'s maintenance text',
    match: { operations: ['verify'] },
    effects: { error: { camara: { status: 503, code: 'UNAVAILABLE', message: 'Operator maintenance window' } } }
  }

  t.test('POST defines it: 201 with its listing', async (t) => {
    const res = await control(app, 'POST', '/scenarios', maintenance)
    t.equal(res.statusCode, 201)
    t.strictSame(res.json(), {
      name: maintenance.name,
      description: maintenance.description,
      origin: 'control',
      active: false,
      scenario: maintenance
    })
    assertErrorInfo(t, await verify(app, token, { scenarios: 'operator-maintenance' }), {
      status: 503,
      code: 'UNAVAILABLE',
      message: 'Operator maintenance window'
    })
  })

  t.test('POST again with the same name replaces it', async (t) => {
    const res = await control(app, 'POST', '/scenarios', { ...maintenance, effects: { verifiedResult: false } })
    t.equal(res.statusCode, 201)
    const answer = await verify(app, token, { scenarios: 'operator-maintenance' })
    t.equal(answer.statusCode, 200)
    t.strictSame(answer.json(), verified(false))
  })

  t.test('a catalogue name is taken: 409, and neither redefinable nor removable', async (t) => {
    const taken = await control(app, 'POST', '/scenarios', { ...maintenance, name: 'rate-limited' })
    assertErrorInfo(t, taken, {
      status: 409,
      code: 'CONFLICT',
      message: 'scenario "rate-limited" is already defined in the built-in catalogue'
    })
    const removal = await control(app, 'DELETE', '/scenarios/rate-limited')
    assertErrorInfo(t, removal, {
      status: 409,
      code: 'CONFLICT',
      message: 'scenario "rate-limited" is defined in the built-in catalogue and cannot be removed at runtime'
    })
    assertErrorInfo(t, await verify(app, token, { scenarios: 'rate-limited' }), RATE_LIMITED)
  })

  t.test('DELETE removes it with its activations; a flow that chose it is then refused', async (t) => {
    const flowToken = await accessTokenFor(app, { extraQuery: { emulator_scenario: 'operator-maintenance' } })
    await activate(app, 'operator-maintenance')
    t.equal((await control(app, 'DELETE', '/scenarios/operator-maintenance')).statusCode, 204)
    t.strictSame(((await control(app, 'GET', '/scenarios')).json() as Listing).activations, [])
    const unknown = {
      status: 400,
      code: 'INVALID_ARGUMENT',
      message: `unknown scenario "operator-maintenance": ${UNKNOWN_HINT}`
    }
    assertErrorInfo(t, await verify(app, token, { scenarios: 'operator-maintenance' }), unknown)
    assertErrorInfo(t, await verify(app, flowToken), unknown)
    t.strictSame((await verify(app, token)).json(), verified(true), 'other flows are unaffected')
    assertErrorInfo(t, await control(app, 'DELETE', '/scenarios/operator-maintenance'), {
      status: 404,
      code: 'NOT_FOUND',
      message: 'unknown scenario "operator-maintenance"'
    })
  })
})

t.test('a bad scenario definition is 400 INVALID_SCENARIO naming the JSON path and the rule', async (t) => {
  const { app } = await buildScenarioApp(t)
  const base = { name: 'my-scenario', description: 'a test scenario' }
  const cases: Array<{ name: string, body: unknown, message: string }> = [
    {
      name: 'uniform latency with min above max',
      body: { ...base, effects: { latency: { minMs: 10, maxMs: 5 } } },
      message: '$.effects.latency.maxMs: must be at least minMs (10)'
    },
    {
      name: 'an unknown CAMARA code',
      body: { ...base, effects: { error: { camara: { status: 503, code: 'DOWN' } } } },
      message:
        '$.effects.error.camara.code: expected INVALID_ARGUMENT, UNAUTHENTICATED, AUTHENTICATION_REQUIRED, ' +
          'PERMISSION_DENIED, NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK, INVALID_TOKEN_CONTEXT, ' +
            'NOT_FOUND, METHOD_NOT_ALLOWED, NOT_ACCEPTABLE, UNSUPPORTED_MEDIA_TYPE, TOO_MANY_REQUESTS, ' +
              'QUOTA_EXCEEDED, INTERNAL, BAD_GATEWAY, UNAVAILABLE, TIMEOUT'
    },
    {
      name: 'a CAMARA code with another status',
      body: { ...base, effects: { error: { camara: { status: 500, code: 'UNAVAILABLE' } } } },
      message: '$.effects.error.camara.status: must be 503 for code UNAVAILABLE'
    },
    {
      name: 'a name that is not kebab-case',
      body: { ...base, name: 'My_Scenario', effects: { verifiedResult: true } },
      message: '$.name: must match pattern ^[a-z0-9]+(-[a-z0-9]+)*$'
    },
    {
      name: 'no effect',
      body: { ...base, effects: {} },
      message: '$.effects: needs at least one of latency, error, verifiedResult, fault'
    },
    {
      name: 'afterMs on a fault other than hang',
      body: { ...base, effects: { fault: { type: 'empty-reply', afterMs: 10 } } },
      message: '$.effects.fault.afterMs: only applies to the hang fault'
    },
    {
      name: 'a forced result on the token leg',
      body: { ...base, match: { operations: ['token'] }, effects: { verifiedResult: true } },
      message: '$.match.operations: verifiedResult cannot be applied to token (fits verify)'
    }
  ]
  for (const row of cases) {
    // Awaited: the check after the loop must see every refused request done
    await t.test(row.name, async (t) => {
      assertErrorInfo(t, await control(app, 'POST', '/scenarios', row.body), {
        status: 400,
        code: 'INVALID_SCENARIO',
        message: row.message
      })
    })
  }
  const listing = (await control(app, 'GET', '/scenarios')).json() as Listing
  t.equal(listing.scenarios.length, CATALOGUE.length, 'nothing was defined')
})
