// A real client library (oauth4webapi) runs both back-end grants of SIM-based authentication
// against the emulator on a real socket: the device leg's operator token, then CIBA in poll mode
// (bc-authorize, the ciba grant) and the JWT-bearer grant, then Number Verification.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { importJWK, SignJWT, type CryptoKey, type JWK } from 'jose'
import * as oauth from 'oauth4webapi'
import { buildApp } from '../../src/app.js'
import { defaultConfig } from '../../src/config/config.js'

const DEMO_KEY_FILE = new URL('../../fixtures/keys/demo-app-jwt.private.jwk.json', import.meta.url)
const SCOPE = 'openid dpv:FraudPreventionAndDetection number-verification:verify'
const WIFI_MSISDN = '+34600000002'
const insecure = { [oauth.allowInsecureRequests]: true }
const client: oauth.Client = { client_id: 'demo-app-jwt' }

interface Running { app: FastifyInstance, issuer: URL, as: oauth.AuthorizationServer, key: CryptoKey, kid: string }

async function start (): Promise<Running> {
  const app = await buildApp({ ...defaultConfig }, { logger: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  app.emulator.urls.setBase(`http://127.0.0.1:${port}`)
  const issuer = new URL(app.emulator.urls.issuer)
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
  const jwk = JSON.parse(readFileSync(DEMO_KEY_FILE, 'utf8')) as JWK
  return { app, issuer, as, key: await importJWK(jwk, 'ES256') as CryptoKey, kid: jwk.kid ?? '' }
}

/** The device leg: the app on a device on Wi-Fi asks its operator's entitlement server */
async function deviceOperatorToken (issuer: URL): Promise<string> {
  const res = await fetch(new URL('/operators/telco-es/operator-token', issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: client.client_id, msisdn: WIFI_MSISDN })
  })
  return (await res.json() as { operator_token: string }).operator_token
}

async function verify (issuer: URL, accessToken: string): Promise<unknown> {
  const res = await fetch(new URL('/number-verification/v2/verify', issuer), {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ phoneNumber: WIFI_MSISDN })
  })
  return await res.json()
}

t.test('oauth4webapi runs CIBA with an operator token', async (t) => {
  const { app, issuer, as, key, kid } = await start()
  t.teardown(() => app.close())
  t.equal(as.backchannel_authentication_endpoint, `${issuer.href}/bc-authorize`)
  t.strictSame(as.backchannel_token_delivery_modes_supported, ['poll'])
  const clientAuth = oauth.PrivateKeyJwt({ key, kid })

  const accepted = await oauth.processBackchannelAuthenticationResponse(
    as,
    client,
    await oauth.backchannelAuthenticationRequest(
      as,
      client,
      clientAuth,
      {
        scope: SCOPE,
        login_hint: `operatortoken:${await deviceOperatorToken(issuer)}`
      },
      insecure
    )
  )
  t.equal(accepted.expires_in, 120)
  t.equal(accepted.interval, 5)
  const result = await oauth.processBackchannelAuthenticationGrantResponse(as, client,
    await oauth.backchannelAuthenticationGrantRequest(as, client, clientAuth, accepted.auth_req_id, insecure))
  t.equal(result.token_type, 'bearer')
  t.strictSame(
    oauth.getValidatedIdTokenClaims(result)?.amr,
    ['sc', 'hwk'],
    'the id_token verified by the library names SIM-based authentication'
  )
  t.strictSame(await verify(issuer, result.access_token), { devicePhoneNumberVerified: true })

  const again = oauth.backchannelAuthenticationGrantRequest(as, client, clientAuth, accepted.auth_req_id, insecure)
  await t.rejects(oauth.processBackchannelAuthenticationGrantResponse(as, client, await again), {
    code: oauth.RESPONSE_BODY_ERROR,
    error: 'invalid_grant'
  })
})

t.test('oauth4webapi sees authorization_pending while the operator decides', async (t) => {
  const { app, issuer, as, key, kid } = await start()
  t.teardown(() => app.close())
  const clientAuth = oauth.PrivateKeyJwt({ key, kid })
  const accepted = await oauth.processBackchannelAuthenticationResponse(
    as,
    client,
    await oauth.backchannelAuthenticationRequest(
      as,
      client,
      clientAuth,
      {
        scope: SCOPE,
        login_hint: `operatortoken:${await deviceOperatorToken(issuer)}`
      },
      { ...insecure, headers: { 'x-emulator-scenario': 'ciba-slow-operator' } }
    )
  )
  await t.rejects(oauth.processBackchannelAuthenticationGrantResponse(as, client,
    await oauth.backchannelAuthenticationGrantRequest(as, client, clientAuth, accepted.auth_req_id, insecure)), {
    code: oauth.RESPONSE_BODY_ERROR, status: 400, error: 'authorization_pending'
  })
})

t.test('oauth4webapi runs the JWT-bearer grant with an operator token', async (t) => {
  const { app, issuer, as, key, kid } = await start()
  t.teardown(() => app.close())
  t.ok(as.grant_types_supported?.includes('urn:ietf:params:oauth:grant-type:jwt-bearer'))
  const now = Math.floor(Date.now() / 1000)
  const assertion = await new SignJWT({ scope: 'dpv:FraudPreventionAndDetection number-verification:verify' })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(client.client_id).setSubject(`operatortoken:${await deviceOperatorToken(issuer)}`)
    .setAudience(as.token_endpoint ?? '').setIssuedAt(now).setExpirationTime(now + 60).setJti(randomUUID())
    .sign(key)
  // The assertion is the client's authentication (ICM r4.2): no other is sent
  const response = await oauth.genericTokenEndpointRequest(
    as,
    client,
    oauth.None(),
    'urn:ietf:params:oauth:grant-type:jwt-bearer',
    { assertion },
    insecure
  )
  const result = await oauth.processGenericTokenEndpointResponse(as, client, response)
  t.equal(result.refresh_token, undefined, 'no refresh token')
  t.equal(result.scope, 'dpv:FraudPreventionAndDetection number-verification:verify')
  t.strictSame(await verify(issuer, result.access_token), { devicePhoneNumberVerified: true })
})
