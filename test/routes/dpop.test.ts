// DPoP (RFC 9449, CAMARA ICM r4.2) over HTTP: a proof at the token endpoint binds the tokens to its
// key; the API then wants the DPoP scheme and a proof of that key for each call (with camara:qh and
// camara:bh for a client that must send them); every refusal is a clear OAuth or CAMARA answer, and
// a token without DPoP keeps working as Bearer.
import { createHash, randomUUID } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { importJWK, SignJWT, type JWK } from 'jose'
import { DEFAULT_FIXTURES } from '../../src/config/config.js'
import { buildTestApp, BASE_URL, ISSUER, REDIRECT_URI } from '../helpers/app.js'
import { dpopKey, dpopProof, sha256Url, type DpopKey, type ProofOptions } from '../helpers/dpop.js'
import {
  authorizationCode,
  codeForm,
  FORM,
  NV_SCOPES,
  SEED_KONERA,
  SEED_MSISDN,
  tokenRequest,
  type Tokens
} from '../helpers/flow.js'
import { RELEASE_MESSAGES } from './number-verification/support.js'

const TOKEN_ENDPOINT = `${ISSUER}/token`
const V2_VERIFY = '/number-verification/v2/verify'
const V2_SHARE = '/number-verification/v2/device-phone-number'
const SEED_VERIFY = '/camara/api/number-verification/v1/verify'
const VWIP_VERIFY = '/number-verification/vwip/verify'
const ALGS = 'algs="RS256 PS256 ES256 EdDSA"'
const UNAUTHENTICATED = { status: 401, code: 'UNAUTHENTICATED', message: RELEASE_MESSAGES['2.1.0'].unauthenticated }
const OFFLINE_SCOPES = `${NV_SCOPES} offline_access`

/** The default world plus two DPoP clients: one that must use DPoP, one that must also send ICM's claims */
function dpopWorld (t: Test): string {
  const file = join(t.testdir({}), 'dpop.json')
  const client = {
    redirectUris: [REDIRECT_URI],
    scopes: ['number-verification:verify', 'number-verification:device-phone-number:read'],
    tokenEndpointAuthMethods: ['client_secret_post']
  }
  writeFileSync(file, JSON.stringify({
    clients: [
      { ...client, clientId: 'dpop-app', clientSecret: 'dpop-secret', requireDpop: true },
      { ...client, clientId: 'dpop-camara', clientSecret: 'camara-secret', requireDpop: true, dpopCamaraClaims: true }
    ]
  }))
  return file
}

async function build (
  t: Test, profile: 'default' | 'camara-strict' = 'default'
): Promise<{ app: FastifyInstance, now: () => number }> {
  const { app, clock } = await buildTestApp(t, { fixtures: [DEFAULT_FIXTURES, dpopWorld(t)], profile })
  return { app, now: () => Math.floor(clock.now() / 1000) }
}

const SECRETS: Record<string, string> = {
  'demo-app': 'demo-secret', 'dpop-app': 'dpop-secret', 'dpop-camara': 'camara-secret'
}

/** A code of the seed device for the client */
async function code (app: FastifyInstance, clientId: string, scope = NV_SCOPES): Promise<string> {
  return await authorizationCode(app, { clientId, konera: SEED_KONERA, scope })
}

function codeExchange (codeValue: string, clientId: string): Record<string, string> {
  return codeForm(codeValue, { client_id: clientId, client_secret: SECRETS[clientId] }) as Record<string, string>
}

/** A token request proof for the key, valid now */
async function tokenProof (key: DpopKey, iat: number, options: Partial<ProofOptions> = {}): Promise<string> {
  return await dpopProof(key, { htu: TOKEN_ENDPOINT, iat, ...options })
}

/** The whole flow with a DPoP proof at the token endpoint; throws unless 200 */
async function dpopTokens (
  app: FastifyInstance, key: DpopKey, iat: number, clientId = 'demo-app', scope = NV_SCOPES
): Promise<Tokens> {
  const res = await tokenRequest(
    app,
    codeExchange(await code(app, clientId, scope), clientId),
    { dpop: await tokenProof(key, iat) }
  )
  if (res.statusCode !== 200) throw new Error(`token answered ${res.statusCode}: ${res.body}`)
  return res.json()
}

interface ApiCall {
  method?: 'GET' | 'POST'
  path?: string
  query?: string
  authorization?: string
  dpop?: string
  payload?: string
}

async function call (app: FastifyInstance, options: ApiCall): Promise<LightMyRequestResponse> {
  const method = options.method ?? 'POST'
  return await app.inject({
    method,
    url: `${options.path ?? V2_VERIFY}${options.query === undefined ? '' : `?${options.query}`}`,
    headers: {
      ...(options.authorization === undefined ? {} : { authorization: options.authorization }),
      ...(options.dpop === undefined ? {} : { dpop: options.dpop }),
      ...(method === 'POST' ? { 'content-type': 'application/json' } : {})
    },
    ...(method === 'POST' ? { payload: options.payload ?? JSON.stringify({ phoneNumber: SEED_MSISDN }) } : {})
  })
}

/** An API proof for the token, valid now, for POST on the path */
async function apiProof (
  key: DpopKey, token: string, iat: number, options: Partial<ProofOptions> & { path?: string } = {}
): Promise<string> {
  return await dpopProof(key, { htu: `${BASE_URL}${options.path ?? V2_VERIFY}`, iat, accessToken: token, ...options })
}

function assertRefused (
  t: Test, res: LightMyRequestResponse, error: 'invalid_token' | 'invalid_dpop_proof', description: string
): void {
  t.equal(res.statusCode, 401)
  t.strictSame(res.json(), UNAUTHENTICATED)
  // A challenge parameter cannot hold a double quote (RFC 6750's characters): the description's become single
  t.equal(res.headers['www-authenticate'], `DPoP realm="camara-nv-emulator", ${ALGS}, error="${error}", error_description="${description.replace(/"/g, "'")}"`)
}

function assertTokenRefused (t: Test, res: LightMyRequestResponse, description: string): void {
  t.equal(res.statusCode, 400)
  t.strictSame(res.json(), { error: 'invalid_dpop_proof', error_description: description })
  t.equal(res.headers['cache-control'], 'no-store')
}

t.test('a DPoP proof at the token endpoint binds the token; verify and share take it with a proof', async (t) => {
  const { app, now } = await build(t)
  const key = await dpopKey()
  const tokens = await dpopTokens(app, key, now())
  t.equal(tokens.token_type, 'DPoP')
  t.equal(tokens.expires_in, 3600)
  const resolved = await app.emulator.tokens.resolveAccessToken(tokens.access_token)
  if ('failure' in resolved) throw new Error(resolved.failure)
  t.strictSame(resolved.record.cnf, { jkt: key.jkt }, 'the record keeps the thumbprint')

  const authorization = `DPoP ${tokens.access_token}`
  const verified = await call(app, { authorization, dpop: await apiProof(key, tokens.access_token, now()) })
  t.equal(verified.statusCode, 200)
  t.strictSame(verified.json(), { devicePhoneNumberVerified: true })
  const other = await call(app, {
    authorization,
    dpop: await apiProof(key, tokens.access_token, now()),
    payload: JSON.stringify({ phoneNumber: '+34666666667' })
  })
  t.strictSame(other.json(), { devicePhoneNumberVerified: false })

  const share = await call(app, {
    method: 'GET',
    path: V2_SHARE,
    authorization,
    dpop: await apiProof(key, tokens.access_token, now(), { path: V2_SHARE, htm: 'GET' })
  })
  t.equal(share.statusCode, 200)
  t.strictSame(share.json(), { devicePhoneNumber: SEED_MSISDN })

  // The seed's path: its own URL in htu, its own answer
  const seed = await call(app, {
    path: SEED_VERIFY, authorization, dpop: await apiProof(key, tokens.access_token, now(), { path: SEED_VERIFY })
  })
  t.equal(seed.statusCode, 200)
  t.equal(seed.json<{ devicePhoneNumberVerified: boolean }>().devicePhoneNumberVerified, true)
})

t.test('without a DPoP header nothing changes: a Bearer token, used as Bearer', async (t) => {
  const { app } = await build(t)
  const res = await tokenRequest(app, codeExchange(await code(app, 'demo-app'), 'demo-app'))
  const tokens = res.json<Tokens>()
  t.equal(tokens.token_type, 'Bearer')
  const verified = await call(app, { authorization: `Bearer ${tokens.access_token}` })
  t.strictSame(verified.json(), { devicePhoneNumberVerified: true })
  // Sent with the DPoP scheme, a token that is not bound is refused
  const asDpop = await call(app, { authorization: `DPoP ${tokens.access_token}` })
  assertRefused(t, asDpop, 'invalid_token',
    'the access token is not DPoP-bound: send it as \'Authorization: Bearer <token>\'')
  // Bearer refusals keep their challenge
  const unknown = await call(app, { authorization: 'Bearer unknown' })
  t.equal(unknown.headers['www-authenticate'],
    `Bearer realm="camara-nv-emulator", error="invalid_token", error_description="${UNAUTHENTICATED.message}"`)
  const none = await call(app, {})
  t.equal(none.headers['www-authenticate'], 'Bearer realm="camara-nv-emulator"')
})

t.test('the token endpoint refuses a bad proof with invalid_dpop_proof, leaving the code usable', async (t) => {
  const { app, now } = await build(t)
  const key = await dpopKey()
  const codeValue = await code(app, 'demo-app')
  const cases: Array<[string, Partial<ProofOptions>, string]> = [
    ['another htu', { htu: `${BASE_URL}/token` },
      `the DPoP proof htu "${BASE_URL}/token" is not this request's URL ${TOKEN_ENDPOINT}`],
    ['GET', { htm: 'GET' }, 'the DPoP proof htm "GET" is not this request\'s method POST'],
    ['stale', { iat: now() - 400 }, 'the DPoP proof iat is 400 s old; at most 300 s is accepted'],
    ['no typ', { header: { typ: undefined } }, 'the DPoP proof typ must be "dpop+jwt" (it has none)']
  ]
  for (const [name, options, description] of cases) {
    const res = await tokenRequest(
      app,
      codeExchange(codeValue, 'demo-app'),
      { dpop: await tokenProof(key, now(), options) }
    )
    t.test(name, async (t) => { assertTokenRefused(t, res, description) })
  }
  const twice = await app.inject({
    method: 'POST',
    url: '/camara/api/auth/v1/token',
    headers: { 'content-type': FORM, dpop: [await tokenProof(key, now()), await tokenProof(key, now())] },
    payload: new URLSearchParams(codeExchange(codeValue, 'demo-app')).toString()
  })
  assertTokenRefused(t, twice, 'more than one DPoP header: send exactly one proof')
  const good = await tokenRequest(app, codeExchange(codeValue, 'demo-app'), { dpop: await tokenProof(key, now()) })
  t.equal(good.statusCode, 200, 'the code was not spent by the refusals')
  t.equal(good.json<Tokens>().token_type, 'DPoP')
})

t.test('a client that requires DPoP gets invalid_dpop_proof without a proof, a DPoP token with one', async (t) => {
  const { app, now } = await build(t)
  const codeValue = await code(app, 'dpop-app')
  const bare = await tokenRequest(app, codeExchange(codeValue, 'dpop-app'))
  assertTokenRefused(t, bare, 'client "dpop-app" must send a DPoP proof with every token request (RFC 9449)')
  const key = await dpopKey('EdDSA')
  const res = await tokenRequest(app, codeExchange(codeValue, 'dpop-app'), { dpop: await tokenProof(key, now()) })
  t.equal(res.statusCode, 200)
  t.equal(res.json<Tokens>().token_type, 'DPoP')
})

t.test('the API refuses a DPoP-bound token without a valid proof of its key', async (t) => {
  const { app, now } = await build(t)
  const key = await dpopKey()
  const { access_token: token } = await dpopTokens(app, key, now())
  const authorization = `DPoP ${token}`
  const stranger = await dpopKey()

  assertRefused(t, await call(app, { authorization: `Bearer ${token}`, dpop: await apiProof(key, token, now()) }),
    'invalid_token', 'the access token is DPoP-bound: send it as \'Authorization: DPoP <token>\' with a DPoP proof')
  assertRefused(t, await call(app, { authorization }), 'invalid_dpop_proof',
    'no DPoP header: send a DPoP proof (RFC 9449)')
  assertRefused(t, await call(app, { authorization, dpop: await apiProof(stranger, token, now()) }),
    'invalid_dpop_proof', 'the DPoP proof key is not the one the access token is bound to (cnf.jkt)')
  assertRefused(t, await call(app, { authorization, dpop: await apiProof(key, token, now(), { path: SEED_VERIFY }) }),
    'invalid_dpop_proof',
    `the DPoP proof htu "${BASE_URL}${SEED_VERIFY}" is not this request's URL ${BASE_URL}${V2_VERIFY}`)
  assertRefused(t, await call(app, { authorization, dpop: await apiProof(key, token, now(), { htm: 'GET' }) }),
    'invalid_dpop_proof', 'the DPoP proof htm "GET" is not this request\'s method POST')
  assertRefused(t, await call(app, {
    authorization, dpop: await apiProof(key, token, now(), { claims: { ath: undefined } })
  }), 'invalid_dpop_proof', 'the DPoP proof has no ath claim: base64url(SHA-256(access token))')
  assertRefused(t, await call(app, {
    authorization, dpop: await apiProof(key, token, now(), { accessToken: 'other' })
  }), 'invalid_dpop_proof', 'the DPoP proof ath does not match the access token')
  assertRefused(t, await call(app, { authorization, dpop: await apiProof(key, token, now() - 306) }),
    'invalid_dpop_proof', 'the DPoP proof iat is 306 s old; at most 300 s is accepted')
  assertRefused(t, await call(app, {
    authorization: 'DPoP unknown-token', dpop: await apiProof(key, 'unknown-token', now())
  }), 'invalid_token', 'access token is unknown or expired')
  // The proof is checked before the body: a bad proof with a bad body is still 401
  assertRefused(t, await call(app, { authorization, payload: '{}' }), 'invalid_dpop_proof',
    'no DPoP header: send a DPoP proof (RFC 9449)')
  const ok = await call(app, { authorization, dpop: await apiProof(key, token, now()) })
  t.equal(ok.statusCode, 200, 'the token still works with a good proof')
})

t.test('a proof serves one call: a replay is refused, and of 10 parallel uses one succeeds', async (t) => {
  const { app, now } = await build(t)
  const key = await dpopKey()
  const { access_token: token } = await dpopTokens(app, key, now())
  const authorization = `DPoP ${token}`
  const proof = await apiProof(key, token, now())
  t.equal((await call(app, { authorization, dpop: proof })).statusCode, 200)
  // A replay is the one proof problem answered 400 at the API (ICM r4.2 "Replay Protection Requirements")
  const replay = await call(app, { authorization, dpop: proof })
  t.equal(replay.statusCode, 400)
  t.strictSame(replay.json(), {
    status: 400, code: 'INVALID_ARGUMENT', message: 'Client specified an invalid argument, request body or query param.'
  })
  t.equal(replay.headers['www-authenticate'],
    `DPoP realm="camara-nv-emulator", ${ALGS}, error="invalid_dpop_proof", ` +
    'error_description="the DPoP proof jti was already used: sign a fresh proof for every request"')

  const parallel = await apiProof(key, token, now())
  const answers = await Promise.all(
    Array.from({ length: 10 }, async () => await call(app, { authorization, dpop: parallel }))
  )
  t.strictSame(answers.map((res) => res.statusCode).sort(), [200, ...Array<number>(9).fill(400)])

  // At the token endpoint too
  const tokenProofValue = await tokenProof(key, now())
  const codes = await Promise.all([code(app, 'demo-app'), code(app, 'demo-app')])
  const exchanges = await Promise.all(codes.map(async (codeValue) =>
    await tokenRequest(app, codeExchange(codeValue, 'demo-app'), { dpop: tokenProofValue })))
  t.strictSame(exchanges.map((res) => res.statusCode).sort(), [200, 400])
  const refused = exchanges.find((res) => res.statusCode === 400)
  if (refused !== undefined) {
    assertTokenRefused(t, refused, 'the DPoP proof jti was already used: sign a fresh proof for every request')
  }
})

t.test('a confidential client\'s refresh token is not bound: any proof, or none, refreshes ' +
  '(RFC 9449 section 5)', async (t) => {
  const { app, now } = await build(t)
  const key = await dpopKey()
  const tokens = await dpopTokens(app, key, now(), 'demo-app', OFFLINE_SCOPES)
  const form = (refreshToken: string): Record<string, string> =>
    ({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'demo-app', client_secret: 'demo-secret' })
  // A new key (the client rotated it): the new access token is bound to the new key
  const rotated = await dpopKey()
  const refreshed = await tokenRequest(
    app,
    form(tokens.refresh_token as string),
    { dpop: await tokenProof(rotated, now()) }
  )
  t.equal(refreshed.statusCode, 200)
  const next = refreshed.json<Tokens>()
  t.equal(next.token_type, 'DPoP')
  t.equal((await call(app, {
    authorization: `DPoP ${next.access_token}`, dpop: await apiProof(rotated, next.access_token, now())
  })).statusCode, 200)
  t.equal((await call(app, {
    authorization: `DPoP ${next.access_token}`, dpop: await apiProof(key, next.access_token, now())
  })).statusCode, 401, 'not the old key')
  // Without a proof: a Bearer access token
  const bearer = await tokenRequest(app, form(next.refresh_token as string))
  t.equal(bearer.statusCode, 200)
  t.equal(bearer.json<Tokens>().token_type, 'Bearer')
})

t.test('a client that must send the camara claims binds the query and the body', async (t) => {
  const { app, now } = await build(t)
  const key = await dpopKey()
  const { access_token: token } = await dpopTokens(app, key, now(), 'dpop-camara')
  const authorization = `DPoP ${token}`
  const body = JSON.stringify({ phoneNumber: SEED_MSISDN })
  const claims = (query: string | undefined, sent: string): ProofOptions['claims'] => ({
    ...(query === undefined ? {} : { 'camara:qh': sha256Url(query) }), 'camara:bh': sha256Url(sent)
  })

  const ok = await call(app, {
    authorization, payload: body, dpop: await apiProof(key, token, now(), { claims: claims(undefined, body) })
  })
  t.equal(ok.statusCode, 200)
  t.strictSame(ok.json(), { devicePhoneNumberVerified: true })
  const withQuery = await call(app, {
    authorization,
    payload: body,
    query: 'a=1&b=%20',
    dpop: await apiProof(key, token, now(), { claims: claims('a=1&b=%20', body) })
  })
  t.equal(withQuery.statusCode, 200, 'camara:qh of the raw query')

  assertRefused(t, await call(app, {
    authorization, payload: body, dpop: await apiProof(key, token, now(), { claims: { 'camara:bh': undefined } })
  }), 'invalid_dpop_proof', 'the DPoP proof has no camara:bh claim: base64url(SHA-256(request body))')
  assertRefused(t, await call(app, {
    authorization,
    payload: JSON.stringify({ phoneNumber: '+34666666667' }),
    dpop: await apiProof(key, token, now(), { claims: claims(undefined, body) })
  }), 'invalid_dpop_proof', 'the DPoP proof camara:bh does not match the request body')
  // The bytes as sent, not the JSON they parse to
  assertRefused(t, await call(app, {
    authorization, payload: `${body} `, dpop: await apiProof(key, token, now(), { claims: claims(undefined, body) })
  }), 'invalid_dpop_proof', 'the DPoP proof camara:bh does not match the request body')
  assertRefused(t, await call(app, {
    authorization,
    payload: body,
    query: 'a=1',
    dpop: await apiProof(key, token, now(), { claims: claims(undefined, body) })
  }), 'invalid_dpop_proof', 'the DPoP proof has no camara:qh claim: base64url(SHA-256(raw query string))')
  assertRefused(t, await call(app, {
    authorization, payload: body, query: 'a=2', dpop: await apiProof(key, token, now(), { claims: claims('a=1', body) })
  }), 'invalid_dpop_proof', 'the DPoP proof camara:qh does not match the query string')

  // A GET has an empty body
  const share = await call(app, {
    method: 'GET',
    path: V2_SHARE,
    authorization,
    dpop: await apiProof(key, token, now(), { path: V2_SHARE, htm: 'GET', claims: claims(undefined, '') })
  })
  t.equal(share.statusCode, 200)
})

t.test('/vwip: one call per DPoP token, and a refused proof does not spend it', async (t) => {
  const { app, now } = await build(t)
  const key = await dpopKey()
  const { access_token: token } = await dpopTokens(app, key, now())
  const authorization = `DPoP ${token}`
  const proof = (): Promise<string> => apiProof(key, token, now(), { path: VWIP_VERIFY })
  assertRefused(t, await call(app, { path: VWIP_VERIFY, authorization, dpop: await apiProof(key, token, now()) }),
    'invalid_dpop_proof',
    `the DPoP proof htu "${BASE_URL}${V2_VERIFY}" is not this request's URL ${BASE_URL}${VWIP_VERIFY}`)
  const first = await call(app, { path: VWIP_VERIFY, authorization, dpop: await proof() })
  t.equal(first.statusCode, 200)
  const second = await call(app, { path: VWIP_VERIFY, authorization, dpop: await proof() })
  t.equal(second.statusCode, 401)
  t.equal(second.headers['www-authenticate'],
    `DPoP realm="camara-nv-emulator", ${ALGS}, error="invalid_token", ` +
    'error_description="access token was already used (NV after r3.2, /vwip: one API call per token)"')
})

t.test('a proof in a namespace names the namespace URL', async (t) => {
  const { app, now } = await build(t)
  t.equal((await app.inject({ method: 'PUT', url: '/_emulator/namespaces/team', payload: {} })).statusCode, 201)
  const key = await dpopKey()
  const prefix = '/ns/team'
  const nsCode = new URL((await app.inject({
    method: 'GET',
    url: `${prefix}/camara/api/auth/v1/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: 'demo-app',
      redirect_uri: REDIRECT_URI,
      scope: NV_SCOPES,
      state: 's',
      konera_context: SEED_KONERA
    }).toString()}`,
    remoteAddress: '127.0.0.1'
  })).headers.location as string)
  const callback = new URL(
    (await app.inject({ method: 'GET', url: nsCode.pathname + nsCode.search })).headers.location as string
  )
  const res = await app.inject({
    method: 'POST',
    url: `${prefix}/camara/api/auth/v1/token`,
    headers: {
      'content-type': FORM,
      dpop: await dpopProof(key, { htu: `${BASE_URL}${prefix}/camara/api/auth/v1/token`, iat: now() })
    },
    payload: new URLSearchParams(codeExchange(callback.searchParams.get('code') ?? '', 'demo-app')).toString()
  })
  t.equal(res.statusCode, 200, res.body)
  const token = res.json<Tokens>().access_token
  const verified = await app.inject({
    method: 'POST',
    url: `${prefix}${V2_VERIFY}`,
    headers: {
      'content-type': 'application/json',
      authorization: `DPoP ${token}`,
      dpop: await apiProof(key, token, now(), { path: `${prefix}${V2_VERIFY}` })
    },
    payload: { phoneNumber: SEED_MSISDN }
  })
  t.equal(verified.statusCode, 200, verified.body)
})

t.test('discovery advertises the DPoP algorithms, and the camara claims while a client requires them', async (t) => {
  const path = '/camara/api/auth/v1/.well-known/openid-configuration'
  const { app } = await build(t)
  const document = (await app.inject({ method: 'GET', url: path })).json<Record<string, unknown>>()
  t.strictSame(document.dpop_signing_alg_values_supported, ['RS256', 'PS256', 'ES256', 'EdDSA'])
  t.strictSame(document.camara_dpop_claims_required, ['camara:bh', 'camara:qh'])
  const plain = await buildTestApp(t)
  const plainDocument = (await plain.app.inject({ method: 'GET', url: path })).json<Record<string, unknown>>()
  t.strictSame(plainDocument.dpop_signing_alg_values_supported, ['RS256', 'PS256', 'ES256', 'EdDSA'])
  t.notOk('camara_dpop_claims_required' in plainDocument, 'no client requires them in the default world')
})

t.test('client_credentials with a proof gets a DPoP-bound token too', async (t) => {
  const { app, now } = await build(t)
  const key = await dpopKey()
  const res = await tokenRequest(app, {
    grant_type: 'client_credentials',
    client_id: 'demo-app',
    client_secret: 'demo-secret',
    scope: 'number-verification:verify'
  }, { dpop: await tokenProof(key, now()) })
  t.equal(res.statusCode, 200)
  t.equal(res.json<Tokens>().token_type, 'DPoP')
})

t.test('an injected 401 on a DPoP call challenges with DPoP', async (t) => {
  const { app, now } = await build(t)
  const key = await dpopKey()
  const { access_token: token } = await dpopTokens(app, key, now())
  const res = await app.inject({
    method: 'POST',
    url: V2_VERIFY,
    headers: {
      'content-type': 'application/json',
      authorization: `DPoP ${token}`,
      dpop: await apiProof(key, token, now()),
      'x-emulator-scenario': 'token-expired-on-api'
    },
    payload: { phoneNumber: SEED_MSISDN }
  })
  t.equal(res.statusCode, 401)
  t.strictSame(res.json(), UNAUTHENTICATED)
  t.match(res.headers['www-authenticate'], /^DPoP realm="camara-nv-emulator", algs="RS256 PS256 ES256 EdDSA", error="invalid_token", error_description="[^"]+"$/)
})

const DEMO_KEY_FILE = new URL('../../fixtures/keys/demo-app-jwt.private.jwk.json', import.meta.url)
const VERIFIER = 'Yk4RZ1q2mCuWk0b7k5bXq3s9VfQ3yQxq2T5d8p0N1aI'

t.test('camara-strict: a refused proof does not spend the one call; of 10 parallel calls one wins', async (t) => {
  const { app, now } = await build(t, 'camara-strict')
  const codeValue = await authorizationCode(app, {
    clientId: 'demo-app-jwt',
    konera: SEED_KONERA,
    extraQuery: {
      code_challenge: createHash('sha256').update(VERIFIER).digest('base64url'), code_challenge_method: 'S256'
    }
  })
  const demoKey = await importJWK(JSON.parse(readFileSync(DEMO_KEY_FILE, 'utf8')) as JWK, 'ES256')
  const assertion = await new SignJWT({
    iss: 'demo-app-jwt', sub: 'demo-app-jwt', aud: TOKEN_ENDPOINT, jti: randomUUID(), iat: now(), exp: now() + 60
  })
    .setProtectedHeader({ alg: 'ES256', kid: 'demo-app-jwt-es256' }).sign(demoKey)
  const key = await dpopKey()
  const res = await tokenRequest(app, {
    grant_type: 'authorization_code',
    code: codeValue,
    redirect_uri: REDIRECT_URI,
    code_verifier: VERIFIER,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion
  }, { dpop: await tokenProof(key, now()) })
  t.equal(res.statusCode, 200, res.body)
  const tokens = res.json<Tokens>()
  t.equal(tokens.token_type, 'DPoP')
  t.equal(tokens.expires_in, 300, 'camara-strict\'s NV token lifetime')
  const authorization = `DPoP ${tokens.access_token}`

  assertRefused(t, await call(app, {
    authorization, dpop: await apiProof(key, tokens.access_token, now(), { htm: 'GET' })
  }), 'invalid_dpop_proof', 'the DPoP proof htm "GET" is not this request\'s method POST')
  const proofs = await Promise.all(
    Array.from({ length: 10 }, async () => await apiProof(key, tokens.access_token, now()))
  )
  const answers = await Promise.all(proofs.map(async (dpop) => await call(app, { authorization, dpop })))
  t.strictSame(
    answers.map((answer) => answer.statusCode).sort(),
    [200, ...Array<number>(9).fill(401)],
    'the refused proof left the call; one of the ten took it'
  )
  const lost = answers.find((answer) => answer.statusCode === 401)
  t.equal(lost?.headers['x-emulator-reason'], 'access token was already used (camara-strict: one API call per token)')
})

t.test('the replay cache is bounded: past --max-dpop-proofs a proof is 503 "try again later", not kept', async (t) => {
  const { app, clock } = await buildTestApp(t, { fixtures: [DEFAULT_FIXTURES, dpopWorld(t)], maxDpopProofs: 2 })
  const now = (): number => Math.floor(clock.now() / 1000)
  const kept = async (): Promise<unknown> =>
    (await app.inject({ method: 'GET', url: '/_emulator/health' })).json().capacity.dpopProofs
  const key = await dpopKey()
  const { access_token: token } = await dpopTokens(app, key, now())
  const authorization = `DPoP ${token}`
  // A proof by another key than the token's is refused before its jti is kept
  assertRefused(t, await call(app, { authorization, dpop: await apiProof(await dpopKey(), token, now()) }),
    'invalid_dpop_proof', 'the DPoP proof key is not the one the access token is bound to (cnf.jkt)')
  t.strictSame(await kept(), { live: 1, max: 2 })
  const used = await apiProof(key, token, now())
  t.equal((await call(app, { authorization, dpop: used })).statusCode, 200)
  t.strictSame(await kept(), { live: 2, max: 2 })
  t.equal((await call(app, { authorization, dpop: used })).statusCode, 400, 'a replay is still a replay when full')

  const full = 'this emulator remembers at most 2 DPoP proof ids (--max-dpop-proofs); ' +
    'try again once some tokens have expired'
  const atApi = await call(app, { authorization, dpop: await apiProof(key, token, now()) })
  t.equal(atApi.statusCode, 503)
  t.strictSame(atApi.json(), { status: 503, code: 'UNAVAILABLE', message: 'Service Unavailable.' })
  const codeValue = await code(app, 'demo-app')
  const atToken = await tokenRequest(app, codeExchange(codeValue, 'demo-app'), { dpop: await tokenProof(key, now()) })
  t.equal(atToken.statusCode, 503)
  t.strictSame(atToken.json(), { error: 'temporarily_unavailable', error_description: full })
  t.strictSame(await kept(), { live: 2, max: 2 }, 'a refused proof takes no place')
  t.equal((await tokenRequest(app, codeExchange(codeValue, 'demo-app'))).statusCode, 200,
    'the code the refused request named is still usable')

  clock.advance(3600 * 1000)
  t.strictSame(await kept(), { live: 0, max: 2 }, 'the ids go with their tokens\' lifetime')
  t.equal(typeof (await dpopTokens(app, key, now())).access_token, 'string', 'then proofs are taken again')
})
