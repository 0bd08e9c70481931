// A real OIDC client (oauth4webapi) against the emulator on a real socket and the real clock:
// discovery, authorize with PKCE + state + nonce through the gateway and operator redirects,
// callback validation, code exchange with each client authentication method, id_token signature
// checked against the served JWKS, then a refresh.
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { importJWK, type CryptoKey, type JWK } from 'jose'
import * as oauth from 'oauth4webapi'
import { buildApp } from '../../src/app.js'
import { defaultConfig } from '../../src/config/config.js'

const REDIRECT_URI = 'http://localhost:3000/callback'
const SCOPE = 'openid dpv:FraudPreventionAndDetection number-verification:verify offline_access'
const DEMO_KEY_FILE = new URL('../../fixtures/keys/demo-app-jwt.private.jwk.json', import.meta.url)
/** The emulator speaks plain http locally; oauth4webapi refuses that unless told */
const insecure = { [oauth.allowInsecureRequests]: true }

interface RunningEmulator {
  app: FastifyInstance
  issuer: URL
}

async function startEmulator (): Promise<RunningEmulator> {
  const app = await buildApp({ ...defaultConfig }, { logger: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  app.emulator.urls.setBase(`http://127.0.0.1:${port}`)
  return { app, issuer: new URL(app.emulator.urls.issuer) }
}

/** Follows one redirect hop by hand, as a browser would, and returns where it points */
async function nextHop (url: URL): Promise<URL> {
  const res = await fetch(url, { redirect: 'manual' })
  const location = res.headers.get('location')
  if (res.status !== 302 || location === null) {
    throw new Error(`expected a 302 from ${url.toString()}, got ${res.status}: ${await res.text()}`)
  }
  return new URL(location, url)
}

interface ClientUnderTest {
  client: oauth.Client
  clientAuth: oauth.ClientAuth
}

async function demoAppJwt (): Promise<ClientUnderTest> {
  const jwk = JSON.parse(readFileSync(DEMO_KEY_FILE, 'utf8')) as JWK
  const key = await importJWK(jwk, 'ES256') as CryptoKey
  return { client: { client_id: 'demo-app-jwt' }, clientAuth: oauth.PrivateKeyJwt({ key, kid: jwk.kid }) }
}

const methods: Array<{ name: string, client: () => Promise<ClientUnderTest> }> = [
  {
    name: 'ClientSecretPost',
    client: async () => ({ client: { client_id: 'demo-app' }, clientAuth: oauth.ClientSecretPost('demo-secret') })
  },
  {
    name: 'ClientSecretBasic',
    client: async () => ({ client: { client_id: 'demo-app' }, clientAuth: oauth.ClientSecretBasic('demo-secret') })
  },
  { name: 'PrivateKeyJwt', client: demoAppJwt }
]

t.test('oauth4webapi completes the authorization code flow', async (t) => {
  const { app, issuer } = await startEmulator()
  t.teardown(() => app.close())

  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
  t.equal(as.issuer, issuer.href)
  t.equal(as.token_endpoint, `${issuer.href}/token`)
  // RFC 8414's well-known location, which oauth4webapi reads for { algorithm: 'oauth2' }
  const oauth2 = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' })
  )
  t.strictSame(oauth2, as, 'RFC 8414 metadata: the same document')

  const subjects = new Map<string, string>()
  for (const method of methods) {
    t.test(method.name, async (t) => {
      const { client, clientAuth } = await method.client()
      const codeVerifier = oauth.generateRandomCodeVerifier()
      const state = oauth.generateRandomState()
      const nonce = oauth.generateRandomNonce()

      const authorizationUrl = new URL(as.authorization_endpoint as string)
      authorizationUrl.search = new URLSearchParams({
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: REDIRECT_URI,
        scope: SCOPE,
        state,
        nonce,
        prompt: 'none',
        code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        konera_context: 'ipv4:142.115.147.143'
      }).toString()

      const operatorUrl = await nextHop(authorizationUrl)
      t.equal(operatorUrl.origin, issuer.origin, 'the gateway sends the browser to an operator of this emulator')
      t.equal(operatorUrl.pathname, '/operators/telco-es/authorize')
      const callback = await nextHop(operatorUrl)
      t.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI, 'the operator sends the browser back to the app')

      const params = oauth.validateAuthResponse(as, client, callback, state)
      const tokenResponse = await oauth.authorizationCodeGrantRequest(
        as,
        client,
        clientAuth,
        params,
        REDIRECT_URI,
        codeVerifier,
        insecure
      )
      t.equal(tokenResponse.headers.get('cache-control'), 'no-store')
      const result = await oauth.processAuthorizationCodeResponse(as, client, tokenResponse, {
        expectedNonce: nonce,
        requireIdToken: true
      })
      await oauth.validateApplicationLevelSignature(as, tokenResponse, insecure)

      t.equal(result.token_type, 'bearer', 'oauth4webapi lower-cases the token type')
      t.equal(result.expires_in, 3600)
      t.equal(result.scope, SCOPE)
      t.type(result.refresh_token, 'string', 'offline_access gives a refresh token')

      const claims = oauth.getValidatedIdTokenClaims(result)
      if (claims === undefined) throw new Error('no id_token claims')
      t.equal(claims.iss, issuer.href)
      t.equal(claims.aud, client.client_id)
      t.equal(claims.nonce, nonce)
      t.strictSame(claims.amr, ['nba', 'mnba'])
      t.not(claims.sub, '+34666666666', 'sub is not the phone number')
      t.notOk(claims.sub.includes('34666666666'), 'sub does not contain the phone number')
      t.match(claims.sub, /^[A-Za-z0-9_-]{43}$/, 'pairwise pseudonymous sub')
      const known = subjects.get(client.client_id)
      if (known !== undefined) t.equal(claims.sub, known, 'the same client always sees the same sub')
      subjects.set(client.client_id, claims.sub)

      const refreshResponse = await oauth.refreshTokenGrantRequest(
        as,
        client,
        clientAuth,
        result.refresh_token as string,
        insecure
      )
      const refreshed = await oauth.processRefreshTokenResponse(as, client, refreshResponse)
      await oauth.validateApplicationLevelSignature(as, refreshResponse, insecure)
      t.not(refreshed.access_token, result.access_token)
      t.not(refreshed.refresh_token, result.refresh_token, 'the refresh token rotates')
      t.equal(refreshed.scope, SCOPE)
      const refreshedClaims = oauth.getValidatedIdTokenClaims(refreshed)
      t.equal(refreshedClaims?.sub, claims.sub, 'the refreshed id_token names the same subject')
      t.strictSame(refreshedClaims?.amr, ['nba', 'mnba'])

      // The old refresh token is spent: reusing it is an OAuth error oauth4webapi surfaces
      const reuse = await oauth.refreshTokenGrantRequest(
        as,
        client,
        clientAuth,
        result.refresh_token as string,
        insecure
      )
      await t.rejects(oauth.processRefreshTokenResponse(as, client, reuse), {
        code: oauth.RESPONSE_BODY_ERROR,
        status: 400,
        error: 'invalid_grant',
        error_description: 'refresh token was already used (rotation): every token of this grant is revoked'
      })
    })
  }

  t.test('pairwise subjects differ between clients', async (t) => {
    t.equal(subjects.size, 2)
    t.not(subjects.get('demo-app'), subjects.get('demo-app-jwt'))
  })
})

t.test('oauth4webapi sees the operator error when the device is not on mobile data', async (t) => {
  const { app, issuer } = await startEmulator()
  t.teardown(() => app.close())
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
  const client: oauth.Client = { client_id: 'demo-app' }
  const state = oauth.generateRandomState()
  const authorizationUrl = new URL(as.authorization_endpoint as string)
  authorizationUrl.search = new URLSearchParams({
    response_type: 'code',
    client_id: 'demo-app',
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    state,
    prompt: 'none',
    code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
    code_challenge_method: 'S256',
    konera_context: 'ipv4:81.40.12.34'
  }).toString()
  const callback = await nextHop(await nextHop(authorizationUrl))
  t.throws(() => oauth.validateAuthResponse(as, client, callback, state), {
    code: oauth.AUTHORIZATION_RESPONSE_ERROR,
    error: 'login_required',
    error_description:
      'Telco ES (emulated) cannot authenticate +34600000002: the device is on wifi, not mobile data and no fallback ' +
        'method'
  })
})
