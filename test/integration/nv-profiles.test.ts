// Token rules per profile, seen from the Number Verification API. camara-strict applies CAMARA's
// work-in-progress rules to NV scopes: private_key_jwt at the token endpoint, 300 s lifetime, no
// refresh token, one API call per access token. The default profile follows the seed: 3600 s,
// a refresh token with offline_access, tokens reusable until they expire.
import { createHash, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { importJWK, SignJWT, type JWK } from 'jose'
import type { ManualClock } from '../../src/core/clock.js'
import { PATH_FAMILIES } from '../../src/routes/number-verification/family.js'
import { buildTestApp, REDIRECT_URI } from '../helpers/app.js'
import { authorizeDevice, NV_SCOPES, obtainTokens, type Tokens } from '../helpers/flow.js'
import {
  assertCamaraError, getShare, messagesOf, postVerify, REUSABLE_TOKEN_FAMILIES, SEED_KONERA, SEED_MSISDN
} from '../routes/number-verification/support.js'

const TOKEN_PATH = '/camara/api/auth/v1/token'
const TOKEN_ENDPOINT = `http://emulator.test${TOKEN_PATH}`
const FORM = 'application/x-www-form-urlencoded'
const CLIENT_ID = 'demo-app-jwt'
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const DEMO_KEY = JSON.parse(
  readFileSync(new URL('../../fixtures/keys/demo-app-jwt.private.jwk.json', import.meta.url), 'utf8')
) as JWK
const ALREADY_USED = 'access token was already used (camara-strict: one API call per token)'

/** A fresh private_key_jwt client assertion of demo-app-jwt, timed on the emulator clock */
async function clientAssertion (clock: ManualClock): Promise<string> {
  const key = await importJWK(DEMO_KEY, 'ES256')
  const iat = Math.floor(clock.now() / 1000)
  return await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'demo-app-jwt-es256' })
    .setIssuer(CLIENT_ID)
    .setSubject(CLIENT_ID)
    .setAudience(TOKEN_ENDPOINT)
    .setJti(randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(iat + 60)
    .sign(key)
}

interface TokenAnswer { statusCode: number, headers: Record<string, unknown>, body: Record<string, unknown> }

async function tokenRequest (app: FastifyInstance, form: Record<string, string>): Promise<TokenAnswer> {
  const res = await app.inject({
    method: 'POST',
    url: TOKEN_PATH,
    headers: { 'content-type': FORM },
    payload: new URLSearchParams(form).toString()
  })
  return { statusCode: res.statusCode, headers: res.headers, body: res.json() }
}

/**
 * The whole flow as demo-app-jwt: PKCE S256 at authorize, code_verifier and a signed assertion at the token endpoint
 */
async function obtainJwtClientTokens (
  app: FastifyInstance,
  clock: ManualClock,
  scope = NV_SCOPES
): Promise<TokenAnswer> {
  const verifier = `${randomUUID()}-${randomUUID()}`
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  const callback = await authorizeDevice(app, {
    clientId: CLIENT_ID,
    konera: SEED_KONERA,
    scope,
    extraQuery: { code_challenge: challenge, code_challenge_method: 'S256' }
  })
  const code = callback.searchParams.get('code')
  if (code === null) throw new Error(`no code: ${callback.toString()}`)
  return await tokenRequest(app, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    client_id: CLIENT_ID,
    code_verifier: verifier,
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: await clientAssertion(clock)
  })
}

t.test('camara-strict profile', async (t) => {
  t.test('the token endpoint requires private_key_jwt: client_secret_post and Basic are refused', async (t) => {
    const { app } = await buildTestApp(t, { profile: 'camara-strict' })
    const callback = await authorizeDevice(app, { konera: SEED_KONERA })
    const code = callback.searchParams.get('code') ?? ''
    const post = await tokenRequest(app, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: 'demo-app',
      client_secret: 'demo-secret'
    })
    t.equal(post.statusCode, 401)
    t.strictSame(post.body, {
      error: 'invalid_client',
      error_description: 'the camara-strict profile requires private_key_jwt client authentication'
    })
    t.equal(post.headers['cache-control'], 'no-store')
    const basic = await app.inject({
      method: 'POST',
      url: TOKEN_PATH,
      headers: {
        'content-type': FORM,
        authorization: `Basic ${Buffer.from('demo-app:demo-secret').toString('base64')}`
      },
      payload: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI }).toString()
    })
    t.equal(basic.statusCode, 401)
    t.strictSame(basic.json(), {
      error: 'invalid_client',
      error_description: 'the camara-strict profile requires private_key_jwt client authentication'
    })
  })

  t.test('private_key_jwt gets a 300 s token and no refresh token, even with offline_access', async (t) => {
    const { app, clock } = await buildTestApp(t, { profile: 'camara-strict' })
    const answer = await obtainJwtClientTokens(app, clock, `${NV_SCOPES} offline_access`)
    t.equal(answer.statusCode, 200)
    t.equal(answer.headers['cache-control'], 'no-store')
    const tokens = answer.body as unknown as Tokens
    t.equal(tokens.token_type, 'Bearer')
    t.equal(tokens.expires_in, 300)
    t.equal(tokens.refresh_token, undefined)
    t.notOk('refresh_token' in answer.body, 'no refresh_token property at all')
    t.equal(typeof tokens.id_token, 'string')
    t.match(tokens.scope, /number-verification:verify/)
  })

  for (const family of PATH_FAMILIES) {
    t.test(`${family.prefix}: an access token serves one call; the second is 401 UNAUTHENTICATED`, async (t) => {
      const { app, clock } = await buildTestApp(t, { profile: 'camara-strict' })
      const token = String((await obtainJwtClientTokens(app, clock)).body.access_token)
      const first = await postVerify(app, family, { token, payload: { phoneNumber: SEED_MSISDN } })
      t.equal(first.statusCode, 200)
      t.equal((first.json() as { devicePhoneNumberVerified: boolean }).devicePhoneNumberVerified, true)
      const second = await postVerify(app, family, {
        token,
        payload: { phoneNumber: SEED_MSISDN },
        headers: { 'x-correlator': 'second-call' }
      })
      assertCamaraError(t, second, {
        status: 401,
        code: 'UNAUTHENTICATED',
        message: messagesOf(family).unauthenticated,
        reason: ALREADY_USED,
        correlator: 'second-call'
      })
      const share = await getShare(app, family, { token })
      assertCamaraError(t, share, {
        status: 401,
        code: 'UNAUTHENTICATED',
        message: messagesOf(family).unauthenticated,
        reason: ALREADY_USED
      })

      const shareToken = String((await obtainJwtClientTokens(app, clock)).body.access_token)
      const shared = await getShare(app, family, { token: shareToken })
      t.equal(shared.statusCode, 200)
      t.strictSame(shared.json(), { devicePhoneNumber: SEED_MSISDN })
      const again = await getShare(app, family, { token: shareToken })
      assertCamaraError(t, again, {
        status: 401,
        code: 'UNAUTHENTICATED',
        message: messagesOf(family).unauthenticated,
        reason: ALREADY_USED
      })
    })
  }

  t.test('the token expires after 300 s even when unused', async (t) => {
    const { app, clock } = await buildTestApp(t, { profile: 'camara-strict' })
    const family = PATH_FAMILIES[0]
    if (family === undefined) throw new Error('no path family')
    const first = String((await obtainJwtClientTokens(app, clock)).body.access_token)
    const unused = String((await obtainJwtClientTokens(app, clock)).body.access_token)
    clock.advance(299 * 1000)
    const inTime = await postVerify(app, family, { token: first, payload: { phoneNumber: SEED_MSISDN } })
    t.equal(inTime.statusCode, 200, 'usable at 299 s')
    clock.advance(2 * 1000)
    const expired = await postVerify(app, family, { token: unused, payload: { phoneNumber: SEED_MSISDN } })
    assertCamaraError(t, expired, {
      status: 401,
      code: 'UNAUTHENTICATED',
      message: messagesOf(family).unauthenticated,
      reason: 'access token is unknown or expired'
    })
  })
})

t.test('default profile', async (t) => {
  t.test('3600 s tokens, a refresh token with offline_access, none without', async (t) => {
    const { app } = await buildTestApp(t)
    const offline = await obtainTokens(app, { konera: SEED_KONERA, scope: `${NV_SCOPES} offline_access` })
    t.equal(offline.expires_in, 3600)
    t.equal(typeof offline.refresh_token, 'string')
    const online = await obtainTokens(app, { konera: SEED_KONERA })
    t.equal(online.expires_in, 3600)
    t.equal(online.refresh_token, undefined)

    const refreshed = await tokenRequest(app, {
      grant_type: 'refresh_token',
      refresh_token: offline.refresh_token ?? '',
      client_id: 'demo-app',
      client_secret: 'demo-secret'
    })
    t.equal(refreshed.statusCode, 200)
    t.equal(refreshed.body.expires_in, 3600)
    const family = PATH_FAMILIES[0]
    if (family === undefined) throw new Error('no path family')
    const res = await postVerify(app, family, {
      token: String(refreshed.body.access_token),
      payload: { phoneNumber: SEED_MSISDN }
    })
    t.equal(res.statusCode, 200, 'the refreshed access token stays bound to the device number')
    t.equal((res.json() as { devicePhoneNumberVerified: boolean }).devicePhoneNumberVerified, true)
  })

  t.test('private_key_jwt is accepted too, with the seed lifetime', async (t) => {
    const { app, clock } = await buildTestApp(t)
    const answer = await obtainJwtClientTokens(app, clock, `${NV_SCOPES} offline_access`)
    t.equal(answer.statusCode, 200)
    t.equal(answer.body.expires_in, 3600)
    t.equal(typeof answer.body.refresh_token, 'string')
  })

  t.test('an access token serves any number of calls on every family but /vwip until it expires', async (t) => {
    const { app } = await buildTestApp(t)
    const { access_token: token } = await obtainTokens(app, { konera: SEED_KONERA })
    for (const family of REUSABLE_TOKEN_FAMILIES) {
      for (let call = 0; call < 3; call++) {
        const verify = await postVerify(app, family, { token, payload: { phoneNumber: SEED_MSISDN } })
        t.equal(verify.statusCode, 200, `${family.id} verify call ${call + 1}`)
        const share = await getShare(app, family, { token })
        t.equal(share.statusCode, 200, `${family.id} share call ${call + 1}`)
      }
    }
  })
})
