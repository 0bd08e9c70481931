import t from 'tap'
import { createLocalJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose'
import { pairwiseSubject, type Grant, type Query } from '../../src/core/authorization.js'
import { JWT_BEARER_ASSERTION, type Form } from '../../src/core/client-authentication.js'
import type { Emulator } from '../../src/core/emulator.js'
import { OAuthError } from '../../src/core/errors.js'
import { InjectedError, newLeg, type Leg } from '../../src/core/legs.js'
import { ALREADY_USED, pkceMatches, STRICT_NV_TOKEN_TTL, type TokenResponse } from '../../src/core/token-service.js'
import {
  authorize, buildEmulator, clientAssertion, interleavingSleep, ISSUER, PKCE_CHALLENGE, PKCE_VERIFIER, REDIRECT_URI,
  rejected, SCOPE, SEED_MSISDN, START, START_S
} from './support.js'

const OFFLINE_SCOPE = `${SCOPE} offline_access`
const DEMO_SECRET: Form = { client_id: 'demo-app', client_secret: 'demo-secret' }

async function oauthFailure (promise: Promise<unknown>): Promise<{
  error: string
  description: string
  statusCode: number
}> {
  const error = await rejected(promise)
  if (!(error instanceof OAuthError)) throw error
  return { error: error.error, description: error.description, statusCode: error.statusCode }
}

function invalidGrant (description: string): { error: string, description: string, statusCode: number } {
  return { error: 'invalid_grant', description, statusCode: 400 }
}

async function exchange (emulator: Emulator, code: string, extra: Form = {}, leg?: Leg): Promise<TokenResponse> {
  const form: Form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, ...DEMO_SECRET, ...extra }
  return (await emulator.tokens.token(form, undefined, leg)).response
}

async function refresh (emulator: Emulator, refreshToken: string | undefined, extra: Form = {},
  leg?: Leg): Promise<TokenResponse> {
  const form: Form = { grant_type: 'refresh_token', refresh_token: refreshToken, ...DEMO_SECRET, ...extra }
  return (await emulator.tokens.token(form, undefined, leg)).response
}

/** The resolve failure for a token, or 'ok' */
async function resolution (emulator: Emulator, token: string | undefined): Promise<string> {
  const result = await emulator.tokens.resolveAccessToken(token)
  return 'failure' in result ? result.failure : 'ok'
}

async function verifiedIdToken (emulator: Emulator, idToken: string | undefined,
  now: number): Promise<{ payload: JWTPayload, header: unknown }> {
  const { payload, protectedHeader } = await jwtVerify(idToken ?? '', createLocalJWKSet(emulator.keys.jwks()),
    { currentDate: new Date(now) })
  return { payload, header: protectedHeader }
}

/** The demo-app-jwt flow: PKCE required, private_key_jwt at the token endpoint */
async function jwtClientForm (now: number, code: string, extra: Form = {}): Promise<Form> {
  return {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: PKCE_VERIFIER,
    client_assertion_type: JWT_BEARER_ASSERTION,
    client_assertion: await clientAssertion(now),
    ...extra
  }
}

const PKCE_QUERY: Query = { code_challenge: PKCE_CHALLENGE, code_challenge_method: 'S256' }

/** Writes a stored grant anew with some fields changed (stored values are frozen: never changed in place) */
async function reviseGrant (emulator: Emulator, grantId: string, change: Partial<Grant>): Promise<void> {
  const grant = await emulator.ctx.store.get('grants', grantId)
  if (grant === undefined) throw new Error(`no grant ${grantId}`)
  await emulator.ctx.store.put('grants', grantId, { ...grant, ...change }, grant.expiresAt - emulator.ctx.clock.now())
}

t.test('pkceMatches computes S256 as RFC 7636 appendix B does', async (t) => {
  t.equal(PKCE_CHALLENGE, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')
  t.equal(pkceMatches(PKCE_VERIFIER, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'), true)
  t.equal(pkceMatches(PKCE_VERIFIER, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN'), false)
  t.equal(pkceMatches(PKCE_VERIFIER, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw'), false, 'another length')
  t.equal(pkceMatches(PKCE_VERIFIER, PKCE_VERIFIER), false, 'plain is not S256')
})

t.test('authorization_code', async (t) => {
  t.test('issues a bearer token bound to the network-identified number, and an id_token', async (t) => {
    const { emulator } = await buildEmulator()
    const { code, grantId } = await authorize(emulator)
    const outcome = await emulator.tokens.token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      ...DEMO_SECRET
    }, undefined)
    const { response } = outcome
    t.match(response.access_token, /^[\w-]{43}$/)
    t.strictSame(response,
      {
        access_token: response.access_token,
        token_type: 'Bearer',
        expires_in: 3600,
        scope: SCOPE,
        id_token: response.id_token
      })
    t.equal(outcome.client.method, 'client_secret_post')
    t.equal(outcome.grant.id, grantId)
    const leg = newLeg()
    const resolved = await emulator.tokens.resolveAccessToken(response.access_token, leg)
    t.strictSame(resolved, {
      record: {
        grantId,
        flowId: outcome.grant.flowId,
        clientId: 'demo-app',
        msisdn: SEED_MSISDN,
        operatorId: 'telco-es',
        scopes: ['openid', 'dpv:FraudPreventionAndDetection', 'number-verification:verify'],
        amr: ['nba', 'mnba'],
        expiresAt: START + 3600_000,
        issuedAt: START,
        singleUse: false,
        flowScenarios: []
      }
    })
    t.strictSame(leg.flow,
      { flowId: outcome.grant.flowId, clientId: 'demo-app', msisdn: SEED_MSISDN, operatorId: 'telco-es' })
    t.equal(await resolution(emulator, response.access_token), 'ok', 'usable again outside camara-strict')
  })

  t.test('the id_token carries exactly the OIDC claims, signed by a published key', async (t) => {
    const { emulator, clock } = await buildEmulator()
    const { code } = await authorize(emulator)
    clock.advance(30_000)
    const response = await exchange(emulator, code)
    const { payload, header } = await verifiedIdToken(emulator, response.id_token, clock.now())
    t.strictSame(header, { alg: 'RS256', kid: emulator.keys.key('RS256').kid, typ: 'JWT' })
    t.strictSame(payload, {
      iss: ISSUER,
      sub: pairwiseSubject('camara-nv-emulator', 'demo-app', SEED_MSISDN),
      aud: 'demo-app',
      azp: 'demo-app',
      exp: START_S + 30 + 3600,
      iat: START_S + 30,
      auth_time: START_S,
      nonce: 'n-0S6_WzA2Mj',
      amr: ['nba', 'mnba']
    })
  })

  t.test('the id_token has no nonce when the request had none, and SMS OTP shows in amr', async (t) => {
    const { emulator } = await buildEmulator()
    const { code } = await authorize(emulator, { nonce: undefined }, '81.40.12.35')
    const { payload } = await verifiedIdToken(emulator, (await exchange(emulator, code)).id_token, START)
    t.equal('nonce' in payload, false)
    t.strictSame(payload.amr, ['sms', 'otp'])
    t.equal(payload.sub, pairwiseSubject('camara-nv-emulator', 'demo-app', '+34600000004'))
  })

  t.test('no id_token without openid, no refresh token without offline_access', async (t) => {
    const { emulator } = await buildEmulator()
    const { code } = await authorize(emulator, { scope: 'dpv:FraudPreventionAndDetection number-verification:verify' })
    const response = await exchange(emulator, code)
    t.strictSame(response,
      {
        access_token: response.access_token,
        token_type: 'Bearer',
        expires_in: 3600,
        scope: 'dpv:FraudPreventionAndDetection number-verification:verify'
      })
  })

  t.test('a code is single use: the replay fails and revokes what the first exchange issued', async (t) => {
    const { emulator } = await buildEmulator()
    const { code, grantId } = await authorize(emulator, { scope: OFFLINE_SCOPE })
    const first = await exchange(emulator, code)
    const grant = await emulator.ctx.store.get('grants', grantId)
    t.equal(await resolution(emulator, first.access_token), 'ok')
    t.strictSame(await oauthFailure(exchange(emulator, code)),
      invalidGrant('authorization code was already used; the tokens issued with it are revoked'))
    t.equal(await resolution(emulator, first.access_token), 'access token was revoked (authorization code replayed)')
    t.strictSame(await oauthFailure(refresh(emulator, first.refresh_token)),
      invalidGrant('refresh token is unknown, expired or revoked'))
    t.strictSame(await emulator.ctx.store.get('grants', grantId),
      { ...grant, revoked: true, revokedReason: 'authorization code replayed' }, 'written anew, revoked')
    t.strictSame(await oauthFailure(exchange(emulator, code)),
      invalidGrant('authorization code was already used; the tokens issued with it are revoked'), 'and stays refused')
  })

  t.test('a code expires after its time to live', async (t) => {
    const { emulator, clock } = await buildEmulator()
    const early = (await authorize(emulator)).code
    const late = (await authorize(emulator)).code
    clock.advance(120_000 - 1)
    t.equal(typeof (await exchange(emulator, early)).access_token, 'string', 'one millisecond before expiry')
    clock.advance(1)
    t.strictSame(await oauthFailure(exchange(emulator, late)), invalidGrant('authorization code is unknown or expired'))
    t.strictSame(await oauthFailure(exchange(emulator, 'never-issued')),
      invalidGrant('authorization code is unknown or expired'))
  })

  t.test('a code is bound to the client it was issued to', async (t) => {
    const { emulator, clock } = await buildEmulator()
    const { code } = await authorize(emulator)
    const stolen = await jwtClientForm(clock.now(), code, { code_verifier: undefined })
    t.strictSame(await oauthFailure(emulator.tokens.token(stolen, undefined)),
      invalidGrant('authorization code was issued to another client'))
    t.equal(typeof (await exchange(emulator, code)).access_token, 'string', 'the rightful client can still redeem it')
  })

  t.test('a code is bound to the redirect_uri of the authorization request', async (t) => {
    const { emulator } = await buildEmulator()
    const { code } = await authorize(emulator)
    t.strictSame(await oauthFailure(exchange(emulator, code, { redirect_uri: 'http://localhost:3000/other' })),
      invalidGrant('redirect_uri does not match the one of the authorization request'))
    t.strictSame(await oauthFailure(exchange(emulator, code, { redirect_uri: undefined })),
      { error: 'invalid_request', description: 'redirect_uri is required', statusCode: 400 })
    t.strictSame(await oauthFailure(exchange(emulator, '')),
      { error: 'invalid_request', description: 'code is required', statusCode: 400 })
  })

  t.test('PKCE S256: the right verifier passes, a wrong or missing one fails', async (t) => {
    const { emulator, clock } = await buildEmulator()
    const redeem = async (extra: Form): Promise<unknown> => {
      const { code } = await authorize(emulator, { client_id: 'demo-app-jwt', ...PKCE_QUERY })
      return await emulator.tokens.token(await jwtClientForm(clock.now(), code, extra), undefined)
    }
    const ok = await redeem({}) as { response: TokenResponse, client: { method: string } }
    t.equal(ok.client.method, 'private_key_jwt')
    t.equal(ok.response.token_type, 'Bearer')
    t.strictSame(await oauthFailure(redeem({ code_verifier: `${PKCE_VERIFIER.slice(0, -1)}l` })),
      invalidGrant('PKCE verification failed: code_verifier does not match code_challenge'))
    t.strictSame(await oauthFailure(redeem({ code_verifier: undefined })),
      invalidGrant('code_verifier is required: the authorization request had a code_challenge'))
    t.strictSame(await oauthFailure(redeem({ code_verifier: PKCE_CHALLENGE.slice(0, 42) })),
      {
        error: 'invalid_request',
        description: 'code_verifier must be 43-128 characters of [A-Za-z0-9-._~]',
        statusCode: 400
      })
  })

  t.test('a verifier sent for a code without challenge fails', async (t) => {
    const { emulator } = await buildEmulator()
    const { code } = await authorize(emulator)
    t.strictSame(await oauthFailure(exchange(emulator, code, { code_verifier: PKCE_VERIFIER })),
      invalidGrant('code_verifier sent but the authorization request had no code_challenge'))
  })

  t.test('a code whose grant is gone or revoked is refused', async (t) => {
    const { emulator } = await buildEmulator()
    const gone = await authorize(emulator)
    await emulator.ctx.store.delete('grants', gone.grantId)
    t.strictSame(await oauthFailure(exchange(emulator, gone.code)),
      invalidGrant('the grant behind this code is no longer valid'))
    const revoked = await authorize(emulator)
    await reviseGrant(emulator, revoked.grantId, { revoked: true })
    t.strictSame(await oauthFailure(exchange(emulator, revoked.code)),
      invalidGrant('the grant behind this code is no longer valid'))
  })
})

t.test('refresh_token', async (t) => {
  t.test('rotates: a new access and refresh token, same scope, an id_token without nonce', async (t) => {
    const { emulator, clock } = await buildEmulator()
    const { code } = await authorize(emulator, { scope: OFFLINE_SCOPE })
    const first = await exchange(emulator, code)
    t.match(first.refresh_token, /^[\w-]{43}$/)
    clock.advance(600_000)
    const second = await refresh(emulator, first.refresh_token)
    t.strictSame(second, {
      access_token: second.access_token,
      token_type: 'Bearer',
      expires_in: 3600,
      scope: OFFLINE_SCOPE,
      refresh_token: second.refresh_token,
      id_token: second.id_token
    })
    t.not(second.access_token, first.access_token)
    t.not(second.refresh_token, first.refresh_token)
    const { payload } = await verifiedIdToken(emulator, second.id_token, clock.now())
    t.equal('nonce' in payload, false, 'nonce belongs to the authentication response only')
    t.equal(payload.auth_time, START_S, 'the user authenticated at the original time')
    t.equal(payload.iat, START_S + 600)
    t.equal(await resolution(emulator, first.access_token), 'ok',
      'rotation alone does not revoke the earlier access token')
    t.equal(await resolution(emulator, second.access_token), 'ok')
  })

  t.test('reusing a rotated refresh token revokes every token of the grant', async (t) => {
    const { emulator } = await buildEmulator()
    const { code } = await authorize(emulator, { scope: OFFLINE_SCOPE })
    const first = await exchange(emulator, code)
    const second = await refresh(emulator, first.refresh_token)
    t.strictSame(await oauthFailure(refresh(emulator, first.refresh_token)),
      invalidGrant('refresh token was already used (rotation): every token of this grant is revoked'))
    t.equal(await resolution(emulator, second.access_token), 'access token was revoked (refresh token reused)')
    t.equal(await resolution(emulator, first.access_token), 'access token was revoked (refresh token reused)')
    t.strictSame(await oauthFailure(refresh(emulator, second.refresh_token)),
      invalidGrant('refresh token is unknown, expired or revoked'))
  })

  t.test('a refresh token is bound to its client', async (t) => {
    const { emulator, clock } = await buildEmulator()
    const { code } = await authorize(emulator, { scope: OFFLINE_SCOPE })
    const first = await exchange(emulator, code)
    const form: Form = {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      client_assertion_type: JWT_BEARER_ASSERTION,
      client_assertion: await clientAssertion(clock.now())
    }
    t.strictSame(await oauthFailure(emulator.tokens.token(form, undefined)),
      invalidGrant('refresh token was issued to another client'))
    t.equal(typeof (await refresh(emulator, first.refresh_token)).refresh_token, 'string',
      'still good for its own client')
  })

  t.test('may narrow the scope, never widen it', async (t) => {
    const { emulator } = await buildEmulator()
    const { code } = await authorize(emulator, { scope: OFFLINE_SCOPE })
    const first = await exchange(emulator, code)
    t.strictSame(await oauthFailure(refresh(emulator, first.refresh_token,
      { scope: 'number-verification:verify number-verification:device-phone-number:read' })),
    {
      error: 'invalid_scope',
      description: 'scope exceeds the original grant: number-verification:device-phone-number:read',
      statusCode: 400
    })
    const narrowed = await refresh(emulator, first.refresh_token, { scope: 'number-verification:verify' })
    t.strictSame(narrowed,
      {
        access_token: narrowed.access_token,
        token_type: 'Bearer',
        expires_in: 3600,
        scope: 'number-verification:verify'
      },
      'the refused request did not spend the refresh token; without offline_access and openid, no refresh token and ' +
        'no id_token')
    const resolved = await emulator.tokens.resolveAccessToken(narrowed.access_token)
    t.strictSame('record' in resolved ? resolved.record.scopes : undefined, ['number-verification:verify'])
  })

  t.test('unknown and expired refresh tokens are refused', async (t) => {
    const { emulator, clock } = await buildEmulator({ settings: { refreshTokenTtl: 7200 } })
    const { code } = await authorize(emulator, { scope: OFFLINE_SCOPE })
    const first = await exchange(emulator, code)
    t.strictSame(await oauthFailure(refresh(emulator, 'never-issued')),
      invalidGrant('refresh token is unknown, expired or revoked'))
    t.strictSame(await oauthFailure(refresh(emulator, first.access_token)),
      invalidGrant('refresh token is unknown, expired or revoked'), 'an access token is no refresh token')
    t.strictSame(await oauthFailure(refresh(emulator, undefined)),
      { error: 'invalid_request', description: 'refresh_token is required', statusCode: 400 })
    clock.advance(7200_000)
    t.strictSame(await oauthFailure(refresh(emulator, first.refresh_token)),
      invalidGrant('refresh token is unknown, expired or revoked'))
  })

  t.test('a refresh token whose grant is gone is refused', async (t) => {
    const { emulator } = await buildEmulator()
    const { code, grantId } = await authorize(emulator, { scope: OFFLINE_SCOPE })
    const first = await exchange(emulator, code)
    await emulator.ctx.store.delete('grants', grantId)
    t.strictSame(await oauthFailure(refresh(emulator, first.refresh_token)),
      invalidGrant('refresh token is unknown, expired or revoked'))
  })
})

t.test('--max-grants: client_credentials and minted tokens get 503 temporarily_unavailable at the cap', async (t) => {
  const { emulator } = await buildEmulator({ settings: { maxGrants: 1 } })
  const full = {
    error: 'temporarily_unavailable',
    description: 'this emulator keeps at most 1 live grants (--max-grants); try again once some have expired',
    statusCode: 503
  }
  const { code } = await authorize(emulator)
  await exchange(emulator, code)
  t.equal((await emulator.ctx.store.sizes()).grants, 1, 'a redeemed code keeps its one grant')
  t.strictSame(
    await oauthFailure(
      emulator.tokens.token(
        {
          grant_type: 'client_credentials',
          scope: 'dpv:FraudPreventionAndDetection number-verification:verify',
          ...DEMO_SECRET
        },
        undefined
      )
    ),
    full
  )
  t.strictSame(
    await oauthFailure(emulator.tokens.mint({ clientId: 'demo-app', msisdn: SEED_MSISDN, scope: SCOPE })),
    full
  )
  t.equal((await emulator.ctx.store.sizes()).accessTokens, 1, 'nothing issued past the cap')
})

t.test('client_credentials', async (t) => {
  const { emulator } = await buildEmulator()
  const clientCredentials = (scope: string | undefined) => emulator.tokens.token({
    grant_type: 'client_credentials',
    scope,
    ...DEMO_SECRET
  }, undefined)

  t.test('issues a token that names no subscriber, with no id_token and no refresh token', async (t) => {
    const { response, grant } = await clientCredentials('dpv:FraudPreventionAndDetection number-verification:verify')
    t.strictSame(response,
      {
        access_token: response.access_token,
        token_type: 'Bearer',
        expires_in: 3600,
        scope: 'dpv:FraudPreventionAndDetection number-verification:verify'
      })
    t.strictSame(grant, {
      id: grant.id,
      flowId: grant.flowId,
      clientId: 'demo-app',
      msisdn: undefined,
      operatorId: undefined,
      sub: 'demo-app',
      scopes: ['dpv:FraudPreventionAndDetection', 'number-verification:verify'],
      amr: [],
      authTime: START_S,
      nonce: undefined,
      openid: false,
      offlineAccess: false,
      flowScenarios: [],
      expiresAt: START + 3600_000,
      revoked: false
    })
    t.strictSame(await emulator.ctx.store.get('grants', grant.id), grant, 'stored once issued')
    const resolved = await emulator.tokens.resolveAccessToken(response.access_token)
    t.equal('record' in resolved ? resolved.record.msisdn : 'failed', undefined)
    t.strictSame('record' in resolved ? resolved.record.amr : 'failed', [])
  })

  t.test('an empty scope gives a token for nothing', async (t) => {
    t.equal((await clientCredentials(undefined)).response.scope, '')
  })

  t.test('refuses openid, offline_access and scopes the client may not have', async (t) => {
    for (const scope of ['openid', 'offline_access', 'number-verification:verify sim-swap:check']) {
      const refused = scope.split(' ').filter((s) => s !== 'number-verification:verify').join(' ')
      t.strictSame(await oauthFailure(clientCredentials(scope)),
        {
          error: 'invalid_scope',
          description: `scope not available with client_credentials for this client: ${refused}`,
          statusCode: 400
        },
        scope)
    }
  })
})

t.test('token request checks', async (t) => {
  const { emulator } = await buildEmulator()
  t.strictSame(await oauthFailure(emulator.tokens.token({ ...DEMO_SECRET }, undefined)),
    { error: 'invalid_request', description: 'grant_type is required', statusCode: 400 })
  t.strictSame(
    await oauthFailure(emulator.tokens.token({ grant_type: 'password', client_id: 'nobody' }, undefined)),
    {
      error: 'unsupported_grant_type',
      description:
        'grant_type "password" is not supported; use authorization_code, refresh_token, client_credentials, ' +
          'urn:ietf:params:oauth:grant-type:jwt-bearer, urn:openid:params:grant-type:ciba',
      statusCode: 400
    },
    'before client authentication'
  )
  t.strictSame(await oauthFailure(emulator.tokens.token({
    grant_type: 'client_credentials',
    client_id: 'demo-app',
    client_secret: 'wrong'
  }, undefined)),
  { error: 'invalid_client', description: 'client authentication failed', statusCode: 401 })
})

t.test('resolveAccessToken', async (t) => {
  const { emulator, clock } = await buildEmulator()
  const { code } = await authorize(emulator)
  const { access_token: token } = await exchange(emulator, code)
  t.equal(await resolution(emulator, undefined), 'no access token')
  t.equal(await resolution(emulator, ''), 'no access token')
  t.equal(await resolution(emulator, 'never-issued'), 'access token is unknown or expired')
  clock.advance(3600_000 - 1)
  t.equal(await resolution(emulator, token), 'ok')
  clock.advance(1)
  t.equal(await resolution(emulator, token), 'access token is unknown or expired')
})

t.test('camara-strict', async (t) => {
  const strict = async (settings: { accessTokenTtl?: number } = {}) =>
    await buildEmulator({ settings: { profile: 'camara-strict', ...settings } })
  const redeem = async (emulator: Emulator, now: number, scope = OFFLINE_SCOPE): Promise<TokenResponse> => {
    const { code } = await authorize(emulator, { client_id: 'demo-app-jwt', scope, ...PKCE_QUERY })
    return (await emulator.tokens.token(await jwtClientForm(now, code), undefined)).response
  }

  t.test('a Number Verification token lives at most 300 s, serves one call and comes without refresh token',
    async (t) => {
      const { emulator, clock } = await strict()
      const response = await redeem(emulator, clock.now())
      t.strictSame(response,
        {
          access_token: response.access_token,
          token_type: 'Bearer',
          expires_in: STRICT_NV_TOKEN_TTL,
          scope: OFFLINE_SCOPE,
          id_token: response.id_token
        })
      t.equal(STRICT_NV_TOKEN_TTL, 300)
      t.equal(decodeJwt(response.id_token ?? '').exp, START_S + 300)
      t.equal(await resolution(emulator, response.access_token), 'ok')
      t.equal(await resolution(emulator, response.access_token), 'ok', 'resolving does not spend it')
      const record = await emulator.ctx.store.get('accessTokens', response.access_token)
      if (record === undefined) throw new Error('no token record')
      t.equal(record.singleUse, true)
      t.equal(await emulator.tokens.spendAccessToken(response.access_token, record), true, 'the first call spends it')
      t.equal(await emulator.tokens.spendAccessToken(response.access_token, record), false, 'a second call cannot')
      t.equal(await resolution(emulator, response.access_token), ALREADY_USED)
      t.equal(ALREADY_USED, 'access token was already used (camara-strict: one API call per token)')
      const unused = await redeem(emulator, clock.now())
      clock.advance(300_000)
      t.equal(await resolution(emulator, unused.access_token), 'access token is unknown or expired')
    })

  t.test('a shorter configured lifetime is kept', async (t) => {
    const { emulator, clock } = await strict({ accessTokenTtl: 120 })
    t.equal((await redeem(emulator, clock.now())).expires_in, 120)
  })

  t.test('tokens without a Number Verification scope keep the default rules', async (t) => {
    const { emulator, clock } = await strict()
    const form: Form = {
      grant_type: 'client_credentials',
      scope: 'dpv:FraudPreventionAndDetection',
      client_assertion_type: JWT_BEARER_ASSERTION,
      client_assertion: await clientAssertion(clock.now())
    }
    const { response } = await emulator.tokens.token(form, undefined)
    t.equal(response.expires_in, 3600)
    const record = await emulator.ctx.store.get('accessTokens', response.access_token)
    if (record === undefined) throw new Error('no token record')
    t.equal(record.singleUse, false)
    t.equal(await emulator.tokens.spendAccessToken(response.access_token, record), true)
    t.equal(await emulator.tokens.spendAccessToken(response.access_token, record), true, 'spending is a no-op')
    t.equal(await resolution(emulator, response.access_token), 'ok')
  })

  t.test('client secrets are refused', async (t) => {
    const { emulator } = await strict()
    const { code } = await authorize(emulator)
    t.strictSame(await oauthFailure(exchange(emulator, code)),
      {
        error: 'invalid_client',
        description: 'the camara-strict profile requires private_key_jwt client authentication',
        statusCode: 401
      })
  })
})

/** Each outcome: the response, or the OAuth error's code and description */
async function settle (runs: Array<Promise<TokenResponse>>): Promise<Array<TokenResponse | {
  error: string
  description: string
}>> {
  return (await Promise.allSettled(runs)).map((outcome) => {
    if (outcome.status === 'fulfilled') return outcome.value
    if (!(outcome.reason instanceof OAuthError)) throw outcome.reason
    return { error: outcome.reason.error, description: outcome.reason.description }
  })
}

function successes (outcomes: Array<TokenResponse | { error: string }>): TokenResponse[] {
  return outcomes.filter((outcome): outcome is TokenResponse => 'access_token' in outcome)
}

const REPLAYED = 'authorization code was already used; the tokens issued with it are revoked'
const REUSED = 'refresh token was already used (rotation): every token of this grant is revoked'

t.test('single use under parallel redemptions', async (t) => {
  const withLatency = async (activate: boolean) => {
    const built = await buildEmulator({ sleep: interleavingSleep })
    built.emulator.scenarios.define({
      name: 'slow-token',
      description: 'the token endpoint takes 50 ms',
      match: { operations: ['token'] },
      effects: { latency: { fixedMs: 50 } }
    })
    if (activate) built.emulator.scenarios.activate('slow-token')
    return built
  }
  const variants: Array<[string, boolean, string[]]> = [
    ['a latency scenario activated', true, []],
    ['a latency scenario in the header', false, ['slow-token']],
    ['no latency', false, []]
  ]

  for (const [variant, activate, header] of variants) {
    t.test(`10 parallel redemptions of one code: one success, 9 replays that revoke it (${variant})`, async (t) => {
      const { emulator } = await withLatency(activate)
      const { code, grantId } = await authorize(emulator)
      const outcomes = await settle(Array.from({ length: 10 },
        async () => await exchange(emulator, code, {}, newLeg(header))))
      const won = successes(outcomes)
      t.equal(won.length, 1)
      t.strictSame(outcomes.filter((outcome) => !('access_token' in outcome)),
        Array(9).fill({ error: 'invalid_grant', description: REPLAYED }))
      t.equal(await resolution(emulator, won[0]?.access_token),
        'access token was revoked (authorization code replayed)')
      t.strictSame(await emulator.ctx.store.get('revocations', grantId), { reason: 'authorization code replayed' },
        'revoked, though the winner wrote the grant anew for its tokens')
    })

    t.test(`10 parallel uses of one refresh token: one success, and the reuse revokes the grant (${variant})`,
      async (t) => {
        const { emulator } = await withLatency(activate)
        const { code } = await authorize(emulator, { scope: OFFLINE_SCOPE })
        const first = await exchange(emulator, code)
        const outcomes = await settle(Array.from({ length: 10 },
          async () => await refresh(emulator, first.refresh_token, {}, newLeg(header))))
        const won = successes(outcomes)
        t.equal(won.length, 1)
        const refused = outcomes.filter((outcome) => !('access_token' in outcome))
        t.strictSame(refused, Array(9).fill({ error: 'invalid_grant', description: REUSED }))
        t.equal(await resolution(emulator, won[0]?.access_token), 'access token was revoked (refresh token reused)')
        t.equal(await resolution(emulator, first.access_token), 'access token was revoked (refresh token reused)')
      })
  }
})

t.test('an injected error at the token endpoint leaves the credential usable', async (t) => {
  t.test('a code: the retry without the scenario succeeds', async (t) => {
    const { emulator } = await buildEmulator()
    const { code } = await authorize(emulator)
    const leg = newLeg(['token-server-error'])
    const error = await rejected(exchange(emulator, code, {}, leg))
    if (!(error instanceof InjectedError)) throw error
    t.strictSame(error.problem, {
      kind: 'oauth',
      scenario: 'token-server-error',
      error: 'server_error',
      status: 500,
      description: 'The authorization server encountered an unexpected condition.'
    })
    t.equal(error.redirect, undefined)
    t.equal(leg.flow.msisdn, SEED_MSISDN, 'the leg names the flow of the refused request')
    t.strictSame(await emulator.ctx.store.sizes().then((sizes) => sizes.accessTokens), 0, 'nothing issued')
    const retry = await exchange(emulator, code)
    t.equal(await resolution(emulator, retry.access_token), 'ok')
  })

  t.test('a code, with an activation for the next request only', async (t) => {
    const { emulator } = await buildEmulator()
    const { code } = await authorize(emulator)
    emulator.scenarios.activate('token-invalid-grant', { remaining: 1 })
    const error = await rejected(exchange(emulator, code))
    if (!(error instanceof InjectedError)) throw error
    t.equal('error' in error.problem ? error.problem.error : undefined, 'invalid_grant')
    t.equal(await resolution(emulator, (await exchange(emulator, code)).access_token), 'ok')
  })

  t.test('a refresh token: the retry rotates it as usual', async (t) => {
    const { emulator } = await buildEmulator()
    const { code } = await authorize(emulator, { scope: OFFLINE_SCOPE })
    const first = await exchange(emulator, code)
    await t.rejects(refresh(emulator, first.refresh_token, {}, newLeg(['token-server-error'])), InjectedError)
    const second = await refresh(emulator, first.refresh_token)
    t.equal(await resolution(emulator, second.access_token), 'ok')
    t.equal(await resolution(emulator, first.access_token), 'ok', 'no reuse was seen')
  })

  t.test('client_credentials: nothing is stored for the refused request', async (t) => {
    const { emulator } = await buildEmulator()
    const form: Form = { grant_type: 'client_credentials', scope: 'dpv:FraudPreventionAndDetection', ...DEMO_SECRET }
    await t.rejects(emulator.tokens.token(form, undefined, newLeg(['token-server-error'])), InjectedError)
    t.strictSame(await emulator.ctx.store.sizes().then((sizes) => [sizes.grants, sizes.accessTokens]), [0, 0])
  })

  t.test('an unknown scenario name fails before anything is spent', async (t) => {
    const { emulator } = await buildEmulator()
    const { code } = await authorize(emulator)
    const error = await rejected(exchange(emulator, code, {}, newLeg(['no-such-scenario'])))
    if (!(error instanceof InjectedError)) throw error
    t.strictSame(error.problem, { unknown: ['no-such-scenario'] })
    t.equal(typeof (await exchange(emulator, code)).access_token, 'string')
  })
})

t.test('mint', async (t) => {
  t.test('issues tokens as if the whole flow had run, bound to the subscriber and its operator', async (t) => {
    const { emulator } = await buildEmulator()
    const minted = await emulator.tokens.mint({ clientId: 'demo-app', msisdn: SEED_MSISDN, scope: OFFLINE_SCOPE })
    t.strictSame(minted, {
      access_token: minted.access_token,
      token_type: 'Bearer',
      expires_in: 3600,
      scope: OFFLINE_SCOPE,
      refresh_token: minted.refresh_token,
      id_token: minted.id_token,
      flowId: minted.flowId
    })
    const resolved = await emulator.tokens.resolveAccessToken(minted.access_token)
    t.strictSame('record' in resolved ? [resolved.record.operatorId, resolved.record.amr] : resolved,
      ['telco-es', ['nba', 'mnba']])
  })

  t.test('a number no fixture knows has no operator; a token without number has no amr', async (t) => {
    const { emulator } = await buildEmulator()
    const unknown = await emulator.tokens.mint({
      clientId: 'demo-app',
      msisdn: '+34699999999',
      scope: SCOPE,
      scenarios: ['slow-network']
    })
    const record = await emulator.ctx.store.get('accessTokens', unknown.access_token)
    t.strictSame([record?.operatorId, record?.flowScenarios], [undefined, ['slow-network']])
    const anonymous = await emulator.tokens.mint({ clientId: 'demo-app', scope: SCOPE })
    t.equal(anonymous.id_token, undefined, 'no id_token without a subscriber')
    const grant = await emulator.ctx.store.get('grants',
      (await emulator.ctx.store.get('accessTokens', anonymous.access_token))?.grantId ?? '')
    t.strictSame([grant?.sub, grant?.amr, grant?.msisdn], ['demo-app', [], undefined])
  })

  t.test('refuses an unknown client', async (t) => {
    const { emulator } = await buildEmulator()
    t.strictSame(await oauthFailure(emulator.tokens.mint({ clientId: 'nobody', scope: SCOPE })),
      { error: 'invalid_client', description: 'client_id "nobody" is not registered', statusCode: 401 })
  })
})
