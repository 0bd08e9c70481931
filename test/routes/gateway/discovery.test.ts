// OIDC discovery and JWKS: the metadata advertises exactly what is implemented, every URL derives
// from the public base URL, and id_tokens verify against the served keys for each signing algorithm.
import t from 'tap'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose'
import { KeyRing } from '../../../src/core/keys.js'
import { buildTestApp, ISSUER } from '../../helpers/app.js'
import { SEED_DEVICE_IPV4, authorizeParams, codeForm, obtainCode, postToken } from './flow.js'

const DISCOVERY_PATH = '/camara/api/auth/v1/.well-known/openid-configuration'
const JWKS_PATH = '/camara/api/auth/v1/jwks'
const RFC8414_PATH = '/.well-known/oauth-authorization-server/camara/api/auth/v1'
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

function expectedDocument (issuer: string, algorithms: string[]): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    backchannel_authentication_endpoint: `${issuer}/bc-authorize`,
    backchannel_token_delivery_modes_supported: ['poll'],
    backchannel_user_code_parameter_supported: false,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    authorization_response_iss_parameter_supported: true,
    grant_types_supported: [
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
      'urn:openid:params:grant-type:ciba'
    ],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: algorithms,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA'],
    code_challenge_methods_supported: ['S256'],
    request_parameter_supported: true,
    request_uri_parameter_supported: false,
    request_object_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA'],
    scopes_supported: [
      'openid',
      'offline_access',
      'number-verification:verify',
      'number-verification:device-phone-number:read'
    ],
    claims_supported: ['iss', 'sub', 'aud', 'azp', 'exp', 'iat', 'auth_time', 'nonce', 'amr'],
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    dpop_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA']
  }
}

t.test('the discovery document lists exactly what is implemented', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: DISCOVERY_PATH })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  t.strictSame(res.json(), expectedDocument(ISSUER, ['RS256']))
})

t.test('discovery is served at {issuer}/.well-known/openid-configuration and nowhere else', async (t) => {
  const { app } = await buildTestApp(t)
  const document = (await app.inject({ method: 'GET', url: DISCOVERY_PATH })).json<{ issuer: string }>()
  t.equal(`${new URL(document.issuer).pathname}/.well-known/openid-configuration`, DISCOVERY_PATH)
  t.equal((await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).statusCode, 404)
})

t.test('RFC 8414: the same metadata at /.well-known/oauth-authorization-server{issuer path}', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: RFC8414_PATH, headers: { 'x-correlator': 'as-meta' } })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  t.equal(res.headers['x-correlator'], 'as-meta', 'a gateway request like the others')
  t.strictSame(res.json(), expectedDocument(ISSUER, ['RS256']))
  t.equal(
    `/.well-known/oauth-authorization-server${new URL(res.json<{ issuer: string }>().issuer).pathname}`,
    RFC8414_PATH
  )
  const journal = (await app.inject({ method: 'GET', url: '/_emulator/journal?correlator=as-meta' })).json<{
    entries: Array<{ operation: string }>
  }>()
  t.strictSame(journal.entries.map((entry) => entry.operation), ['discovery'], 'journaled as discovery')
  for (const url of [
    '/.well-known/oauth-authorization-server',
    '/.well-known/oauth-authorization-server/camara/api/auth/v2'
  ]) {
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 404, `${url} is no issuer's`)
  }
  const unknown = await app.inject({ method: 'GET', url: RFC8414_PATH, headers: { 'x-emulator-scenario': 'nope' } })
  t.equal(unknown.statusCode, 400, 'the scenario step runs, as at openid-configuration')
  t.equal(unknown.json<{ error: string }>().error, 'invalid_request')
})

t.test('RFC 8414 in a namespace: the well-known prefix before the namespace\'s issuer path', async (t) => {
  const { app } = await buildTestApp(t)
  t.equal((await app.inject({ method: 'PUT', url: '/_emulator/namespaces/ci-7' })).statusCode, 201)
  const res = await app.inject({
    method: 'GET',
    url: '/.well-known/oauth-authorization-server/ns/ci-7/camara/api/auth/v1'
  })
  t.equal(res.statusCode, 200)
  t.equal(res.json<{ issuer: string }>().issuer, 'http://emulator.test/ns/ci-7/camara/api/auth/v1')
  const missing = await app.inject({
    method: 'GET',
    url: '/.well-known/oauth-authorization-server/ns/nope/camara/api/auth/v1'
  })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json<{ error: string }>().error, 'invalid_request', 'OAuth JSON for a namespace that does not exist')
})

t.test('every advertised URL follows --public-url', async (t) => {
  const { app } = await buildTestApp(t, { publicUrl: 'https://nv.gateway.example:8443/' })
  const res = await app.inject({ method: 'GET', url: DISCOVERY_PATH })
  t.strictSame(res.json(), expectedDocument('https://nv.gateway.example:8443/camara/api/auth/v1', ['RS256']))
})

t.test('the JWKS serves the public signing key only', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: JWKS_PATH })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  t.equal(res.headers['cache-control'], 'public, max-age=300')
  const { keys } = res.json<{ keys: JWK[] }>()
  t.equal(keys.length, 1)
  const [key] = keys
  t.strictSame(Object.keys(key ?? {}).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use'])
  t.match(key, { kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' })
  t.match(key?.kid, /^[A-Za-z0-9_-]{43}$/, 'kid is the RFC 7638 thumbprint')
  t.strictSame(app.emulator.keys.jwks(), { keys }, 'the served set is the signing ring')
})

t.test('with ES256 configured, ES256 and RS256 are advertised and the id_token verifies', async (t) => {
  const { app, clock } = await buildTestApp(
    t,
    { signingAlg: 'ES256' },
    { keys: await KeyRing.create({ alg: 'ES256' }) }
  )

  const document = (await app.inject({ method: 'GET', url: DISCOVERY_PATH })).json<Record<string, unknown>>()
  t.strictSame(document, expectedDocument(ISSUER, ['ES256', 'RS256']))

  const { keys } = (await app.inject({ method: 'GET', url: JWKS_PATH })).json<{ keys: JWK[] }>()
  t.strictSame(keys.map((k) => [k.kty, k.alg, k.use]), [['EC', 'ES256', 'sig'], ['RSA', 'RS256', 'sig']])
  t.equal(keys[0]?.crv, 'P-256')
  t.not(keys[0]?.kid, keys[1]?.kid, 'distinct kids')
  for (const key of keys) {
    t.strictSame(PRIVATE_MEMBERS.filter((member) => member in key), [], `no private members in ${String(key.kid)}`)
  }

  const code = await obtainCode(
    app,
    authorizeParams({ konera_context: `ipv4:${SEED_DEVICE_IPV4}`, nonce: 'es256-nonce' })
  )
  const res = await postToken(app, codeForm(code))
  t.equal(res.statusCode, 200)
  const idToken = res.json<{ id_token: string }>().id_token
  t.strictSame(decodeProtectedHeader(idToken), { alg: 'ES256', kid: keys[0]?.kid, typ: 'JWT' })
  const { payload } = await jwtVerify(idToken, createLocalJWKSet({ keys }), {
    issuer: ISSUER,
    audience: 'demo-app',
    algorithms: ['ES256'],
    currentDate: new Date(clock.now())
  })
  t.equal(payload.nonce, 'es256-nonce')
  t.strictSame(payload.amr, ['nba', 'mnba'])
})

t.test('an id_token does not verify against another emulator\'s keys', async (t) => {
  const { app, clock } = await buildTestApp(
    t,
    { signingAlg: 'ES256' },
    { keys: await KeyRing.create({ alg: 'ES256' }) }
  )
  const other = await KeyRing.create({ alg: 'ES256' })
  const code = await obtainCode(app, authorizeParams({ konera_context: `ipv4:${SEED_DEVICE_IPV4}` }))
  const idToken = (await postToken(app, codeForm(code))).json<{ id_token: string }>().id_token
  await t.rejects(
    jwtVerify(idToken, createLocalJWKSet(other.jwks()), {
      issuer: ISSUER,
      audience: 'demo-app',
      currentDate: new Date(clock.now())
    })
  )
})
