// The device leg of SIM-based authentication: the emulated TS.43 entitlement server of each
// operator (POST /operators/:id/operator-token), the control API's minting, and every refusal.
import t from 'tap'
import { buildTestApp } from '../../helpers/app.js'

const PATH = '/operators/telco-es/operator-token'
const TOKEN = /^[A-Za-z0-9_-]{43}$/

t.test('the device names itself by its number and gets an opaque, short-lived token', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const res = await app.inject({
    method: 'POST',
    url: PATH,
    payload: { client_id: 'demo-app-jwt', msisdn: '+34600000002' }
  })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const body = res.json<{ operator_token: string, expires_in: number, expires_at: string }>()
  t.match(body.operator_token, TOKEN)
  t.strictSame(body, {
    operator_token: body.operator_token,
    expires_in: 300,
    expires_at: new Date(clock.now() + 300_000).toISOString()
  })
})

t.test('the device named by its address, on Wi-Fi, or by where it came from', async (t) => {
  const { app } = await buildTestApp(t)
  const byAddress = await app.inject({
    method: 'POST',
    url: PATH,
    payload: { client_id: 'demo-app-jwt', address: '81.40.12.34' }
  })
  t.equal(byAddress.statusCode, 200)
  const bySource = await app.inject({
    method: 'POST',
    url: PATH,
    remoteAddress: '142.115.147.143',
    payload: { client_id: 'demo-app-jwt' }
  })
  t.equal(bySource.statusCode, 200)
  const journal = await app.inject({ method: 'GET', url: '/_emulator/journal?operation=operator-token' })
  const entries = journal.json<{ entries: Array<{ msisdn?: string, operatorId?: string, flowId?: string }> }>().entries
  t.strictSame(
    entries.map((e) => [e.msisdn, e.operatorId, typeof e.flowId]),
    [
      ['+34600000002', 'telco-es', 'string'],
      ['+34666666666', 'telco-es', 'string']
    ]
  )
})

t.test('every refusal of the entitlement server', async (t) => {
  const { app } = await buildTestApp(t)
  const cases: Array<[string, string, Record<string, string>, number, string, RegExp]> = [
    [
      'an operator that issues no operator tokens',
      '/operators/telco-in/operator-token',
      { client_id: 'demo-app-jwt', msisdn: '+919036499174' },
      403,
      'access_denied',
      /does not offer SIM-based authentication/
    ],
    [
      'a SIM that cannot',
      PATH,
      { client_id: 'demo-app-jwt', msisdn: '+34666666667' },
      403,
      'access_denied',
      /cannot do SIM-based authentication/
    ],
    [
      'a device of another operator',
      PATH,
      { client_id: 'demo-app-jwt', msisdn: '+919036499174' },
      403,
      'access_denied',
      /SIM of another operator \("telco-in"\)/
    ],
    [
      'a device no operator knows',
      PATH,
      { client_id: 'demo-app-jwt', address: '10.1.2.3' },
      403,
      'access_denied',
      /no SIM of its subscribers/
    ],
    [
      'an app that is not registered',
      PATH,
      { client_id: 'nobody', msisdn: '+34600000002' },
      403,
      'unauthorized_client',
      /not registered/
    ],
    [
      'an unknown operator',
      '/operators/nowhere/operator-token',
      { client_id: 'demo-app-jwt', msisdn: '+34600000002' },
      404,
      'invalid_request',
      /no operator "nowhere"/
    ],
    [
      'a malformed address',
      PATH,
      { client_id: 'demo-app-jwt', address: 'here' },
      400,
      'invalid_request',
      /not an IPv4 or IPv6 address/
    ]
  ]
  for (const [name, url, payload, status, error, description] of cases) {
    const res = await app.inject({ method: 'POST', url, payload })
    t.equal(res.statusCode, status, name)
    const body = res.json<{ error: string, error_description: string }>()
    t.equal(body.error, error, name)
    t.match(body.error_description, description, name)
  }
  const schema = await app.inject({
    method: 'POST',
    url: PATH,
    payload: { client_id: 'demo-app-jwt', msisdn: '+34600000002', extra: 1 }
  })
  t.equal(schema.statusCode, 400, 'undeclared properties are refused by the route schema')
})

t.test('scenarios reach the entitlement server', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({
    method: 'POST',
    url: PATH,
    headers: { 'x-emulator-scenario': 'entitlement-server-unavailable' },
    payload: { client_id: 'demo-app-jwt', msisdn: '+34600000002' }
  })
  t.equal(res.statusCode, 503)
  t.strictSame(res.json(), {
    error: 'temporarily_unavailable',
    error_description: "The operator's entitlement server is unavailable."
  })
})

t.test('the control API mints a token, with its own lifetime, by the same rules', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const res = await app.inject({
    method: 'POST',
    url: '/_emulator/operator-tokens',
    payload: { clientId: 'demo-app-jwt', msisdn: '+34666666666', lifetimeSeconds: 30 }
  })
  t.equal(res.statusCode, 201)
  const body = res.json<{ operatorToken: string, flowId: string }>()
  t.strictSame(body, {
    operatorToken: body.operatorToken,
    expiresIn: 30,
    expiresAt: new Date(clock.now() + 30_000).toISOString(),
    operatorId: 'telco-es',
    flowId: body.flowId
  })
  const refused = await app.inject({
    method: 'POST',
    url: '/_emulator/operator-tokens',
    payload: { clientId: 'demo-app-jwt', msisdn: '+34666666667' }
  })
  t.equal(refused.statusCode, 409)
  t.equal(refused.json<{ code: string }>().code, 'CONFLICT')
  const unknown = await app.inject({
    method: 'POST',
    url: '/_emulator/operator-tokens',
    payload: { clientId: 'demo-app-jwt', msisdn: '+34999999999' }
  })
  t.strictSame(unknown.json(), { status: 400, code: 'INVALID_ARGUMENT', message: 'no subscriber +34999999999' })
})

t.test('--max-pending bounds the operator tokens the store keeps', async (t) => {
  const { app } = await buildTestApp(t, { maxPending: 1 })
  t.equal(
    (await app.inject({ method: 'POST', url: PATH, payload: { client_id: 'demo-app-jwt', msisdn: '+34600000002' } }))
      .statusCode,
    200
  )
  const full = await app.inject({
    method: 'POST',
    url: PATH,
    payload: { client_id: 'demo-app-jwt', msisdn: '+34600000002' }
  })
  t.equal(full.statusCode, 503)
  t.strictSame(full.json(), {
    error: 'temporarily_unavailable',
    error_description:
      "this emulator keeps at most 1 operator tokens (--max-pending); a token's place frees 600 s after it expires " +
        '(kept to answer an expired token)'
  })
})

t.test('a namespace\'s entitlement server issues tokens for its own world only', async (t) => {
  const { app } = await buildTestApp(t)
  t.equal((await app.inject({ method: 'PUT', url: '/_emulator/namespaces/ci-1' })).statusCode, 201)
  const res = await app.inject({
    method: 'POST',
    url: `/ns/ci-1${PATH}`,
    payload: { client_id: 'demo-app-jwt', msisdn: '+34600000002' }
  })
  t.equal(res.statusCode, 200)
  const token = res.json<{ operator_token: string }>().operator_token
  t.equal(await app.emulator.ctx.store.get('operatorTokens', token), undefined, 'not in the root world')
})

t.test('the conformance report grades operator-token reuse and a scope parameter on jwt-bearer', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const { grantAssertion, jwtBearer, operatorToken } = await import('../gateway/sim-based.js')
  const token = await operatorToken(app)
  t.equal((await jwtBearer(app, await grantAssertion(clock, `operatortoken:${token}`))).statusCode, 200)
  t.equal((await jwtBearer(app, await grantAssertion(clock, `operatortoken:${token}`))).statusCode, 400)
  t.equal(
    (
      await jwtBearer(app, await grantAssertion(clock, 'tel:+34600000002'), {
        scope: 'dpv:FraudPreventionAndDetection number-verification:verify'
      })
    ).statusCode,
    400
  )
  const report = (await app.inject({ method: 'GET', url: '/_emulator/clients/demo-app-jwt/report' })).json<{
    rules: Array<{ id: string, status: string, passed: number, failed: number }>
  }>()
  const rule = (id: string): unknown =>
    report.rules.filter((r) => r.id === id).map(({ status, passed, failed }) => ({ status, passed, failed }))[0]
  t.strictSame(rule('operator-token-once'), { status: 'fail', passed: 1, failed: 1 })
  t.strictSame(rule('assertion-scope'), { status: 'fail', passed: 2, failed: 1 })
  t.strictSame(rule('assertion-jti'), { status: 'pass', passed: 2, failed: 0 })
})
