// A real DPoP client (oauth4webapi's DPoP handle) against the emulator on a real socket and the real
// clock: discovery, authorize, the code exchange with a proof, the verify call with a proof, a
// refresh with the same key; then the refusals it sees, and ICM r4.2's camara claims added to its
// proofs through its assertion hook.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { generateKeyPair, type JWTPayload } from 'jose'
import * as oauth from 'oauth4webapi'
import { buildApp } from '../../src/app.js'
import { DEFAULT_FIXTURES, defaultConfig } from '../../src/config/config.js'
import { sha256Url } from '../helpers/dpop.js'

const REDIRECT_URI = 'http://localhost:3000/callback'
const SCOPE = 'openid dpv:FraudPreventionAndDetection number-verification:verify offline_access'
const insecure = { [oauth.allowInsecureRequests]: true }

interface RunningEmulator {
  app: FastifyInstance
  issuer: URL
  base: string
}

async function startEmulator (t: Test): Promise<RunningEmulator> {
  const file = join(t.testdir({}), 'dpop.json')
  writeFileSync(file, JSON.stringify({
    clients: [{
      clientId: 'dpop-camara',
      clientSecret: 'camara-secret',
      redirectUris: [REDIRECT_URI],
      scopes: ['number-verification:verify'],
      tokenEndpointAuthMethods: ['client_secret_post'],
      requireDpop: true,
      dpopCamaraClaims: true
    }]
  }))
  const app = await buildApp({ ...defaultConfig, fixtures: [DEFAULT_FIXTURES, file] }, { logger: false })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const base = `http://127.0.0.1:${port}`
  app.emulator.urls.setBase(base)
  return { app, issuer: new URL(app.emulator.urls.issuer), base }
}

async function nextHop (url: URL): Promise<URL> {
  const res = await fetch(url, { redirect: 'manual' })
  const location = res.headers.get('location')
  if (res.status !== 302 || location === null) {
    throw new Error(`expected a 302 from ${url.toString()}, got ${res.status}: ${await res.text()}`)
  }
  return new URL(location, url)
}

/** The seed device's authorization response for the client */
async function authorizationResponse (
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  state: string,
  challenge: string
): Promise<URLSearchParams> {
  const url = new URL(as.authorization_endpoint as string)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    state,
    prompt: 'none',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    konera_context: 'ipv4:142.115.147.143'
  }).toString()
  return oauth.validateAuthResponse(as, client, await nextHop(await nextHop(url)), state)
}

async function dpopTokens (
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  clientAuth: oauth.ClientAuth,
  DPoP: oauth.DPoPHandle
): Promise<oauth.TokenEndpointResponse> {
  const verifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const params = await authorizationResponse(as, client, state, await oauth.calculatePKCECodeChallenge(verifier))
  const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, REDIRECT_URI, verifier, {
    ...insecure,
    DPoP
  })
  return await oauth.processAuthorizationCodeResponse(as, client, response)
}

t.test('oauth4webapi gets a DPoP-bound token and calls verify with DPoP proofs', async (t) => {
  const { issuer, base } = await startEmulator(t)
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
  t.strictSame(as.dpop_signing_alg_values_supported, ['RS256', 'PS256', 'ES256', 'EdDSA'])
  t.strictSame(as.camara_dpop_claims_required, ['camara:bh', 'camara:qh'])

  const client: oauth.Client = { client_id: 'demo-app' }
  const clientAuth = oauth.ClientSecretPost('demo-secret')
  const keyPair = await generateKeyPair('ES256')
  const DPoP = oauth.DPoP(client, keyPair)
  const tokens = await dpopTokens(as, client, clientAuth, DPoP)
  t.equal(tokens.token_type, 'dpop', 'oauth4webapi lower-cases the token type')

  const verifyUrl = new URL(`${base}/number-verification/v2/verify`)
  const headers = new Headers({ 'content-type': 'application/json' })
  const verified = await oauth.protectedResourceRequest(
    tokens.access_token,
    'POST',
    verifyUrl,
    headers,
    JSON.stringify({ phoneNumber: '+34666666666' }),
    { ...insecure, DPoP }
  )
  t.equal(verified.status, 200)
  t.strictSame(await verified.json(), { devicePhoneNumberVerified: true })

  // The seed's path, with a query string (ignored by htu)
  const seedUrl = new URL(`${base}/camara/api/number-verification/v1/verify?trace=1`)
  const seed = await oauth.protectedResourceRequest(
    tokens.access_token,
    'POST',
    seedUrl,
    new Headers(headers),
    JSON.stringify({ phoneNumber: '+34666666667' }),
    { ...insecure, DPoP }
  )
  t.equal(seed.status, 200)
  t.equal((await seed.json() as { devicePhoneNumberVerified: boolean }).devicePhoneNumberVerified, false)

  // The refresh proves the same key and stays DPoP-bound
  const refreshed = await oauth.processRefreshTokenResponse(as, client,
    await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token as string, { ...insecure, DPoP }))
  t.equal(refreshed.token_type, 'dpop')
  const again = await oauth.protectedResourceRequest(
    refreshed.access_token,
    'POST',
    verifyUrl,
    new Headers(headers),
    JSON.stringify({ phoneNumber: '+34666666666' }),
    { ...insecure, DPoP }
  )
  t.equal(again.status, 200)

  // Another key pair cannot use the token: oauth4webapi surfaces the DPoP challenge
  const stranger = oauth.DPoP(client, await generateKeyPair('ES256'))
  await t.rejects(
    oauth.protectedResourceRequest(
      refreshed.access_token,
      'POST',
      verifyUrl,
      new Headers(headers),
      JSON.stringify({ phoneNumber: '+34666666666' }),
      { ...insecure, DPoP: stranger }
    ),
    {
      code: oauth.WWW_AUTHENTICATE_CHALLENGE,
      status: 401,
      cause: [
        {
          scheme: 'dpop',
          parameters: {
            error: 'invalid_dpop_proof',
            error_description: 'the DPoP proof key is not the one the access token is bound to (cnf.jkt)'
          }
        }
      ]
    }
  )
  // Nor can a Bearer request
  await t.rejects(
    oauth.protectedResourceRequest(
      refreshed.access_token,
      'POST',
      verifyUrl,
      new Headers(headers),
      JSON.stringify({ phoneNumber: '+34666666666' }),
      insecure
    ),
    {
      code: oauth.WWW_AUTHENTICATE_CHALLENGE,
      status: 401,
      cause: [{ scheme: 'dpop', parameters: { error: 'invalid_token' } }]
    }
  )
})

t.test('oauth4webapi adds the camara claims through its assertion hook', async (t) => {
  const { issuer, base } = await startEmulator(t)
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
  const client: oauth.Client = { client_id: 'dpop-camara' }
  const clientAuth = oauth.ClientSecretPost('camara-secret')

  // Without a proof this client is refused
  const state = oauth.generateRandomState()
  const verifier = oauth.generateRandomCodeVerifier()
  const params = await authorizationResponse(as, client, state, await oauth.calculatePKCECodeChallenge(verifier))
  const bare = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    clientAuth,
    params,
    REDIRECT_URI,
    verifier,
    insecure
  )
  await t.rejects(oauth.processAuthorizationCodeResponse(as, client, bare), {
    code: oauth.RESPONSE_BODY_ERROR,
    status: 400,
    error: 'invalid_dpop_proof',
    error_description: 'client "dpop-camara" must send a DPoP proof with every token request (RFC 9449)'
  })

  // What the next proof binds: the API requests' query and body (the token request's too, ignored there)
  let binding: { query: string | undefined, body: string } = { query: undefined, body: '' }
  const DPoP = oauth.DPoP(client, await generateKeyPair('ES256'), {
    [oauth.modifyAssertion]: (_header, payload: JWTPayload) => {
      if (binding.query !== undefined) payload['camara:qh'] = sha256Url(binding.query)
      payload['camara:bh'] = sha256Url(binding.body)
    }
  })
  const tokens = await dpopTokens(as, client, clientAuth, DPoP)
  t.equal(tokens.token_type, 'dpop')

  const body = JSON.stringify({ phoneNumber: '+34666666666' })
  binding = { query: 'x=1', body }
  const headers = new Headers({ 'content-type': 'application/json' })
  const verified = await oauth.protectedResourceRequest(
    tokens.access_token,
    'POST',
    new URL(`${base}/number-verification/v2/verify?x=1`),
    headers,
    body,
    { ...insecure, DPoP }
  )
  t.equal(verified.status, 200)
  t.strictSame(await verified.json(), { devicePhoneNumberVerified: true })

  // A proof that names another body is refused
  binding = { query: undefined, body: JSON.stringify({ phoneNumber: '+34666666667' }) }
  await t.rejects(
    oauth.protectedResourceRequest(
      tokens.access_token,
      'POST',
      new URL(`${base}/number-verification/v2/verify`),
      new Headers(headers),
      body,
      { ...insecure, DPoP }
    ),
    {
      code: oauth.WWW_AUTHENTICATE_CHALLENGE,
      status: 401,
      cause: [
        {
          scheme: 'dpop',
          parameters: {
            error: 'invalid_dpop_proof',
            error_description: 'the DPoP proof camara:bh does not match the request body'
          }
        }
      ]
    }
  )
})
