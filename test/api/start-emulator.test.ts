// The programmatic API as a TypeScript test suite would use it: startEmulator on a real port, the
// browser leg in-process, the code exchange and verify over HTTP with fetch, every typed control.
import { createRemoteJWKSet, jwtVerify } from 'jose'
import t, { type Test } from 'tap'
import {
  FixtureError,
  ManualClock,
  OAuthError,
  ScenarioError,
  ScenarioRegistryError,
  startEmulator,
  type RunningEmulator,
  type StartOptions,
  type TokenResponse
} from '../../src/index.js'
import { testKeys } from '../helpers/app.js'
import { probePort } from '../packaging/child-process.js'
import { expectedEndpoints } from './endpoints.js'

const REDIRECT_URI = 'http://localhost:3000/callback'
const SCOPE = 'openid dpv:FraudPreventionAndDetection number-verification:verify'
const START = Date.UTC(2026, 10, 25, 12, 0, 0)

async function start (t: Test, options: StartOptions = {}): Promise<{ emulator: RunningEmulator, clock: ManualClock }> {
  const clock = new ManualClock(START)
  const emulator = await startEmulator({ clock, keys: await testKeys(), ...options })
  t.teardown(() => emulator.close())
  return { emulator, clock }
}

async function exchangeCode (emulator: RunningEmulator, code: string): Promise<Response> {
  return await fetch(emulator.urls.token, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: 'demo-app',
      client_secret: 'demo-secret'
    })
  })
}

async function verify (
  emulator: RunningEmulator, accessToken: string, phoneNumber: string
): Promise<{ status: number, body: unknown }> {
  const res = await fetch(emulator.urls.verify, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ phoneNumber })
  })
  return { status: res.status, body: await res.json() }
}

/** The whole flow for a device: in-process browser leg, then the code exchange over HTTP */
async function tokensFor (emulator: RunningEmulator, deviceIp: string): Promise<TokenResponse> {
  const { code, error, errorDescription } = await emulator.authorizeDevice({
    clientId: 'demo-app', redirectUri: REDIRECT_URI, scope: SCOPE, deviceIp
  })
  if (code === undefined) throw new Error(`no code for ${deviceIp}: ${error ?? ''} ${errorDescription ?? ''}`)
  return await (await exchangeCode(emulator, code)).json() as TokenResponse
}

t.test('startEmulator listens on an ephemeral port and reports the URLs it really serves', async (t) => {
  const { emulator } = await start(t)
  const { port } = new URL(emulator.urls.base)
  t.not(port, '', 'a real port')
  const base = `http://127.0.0.1:${port}`
  const issuer = `${base}/camara/api/auth/v1`
  t.strictSame(emulator.urls, expectedEndpoints(base))
  const health = await fetch(emulator.urls.health)
  t.equal(health.status, 200)
  t.match(await health.json(), { status: 'ok', issuer })
  const discovery = await (await fetch(emulator.urls.discovery)).json() as Record<string, unknown>
  t.match(discovery, {
    issuer,
    authorization_endpoint: emulator.urls.authorize,
    token_endpoint: emulator.urls.token,
    jwks_uri: emulator.urls.jwks
  })
})

t.test('authorizeDevice gives a real code for a device on the operator network; ' +
  'token and verify work over HTTP', async (t) => {
  const { emulator } = await start(t)
  const authorization = await emulator.authorizeDevice({
    clientId: 'demo-app',
    redirectUri: REDIRECT_URI,
    scope: SCOPE,
    state: 'state-42',
    nonce: 'nonce-42',
    deviceIp: '142.115.147.143'
  })
  t.equal(`${authorization.redirect.origin}${authorization.redirect.pathname}`, REDIRECT_URI)
  t.strictSame(
    { state: authorization.state, error: authorization.error, errorDescription: authorization.errorDescription },
    { state: 'state-42', error: undefined, errorDescription: undefined }
  )
  t.type(authorization.code, 'string')

  const res = await exchangeCode(emulator, authorization.code as string)
  t.equal(res.status, 200)
  t.equal(res.headers.get('cache-control'), 'no-store')
  const tokens = await res.json() as TokenResponse
  t.match(tokens, { token_type: 'Bearer', expires_in: 3600, scope: SCOPE, access_token: String, id_token: String })

  const { payload, protectedHeader } = await jwtVerify(
    tokens.id_token as string,
    createRemoteJWKSet(new URL(emulator.urls.jwks)),
    {
      issuer: emulator.urls.issuer,
      audience: 'demo-app',
      currentDate: new Date(START)
    }
  )
  t.equal(protectedHeader.alg, 'RS256')
  t.match(payload, { nonce: 'nonce-42', amr: ['nba', 'mnba'], auth_time: START / 1000 })

  t.strictSame(await verify(emulator, tokens.access_token, '+34666666666'), {
    status: 200, body: { devicePhoneNumberVerified: true, assessedAt: new Date(START).toISOString() }
  })
  t.strictSame(await verify(emulator, tokens.access_token, '+34666666667'), {
    status: 200, body: { devicePhoneNumberVerified: false, assessedAt: new Date(START).toISOString() }
  })
  t.equal((await exchangeCode(emulator, authorization.code as string)).status, 400, 'the code is single use')
})

t.test('authorizeDevice without a device address is localhost, outside every operator range: ' +
  'konera_context or an ipport hint names the device', async (t) => {
  const { emulator } = await start(t)
  const fromLocalhost = await emulator.authorizeDevice({
    clientId: 'demo-app', redirectUri: REDIRECT_URI, scope: SCOPE, prompt: 'none', state: 's'
  })
  t.strictSame(
    { code: fromLocalhost.code, error: fromLocalhost.error, state: fromLocalhost.state },
    { code: undefined, error: 'login_required', state: 's' }
  )
  t.type(fromLocalhost.errorDescription, 'string')

  const byHint = await emulator.authorizeDevice({
    clientId: 'demo-app', redirectUri: REDIRECT_URI, scope: SCOPE, loginHint: 'ipport:142.115.147.143'
  })
  const byKonera = await emulator.authorizeDevice({
    clientId: 'demo-app', redirectUri: REDIRECT_URI, scope: SCOPE, extra: { konera_context: 'ipv4:142.115.147.143' }
  })
  for (const [how, authorization] of [['login_hint=ipport:', byHint], ['konera_context', byKonera]] as const) {
    t.equal(authorization.error, undefined, how)
    const tokens = await (await exchangeCode(emulator, authorization.code as string)).json() as TokenResponse
    t.match(
      await verify(emulator, tokens.access_token, '+34666666666'),
      { status: 200, body: { devicePhoneNumberVerified: true } },
      how
    )
  }
})

t.test('authorizeDevice reports an authorize leg that does not redirect (unknown client) ' +
  'as an error naming the status', async (t) => {
  const { emulator } = await start(t)
  await t.rejects(
    emulator.authorizeDevice({
      clientId: 'nobody', redirectUri: REDIRECT_URI, scope: SCOPE, deviceIp: '142.115.147.143'
    }),
    { message: /^authorize leg \/camara\/api\/auth\/v1\/authorize answered 400: / }
  )
})

t.test('with --public-url the URLs use it and authorizeDevice still completes the leg in-process', async (t) => {
  const { emulator } = await start(t, { publicUrl: 'http://emulator:9091' })
  t.strictSame([emulator.urls.base, emulator.urls.issuer, emulator.urls.token], ['http://emulator:9091', 'http://emulator:9091/camara/api/auth/v1', 'http://emulator:9091/camara/api/auth/v1/token'])
  const authorization = await emulator.authorizeDevice({
    clientId: 'demo-app', redirectUri: REDIRECT_URI, scope: SCOPE, deviceIp: '142.115.147.143'
  })
  t.type(authorization.code, 'string')
  t.equal(`${authorization.redirect.origin}${authorization.redirect.pathname}`, REDIRECT_URI)
})

t.test('inline fixture documents are validated like files and served', async (t) => {
  const { emulator } = await start(t, {
    fixtures: [{
      operators: [{ id: 'my-telco', name: 'My Telco', numberPrefixes: ['+44'], ipRanges: ['10.20.0.0/16'] }],
      clients: [{
        clientId: 'my-app',
        clientSecret: 's3cret',
        redirectUris: [REDIRECT_URI],
        scopes: ['number-verification:verify'],
        tokenEndpointAuthMethods: ['client_secret_post']
      }],
      subscribers: [{ msisdn: '+447700900001', operator: 'my-telco', ipv4: ['10.20.0.5'], connection: 'mobile-data' }]
    } as never]
  })
  t.strictSame(emulator.fixtures.get().subscribers.map((s) => s.msisdn), ['+447700900001'])
  const authorization = await emulator.authorizeDevice({
    clientId: 'my-app', redirectUri: REDIRECT_URI, scope: SCOPE, deviceIp: '10.20.0.5'
  })
  t.type(authorization.code, 'string')
  await t.rejects(
    startEmulator({
      fixtures: [{
        operators: [], clients: [], subscribers: [{ msisdn: 'nope', operator: 'x', connection: 'mobile-data' }]
      } as never]
    }),
    new FixtureError('inline fixtures[0]', '$.subscribers[0].msisdn', 'must match pattern ^\\+[1-9][0-9]{4,14}$')
  )
})

t.test('fixtures: get returns a copy; upsertSubscriber applies the file defaults and the fixture rules; ' +
  'removeSubscriber', async (t) => {
  const { emulator } = await start(t)
  const before = emulator.fixtures.get()
  t.strictSame(before.files.map((file) => file.split('/').slice(-2).join('/')), ['fixtures/default.json'])
  t.equal(before.defaultOperator, 'telco-es')
  before.subscribers.length = 0
  t.not(emulator.fixtures.get().subscribers.length, 0, 'changing the copy changes nothing')

  t.strictSame(emulator.fixtures.upsertSubscriber({
    msisdn: '+34611111111', operator: 'telco-es', ipv4: ['142.115.1.1'], connection: 'mobile-data'
  }), { created: true })
  t.strictSame(emulator.fixtures.get().subscribers.find((s) => s.msisdn === '+34611111111'),
    {
      msisdn: '+34611111111',
      operator: 'telco-es',
      ipv4: ['142.115.1.1'],
      ipv6: [],
      connection: 'mobile-data',
      authMethods: ['network']
    })
  const tokens = await tokensFor(emulator, '142.115.1.1')
  t.match(
    await verify(emulator, tokens.access_token, '+34611111111'),
    { status: 200, body: { devicePhoneNumberVerified: true } }
  )
  t.strictSame(emulator.fixtures.upsertSubscriber({
    msisdn: '+34611111111', operator: 'telco-es', ipv4: ['142.115.1.2'], connection: 'wifi'
  }), { created: false })
  t.equal(emulator.fixtures.get().subscribers.find((s) => s.msisdn === '+34611111111')?.connection, 'wifi')

  t.throws(
    () => emulator.fixtures.upsertSubscriber({ msisdn: '611111111', operator: 'telco-es', connection: 'mobile-data' }),
    new FixtureError('programmatic API', '$.msisdn', 'must match pattern ^\\+[1-9][0-9]{4,14}$')
  )
  t.throws(
    () => emulator.fixtures.upsertSubscriber({
      msisdn: '+34611111112', operator: 'telco-es', connection: 'mobile-data', colour: 'red'
    } as never),
    new FixtureError('programmatic API', '$.colour', 'unknown property "colour"')
  )
  t.throws(
    () => emulator.fixtures.upsertSubscriber({
      msisdn: '+34611111112', operator: 'telco-xx', connection: 'mobile-data'
    }),
    { name: 'FixtureError', jsonPath: /^\$\.subscribers\[\d+\]\.operator$/, rule: /^unknown operator "telco-xx"/ }
  )
  t.throws(
    () => emulator.fixtures.upsertSubscriber({
      msisdn: '+34611111112', operator: 'telco-es', ipv4: ['142.115.147.143'], connection: 'mobile-data'
    }),
    { name: 'FixtureError', rule: 'address "142.115.147.143" is already used by +34666666666' }
  )
  t.equal(
    emulator.fixtures.get().subscribers.some((s) => s.msisdn === '+34611111112'),
    false,
    'a refused change changes nothing'
  )

  t.equal(emulator.fixtures.removeSubscriber('+34611111111'), true)
  t.equal(emulator.fixtures.removeSubscriber('+34611111111'), false)
  t.notOk(emulator.fixtures.get().subscribers.some((s) => s.msisdn === '+34611111111'))
})

t.test('scenarios: list, define, activate for the next N requests or until expiry, deactivate', async (t) => {
  const { emulator, clock } = await start(t)
  const tokens = await tokensFor(emulator, '142.115.147.143')
  t.ok(emulator.scenarios.list().some((s) => s.name === 'rate-limited' && s.origin === 'catalogue' && !s.active))

  const listing = emulator.scenarios.define({
    name: 'verify-unavailable',
    description: 'verify answers 503',
    match: { operations: ['verify'] },
    effects: { error: { camara: { status: 503, code: 'UNAVAILABLE' } } }
  })
  t.match(listing, { name: 'verify-unavailable', origin: 'control', active: false })

  const once = emulator.scenarios.activate('verify-unavailable', { remaining: 1 })
  t.match(emulator.scenarios.activations(), [{ id: once, name: 'verify-unavailable', remaining: 1, appliedCount: 0 }])
  t.match(
    await verify(emulator, tokens.access_token, '+34666666666'),
    { status: 503, body: { status: 503, code: 'UNAVAILABLE' } }
  )
  t.match(
    await verify(emulator, tokens.access_token, '+34666666666'),
    { status: 200, body: { devicePhoneNumberVerified: true } },
    'only the next request'
  )
  t.strictSame(emulator.scenarios.activations(), [])

  const always = emulator.scenarios.activate('verify-always-false')
  t.match(
    await verify(emulator, tokens.access_token, '+34666666666'),
    { status: 200, body: { devicePhoneNumberVerified: false } }
  )
  t.ok(emulator.scenarios.list().find((s) => s.name === 'verify-always-false')?.active)
  t.equal(emulator.scenarios.deactivate(always), 1)
  t.equal(emulator.scenarios.deactivate(always), 0)
  t.match(
    await verify(emulator, tokens.access_token, '+34666666666'),
    { status: 200, body: { devicePhoneNumberVerified: true } }
  )

  const expiring = emulator.scenarios.activate('verify-always-false', { expiresInSeconds: 60 })
  t.match(emulator.scenarios.activations(), [{ id: expiring, activatedAt: START, expiresAt: START + 60_000 }])
  t.match(await verify(emulator, tokens.access_token, '+34666666666'), { body: { devicePhoneNumberVerified: false } })
  clock.advance(59_999)
  t.match(
    await verify(emulator, tokens.access_token, '+34666666666'),
    { body: { devicePhoneNumberVerified: false } },
    'still live a ms before'
  )
  clock.advance(1)
  t.strictSame(emulator.scenarios.activations(), [], 'gone once its time is up, on the emulator clock')
  t.match(await verify(emulator, tokens.access_token, '+34666666666'), { body: { devicePhoneNumberVerified: true } })

  emulator.scenarios.activate('verify-always-false')
  emulator.scenarios.activate('verify-always-false', { remaining: 3 })
  t.equal(emulator.scenarios.deactivate('verify-always-false'), 2, 'by name: every activation')

  t.equal(emulator.scenarios.remove('verify-unavailable'), true)
  t.equal(emulator.scenarios.remove('verify-unavailable'), false)
})

t.test('scenarios: an activation lifetime rounds up to a whole ms; without one it never expires', async (t) => {
  const { emulator, clock } = await start(t)
  const tiny = emulator.scenarios.activate('rate-limited', { expiresInSeconds: 0.0004 })
  const longest = emulator.scenarios.activate('rate-limited', { expiresInSeconds: 1e9 })
  const forever = emulator.scenarios.activate('rate-limited')
  t.strictSame(
    emulator.scenarios.activations().map((a) => [a.id, a.expiresAt]),
    [[tiny, START + 1], [longest, START + 1e12], [forever, undefined]]
  )
  clock.advance(1)
  t.strictSame(emulator.scenarios.activations().map((a) => a.id), [longest, forever])
  clock.advance(1e12)
  t.strictSame(emulator.scenarios.activations().map((a) => a.id), [forever])
})

t.test('scenarios: refusals name the JSON path and rule, or the registry problem', async (t) => {
  const { emulator } = await start(t)
  t.throws(() => emulator.scenarios.define({ name: 'Bad Name', description: 'x', effects: { verifiedResult: true } }),
    new ScenarioError('$.name', 'must match pattern ^[a-z0-9]+(-[a-z0-9]+)*$', 'programmatic API'))
  t.throws(
    () => emulator.scenarios.define({ name: 'no-effects', description: 'x', effects: {} }),
    { name: 'ScenarioError', jsonPath: '$.effects' }
  )
  t.throws(
    () => emulator.scenarios.define({ name: 'rate-limited', description: 'x', effects: { verifiedResult: true } }),
    new ScenarioRegistryError('duplicate', 'scenario "rate-limited" is already defined in the built-in catalogue')
  )
  t.throws(() => emulator.scenarios.activate('nope'), new ScenarioRegistryError('unknown', 'unknown scenario "nope"'))
  t.throws(
    () => emulator.scenarios.activate('rate-limited', { remaining: 0 }),
    new ScenarioError('$.remaining', 'must be an integer of at least 1', 'programmatic API')
  )
  const badLifetimes: unknown[] = [
    0, -0, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e9 + 0.001, 1e13, 1e308, '60', null
  ]
  for (const expiresInSeconds of badLifetimes) {
    const error = t.throws(
      () => emulator.scenarios.activate('rate-limited', { expiresInSeconds: expiresInSeconds as number }),
      `expiresInSeconds ${String(expiresInSeconds)}`
    )
    t.ok(error instanceof ScenarioError)
    t.equal(
      (error as Error).message,
      'programmatic API: $.expiresInSeconds: must be a number of seconds above 0 and at most 1000000000'
    )
  }
  t.throws(() => emulator.scenarios.remove('rate-limited'), { name: 'ScenarioRegistryError', kind: 'read-only' })
  t.strictSame(emulator.scenarios.activations(), [], 'nothing was activated')
})

t.test('journal: list with filters, clear', async (t) => {
  const { emulator } = await start(t)
  const authorization = await emulator.authorizeDevice({
    clientId: 'demo-app', redirectUri: REDIRECT_URI, scope: SCOPE, deviceIp: '142.115.147.143'
  })
  const tokens = await (await exchangeCode(emulator, authorization.code as string)).json() as TokenResponse
  await verify(emulator, tokens.access_token, '+34666666666')
  const all = emulator.journal.list()
  t.strictSame(
    all.map((entry) => [entry.operation, entry.status]),
    [['authorize', 302], ['operator', 302], ['token', 200], ['verify', 200]]
  )
  const flowId = all[0]?.flowId as string
  t.ok(all.every((entry) => entry.flowId === flowId), 'one flow id links the legs')
  t.match(emulator.journal.list({ operation: 'verify' }), [{
    operation: 'verify', msisdn: '+34666666666', clientId: 'demo-app', path: '/camara/api/number-verification/v1/verify'
  }])
  t.strictSame(emulator.journal.list({ limit: 1 }).map((entry) => entry.operation), ['verify'])
  emulator.journal.clear()
  t.strictSame(emulator.journal.list(), [])
})

t.test('mintToken: tokens without the browser leg, with authentication method and flow scenarios; ' +
  'refusals', async (t) => {
  const { emulator } = await start(t)
  const minted = await emulator.mintToken({ clientId: 'demo-app', msisdn: '+34666666666', scope: SCOPE })
  t.match(minted, {
    token_type: 'Bearer', expires_in: 3600, scope: SCOPE, access_token: String, id_token: String, flowId: String
  })
  t.match(
    await verify(emulator, minted.access_token, '+34666666666'),
    { status: 200, body: { devicePhoneNumberVerified: true } }
  )

  const bySms = await emulator.mintToken({
    clientId: 'demo-app', msisdn: '+34666666666', scope: SCOPE, amr: ['sms', 'otp']
  })
  t.match(await verify(emulator, bySms.access_token, '+34666666666'), {
    status: 403, body: { status: 403, code: 'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK' }
  })

  const forcedFalse = await emulator.mintToken({
    clientId: 'demo-app', msisdn: '+34666666666', scope: SCOPE, scenarios: ['verify-always-false']
  })
  t.match(
    await verify(emulator, forcedFalse.access_token, '+34666666666'),
    { status: 200, body: { devicePhoneNumberVerified: false } }
  )

  await t.rejects(
    emulator.mintToken({ clientId: 'nobody', msisdn: '+34666666666', scope: SCOPE }),
    new OAuthError('invalid_client', 'client_id "nobody" is not registered')
  )
  await t.rejects(
    emulator.mintToken({ clientId: 'demo-app', msisdn: '34666666666', scope: SCOPE }),
    new FixtureError('programmatic API', '$.msisdn', 'must match pattern ^\\+[1-9][0-9]{4,14}$')
  )
  await t.rejects(
    emulator.mintToken({
      clientId: 'demo-app', msisdn: '+34666666666', scope: SCOPE, scenarios: ['nope', 'rate-limited', 'nope2']
    }),
    new ScenarioRegistryError('unknown', 'unknown scenario "nope", "nope2"')
  )
})

t.test('mintOperatorToken: an operator token the CIBA request of a real backend redeems', async (t) => {
  const { emulator } = await start(t)
  const minted = await emulator.mintOperatorToken({ clientId: 'demo-app', msisdn: '+34600000002', lifetimeSeconds: 60 })
  t.match(minted, { operatorToken: String, expiresIn: 60, expiresAt: String, operatorId: 'telco-es', flowId: String })
  const form = (params: Record<string, string>): RequestInit => ({
    method: 'POST',
    body: new URLSearchParams({ client_id: 'demo-app', client_secret: 'demo-secret', ...params })
  })
  const accepted = await fetch(
    `${emulator.urls.issuer}/bc-authorize`,
    form({ scope: SCOPE, login_hint: `operatortoken:${minted.operatorToken}` })
  )
  const { auth_req_id: authReqId } = await accepted.json() as { auth_req_id: string }
  const tokens = await (await fetch(
    emulator.urls.token,
    form({ grant_type: 'urn:openid:params:grant-type:ciba', auth_req_id: authReqId })
  )).json() as { access_token: string }
  t.match(
    await verify(emulator, tokens.access_token, '+34600000002'),
    { status: 200, body: { devicePhoneNumberVerified: true } }
  )
  await t.rejects(
    emulator.mintOperatorToken({ clientId: 'demo-app', msisdn: '+34666666667' }),
    new OAuthError(
      'access_denied',
      'the SIM of +34666666667 cannot do SIM-based authentication (TS.43 is not provisioned for it)',
      { statusCode: 403 }
    )
  )
})

t.test('mintOperatorToken refuses a lifetime the control API would, and stores nothing', async (t) => {
  const { emulator } = await start(t)
  for (const lifetimeSeconds of [0, -5, 1.5, 3601, Number.NaN]) {
    await t.rejects(emulator.mintOperatorToken({ clientId: 'demo-app', msisdn: '+34600000002', lifetimeSeconds }),
      { name: 'FixtureError', message: /\$\.lifetimeSeconds.*must be an integer from 1 to 3600/ }, `lifetimeSeconds ${lifetimeSeconds}`)
  }
  t.equal(await emulator.emulator.ctx.store.size('operatorTokens'), 0, 'no record left to count against --max-pending')
  t.match(
    await emulator.mintOperatorToken({ clientId: 'demo-app', msisdn: '+34600000002', lifetimeSeconds: 3600 }),
    { expiresIn: 3600 }
  )
})

t.test('reset forgets tokens, runtime subscribers, activations and the journal', async (t) => {
  const { emulator } = await start(t)
  const minted = await emulator.mintToken({ clientId: 'demo-app', msisdn: '+34666666666', scope: SCOPE })
  emulator.fixtures.upsertSubscriber({
    msisdn: '+34611111111', operator: 'telco-es', ipv4: ['142.115.1.1'], connection: 'mobile-data'
  })
  emulator.scenarios.activate('rate-limited')
  await verify(emulator, minted.access_token, '+34666666666')
  t.not(emulator.journal.list().length, 0)

  await emulator.reset()
  t.notOk(emulator.fixtures.get().subscribers.some((s) => s.msisdn === '+34611111111'))
  t.strictSame(emulator.scenarios.activations(), [])
  t.strictSame(emulator.journal.list(), [])
  t.match(
    await verify(emulator, minted.access_token, '+34666666666'),
    { status: 401, body: { status: 401, code: 'UNAUTHENTICATED' } }
  )
})

t.test('close stops listening', async (t) => {
  const emulator = await startEmulator({ keys: await testKeys() })
  t.equal((await fetch(emulator.urls.health)).status, 200)
  await emulator.close()
  t.equal(await probePort(Number(new URL(emulator.urls.base).port)), 'ECONNREFUSED')
})

t.test('a port in use rejects with EADDRINUSE', async (t) => {
  const { emulator } = await start(t)
  await t.rejects(
    startEmulator({ keys: await testKeys(), port: Number(new URL(emulator.urls.base).port) }),
    { code: 'EADDRINUSE' }
  )
})
