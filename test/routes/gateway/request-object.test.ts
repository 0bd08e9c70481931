// Signed authorization requests (RFC 9101) over HTTP: a request object of demo-app-jwt carries the
// flow through the operator leg and the token exchange; a bad object, a request_uri or a replayed
// jti is redirected back with its error and the state the client can trust.
import { createHash, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import {
  createLocalJWKSet,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload
} from 'jose'
import type { ManualClock } from '../../../src/core/clock.js'
import { buildTestApp, ISSUER, REDIRECT_URI, SCOPE } from '../../helpers/app.js'
import {
  SEED_DEVICE_IPV4, TOKEN_ENDPOINT, authorizeAtGateway, follow, locationOf, postToken, type Params
} from './flow.js'

const DEMO_KEY_FILE = new URL('../../../fixtures/keys/demo-app-jwt.private.jwk.json', import.meta.url)
const CLIENT = 'demo-app-jwt'
const VERIFIER = 'Yk4RZ1q2mCuWk0b7k5bXq3s9VfQ3yQxq2T5d8p0N1aI'
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url')
const QUERY_STATE = 'state-in-the-query'
const OBJECT_STATE = 'state-in-the-object'
const OPERATOR_LOCATION = /^http:\/\/emulator\.test\/operators\/telco-es\/authorize\?request_id=[A-Za-z0-9_-]{24}$/
const REPLAYED = 'request object jti was already used: sign a fresh request object for every request'

let demoKey: Promise<CryptoKey> | undefined
function demoAppKey (): Promise<CryptoKey> {
  demoKey ??= importJWK(JSON.parse(readFileSync(DEMO_KEY_FILE, 'utf8')) as JWK, 'ES256') as Promise<CryptoKey>
  return demoKey
}

/** A request object of demo-app-jwt for the seed device, valid now; `claims` replace or (undefined) drop claims */
async function requestObject (clock: ManualClock, claims: JWTPayload = {}, key?: CryptoKey): Promise<string> {
  const iat = Math.floor(clock.now() / 1000)
  const payload: JWTPayload = {
    iss: CLIENT,
    aud: ISSUER,
    iat,
    exp: iat + 120,
    jti: randomUUID(),
    response_type: 'code',
    client_id: CLIENT,
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    state: OBJECT_STATE,
    nonce: 'nonce-in-the-object',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    konera_context: `ipv4:${SEED_DEVICE_IPV4}`,
    ...claims
  }
  for (const [name, value] of Object.entries(payload)) {
    if (value === undefined) delete payload[name]
  }
  return await new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', kid: 'demo-app-jwt-es256', typ: 'oauth-authz-req+jwt' })
    .sign(key ?? await demoAppKey())
}

/** The query sent beside the object: the parameters OpenID Connect wants repeated, and a state of its own */
function withObject (request: string | undefined, extra: Params = {}): Params {
  return {
    response_type: 'code',
    client_id: CLIENT,
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    state: QUERY_STATE,
    request,
    ...extra
  }
}

async function clientAssertion (clock: ManualClock): Promise<string> {
  const iat = Math.floor(clock.now() / 1000)
  return await new SignJWT({ iss: CLIENT, sub: CLIENT, aud: TOKEN_ENDPOINT, iat, exp: iat + 60, jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: 'demo-app-jwt-es256' })
    .sign(await demoAppKey())
}

/** A 302 to the redirect_uri carrying exactly error, error_description, state (when given) and iss */
function assertErrorRedirect (
  t: Test,
  res: LightMyRequestResponse,
  error: string,
  description: string,
  state: string | undefined
): void {
  t.equal(res.statusCode, 302, 'status')
  const location = new URL(locationOf(res))
  t.equal(location.origin + location.pathname, REDIRECT_URI, 'to the redirect_uri')
  t.strictSame(
    [...location.searchParams.entries()],
    Object.entries({
      error,
      error_description: description,
      ...(state === undefined ? {} : { state }),
      iss: ISSUER
    }),
    'error parameters'
  )
  t.equal(res.body, '', 'no body')
}

t.test('a signed request object runs the whole flow, through the token exchange', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const gateway = await authorizeAtGateway(app, withObject(await requestObject(clock), { nonce: 'nonce-in-the-query' }))
  t.equal(gateway.statusCode, 302)
  t.match(locationOf(gateway), OPERATOR_LOCATION, 'routed to the seed device\'s operator')

  const operator = await follow(app, locationOf(gateway))
  t.equal(operator.statusCode, 302)
  const callback = new URL(locationOf(operator))
  t.equal(callback.origin + callback.pathname, REDIRECT_URI)
  const code = callback.searchParams.get('code') ?? ''
  t.strictSame([...callback.searchParams.keys()], ['code', 'state', 'iss'])
  t.equal(callback.searchParams.get('state'), OBJECT_STATE, 'the object\'s state, not the query\'s')

  const res = await postToken(app, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: VERIFIER,
    client_id: CLIENT,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await clientAssertion(clock)
  })
  t.equal(res.statusCode, 200, res.body)
  const body = res.json<{ token_type: string, scope: string, id_token: string }>()
  t.strictSame([body.token_type, body.scope], ['Bearer', SCOPE])
  const keys = (await app.inject({ method: 'GET', url: '/camara/api/auth/v1/jwks' })).json<{ keys: JWK[] }>()
  const { payload } = await jwtVerify(body.id_token, createLocalJWKSet(keys), {
    issuer: ISSUER, audience: CLIENT, currentDate: new Date(clock.now())
  })
  t.equal(payload.nonce, 'nonce-in-the-object', 'the object\'s nonce, not the query\'s')
})

t.test('a request object that cannot be trusted is redirected with the query\'s state', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const other = (await generateKeyPair('ES256')).privateKey

  t.test('bad signature', async (t) => {
    const res = await authorizeAtGateway(app, withObject(await requestObject(clock, {}, other)))
    assertErrorRedirect(
      t,
      res,
      'invalid_request_object',
      'request object rejected: signature verification failed',
      QUERY_STATE
    )
  })

  t.test('missing jti', async (t) => {
    const res = await authorizeAtGateway(app, withObject(await requestObject(clock, { jti: undefined })))
    assertErrorRedirect(
      t,
      res,
      'invalid_request_object',
      'request object rejected: claim "jti" is missing',
      QUERY_STATE
    )
  })

  t.test('a lifetime over 300 s', async (t) => {
    const iat = Math.floor(clock.now() / 1000)
    const res = await authorizeAtGateway(app, withObject(await requestObject(clock, { exp: iat + 400 })))
    assertErrorRedirect(t, res, 'invalid_request_object',
      'request object lifetime (exp - iat) is 400 s; at most 300 s is accepted', QUERY_STATE)
  })

  t.test('a client without a JWKS', async (t) => {
    const object = await requestObject(clock, { iss: 'demo-app', client_id: 'demo-app' })
    const res = await authorizeAtGateway(app, withObject(object, { client_id: 'demo-app' }))
    assertErrorRedirect(
      t,
      res,
      'invalid_request_object',
      'client "demo-app" has no registered JWKS to verify a request object with; register jwks, or send the ' +
        'parameters in the query',
      QUERY_STATE
    )
  })

  t.test('an unknown client gets the error page, never a redirect', async (t) => {
    const res = await authorizeAtGateway(app, withObject(await requestObject(clock), { client_id: 'nobody' }))
    t.equal(res.statusCode, 400)
    t.equal(res.headers['content-type'], 'text/html; charset=utf-8')
    t.equal(res.headers.location, undefined)
    t.ok(res.body.includes('<code>unauthorized_client</code>'))
  })
})

t.test('a trusted object whose query parameters differ is redirected with the object\'s state', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const res = await authorizeAtGateway(app, withObject(await requestObject(clock), {
    scope: 'openid dpv:FraudPreventionAndDetection number-verification:device-phone-number:read'
  }))
  assertErrorRedirect(
    t,
    res,
    'invalid_request_object',
    "scope in the query differs from the request object's scope",
    OBJECT_STATE
  )
})

t.test('request_uri is not supported', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await authorizeAtGateway(app, withObject(undefined, { request_uri: 'https://client.example/request.jwt' }))
  assertErrorRedirect(t, res, 'request_uri_not_supported',
    'request_uri is not supported: send the request object by value in the request parameter', QUERY_STATE)
})

t.test('a replayed request object is refused, and journaled with its reason', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const object = await requestObject(clock)
  const first = await authorizeAtGateway(app, withObject(object))
  t.match(locationOf(first), OPERATOR_LOCATION)
  const replay = await authorizeAtGateway(app, withObject(object), { headers: { 'x-correlator': 'jar-replay' } })
  assertErrorRedirect(t, replay, 'invalid_request_object', REPLAYED, OBJECT_STATE)
  const journal = (await app.inject({ method: 'GET', url: '/_emulator/journal?correlator=jar-replay' }))
    .json<{ entries: Array<{ operation: string, reason?: string }> }>()
  t.strictSame(journal.entries.map((entry) => [entry.operation, entry.reason]), [['authorize', REPLAYED]])
})

t.test('of parallel requests with one request object, exactly one starts a flow', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const object = await requestObject(clock)
  const answers = await Promise.all(
    Array.from({ length: 10 }, async () => await authorizeAtGateway(app, withObject(object)))
  )
  const started = answers.filter((res) => OPERATOR_LOCATION.test(locationOf(res)))
  t.equal(started.length, 1, 'one success')
  for (const res of answers.filter((answer) => !started.includes(answer))) {
    assertErrorRedirect(t, res, 'invalid_request_object', REPLAYED, OBJECT_STATE)
  }
})
