// Codes and tokens as an attacker would try them: a replayed or stolen code, a PKCE downgrade or
// a wrong verifier, a reused refresh token. Each refusal is exact, and a replay revokes.
import t from 'tap'
import { buildTestApp, REDIRECT_URI } from '../helpers/app.js'
import { codeForm, tokenRequest, verify } from '../helpers/flow.js'
import { assertionForm, authorize, CHALLENGE, clientAssertion, codeFor, VERIFIER } from './support.js'

const NO_STORE = { 'cache-control': 'no-store' }

t.test('a replayed code is refused and revokes the tokens of its first exchange', async (t) => {
  const { app } = await buildTestApp(t)
  const code = await codeFor(app)
  const first = await tokenRequest(app, codeForm(code))
  t.equal(first.statusCode, 200)
  const accessToken = (first.json() as { access_token: string }).access_token
  t.equal((await verify(app, accessToken)).statusCode, 200, 'the token works before the replay')
  const replay = await tokenRequest(app, codeForm(code))
  t.equal(replay.statusCode, 400)
  t.match(replay.headers, NO_STORE)
  t.strictSame(replay.json(), {
    error: 'invalid_grant',
    error_description: 'authorization code was already used; the tokens issued with it are revoked'
  })
  const after = await verify(app, accessToken)
  t.equal(after.statusCode, 401, 'the first exchange\'s access token is revoked')
  t.equal((after.json() as { code: string }).code, 'UNAUTHENTICATED')
})

t.test('a code issued to one client cannot be redeemed by another', async (t) => {
  const { app, clock } = await buildTestApp(t)
  // demo-app's code, presented by demo-app-jwt with a valid assertion
  const stolen = await codeFor(app)
  const byJwtClient = await tokenRequest(
    app,
    assertionForm(stolen, await clientAssertion(clock.now() / 1000), { code_verifier: undefined })
  )
  t.equal(byJwtClient.statusCode, 400)
  t.strictSame(byJwtClient.json(), {
    error: 'invalid_grant',
    error_description: 'authorization code was issued to another client'
  })
  // demo-app-jwt's code (with PKCE), presented by demo-app with its secret and the right verifier
  const jwtCode = await codeFor(app, {
    client_id: 'demo-app-jwt',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256'
  })
  const bySecretClient = await tokenRequest(app, codeForm(jwtCode, { code_verifier: VERIFIER }))
  t.equal(bySecretClient.statusCode, 400)
  t.strictSame(bySecretClient.json(), {
    error: 'invalid_grant',
    error_description: 'authorization code was issued to another client'
  })
})

t.test(
  'PKCE cannot be downgraded: no verifier, plain method, a client that requires PKCE, or a verifier injected later',
  async (t) => {
    const { app } = await buildTestApp(t)
    const withChallenge = await codeFor(app, { code_challenge: CHALLENGE, code_challenge_method: 'S256' })
    const noVerifier = await tokenRequest(app, codeForm(withChallenge))
    t.equal(noVerifier.statusCode, 400)
    t.strictSame(noVerifier.json(), {
      error: 'invalid_grant',
      error_description: 'code_verifier is required: the authorization request had a code_challenge'
    })

    const plain = await authorize(app, { code_challenge: VERIFIER, code_challenge_method: 'plain' })
    t.equal(`${plain.origin}${plain.pathname}`, REDIRECT_URI)
    t.equal(plain.searchParams.get('error'), 'invalid_request')
    t.equal(plain.searchParams.get('error_description'), 'code_challenge_method "plain" is not supported; use S256')
    t.equal(plain.searchParams.get('code'), null)

    const required = await authorize(app, { client_id: 'demo-app-jwt' })
    t.equal(required.searchParams.get('error'), 'invalid_request')
    t.equal(
      required.searchParams.get('error_description'),
      'PKCE is required for this client: send code_challenge and code_challenge_method=S256'
    )

    const withoutChallenge = await codeFor(app)
    const injected = await tokenRequest(app, codeForm(withoutChallenge, { code_verifier: VERIFIER }))
    t.equal(injected.statusCode, 400)
    t.strictSame(injected.json(), {
      error: 'invalid_grant',
      error_description: 'code_verifier sent but the authorization request had no code_challenge'
    })
  }
)

t.test('a wrong PKCE verifier is refused, whatever its length', async (t) => {
  const { app } = await buildTestApp(t)
  const code = await codeFor(app, { code_challenge: CHALLENGE, code_challenge_method: 'S256' })
  const wrong = await tokenRequest(app, codeForm(code, { code_verifier: `${VERIFIER.slice(0, -1)}x` }))
  t.equal(wrong.statusCode, 400)
  t.strictSame(wrong.json(), {
    error: 'invalid_grant',
    error_description: 'PKCE verification failed: code_verifier does not match code_challenge'
  })
  const longer = await tokenRequest(app, codeForm(code, { code_verifier: `${VERIFIER}${VERIFIER}` }))
  t.strictSame(longer.json(), {
    error: 'invalid_grant',
    error_description: 'PKCE verification failed: code_verifier does not match code_challenge'
  })
  // The challenge itself is not a verifier
  const challengeAsVerifier = await tokenRequest(app, codeForm(code, { code_verifier: CHALLENGE }))
  t.strictSame(challengeAsVerifier.json(), {
    error: 'invalid_grant',
    error_description: 'PKCE verification failed: code_verifier does not match code_challenge'
  })
})

t.test('a reused refresh token is refused and revokes every token of the grant', async (t) => {
  const { app } = await buildTestApp(t)
  const code = await codeFor(app, {
    scope: 'openid offline_access dpv:FraudPreventionAndDetection number-verification:verify'
  })
  const first = (await tokenRequest(app, codeForm(code))).json() as { refresh_token: string }
  const refresh = (body: string): Promise<Awaited<ReturnType<typeof tokenRequest>>> =>
    tokenRequest(app, {
      grant_type: 'refresh_token',
      refresh_token: body,
      client_id: 'demo-app',
      client_secret: 'demo-secret'
    })
  const rotated = await refresh(first.refresh_token)
  t.equal(rotated.statusCode, 200)
  const second = rotated.json() as { access_token: string, refresh_token: string }
  t.not(second.refresh_token, first.refresh_token, 'rotation issues a new refresh token')
  const reuse = await refresh(first.refresh_token)
  t.equal(reuse.statusCode, 400)
  t.strictSame(reuse.json(), {
    error: 'invalid_grant',
    error_description: 'refresh token was already used (rotation): every token of this grant is revoked'
  })
  const afterReuse = await refresh(second.refresh_token)
  t.strictSame(
    afterReuse.json(),
    { error: 'invalid_grant', error_description: 'refresh token is unknown, expired or revoked' },
    'the rotated refresh token is revoked too'
  )
  t.equal((await verify(app, second.access_token)).statusCode, 401, 'and the access token')
})
