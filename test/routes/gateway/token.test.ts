// POST /camara/api/auth/v1/token: client authentication (post, basic, private_key_jwt), the
// authorization_code, refresh_token and client_credentials grants, and every OAuth error they answer.
import { newLeg } from '../../../src/core/legs.js'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload
} from 'jose'
import { buildTestApp, ISSUER, REDIRECT_URI, SCOPE } from '../../helpers/app.js'
import type { ManualClock } from '../../../src/core/clock.js'
import {
  FORM,
  SEED_DEVICE_IPV4,
  TOKEN_ENDPOINT,
  TOKEN_PATH,
  authorizeParams,
  basicAuthorization,
  codeForm,
  obtainCode,
  postToken,
  type Params
} from './flow.js'

const DEMO_KEY_FILE = new URL('../../../fixtures/keys/demo-app-jwt.private.jwk.json', import.meta.url)
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const BASIC_CHALLENGE = 'Basic realm="camara-nv-emulator", charset="UTF-8"'
const OFFLINE_SCOPE = `${SCOPE} offline_access`
const VERIFIER = 'dBjftJeZ4CVP-mJ92ZJ6eVlcNi3fNOb2tNwXP1VyEFQ'
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url')
const SEED_DEVICE = { konera_context: `ipv4:${SEED_DEVICE_IPV4}` }

interface TokenBody {
  access_token: string
  token_type: string
  expires_in: number
  scope: string
  refresh_token?: string
  id_token?: string
}

let demoKey: Promise<CryptoKey> | undefined
function demoAppKey (): Promise<CryptoKey> {
  demoKey ??= importJWK(JSON.parse(readFileSync(DEMO_KEY_FILE, 'utf8')) as JWK, 'ES256') as Promise<CryptoKey>
  return demoKey
}

let assertionCounter = 0

/** A client assertion of demo-app-jwt, valid unless overridden; `null` drops a claim */
async function clientAssertion (
  clock: ManualClock,
  overrides: Record<string, unknown> = {},
  options: { key?: CryptoKey, kid?: string } = {}
): Promise<string> {
  const iat = Math.floor(clock.now() / 1000)
  const claims: Record<string, unknown> = {
    iss: 'demo-app-jwt',
    sub: 'demo-app-jwt',
    aud: TOKEN_ENDPOINT,
    jti: `assertion-${++assertionCounter}`,
    iat,
    exp: iat + 60,
    ...overrides
  }
  const payload = Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== null)) as JWTPayload
  return await new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? 'demo-app-jwt-es256' })
    .sign(options.key ?? (await demoAppKey()))
}

function jwtAuth (assertion: string): Params {
  return { client_assertion_type: JWT_BEARER, client_assertion: assertion }
}

/** An exact OAuth error: status, JSON body, no-store, and a Basic challenge only when asked */
function assertOAuthError (
  t: Test,
  res: LightMyRequestResponse,
  status: number,
  error: string,
  description: string,
  options: { basic?: boolean } = {}
): void {
  t.equal(res.statusCode, status, 'status')
  t.strictSame(res.json(), { error, error_description: description }, 'body')
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8', 'content type')
  t.equal(res.headers['cache-control'], 'no-store', 'cache-control')
  t.equal(res.headers['www-authenticate'], options.basic === true ? BASIC_CHALLENGE : undefined, 'www-authenticate')
}

function assertTokenHeaders (t: Test, res: LightMyRequestResponse): void {
  t.equal(res.statusCode, 200, `status (${res.body})`)
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers.pragma, 'no-cache')
  t.equal(res.headers['www-authenticate'], undefined)
}

async function verifyIdToken (
  app: FastifyInstance,
  clock: ManualClock,
  idToken: string,
  audience: string
): Promise<JWTPayload> {
  const jwks = (await app.inject({ method: 'GET', url: '/camara/api/auth/v1/jwks' })).json<{ keys: JWK[] }>()
  const { payload } = await jwtVerify(idToken, createLocalJWKSet(jwks), {
    issuer: ISSUER,
    audience,
    currentDate: new Date(clock.now())
  })
  return payload
}

/** A code of demo-app for the seed device, with the given extra authorize parameters */
async function demoAppCode (app: FastifyInstance, extra: Params = {}): Promise<string> {
  return await obtainCode(app, authorizeParams({ ...SEED_DEVICE, ...extra }))
}

/** A code of demo-app-jwt (PKCE required) for the seed device */
async function jwtAppCode (app: FastifyInstance, extra: Params = {}): Promise<string> {
  return await obtainCode(
    app,
    authorizeParams({
      ...SEED_DEVICE,
      client_id: 'demo-app-jwt',
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
      ...extra
    })
  )
}

async function tokens (res: LightMyRequestResponse): Promise<TokenBody> {
  if (res.statusCode !== 200) throw new Error(`token answered ${res.statusCode}: ${res.body}`)
  return res.json<TokenBody>()
}

t.test('the request must be a form', async (t) => {
  const { app } = await buildTestApp(t)
  const form = 'grant_type=client_credentials&client_id=demo-app&client_secret=demo-secret'

  t.test('JSON body', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: TOKEN_PATH,
      payload: { grant_type: 'client_credentials', client_id: 'demo-app', client_secret: 'demo-secret' }
    })
    assertOAuthError(t, res, 400, 'invalid_request', 'the token request must be sent as ' +
      'application/x-www-form-urlencoded')
  })
  t.test('text/plain body', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: TOKEN_PATH,
      headers: { 'content-type': 'text/plain' },
      payload: form
    })
    assertOAuthError(
      t,
      res,
      400,
      'invalid_request',
      'the token request must be sent as application/x-www-form-urlencoded'
    )
  })
  t.test('a body without content type', async (t) => {
    const res = await app.inject({ method: 'POST', url: TOKEN_PATH, payload: form })
    assertOAuthError(
      t,
      res,
      400,
      'invalid_request',
      'the token request must be sent as application/x-www-form-urlencoded'
    )
  })
  t.test('no body and no content type', async (t) => {
    const res = await app.inject({ method: 'POST', url: TOKEN_PATH })
    assertOAuthError(
      t,
      res,
      400,
      'invalid_request',
      'the token request must be sent as application/x-www-form-urlencoded'
    )
  })
  t.test('an unknown media type', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: TOKEN_PATH,
      headers: { 'content-type': 'application/xml' },
      payload: '<x/>'
    })
    assertOAuthError(
      t,
      res,
      400,
      'invalid_request',
      'the token request must be sent as application/x-www-form-urlencoded'
    )
  })
  t.test('an empty form', async (t) => {
    const res = await app.inject({ method: 'POST', url: TOKEN_PATH, headers: { 'content-type': FORM }, payload: '' })
    assertOAuthError(t, res, 400, 'invalid_request', 'grant_type is required')
  })
  t.test('a form content type with a charset is accepted', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: TOKEN_PATH,
      headers: { 'content-type': `${FORM}; charset=UTF-8` },
      payload: form
    })
    assertTokenHeaders(t, res)
  })
})

t.test('grant_type and repeated parameters', async (t) => {
  const { app } = await buildTestApp(t)

  t.test('unsupported grant_type', async (t) => {
    const res = await postToken(app, {
      grant_type: 'password',
      username: 'u',
      password: 'p',
      client_id: 'demo-app',
      client_secret: 'demo-secret'
    })
    assertOAuthError(
      t,
      res,
      400,
      'unsupported_grant_type',
      'grant_type "password" is not supported; use authorization_code, refresh_token, client_credentials, ' +
        'urn:ietf:params:oauth:grant-type:jwt-bearer, urn:openid:params:grant-type:ciba'
    )
  })
  t.test('missing grant_type', async (t) => {
    const res = await postToken(app, { client_id: 'demo-app', client_secret: 'demo-secret' })
    assertOAuthError(t, res, 400, 'invalid_request', 'grant_type is required')
  })
  t.test('a repeated parameter', async (t) => {
    const res = await postToken(app, codeForm('abc', { code: ['abc', 'def'] }))
    assertOAuthError(t, res, 400, 'invalid_request', 'code must not be repeated')
  })
  t.test('a repeated client_secret', async (t) => {
    const res = await postToken(app, codeForm('abc', { client_secret: ['demo-secret', 'demo-secret'] }))
    assertOAuthError(t, res, 400, 'invalid_request', 'client_secret must not be repeated')
  })
})

t.test('client authentication errors', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const grant = { grant_type: 'client_credentials', scope: 'number-verification:verify' }

  t.test('no credentials at all', async (t) => {
    assertOAuthError(t, await postToken(app, grant), 401, 'invalid_client',
      'client authentication is required (client_secret_post, client_secret_basic or private_key_jwt)')
  })
  t.test('a client_id without credentials', async (t) => {
    assertOAuthError(t, await postToken(app, { ...grant, client_id: 'demo-app' }), 401, 'invalid_client',
      'client "demo-app" sent no credentials (client_secret, Basic header or client_assertion)')
  })
  t.test('client_secret_post: wrong secret', async (t) => {
    assertOAuthError(
      t,
      await postToken(app, { ...grant, client_id: 'demo-app', client_secret: 'wrong' }),
      401,
      'invalid_client',
      'client authentication failed'
    )
  })
  t.test('client_secret_post: unknown client gets the same answer as a wrong secret', async (t) => {
    assertOAuthError(
      t,
      await postToken(app, { ...grant, client_id: 'nobody', client_secret: 'demo-secret' }),
      401,
      'invalid_client',
      'client authentication failed'
    )
  })
  t.test('client_secret_post: secret without client_id', async (t) => {
    assertOAuthError(
      t,
      await postToken(app, { ...grant, client_secret: 'demo-secret' }),
      400,
      'invalid_request',
      'client_id is required with client_secret'
    )
  })
  t.test('client_secret_post: a client registered only for private_key_jwt', async (t) => {
    assertOAuthError(
      t,
      await postToken(app, { ...grant, client_id: 'demo-app-jwt', client_secret: 'demo-secret' }),
      401,
      'invalid_client',
      'client "demo-app-jwt" is not registered for client_secret_post (registered: private_key_jwt)'
    )
  })
  t.test('client_secret_basic: wrong secret', async (t) => {
    assertOAuthError(
      t,
      await postToken(app, grant, { authorization: basicAuthorization('demo-app', 'wrong') }),
      401,
      'invalid_client',
      'client authentication failed',
      { basic: true }
    )
  })
  t.test('client_secret_basic: unknown client', async (t) => {
    assertOAuthError(
      t,
      await postToken(app, grant, { authorization: basicAuthorization('nobody', 'demo-secret') }),
      401,
      'invalid_client',
      'client authentication failed',
      { basic: true }
    )
  })
  t.test('client_secret_basic: malformed header', async (t) => {
    assertOAuthError(
      t,
      await postToken(app, grant, { authorization: 'Basic %%%' }),
      401,
      'invalid_client',
      'malformed Basic authorization header',
      { basic: true }
    )
    assertOAuthError(
      t,
      await postToken(app, grant, { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` }),
      401,
      'invalid_client',
      'malformed Basic authorization header',
      { basic: true }
    )
  })
  t.test('client_secret_basic: body client_id differs from the header', async (t) => {
    assertOAuthError(
      t,
      await postToken(
        app,
        { ...grant, client_id: 'demo-app-jwt' },
        { authorization: basicAuthorization('demo-app', 'demo-secret') }
      ),
      401,
      'invalid_client',
      'client_id in the body differs from the Basic credentials',
      { basic: true }
    )
  })
  t.test('client_secret_basic: a client registered only for private_key_jwt', async (t) => {
    assertOAuthError(
      t,
      await postToken(app, grant, { authorization: basicAuthorization('demo-app-jwt', 'x') }),
      401,
      'invalid_client',
      'client "demo-app-jwt" is not registered for client_secret_basic (registered: private_key_jwt)',
      { basic: true }
    )
  })
  t.test('two authentication methods at once', async (t) => {
    assertOAuthError(
      t,
      await postToken(
        app,
        { ...grant, client_id: 'demo-app', client_secret: 'demo-secret' },
        { authorization: basicAuthorization('demo-app', 'demo-secret') }
      ),
      400,
      'invalid_request',
      'use exactly one client authentication method (Basic header, client_secret in the body, or client_assertion)'
    )
    assertOAuthError(
      t,
      await postToken(app, {
        ...grant,
        client_id: 'demo-app-jwt',
        client_secret: 'x',
        ...jwtAuth(await clientAssertion(clock))
      }),
      400,
      'invalid_request',
      'use exactly one client authentication method (Basic header, client_secret in the body, or client_assertion)'
    )
  })

  t.test('private_key_jwt', async (t) => {
    const cases: Array<{
      name: string
      form: () => Promise<Params>
      status: number
      error: string
      description: string
    }> = [
      {
        name: 'wrong client_assertion_type',
        form: async () => ({
          client_assertion_type: 'urn:example:other',
          client_assertion: await clientAssertion(clock)
        }),
        status: 400,
        error: 'invalid_request',
        description: `client_assertion_type must be ${JWT_BEARER}`
      },
      {
        name: 'client_assertion_type without client_assertion',
        form: async () => ({ client_assertion_type: JWT_BEARER }),
        status: 400,
        error: 'invalid_request',
        description: 'client_assertion is required with client_assertion_type'
      },
      {
        name: 'client_assertion without client_assertion_type',
        form: async () => ({ client_assertion: await clientAssertion(clock) }),
        status: 400,
        error: 'invalid_request',
        description: `client_assertion_type must be ${JWT_BEARER}`
      },
      {
        name: 'an assertion that is not a JWT',
        form: async () => jwtAuth('not-a-jwt'),
        status: 401,
        error: 'invalid_client',
        description: 'client_assertion is not a JWT'
      },
      {
        name: 'an assertion without iss and no client_id',
        form: async () => jwtAuth(await clientAssertion(clock, { iss: null })),
        status: 401,
        error: 'invalid_client',
        description: 'client_assertion has no iss and no client_id was sent'
      },
      {
        name: 'iss differs from the body client_id',
        form: async () => ({ client_id: 'demo-app', ...jwtAuth(await clientAssertion(clock)) }),
        status: 401,
        error: 'invalid_client',
        description: 'client_assertion iss differs from client_id'
      },
      {
        name: 'a client not registered for private_key_jwt',
        form: async () => jwtAuth(await clientAssertion(clock, { iss: 'demo-app', sub: 'demo-app' })),
        status: 401,
        error: 'invalid_client',
        description:
          'client "demo-app" is not registered for private_key_jwt (registered: client_secret_post, ' +
            'client_secret_basic)'
      },
      {
        name: 'an unknown client',
        form: async () => jwtAuth(await clientAssertion(clock, { iss: 'nobody', sub: 'nobody' })),
        status: 401,
        error: 'invalid_client',
        description: 'client authentication failed'
      },
      {
        name: 'wrong audience',
        form: async () => jwtAuth(await clientAssertion(clock, { aud: 'https://other.example/token' })),
        status: 401,
        error: 'invalid_client',
        description: 'client_assertion rejected: claim "aud" is invalid (unexpected "aud" claim value)'
      },
      {
        name: 'sub differs from iss',
        form: async () => jwtAuth(await clientAssertion(clock, { sub: 'someone-else' })),
        status: 401,
        error: 'invalid_client',
        description: 'client_assertion rejected: claim "sub" is invalid (unexpected "sub" claim value)'
      },
      {
        name: 'no jti',
        form: async () => jwtAuth(await clientAssertion(clock, { jti: null })),
        status: 401,
        error: 'invalid_client',
        description: 'client_assertion rejected: claim "jti" is missing'
      },
      {
        name: 'no exp',
        form: async () => jwtAuth(await clientAssertion(clock, { exp: null })),
        status: 401,
        error: 'invalid_client',
        description: 'client_assertion rejected: claim "exp" is missing'
      },
      {
        name: 'expired',
        form: async () => {
          const now = Math.floor(clock.now() / 1000)
          return jwtAuth(await clientAssertion(clock, { iat: now - 120, exp: now - 60 }))
        },
        status: 401,
        error: 'invalid_client',
        description: 'client_assertion rejected: it has expired (exp)'
      },
      {
        name: 'a lifetime over 300 s',
        form: async () => {
          const now = Math.floor(clock.now() / 1000)
          return jwtAuth(await clientAssertion(clock, { iat: now, exp: now + 301 }))
        },
        status: 401,
        error: 'invalid_client',
        description: 'client_assertion lifetime (exp - iat) is 301 s; at most 300 s is accepted'
      },
      {
        name: 'signed by a key the client did not register (same kid)',
        form: async () => {
          const { privateKey } = await generateKeyPair('ES256')
          return jwtAuth(await clientAssertion(clock, {}, { key: privateKey }))
        },
        status: 401,
        error: 'invalid_client',
        description: 'client_assertion rejected: signature verification failed'
      },
      {
        name: 'signed by a key the client did not register (unknown kid)',
        form: async () => {
          const { privateKey } = await generateKeyPair('ES256')
          return jwtAuth(await clientAssertion(clock, {}, { key: privateKey, kid: 'other-key' }))
        },
        status: 401,
        error: 'invalid_client',
        description: 'client_assertion rejected: no registered key matches its kid / alg'
      }
    ]
    for (const { name, form, status, error, description } of cases) {
      t.test(name, async (t) => {
        assertOAuthError(t, await postToken(app, { ...grant, ...await form() }), status, error, description)
      })
    }

    t.test('a replayed jti is rejected', async (t) => {
      const assertion = await clientAssertion(clock)
      const first = await postToken(app, { ...grant, ...jwtAuth(assertion) })
      assertTokenHeaders(t, first)
      const replay = await postToken(app, { ...grant, ...jwtAuth(assertion) })
      assertOAuthError(
        t,
        replay,
        401,
        'invalid_client',
        'client_assertion jti was already used: sign a fresh assertion for every request'
      )
    })

    t.test('the issuer is accepted as audience too', async (t) => {
      assertTokenHeaders(
        t,
        await postToken(app, { ...grant, ...jwtAuth(await clientAssertion(clock, { aud: ISSUER })) })
      )
    })
  })
})

t.test('authorization_code with client_secret_post returns exact tokens and a verifiable id_token', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const code = await demoAppCode(app, { nonce: 'n-0S6_WzA2Mj' })
  const res = await postToken(app, codeForm(code))
  assertTokenHeaders(t, res)
  const body = res.json<TokenBody>()
  t.strictSame(Object.keys(body).sort(), ['access_token', 'expires_in', 'id_token', 'scope', 'token_type'])
  t.match(body.access_token, /^[A-Za-z0-9_-]{43}$/)
  t.equal(body.token_type, 'Bearer')
  t.equal(body.expires_in, 3600)
  t.equal(body.scope, SCOPE)

  const idToken = body.id_token as string
  const jwks = (await app.inject({ method: 'GET', url: '/camara/api/auth/v1/jwks' })).json<{ keys: JWK[] }>()
  t.strictSame(decodeProtectedHeader(idToken), { alg: 'RS256', kid: jwks.keys[0]?.kid, typ: 'JWT' })
  const claims = await verifyIdToken(app, clock, idToken, 'demo-app')
  const now = Math.floor(clock.now() / 1000)
  t.strictSame(claims, {
    iss: ISSUER,
    sub: claims.sub,
    aud: 'demo-app',
    azp: 'demo-app',
    exp: now + 3600,
    iat: now,
    auth_time: now,
    amr: ['nba', 'mnba'],
    nonce: 'n-0S6_WzA2Mj'
  })
  t.match(claims.sub, /^[A-Za-z0-9_-]{43}$/, 'pairwise subject')
  t.not(claims.sub, '+34666666666')
  t.notOk(String(claims.sub).includes('666666666'), 'sub does not contain the number')
})

t.test('the id_token sub is stable per client and differs between clients', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const first = await tokens(await postToken(app, codeForm(await demoAppCode(app))))
  const second = await tokens(await postToken(app, codeForm(await demoAppCode(app))))
  const jwtClient = await tokens(
    await postToken(app, {
      grant_type: 'authorization_code',
      code: await jwtAppCode(app),
      redirect_uri: REDIRECT_URI,
      code_verifier: VERIFIER,
      ...jwtAuth(await clientAssertion(clock))
    })
  )
  const subOf = async (token: TokenBody, audience: string): Promise<unknown> =>
    (await verifyIdToken(app, clock, token.id_token as string, audience)).sub
  t.equal(await subOf(first, 'demo-app'), await subOf(second, 'demo-app'))
  t.not(await subOf(first, 'demo-app'), await subOf(jwtClient, 'demo-app-jwt'))
})

t.test('an id_token is issued only with openid and has no nonce when none was sent', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const withoutOpenid = await tokens(
    await postToken(
      app,
      codeForm(await demoAppCode(app, { scope: 'dpv:FraudPreventionAndDetection number-verification:verify' }))
    )
  )
  t.equal(withoutOpenid.id_token, undefined)
  t.equal(withoutOpenid.scope, 'dpv:FraudPreventionAndDetection number-verification:verify')
  const withoutNonce = await tokens(await postToken(app, codeForm(await demoAppCode(app))))
  t.notOk('nonce' in await verifyIdToken(app, clock, withoutNonce.id_token as string, 'demo-app'))
})

t.test('authorization_code with client_secret_basic', async (t) => {
  const { app } = await buildTestApp(t)
  const code = await demoAppCode(app)
  const res = await postToken(
    app,
    { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI },
    { authorization: basicAuthorization('demo-app', 'demo-secret') }
  )
  assertTokenHeaders(t, res)
  t.equal(res.json<TokenBody>().scope, SCOPE)

  // The body may repeat the client_id of the Basic header
  const again = await postToken(
    app,
    {
      grant_type: 'authorization_code',
      code: await demoAppCode(app),
      redirect_uri: REDIRECT_URI,
      client_id: 'demo-app'
    },
    { authorization: basicAuthorization('demo-app', 'demo-secret') }
  )
  assertTokenHeaders(t, again)
})

t.test('authorization_code with private_key_jwt and PKCE', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const code = await jwtAppCode(app, { nonce: 'jwt-nonce' })
  const res = await postToken(app, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: VERIFIER,
    client_id: 'demo-app-jwt',
    ...jwtAuth(await clientAssertion(clock))
  })
  assertTokenHeaders(t, res)
  const body = res.json<TokenBody>()
  const claims = await verifyIdToken(app, clock, body.id_token as string, 'demo-app-jwt')
  t.equal(claims.azp, 'demo-app-jwt')
  t.equal(claims.nonce, 'jwt-nonce')
  t.strictSame(claims.amr, ['nba', 'mnba'])
})

t.test('authorization code errors', async (t) => {
  const { app, clock } = await buildTestApp(t)

  t.test('missing code', async (t) => {
    assertOAuthError(
      t,
      await postToken(app, codeForm('', { code: undefined })),
      400,
      'invalid_request',
      'code is required'
    )
  })
  t.test('missing redirect_uri', async (t) => {
    assertOAuthError(
      t,
      await postToken(app, codeForm(await demoAppCode(app), { redirect_uri: undefined })),
      400,
      'invalid_request',
      'redirect_uri is required'
    )
  })
  t.test('unknown code', async (t) => {
    assertOAuthError(
      t,
      await postToken(app, codeForm('not-a-code')),
      400,
      'invalid_grant',
      'authorization code is unknown or expired'
    )
  })
  t.test('redirect_uri differs from the authorization request', async (t) => {
    assertOAuthError(t, await postToken(app, codeForm(await demoAppCode(app), { redirect_uri: 'http://localhost:3000/other' })), 400, 'invalid_grant',
      'redirect_uri does not match the one of the authorization request')
  })
  t.test('a code issued to another client', async (t) => {
    const code = await demoAppCode(app)
    const res = await postToken(app, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: VERIFIER,
      ...jwtAuth(await clientAssertion(clock))
    })
    assertOAuthError(t, res, 400, 'invalid_grant', 'authorization code was issued to another client')
  })
  t.test('PKCE: code_verifier missing', async (t) => {
    const res = await postToken(app, {
      grant_type: 'authorization_code',
      code: await jwtAppCode(app),
      redirect_uri: REDIRECT_URI,
      ...jwtAuth(await clientAssertion(clock))
    })
    assertOAuthError(
      t,
      res,
      400,
      'invalid_grant',
      'code_verifier is required: the authorization request had a code_challenge'
    )
  })
  t.test('PKCE: malformed code_verifier', async (t) => {
    const res = await postToken(app, {
      grant_type: 'authorization_code',
      code: await jwtAppCode(app),
      redirect_uri: REDIRECT_URI,
      code_verifier: 'short',
      ...jwtAuth(await clientAssertion(clock))
    })
    assertOAuthError(t, res, 400, 'invalid_request', 'code_verifier must be 43-128 characters of [A-Za-z0-9-._~]')
  })
  t.test('PKCE: wrong code_verifier', async (t) => {
    const res = await postToken(app, {
      grant_type: 'authorization_code',
      code: await jwtAppCode(app),
      redirect_uri: REDIRECT_URI,
      code_verifier: `${VERIFIER.slice(0, -1)}A`,
      ...jwtAuth(await clientAssertion(clock))
    })
    assertOAuthError(
      t,
      res,
      400,
      'invalid_grant',
      'PKCE verification failed: code_verifier does not match code_challenge'
    )
  })
  t.test('PKCE: code_verifier without a code_challenge at authorize', async (t) => {
    assertOAuthError(
      t,
      await postToken(app, codeForm(await demoAppCode(app), { code_verifier: VERIFIER })),
      400,
      'invalid_grant',
      'code_verifier sent but the authorization request had no code_challenge'
    )
  })
  t.test('PKCE for a client that does not require it', async (t) => {
    const code = await demoAppCode(app, { code_challenge: CHALLENGE, code_challenge_method: 'S256' })
    assertOAuthError(
      t,
      await postToken(app, codeForm(code)),
      400,
      'invalid_grant',
      'code_verifier is required: the authorization request had a code_challenge'
    )
    assertTokenHeaders(t, await postToken(app, codeForm(code, { code_verifier: VERIFIER })))
  })
})

t.test('an authorization code expires after --code-ttl (120 s)', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const late = await demoAppCode(app)
  const inTime = await demoAppCode(app)
  clock.advance(119_000)
  assertTokenHeaders(t, await postToken(app, codeForm(inTime)))
  clock.advance(1_000)
  assertOAuthError(
    t,
    await postToken(app, codeForm(late)),
    400,
    'invalid_grant',
    'authorization code is unknown or expired'
  )
})

t.test('a shorter --code-ttl is honoured', async (t) => {
  const { app, clock } = await buildTestApp(t, { codeTtl: 5 })
  const code = await demoAppCode(app)
  clock.advance(5_000)
  assertOAuthError(
    t,
    await postToken(app, codeForm(code)),
    400,
    'invalid_grant',
    'authorization code is unknown or expired'
  )
})

t.test('a replayed code is rejected and revokes what the first exchange issued', async (t) => {
  const { app } = await buildTestApp(t)
  const code = await demoAppCode(app, { scope: OFFLINE_SCOPE })
  const first = await tokens(await postToken(app, codeForm(code)))
  t.type(first.refresh_token, 'string', 'offline_access gives a refresh token')
  t.equal(first.scope, OFFLINE_SCOPE)
  t.ok(
    !('failure' in (await app.emulator.tokens.resolveAccessToken(first.access_token))),
    'access token works before the replay'
  )

  const replay = await postToken(app, codeForm(code))
  assertOAuthError(
    t,
    replay,
    400,
    'invalid_grant',
    'authorization code was already used; the tokens issued with it are revoked'
  )

  const refresh = await postToken(app, {
    grant_type: 'refresh_token',
    refresh_token: first.refresh_token,
    client_id: 'demo-app',
    client_secret: 'demo-secret'
  })
  assertOAuthError(t, refresh, 400, 'invalid_grant', 'refresh token is unknown, expired or revoked')
  const leg = newLeg()
  t.strictSame(await app.emulator.tokens.resolveAccessToken(first.access_token, leg), {
    failure: 'access token was revoked (authorization code replayed)',
    noLongerValid: true
  })
  t.match(leg.flow, { clientId: 'demo-app' }, 'the refusal is filed under the flow')
})

t.test('refresh tokens rotate and a reused one revokes the grant', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const auth = { client_id: 'demo-app', client_secret: 'demo-secret' }
  const first = await tokens(
    await postToken(app, codeForm(await demoAppCode(app, { scope: OFFLINE_SCOPE, nonce: 'only-once' })))
  )
  clock.advance(60_000)

  const res = await postToken(app, { grant_type: 'refresh_token', refresh_token: first.refresh_token, ...auth })
  assertTokenHeaders(t, res)
  const second = res.json<TokenBody>()
  t.strictSame(Object.keys(second).sort(), [
    'access_token',
    'expires_in',
    'id_token',
    'refresh_token',
    'scope',
    'token_type'
  ])
  t.not(second.access_token, first.access_token)
  t.not(second.refresh_token, first.refresh_token)
  t.equal(second.scope, OFFLINE_SCOPE)
  t.equal(second.expires_in, 3600)
  const claims = await verifyIdToken(app, clock, second.id_token as string, 'demo-app')
  t.equal(claims.iat, Math.floor(clock.now() / 1000))
  t.equal(claims.auth_time, Math.floor(clock.now() / 1000) - 60, 'auth_time is the original authentication')
  t.notOk('nonce' in claims, 'a refreshed id_token carries no nonce')
  t.equal((await verifyIdToken(app, clock, first.id_token as string, 'demo-app')).sub, claims.sub)

  const reuse = await postToken(app, { grant_type: 'refresh_token', refresh_token: first.refresh_token, ...auth })
  assertOAuthError(
    t,
    reuse,
    400,
    'invalid_grant',
    'refresh token was already used (rotation): every token of this grant is revoked'
  )
  const afterReuse = await postToken(app, { grant_type: 'refresh_token', refresh_token: second.refresh_token, ...auth })
  assertOAuthError(t, afterReuse, 400, 'invalid_grant', 'refresh token is unknown, expired or revoked')
  const leg = newLeg()
  t.strictSame(await app.emulator.tokens.resolveAccessToken(second.access_token, leg), {
    failure: 'access token was revoked (refresh token reused)',
    noLongerValid: true
  })
  t.match(leg.flow, { clientId: 'demo-app' }, 'the refusal is filed under the flow')
})

t.test('refresh_token grant errors and scope narrowing', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const auth = { client_id: 'demo-app', client_secret: 'demo-secret' }
  const fresh = async (): Promise<string> =>
    (await tokens(await postToken(app, codeForm(await demoAppCode(app, { scope: OFFLINE_SCOPE })))))
      .refresh_token as string

  t.test('no refresh token without offline_access', async (t) => {
    const body = await tokens(await postToken(app, codeForm(await demoAppCode(app))))
    t.equal(body.refresh_token, undefined)
  })
  t.test('missing refresh_token', async (t) => {
    assertOAuthError(
      t,
      await postToken(app, { grant_type: 'refresh_token', ...auth }),
      400,
      'invalid_request',
      'refresh_token is required'
    )
  })
  t.test('unknown refresh_token', async (t) => {
    assertOAuthError(
      t,
      await postToken(app, { grant_type: 'refresh_token', refresh_token: 'nope', ...auth }),
      400,
      'invalid_grant',
      'refresh token is unknown, expired or revoked'
    )
  })
  t.test('a refresh token of another client', async (t) => {
    const res = await postToken(app, {
      grant_type: 'refresh_token',
      refresh_token: await fresh(),
      ...jwtAuth(await clientAssertion(clock))
    })
    assertOAuthError(t, res, 400, 'invalid_grant', 'refresh token was issued to another client')
  })
  t.test('a narrower scope is granted', async (t) => {
    const body = await tokens(
      await postToken(app, {
        grant_type: 'refresh_token',
        refresh_token: await fresh(),
        scope: 'openid number-verification:verify',
        ...auth
      })
    )
    t.equal(body.scope, 'openid number-verification:verify')
  })
  t.test('a wider scope is refused', async (t) => {
    const res = await postToken(app, {
      grant_type: 'refresh_token',
      refresh_token: await fresh(),
      scope: `${OFFLINE_SCOPE} number-verification:device-phone-number:read`,
      ...auth
    })
    assertOAuthError(
      t,
      res,
      400,
      'invalid_scope',
      'scope exceeds the original grant: number-verification:device-phone-number:read'
    )
  })
  t.test('a refresh token expires after --refresh-token-ttl', async (t) => {
    const { app, clock } = await buildTestApp(t, { refreshTokenTtl: 600 })
    const refreshToken = (
      await tokens(await postToken(app, codeForm(await demoAppCode(app, { scope: OFFLINE_SCOPE }))))
    ).refresh_token
    clock.advance(600_000)
    assertOAuthError(
      t,
      await postToken(app, { grant_type: 'refresh_token', refresh_token: refreshToken, ...auth }),
      400,
      'invalid_grant',
      'refresh token is unknown, expired or revoked'
    )
  })
})

t.test('client_credentials', async (t) => {
  const { app } = await buildTestApp(t)
  const auth = { client_id: 'demo-app', client_secret: 'demo-secret' }

  t.test('issues an access token with no id_token or refresh token', async (t) => {
    const res = await postToken(app, {
      grant_type: 'client_credentials',
      scope: 'dpv:FraudPreventionAndDetection number-verification:verify',
      ...auth
    })
    assertTokenHeaders(t, res)
    const body = res.json<TokenBody>()
    t.strictSame(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type'])
    t.equal(body.scope, 'dpv:FraudPreventionAndDetection number-verification:verify')
    t.equal(body.expires_in, 3600)
    const resolved = await app.emulator.tokens.resolveAccessToken(body.access_token)
    t.equal('record' in resolved ? resolved.record.msisdn : 'failed', undefined, 'identifies no subscriber')
  })
  t.test('with Basic authentication', async (t) => {
    assertTokenHeaders(
      t,
      await postToken(
        app,
        { grant_type: 'client_credentials', scope: 'number-verification:verify' },
        { authorization: basicAuthorization('demo-app', 'demo-secret') }
      )
    )
  })
  t.test('openid is refused', async (t) => {
    assertOAuthError(
      t,
      await postToken(app, { grant_type: 'client_credentials', scope: 'openid number-verification:verify', ...auth }),
      400,
      'invalid_scope',
      'scope not available with client_credentials for this client: openid'
    )
  })
  t.test('a scope the client may not ask for is refused', async (t) => {
    assertOAuthError(
      t,
      await postToken(app, { grant_type: 'client_credentials', scope: 'sim-swap:check offline_access', ...auth }),
      400,
      'invalid_scope',
      'scope not available with client_credentials for this client: sim-swap:check offline_access'
    )
  })
})
