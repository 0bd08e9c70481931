// Every built-in scenario through HTTP, with what a client sees: CAMARA ErrorInfo on verify and
// share (Retry-After on the rate limit), OAuth JSON on the token endpoint, 302 error redirects
// from the gateway and the operator, forced verify results, and latencies as the exact
// milliseconds the emulator asked to wait (a recording sleep, so nothing here waits). Faults on
// the socket are proven over a real connection in test/integration/faults.test.ts.
import t from 'tap'
import { CATALOGUE } from '../../src/core/scenarios/catalogue.js'
import { legRandom } from '../../src/core/flows.js'
import { ISSUER, REDIRECT_URI } from '../helpers/app.js'
import {
  accessTokenFor,
  assertErrorInfo,
  buildScenarioApp,
  CATALOGUE_FAULTS,
  codeFor,
  exchangeCode,
  gatewayAuthorize,
  JSON_UTF8,
  NEIGHBOUR_MSISDN,
  operatorAuthorize,
  redirectError,
  SEED_MSISDN,
  share,
  verified,
  verify
} from './support.js'

/** Written out rather than imported, so a changed text in src fails here */
const API_ERRORS: Record<string, { status: number, code: string, message: string, retryAfter?: string }> = {
  'operator-unavailable': { status: 503, code: 'UNAVAILABLE', message: 'Service Unavailable.' },
  'upstream-bad-gateway': {
    status: 502,
    code: 'BAD_GATEWAY',
    message: 'An upstream internal service cannot be reached.'
  },
  'gateway-timeout': { status: 504, code: 'TIMEOUT', message: 'Request timeout exceeded.' },
  'rate-limited': { status: 429, code: 'TOO_MANY_REQUESTS', message: 'Rate limit reached.', retryAfter: '30' },
  'quota-exceeded': { status: 429, code: 'QUOTA_EXCEEDED', message: 'Out of resource quota.' },
  'internal-error': { status: 500, code: 'INTERNAL', message: 'Unknown server error. Typically a server bug.' },
  // The default calls go to a v1 path: injected 401/403 use v1's own words, like the real refusals
  'token-expired-on-api': {
    status: 401,
    code: 'UNAUTHENTICATED',
    message: 'Request not authenticated due to missing, invalid, or expired credentials.'
  },
  'permission-denied': {
    status: 403,
    code: 'PERMISSION_DENIED',
    message: 'Client does not have sufficient permissions to perform this action.'
  },
  'not-authenticated-by-network': {
    status: 403,
    code: 'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK',
    message: 'The subscription must be identified via the mobile network to use this service.'
  }
}

const OPERATOR_REDIRECTS: Record<string, { error: string, description: string }> = {
  'consent-denied': { error: 'access_denied', description: 'The subscriber denied consent.' },
  'consent-required': { error: 'consent_required', description: 'The authorization server requires user consent.' },
  'login-required': {
    error: 'login_required',
    description:
      'The authorization server requires user authentication, but the device could not be authenticated silently.'
  },
  'operator-auth-server-error': {
    error: 'server_error',
    description: 'The authorization server encountered an unexpected condition.'
  }
}

const TOKEN_ERRORS: Record<string, { status: number, error: string, description: string }> = {
  'token-server-error': {
    status: 500,
    error: 'server_error',
    description: 'The authorization server encountered an unexpected condition.'
  },
  'token-invalid-grant': {
    status: 400,
    error: 'invalid_grant',
    description: 'The authorization code is invalid or expired.'
  }
}

/**
 * The SIM-based authentication legs' scenarios, proven with their legs: test/routes/operator/operator-token.test.ts
 * (the entitlement server) and test/routes/gateway/ciba.test.ts (bc-authorize and the operator's decision)
 */
const COVERED_WITH_SIM_LEGS = [
  'entitlement-server-unavailable',
  'ciba-slow-operator',
  'ciba-device-never-answers',
  'ciba-consent-denied',
  'ciba-unknown-user'
]

/** The scenarios each test below proves, so a new catalogue entry without a test fails here */
const COVERED_HERE = [
  ...COVERED_WITH_SIM_LEGS,
  ...Object.keys(API_ERRORS),
  ...Object.keys(OPERATOR_REDIRECTS),
  ...Object.keys(TOKEN_ERRORS),
  'flaky-5-percent',
  'slow-network',
  'slow-operator',
  'auth-temporarily-unavailable',
  'verify-always-true',
  'verify-always-false'
]

t.test('every catalogue scenario is proven: here, or over a real socket in the fault tests', async (t) => {
  t.strictSame([...COVERED_HERE, ...CATALOGUE_FAULTS].sort(), CATALOGUE.map((scenario) => scenario.name).sort())
})

t.test('API error scenarios answer verify and share in CAMARA ErrorInfo with the scenario as the reason', async (t) => {
  const { app } = await buildScenarioApp(t)
  const token = await accessTokenFor(app)
  for (const [name, expected] of Object.entries(API_ERRORS)) {
    t.test(name, async (t) => {
      for (const [leg, res] of [
        ['verify', await verify(app, token, { scenarios: name })],
        ['share', await share(app, token, { scenarios: name })]
      ] as const) {
        t.test(leg, async (t) => {
          assertErrorInfo(t, res, expected)
          t.equal(res.headers['x-emulator-reason'], `scenario ${name}`)
        })
      }
    })
  }
  t.test('on a v2 path the injected 401 and 403 take v2 wording, as the real refusals do', async (t) => {
    const unauthenticated = await verify(app, token, {
      scenarios: 'token-expired-on-api',
      url: '/number-verification/v2/verify'
    })
    assertErrorInfo(t, unauthenticated, {
      status: 401,
      code: 'UNAUTHENTICATED',
      message:
        'Request not authenticated due to missing, invalid, or expired credentials. A new authentication is required.'
    })
    t.equal(
      unauthenticated.headers['www-authenticate'],
      'Bearer realm="camara-nv-emulator", error="invalid_token", error_description="Request not authenticated due to ' +
        'missing, invalid, or expired credentials. A new authentication is required."',
      'an injected 401 challenges like a real one'
    )
    const notNetwork = await share(app, token, {
      scenarios: 'not-authenticated-by-network',
      url: '/camara/number-verification/v2/device-phone-number'
    })
    assertErrorInfo(t, notNetwork, {
      status: 403,
      code: 'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK',
      message: 'Client must authenticate via the mobile network to use this service'
    })
  })
  t.test('the same token still verifies once the header is gone: an injected error spends nothing', async (t) => {
    const res = await verify(app, token)
    t.equal(res.statusCode, 200)
    t.strictSame(res.json(), verified(true))
  })
})

t.test(
  'flaky-5-percent fails exactly the verify calls whose seeded draw is below 0.05, with 503 UNAVAILABLE',
  async (t) => {
    const { app } = await buildScenarioApp(t, { seed: 7 })
    const token = await accessTokenFor(app)
    const failedAt: number[] = []
    const expectedFailures: number[] = []
    for (let call = 0; call < 200; call++) {
      const res = await verify(app, token, { scenarios: 'flaky-5-percent' })
      // The call's draw: the nth verify of the token's flow has a generator of its own
      const flowId = app.emulator.journal.list({ operation: 'verify' })[0]?.flowId ?? ''
      if (legRandom(7, flowId, 'verify', call + 1).chance(0.05)) expectedFailures.push(call)
      if (res.statusCode === 200) {
        t.strictSame(res.json(), verified(true))
        continue
      }
      failedAt.push(call)
      assertErrorInfo(t, res, { status: 503, code: 'UNAVAILABLE', message: 'Service Unavailable.' })
    }
    t.ok(
      expectedFailures.length > 0,
      'the seed gives at least one failure in 200 calls (else this test proves nothing)'
    )
    t.strictSame(failedAt, expectedFailures)
    t.test('share is not affected: the scenario matches verify only', async (t) => {
      for (let call = 0; call < 40; call++) {
        t.equal((await share(app, token, { scenarios: 'flaky-5-percent' })).statusCode, 200)
      }
    })
  }
)

t.test('slow-network delays every leg of the flow by a seeded lognormal draw (median 300 ms, p99 2 s)', async (t) => {
  const { app, sleeps } = await buildScenarioApp(t, { seed: 11 })
  const code = await codeFor(app, { extraQuery: { emulator_scenario: 'slow-network' } })
  const tokenRes = await exchangeCode(app, code)
  t.equal(tokenRes.statusCode, 200)
  const res = await verify(app, (tokenRes.json() as { access_token: string }).access_token)
  t.equal(res.statusCode, 200)
  const flowId = app.emulator.journal.list({ operation: 'verify' })[0]?.flowId ?? ''
  const expected = ['authorize', 'operator', 'token', 'verify'].map((operation) =>
    Math.round(legRandom(11, flowId, operation, 1).lognormal(300, 2000))
  )
  t.strictSame(sleeps, expected, 'authorize, operator, token, verify: one draw each, from the flow\'s own generators')
  t.ok(expected.every((ms) => ms > 0), 'every draw is a real delay')
})

t.test('slow-operator waits exactly 2000 ms on the operator leg, and only there, then issues the code', async (t) => {
  const { app, sleeps } = await buildScenarioApp(t)
  const gateway = await gatewayAuthorize(app, {}, { 'x-emulator-scenario': 'slow-operator' })
  t.equal(gateway.statusCode, 302)
  const operator = await operatorAuthorize(app, gateway, { 'x-emulator-scenario': 'slow-operator' })
  t.equal(operator.statusCode, 302)
  t.match(redirectError(operator.headers.location as string), {
    target: REDIRECT_URI,
    error: null,
    state: 'state-1',
    code: /^\S+$/
  })
  t.strictSame(sleeps, [2000], 'one wait, on the operator leg (a leg without latency does not wait at all)')
})

t.test(
  'operator-leg scenarios redirect to the client with the OAuth error, its description and the state',
  async (t) => {
    const { app } = await buildScenarioApp(t)
    for (const [name, expected] of Object.entries(OPERATOR_REDIRECTS)) {
      t.test(`${name} (chosen for the flow at authorize)`, async (t) => {
        const gateway = await gatewayAuthorize(app, { emulator_scenario: name })
        t.equal(gateway.statusCode, 302, 'the gateway leg is untouched: it routes to the operator')
        t.match(gateway.headers.location, /^http:\/\/emulator\.test\/operators\/telco-es\/authorize\?request_id=/)
        const operator = await operatorAuthorize(app, gateway)
        t.equal(operator.statusCode, 302)
        const location = new URL(REDIRECT_URI)
        location.search = new URLSearchParams({
          error: expected.error,
          error_description: expected.description,
          state: 'state-1',
          iss: ISSUER
        }).toString()
        t.equal(operator.headers.location, location.toString())
      })
    }
  }
)

t.test(
  'auth-temporarily-unavailable: the gateway itself redirects to the client, the operator is never reached',
  async (t) => {
    const { app } = await buildScenarioApp(t)
    const res = await gatewayAuthorize(app, { state: 'xyz' }, { 'x-emulator-scenario': 'auth-temporarily-unavailable' })
    t.equal(res.statusCode, 302)
    t.strictSame(redirectError(res.headers.location as string), {
      target: REDIRECT_URI,
      error: 'temporarily_unavailable',
      description: 'The authorization server is temporarily unable to handle the request.',
      state: 'xyz',
      code: null
    })
  }
)

t.test('token scenarios answer OAuth JSON with no-store, and leave the code redeemable for the retry', async (t) => {
  const { app } = await buildScenarioApp(t)
  for (const [name, expected] of Object.entries(TOKEN_ERRORS)) {
    t.test(name, async (t) => {
      const code = await codeFor(app)
      const res = await exchangeCode(app, code, { 'x-emulator-scenario': name })
      t.equal(res.statusCode, expected.status)
      t.strictSame(res.json(), { error: expected.error, error_description: expected.description })
      t.equal(res.headers['content-type'], JSON_UTF8)
      t.equal(res.headers['cache-control'], 'no-store')
      const retry = await exchangeCode(app, code)
      t.equal(retry.statusCode, 200, 'the retry without the scenario gets its tokens')
      t.match(retry.json(), { token_type: 'Bearer', access_token: /^\S+$/ })
    })
  }
})

t.test('verify-always-true and verify-always-false force the result whatever the numbers', async (t) => {
  const { app } = await buildScenarioApp(t)
  const token = await accessTokenFor(app)
  const cases = [
    { name: 'verify-always-true', phoneNumber: NEIGHBOUR_MSISDN, plain: false, forced: true },
    { name: 'verify-always-false', phoneNumber: SEED_MSISDN, plain: true, forced: false }
  ]
  for (const row of cases) {
    t.test(`${row.name} on ${row.phoneNumber}`, async (t) => {
      t.strictSame(
        (await verify(app, token, { phoneNumber: row.phoneNumber })).json(),
        verified(row.plain),
        'without the scenario'
      )
      const res = await verify(app, token, { phoneNumber: row.phoneNumber, scenarios: row.name })
      t.equal(res.statusCode, 200)
      t.strictSame(res.json(), verified(row.forced))
      t.equal(
        (await share(app, token, { scenarios: row.name })).json().devicePhoneNumber,
        SEED_MSISDN,
        'share is left alone'
      )
    })
  }
})
