// The JWT-bearer grant (RFC 7523, CAMARA ICM r4.2 "JWT Bearer Flow"): an operator token or a
// trusted client's tel: number in the assertion's sub, every claim rule, no refresh token, the
// amr of the grant, Number Verification's answer to both, the scenarios and the race.
import t from 'tap'
import { buildTestApp } from '../../helpers/app.js'
import { dpopKey, dpopProof } from '../../helpers/dpop.js'
import { TOKEN_ENDPOINT } from './flow.js'
import {
  clientAssertion, grantAssertion, jwtBearer, NV_SCOPE, operatorToken, verifyV2, WIFI_MSISDN
} from './sim-based.js'

const NOT_BY_NETWORK = {
  status: 403,
  code: 'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK',
  message: 'Client must authenticate via the mobile network to use this service'
}

interface TokenBody { access_token: string, token_type: string, expires_in: number, scope: string }

t.test('an operator token in sub gets an access token that verifies the device on Wi-Fi', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const token = await operatorToken(app)
  const res = await jwtBearer(app, await grantAssertion(clock, `operatortoken:${token}`))
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const body = res.json<TokenBody>()
  t.strictSame(body, { access_token: body.access_token, token_type: 'Bearer', expires_in: 3600, scope: NV_SCOPE },
    'no refresh token, no id_token')
  const record = await app.emulator.ctx.store.get('accessTokens', body.access_token)
  t.strictSame(record?.amr, ['sc', 'hwk'], 'the record says SIM-based authentication')
  const verified = await verifyV2(app, body.access_token, WIFI_MSISDN)
  t.equal(verified.statusCode, 200)
  t.strictSame(verified.json(), { devicePhoneNumberVerified: true })
  const entries = (await app.emulator.journalEntries()).filter((entry) => entry.msisdn === WIFI_MSISDN)
  t.strictSame(entries.map((entry) => entry.operation), ['operator-token', 'token', 'verify'])
  t.equal(new Set(entries.map((entry) => entry.flowId)).size, 1, 'one flow from the device leg to the API call')
})

t.test('a trusted client\'s tel: subject gets a token that Number Verification refuses with 403', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const res = await jwtBearer(app, await grantAssertion(clock, `tel:${WIFI_MSISDN}`))
  t.equal(res.statusCode, 200)
  const { access_token: accessToken } = res.json<TokenBody>()
  t.strictSame((await app.emulator.ctx.store.get('accessTokens', accessToken))?.amr, [], 'asserted, not authenticated')
  const refused = await verifyV2(app, accessToken, WIFI_MSISDN)
  t.equal(refused.statusCode, 403)
  t.strictSame(refused.json(), NOT_BY_NETWORK)
  t.equal(refused.headers['x-emulator-reason'],
    'the number was asserted by the client (tel:), not authenticated by the mobile network nor by the SIM')
})

t.test('the assertion authenticates the client, or names the client that authenticated', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const withClientAuth = await jwtBearer(app,
    await grantAssertion(clock, `operatortoken:${await operatorToken(app)}`), {
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await clientAssertion(clock, TOKEN_ENDPOINT, { typ: 'client-authentication+jwt' })
    })
  t.equal(withClientAuth.statusCode, 200, 'private_key_jwt with typ client-authentication+jwt is accepted')
  const otherClient = await jwtBearer(app, await grantAssertion(clock, `tel:${WIFI_MSISDN}`),
    { client_id: 'demo-app', client_secret: 'demo-secret' })
  t.equal(otherClient.statusCode, 400)
  t.equal(otherClient.json<{ error: string }>().error, 'unauthorized_client', 'demo-app may not use jwt-bearer')
})

t.test('every refusal, in OAuth JSON', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const now = Math.floor(clock.now() / 1000)
  const cases: Array<[string, () => Promise<Awaited<ReturnType<typeof jwtBearer>>>, number, string, string]> = [
    ['no assertion', async () => await jwtBearer(app, ''), 400, 'invalid_request',
      'assertion is required with the jwt-bearer grant'],
    ['a scope parameter',
      async () => await jwtBearer(app, await grantAssertion(clock, `tel:${WIFI_MSISDN}`), { scope: NV_SCOPE }),
      400, 'invalid_request',
      'the scope parameter must not be sent with the jwt-bearer grant: put the scope in the assertion\'s scope claim'],
    ['no scope claim',
      async () => await jwtBearer(app, await grantAssertion(clock, `tel:${WIFI_MSISDN}`, { scope: null })),
      400, 'invalid_grant',
      'assertion has no scope claim: the purpose and the API scopes belong there'],
    ['a scope the client may not have',
      async () => await jwtBearer(app, await grantAssertion(clock, `tel:${WIFI_MSISDN}`, {
        scope: 'dpv:FraudPreventionAndDetection sim-swap:check'
      })),
      400, 'invalid_scope', 'scope not allowed for this client: sim-swap:check'],
    ['a lifetime over 300 s',
      async () => await jwtBearer(app,
        await grantAssertion(clock, `tel:${WIFI_MSISDN}`, { iat: now - 10, exp: now + 295 })),
      400, 'invalid_grant',
      'assertion exp must be at most 300 s after iat and after now (exp - iat = 305 s, exp - now = 295 s)'],
    ['an iat ahead',
      async () => await jwtBearer(app,
        await grantAssertion(clock, `tel:${WIFI_MSISDN}`, { iat: now + 60, exp: now + 120 })),
      400, 'invalid_grant',
      'assertion iat lies 60 s in the future'],
    ['another audience', async () => await jwtBearer(app, await grantAssertion(clock, `tel:${WIFI_MSISDN}`, { aud: 'https://elsewhere.example' })), 400, 'invalid_grant',
      'assertion rejected: claim "aud" is invalid (unexpected "aud" claim value)'],
    ['no jti', async () => await jwtBearer(app, await grantAssertion(clock, `tel:${WIFI_MSISDN}`, { jti: null })),
      400, 'invalid_grant',
      'assertion rejected: claim "jti" is missing'],
    ['a sub of another form', async () => await jwtBearer(app, await grantAssertion(clock, 'demo-user')),
      400, 'invalid_grant',
      'assertion sub must be operatortoken:<token> or tel:+E164 (CAMARA ICM "JWT Bearer Flow")'],
    ['an unknown operator token', async () => await jwtBearer(app, await grantAssertion(clock, 'operatortoken:nope')),
      400, 'invalid_grant',
      'assertion sub: the operator token is unknown'],
    ['a number no operator serves', async () => await jwtBearer(app, await grantAssertion(clock, 'tel:+4915100000000')),
      400, 'invalid_grant',
      'assertion sub: +4915100000000 is not a subscriber of this gateway\'s operators'],
    ['an unknown issuer',
      async () => await jwtBearer(app, await grantAssertion(clock, `tel:${WIFI_MSISDN}`, { iss: 'nobody' })),
      401, 'invalid_client',
      'client authentication failed']
  ]
  for (const [name, send, status, error, description] of cases) {
    const res = await send()
    t.equal(res.statusCode, status, name)
    t.strictSame(res.json(), { error, error_description: description }, name)
  }
  const assertion = await grantAssertion(clock, `tel:${WIFI_MSISDN}`)
  t.equal((await jwtBearer(app, assertion)).statusCode, 200)
  t.strictSame((await jwtBearer(app, assertion)).json(), {
    error: 'invalid_grant',
    error_description: 'assertion jti was already used: sign a fresh assertion for every request'
  })
})

t.test('operator tokens: expired, reused, another app\'s, another operator\'s now', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const refusal = async (token: string): Promise<unknown> =>
    (await jwtBearer(app, await grantAssertion(clock, `operatortoken:${token}`))).json()
  const expired = await operatorToken(app)
  clock.advance(300_000)
  t.strictSame(await refusal(expired), {
    error: 'invalid_grant',
    error_description: 'assertion sub: the operator token has expired'
  })

  const used = await operatorToken(app)
  t.equal((await jwtBearer(app, await grantAssertion(clock, `operatortoken:${used}`))).statusCode, 200)
  t.strictSame(await refusal(used), {
    error: 'invalid_grant',
    error_description: 'assertion sub: the operator token was already used'
  })

  const forOther = await operatorToken(app, WIFI_MSISDN, 'demo-app')
  t.strictSame(await refusal(forOther), {
    error: 'invalid_grant',
    error_description: 'assertion sub: the operator token was issued for another app'
  })

  const ported = await operatorToken(app)
  app.emulator.upsertSubscriber({ ...app.emulator.directory.subscriber(WIFI_MSISDN)!, operator: 'telco-in' })
  t.strictSame(await refusal(ported), {
    error: 'invalid_grant',
    error_description: `assertion sub: the operator token is telco-es's, which no longer serves ${WIFI_MSISDN}`
  })
})

t.test('an untrusted client may not assert a number', async (t) => {
  const { app, clock } = await buildTestApp(t)
  app.emulator.changeFixtures('test', (current) => ({
    ...current,
    clients: current.clients.map((c) => c.clientId === 'demo-app-jwt' ? { ...c, telSubjectTrusted: false } : c)
  }))
  const res = await jwtBearer(app, await grantAssertion(clock, `tel:${WIFI_MSISDN}`))
  t.strictSame(res.json(), {
    error: 'invalid_grant',
    error_description: 'client "demo-app-jwt" is not trusted to assert phone numbers: use sub=operatortoken:<token>'
  })
})

t.test('ten parallel redemptions of one operator token: one success', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const token = await operatorToken(app)
  const assertions = await Promise.all(Array.from({ length: 10 }, async () =>
    await grantAssertion(clock, `operatortoken:${token}`)))
  const results = await Promise.all(assertions.map(async (assertion) => await jwtBearer(app, assertion)))
  t.strictSame(results.map((res) => res.statusCode).sort(), [200, 400, 400, 400, 400, 400, 400, 400, 400, 400])
  for (const res of results.filter((r) => r.statusCode === 400)) {
    t.strictSame(res.json(),
      { error: 'invalid_grant', error_description: 'assertion sub: the operator token was already used' })
  }
})

t.test('an injected token error leaves the operator token usable', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const token = await operatorToken(app)
  const failed = await jwtBearer(app, await grantAssertion(clock, `operatortoken:${token}`), {},
    { 'x-emulator-scenario': 'token-server-error' })
  t.equal(failed.statusCode, 500)
  t.equal((await jwtBearer(app, await grantAssertion(clock, `operatortoken:${token}`))).statusCode, 200)
})

t.test('camara-strict: the Number Verification token lives 300 s and serves one call', async (t) => {
  const { app, clock } = await buildTestApp(t, { profile: 'camara-strict' })
  const res = await jwtBearer(app, await grantAssertion(clock, `operatortoken:${await operatorToken(app)}`))
  t.equal(res.statusCode, 200)
  const body = res.json<TokenBody>()
  t.equal(body.expires_in, 300)
  t.equal((await verifyV2(app, body.access_token, WIFI_MSISDN)).statusCode, 200)
  t.equal((await verifyV2(app, body.access_token, WIFI_MSISDN)).statusCode, 401)
})

t.test('a DPoP proof binds the jwt-bearer token', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const key = await dpopKey()
  const proof = await dpopProof(key, { htu: TOKEN_ENDPOINT, iat: Math.floor(clock.now() / 1000) })
  const res = await jwtBearer(app, await grantAssertion(clock, `operatortoken:${await operatorToken(app)}`), {},
    { dpop: proof })
  t.equal(res.statusCode, 200)
  t.equal(res.json<TokenBody>().token_type, 'DPoP')
  t.strictSame((await app.emulator.ctx.store.get('accessTokens', res.json<TokenBody>().access_token))?.cnf,
    { jkt: key.jkt })
})
