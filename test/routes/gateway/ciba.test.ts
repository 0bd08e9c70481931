// CIBA in poll mode (OpenID CIBA Core 1.0, CAMARA ICM r4.2): bc-authorize with each login_hint
// form, the ciba grant's authorization_pending, slow_down, expired_token and access_denied, the
// scenarios of the operator's decision, the errors of Appendix A, and the races.
import t from 'tap'
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, ISSUER } from '../../helpers/app.js'
import { SEED_DEVICE_IPV4, TOKEN_PATH } from './flow.js'
import { BC_AUTHORIZE_PATH, CIBA_GRANT, operatorToken, postForm, verifyV2, WIFI_MSISDN } from './sim-based.js'

const SCOPE = 'openid dpv:FraudPreventionAndDetection number-verification:verify'
const CLIENT = { client_id: 'demo-app', client_secret: 'demo-secret' }

interface Tokens {
  access_token: string
  token_type: string
  expires_in: number
  scope: string
  id_token?: string
  refresh_token?: string
}

async function bcAuthorize (
  app: FastifyInstance,
  loginHint: string | undefined,
  extra: Record<string, string | undefined> = {},
  headers: Record<string, string> = {}
) {
  return await postForm(app, BC_AUTHORIZE_PATH, { ...CLIENT, scope: SCOPE, login_hint: loginHint, ...extra }, headers)
}

async function authReqId (
  app: FastifyInstance,
  loginHint: string,
  headers: Record<string, string> = {}
): Promise<string> {
  const res = await bcAuthorize(app, loginHint, {}, headers)
  if (res.statusCode !== 200) throw new Error(`bc-authorize: ${res.statusCode} ${res.body}`)
  return res.json<{ auth_req_id: string }>().auth_req_id
}

async function poll (app: FastifyInstance, id: string, client: Record<string, string> = CLIENT) {
  return await postForm(app, TOKEN_PATH, { grant_type: CIBA_GRANT, auth_req_id: id, ...client })
}

async function lastReason (app: FastifyInstance): Promise<string | undefined> {
  return (await app.emulator.journalEntries()).at(-1)?.reason
}

t.test('an operator token as login_hint: auth_req_id, then the tokens, once, and the device verified', async (t) => {
  const { app } = await buildTestApp(t)
  const token = await operatorToken(app, WIFI_MSISDN, 'demo-app')
  const accepted = await bcAuthorize(app, `operatortoken:${token}`)
  t.equal(accepted.statusCode, 200)
  t.equal(accepted.headers['cache-control'], 'no-store')
  const { auth_req_id: id } = accepted.json<{ auth_req_id: string }>()
  t.strictSame(accepted.json(), { auth_req_id: id, expires_in: 120, interval: 5 })

  const issued = await poll(app, id)
  t.equal(issued.statusCode, 200)
  const body = issued.json<Tokens>()
  t.strictSame(Object.keys(body).sort(), ['access_token', 'expires_in', 'id_token', 'scope', 'token_type'])
  const jwks = (await app.inject({ method: 'GET', url: '/camara/api/auth/v1/jwks' })).json<JSONWebKeySet>()
  const { payload } = await jwtVerify(body.id_token ?? '', createLocalJWKSet(jwks), {
    issuer: ISSUER,
    audience: 'demo-app',
    currentDate: new Date(app.emulator.ctx.clock.now())
  })
  t.strictSame(payload.amr, ['sc', 'hwk'], 'the id_token says SIM-based authentication')
  t.not(payload.sub, WIFI_MSISDN, 'a pairwise subject, not the number')
  t.strictSame((await verifyV2(app, body.access_token, WIFI_MSISDN)).json(), { devicePhoneNumberVerified: true })

  t.strictSame((await poll(app, id)).json(), {
    error: 'invalid_grant',
    error_description: 'auth_req_id was already used: its tokens were issued'
  })
  const flows = new Set((await app.emulator.journalEntries())
    .filter((e) => e.msisdn === WIFI_MSISDN)
    .map((e) => e.flowId))
  t.equal(flows.size, 1, 'operator token, bc-authorize, polls and verify: one flow')
})

t.test('the operator takes 3 s: authorization_pending, slow_down when polled too fast, then the tokens', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const id = await authReqId(app, `operatortoken:${await operatorToken(app, WIFI_MSISDN, 'demo-app')}`, {
    'x-emulator-scenario': 'ciba-slow-operator'
  })
  const pending = await poll(app, id)
  t.equal(pending.statusCode, 400)
  t.strictSame(pending.json(), {
    error: 'authorization_pending',
    error_description: 'the user has not been authenticated yet'
  })
  t.equal(await lastReason(app), 'the operator decides in 3 s', 'the journal says why')
  clock.advance(1000)
  t.strictSame((await poll(app, id)).json(), {
    error: 'slow_down',
    error_description: 'polled 1 s after the last poll; wait at least 10 s between polls'
  })
  clock.advance(9000)
  t.strictSame((await poll(app, id)).json(), {
    error: 'slow_down',
    error_description: 'polled 9 s after the last poll; wait at least 15 s between polls'
  })
  clock.advance(15_000)
  t.equal((await poll(app, id)).statusCode, 200)
})

t.test('the device never answers: authorization_pending until expired_token', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const id = await authReqId(app, `tel:${WIFI_MSISDN}`, { 'x-emulator-scenario': 'ciba-device-never-answers' })
  const pending = await poll(app, id)
  t.strictSame(pending.json(), {
    error: 'authorization_pending',
    error_description: 'the user has not been authenticated yet'
  })
  t.equal(await lastReason(app), 'the user\'s device never answers (scenario ciba-device-never-answers)')
  clock.advance(120_000)
  t.strictSame((await poll(app, id)).json(), {
    error: 'expired_token',
    error_description: 'auth_req_id has expired: make a new authentication request'
  })
})

t.test('consent denied: access_denied, by flow-wide choice too', async (t) => {
  const { app } = await buildTestApp(t)
  const id = await authReqId(app, `tel:${WIFI_MSISDN}`, { 'x-emulator-scenario': 'ciba-consent-denied' })
  const denied = await poll(app, id)
  t.equal(denied.statusCode, 400)
  t.strictSame(denied.json(), { error: 'access_denied', error_description: 'The user denied consent.' })
  const flowWide = await bcAuthorize(app, `tel:${WIFI_MSISDN}`, { emulator_scenario: 'ciba-consent-denied' })
  t.strictSame((await poll(app, flowWide.json<{ auth_req_id: string }>().auth_req_id)).json(), {
    error: 'access_denied',
    error_description: 'The user denied consent.'
  })
})

t.test('a tel: hint gets tokens Number Verification refuses; ' +
  'an ipport: hint on the mobile network is network-based', async (t) => {
  const { app } = await buildTestApp(t)
  const tel = (await poll(app, await authReqId(app, `tel:${WIFI_MSISDN}`))).json<Tokens>()
  const refused = await verifyV2(app, tel.access_token, WIFI_MSISDN)
  t.equal(refused.statusCode, 403)
  t.equal(refused.json<{ code: string }>().code, 'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK')
  const ipport = (await poll(app, await authReqId(app, `ipport:${SEED_DEVICE_IPV4}:16790`))).json<Tokens>()
  t.strictSame((await app.emulator.ctx.store.get('accessTokens', ipport.access_token))?.amr, ['nba', 'mnba'])
  t.strictSame((await verifyV2(app, ipport.access_token, '+34666666666')).json(), { devicePhoneNumberVerified: true })
})

t.test('offline_access gets a refresh token (ICM allows it for CIBA)', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await bcAuthorize(app, `tel:${WIFI_MSISDN}`, { scope: `${SCOPE} offline_access` })
  const tokens = (await poll(app, res.json<{ auth_req_id: string }>().auth_req_id)).json<Tokens>()
  t.type(tokens.refresh_token, 'string')
})

t.test('bc-authorize errors as ICM r4.2 Appendix A lists them', async (t) => {
  const { app } = await buildTestApp(t)
  app.emulator.changeFixtures('test', (current) => ({
    ...current,
    clients: current.clients.map(({ backendGrants, ...c }) =>
      c.clientId === 'demo-web' ? c : { ...c, ...(backendGrants === undefined ? {} : { backendGrants }) })
  }))
  const otherAppsToken = await operatorToken(app, WIFI_MSISDN, 'demo-app-jwt')
  const cases: Array<[string, () => ReturnType<typeof bcAuthorize>, number, string, string]> = [
    ['no login_hint', async () => await bcAuthorize(app, undefined), 400, 'invalid_request',
      'login_hint is required (tel:+E164, ipport:IP[:port] or operatortoken:<token>)'],
    ['a login_hint_token', async () => await bcAuthorize(app, `tel:${WIFI_MSISDN}`, { login_hint_token: 'x' }),
      400, 'invalid_request',
      'login_hint_token is not used in CAMARA: send login_hint only (ICM r4.2 "Authentication Request")'],
    ['a malformed tel:', async () => await bcAuthorize(app, 'tel:0034'), 400, 'invalid_request',
      'login_hint "tel:0034" is not tel:+E.164 (e.g. tel:+34666666666)'],
    ['no openid', async () => await bcAuthorize(app, `tel:${WIFI_MSISDN}`, {
      scope: 'dpv:FraudPreventionAndDetection number-verification:verify'
    }), 400, 'invalid_scope', 'a CIBA request\'s scope must contain openid (CIBA Core section 7.1)'],
    ['an unknown number', async () => await bcAuthorize(app, 'tel:+4915100000000'), 400, 'unknown_user_id',
      'login_hint: +4915100000000 is not a subscriber of this gateway\'s operators'],
    ['an unknown operator token', async () => await bcAuthorize(app, 'operatortoken:nope'), 400, 'unknown_user_id',
      'login_hint: the operator token is unknown'],
    ['an address on Wi-Fi', async () => await bcAuthorize(app, 'ipport:81.40.12.34'), 400, 'unknown_user_id',
      'login_hint: no subscriber is on an operator\'s mobile network at 81.40.12.34'],
    ['another app\'s operator token', async () => await bcAuthorize(app, `operatortoken:${otherAppsToken}`),
      403, 'access_denied', 'login_hint: the operator token was issued for another app'],
    ['a client not allowed CIBA', async () => await postForm(app, BC_AUTHORIZE_PATH, {
      client_id: 'demo-web',
      client_secret: 'demo-web-secret',
      scope: SCOPE,
      login_hint: `tel:${WIFI_MSISDN}`
    }), 400, 'unauthorized_client', 'client "demo-web" is not allowed to use CIBA'],
    ['a wrong secret', async () => await bcAuthorize(app, `tel:${WIFI_MSISDN}`, { client_secret: 'wrong' }),
      401, 'invalid_client', 'client authentication failed']
  ]
  for (const [name, send, status, error, description] of cases) {
    const res = await send()
    t.equal(res.statusCode, status, name)
    t.strictSame(res.json(), { error, error_description: description }, name)
  }
})

t.test('ciba grant errors: unknown auth_req_id, another client\'s', async (t) => {
  const { app } = await buildTestApp(t)
  t.strictSame((await poll(app, 'nope')).json(), {
    error: 'invalid_grant',
    error_description: 'auth_req_id is unknown'
  })
  const id = await authReqId(app, `tel:${WIFI_MSISDN}`)
  app.emulator.changeFixtures('test', (current) => ({
    ...current,
    clients: current.clients.map((c) => c.clientId === 'demo-web' ? { ...c, backendGrants: ['ciba' as const] } : c)
  }))
  t.strictSame((await poll(app, id, { client_id: 'demo-web', client_secret: 'demo-web-secret' })).json(), {
    error: 'invalid_grant',
    error_description: 'auth_req_id was issued to another client'
  })
})

t.test('an injected bc-authorize error leaves the operator token usable', async (t) => {
  const { app } = await buildTestApp(t)
  const token = await operatorToken(app, WIFI_MSISDN, 'demo-app')
  const failed = await bcAuthorize(app, `operatortoken:${token}`, {}, { 'x-emulator-scenario': 'ciba-unknown-user' })
  t.strictSame(failed.json(), {
    error: 'unknown_user_id',
    error_description: 'The end-user the login_hint names cannot be identified.'
  })
  t.equal((await bcAuthorize(app, `operatortoken:${token}`)).statusCode, 200)
  t.strictSame((await bcAuthorize(app, `operatortoken:${token}`)).json(), {
    error: 'unknown_user_id',
    error_description: 'login_hint: the operator token was already used'
  })
})

t.test('ten parallel bc-authorize with one operator token, ' +
  'ten parallel polls of one auth_req_id: one success each', async (t) => {
  const { app } = await buildTestApp(t)
  const token = await operatorToken(app, WIFI_MSISDN, 'demo-app')
  const requests = await Promise.all(Array.from({ length: 10 },
    async () => await bcAuthorize(app, `operatortoken:${token}`)))
  t.strictSame(requests.map((res) => res.statusCode).sort(), [200, 400, 400, 400, 400, 400, 400, 400, 400, 400])
  const id = requests.find((res) => res.statusCode === 200)?.json<{ auth_req_id: string }>().auth_req_id ?? ''
  const polls = await Promise.all(Array.from({ length: 10 }, async () => await poll(app, id)))
  t.equal(polls.filter((res) => res.statusCode === 200).length, 1)
  t.strictSame(polls.map((res) => res.statusCode).sort(), [200, 400, 400, 400, 400, 400, 400, 400, 400, 400])
})

t.test('private_key_jwt with the issuer or bc-authorize as audience', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const { clientAssertion } = await import('./sim-based.js')
  for (const aud of [ISSUER, `${ISSUER}/bc-authorize`]) {
    const res = await postForm(app, BC_AUTHORIZE_PATH, {
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await clientAssertion(clock, aud),
      scope: SCOPE,
      login_hint: `operatortoken:${await operatorToken(app)}`
    })
    t.equal(res.statusCode, 200, aud)
  }
})

t.test('camara-strict: bc-authorize requires private_key_jwt, and the NV token serves one call', async (t) => {
  const { app, clock } = await buildTestApp(t, { profile: 'camara-strict' })
  const secret = await bcAuthorize(app, `tel:${WIFI_MSISDN}`)
  t.equal(secret.statusCode, 401)
  t.strictSame(secret.json(), {
    error: 'invalid_client',
    error_description: 'the camara-strict profile requires private_key_jwt client authentication'
  })
  const { clientAssertion } = await import('./sim-based.js')
  const jwtAuth = async (): Promise<Record<string, string>> => ({
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await clientAssertion(clock, ISSUER)
  })
  const accepted = await postForm(app, BC_AUTHORIZE_PATH, {
    ...await jwtAuth(),
    scope: SCOPE,
    login_hint: `operatortoken:${await operatorToken(app)}`
  })
  const tokens = (await poll(app, accepted.json<{ auth_req_id: string }>().auth_req_id, await jwtAuth())).json<Tokens>()
  t.equal(tokens.expires_in, 300)
  t.equal((await verifyV2(app, tokens.access_token, WIFI_MSISDN)).statusCode, 200)
  t.equal((await verifyV2(app, tokens.access_token, WIFI_MSISDN)).statusCode, 401)
})

t.test('the OpenAPI document describes the SIM-based legs', async (t) => {
  const { app } = await buildTestApp(t)
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' }))
    .json<{ paths: Record<string, Record<string, { summary?: string }>> }>()
  t.match(doc.paths['/camara/api/auth/v1/bc-authorize']?.post?.summary, /CIBA backchannel authentication endpoint/)
  t.match(doc.paths['/operators/{operatorId}/operator-token']?.post?.summary, /TS\.43 entitlement server/)
  t.match(doc.paths['/_emulator/operator-tokens']?.post?.summary, /Mint an operator token/)
})

t.test('--ciba-interval and --ciba-expires-in set the answer\'s interval and expires_in, and the rules', async (t) => {
  const { app, clock } = await buildTestApp(t, { cibaInterval: 1, cibaExpiresIn: 3 })
  const accepted = await bcAuthorize(app, `operatortoken:${await operatorToken(app, WIFI_MSISDN, 'demo-app')}`)
  const { auth_req_id: id } = accepted.json<{ auth_req_id: string }>()
  t.strictSame(accepted.json(), { auth_req_id: id, expires_in: 3, interval: 1 })
  clock.advance(3000)
  t.strictSame((await poll(app, id)).json<{ error: string }>().error, 'expired_token', 'expired after 3 s')
})
