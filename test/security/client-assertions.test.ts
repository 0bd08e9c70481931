// private_key_jwt and bearer tokens as an attacker would forge them: no signature, a key that is
// not the client's, an expired or too long-lived assertion, a replayed jti; tokens that the
// emulator never issued, or issued long ago.
import t, { type Test } from 'tap'
import { generateKeyPair, exportJWK, SignJWT } from 'jose'
import { buildTestApp } from '../helpers/app.js'
import { codeForm, tokenRequest, verify } from '../helpers/flow.js'
import { assertionForm, CHALLENGE, clientAssertion, codeFor, DEMO_JWT_KEY, TOKEN_ENDPOINT } from './support.js'

const jwtCode = (app: Awaited<ReturnType<typeof buildTestApp>>['app']): Promise<string> =>
  codeFor(app, { client_id: 'demo-app-jwt', code_challenge: CHALLENGE, code_challenge_method: 'S256' })

function unsigned (claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`
}

function refused (t: Test, res: Awaited<ReturnType<typeof tokenRequest>>, description: string): void {
  t.equal(res.statusCode, 401, description)
  t.strictSame(res.json(), { error: 'invalid_client', error_description: description })
}

t.test('an assertion with alg none is refused', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const now = clock.now() / 1000
  const assertion = unsigned({
    iss: 'demo-app-jwt',
    sub: 'demo-app-jwt',
    aud: TOKEN_ENDPOINT,
    iat: now,
    exp: now + 60,
    jti: 'none-1'
  })
  refused(
    t,
    await tokenRequest(app, assertionForm(await jwtCode(app), assertion)),
    'client_assertion rejected: its alg is not allowed (allowed: RS256, PS256, ES256, EdDSA)'
  )
})

t.test('an assertion forged with another key under the client\'s kid is refused', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const forger = { ...await exportJWK(privateKey), kid: DEMO_JWT_KEY.kid }
  const assertion = await clientAssertion(clock.now() / 1000, { key: forger })
  refused(
    t,
    await tokenRequest(app, assertionForm(await jwtCode(app), assertion)),
    'client_assertion rejected: signature verification failed'
  )
})

t.test('an assertion signed by a key the client did not register is refused', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const foreign = { ...await exportJWK(privateKey), kid: 'attacker-key' }
  const assertion = await clientAssertion(clock.now() / 1000, { key: foreign })
  refused(
    t,
    await tokenRequest(app, assertionForm(await jwtCode(app), assertion)),
    'client_assertion rejected: no registered key matches its kid / alg'
  )
  // HMAC keyed with the client's public key (algorithm confusion)
  const now = clock.now() / 1000
  const hmac = await new SignJWT({
    iss: 'demo-app-jwt',
    sub: 'demo-app-jwt',
    aud: TOKEN_ENDPOINT,
    iat: now,
    exp: now + 60,
    jti: 'hs-1'
  })
    .setProtectedHeader({ alg: 'HS256', kid: DEMO_JWT_KEY.kid })
    .sign(
      Buffer.from(
        JSON.stringify({ kty: DEMO_JWT_KEY.kty, crv: DEMO_JWT_KEY.crv, x: DEMO_JWT_KEY.x, y: DEMO_JWT_KEY.y })
      )
    )
  refused(
    t,
    await tokenRequest(app, assertionForm(await jwtCode(app), hmac)),
    'client_assertion rejected: its alg is not allowed (allowed: RS256, PS256, ES256, EdDSA)'
  )
})

t.test('an expired or too long-lived assertion is refused', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const now = clock.now() / 1000
  const expired = await clientAssertion(now, { claims: { iat: now - 120, exp: now - 60 } })
  refused(
    t,
    await tokenRequest(app, assertionForm(await jwtCode(app), expired)),
    'client_assertion rejected: it has expired (exp)'
  )
  const longLived = await clientAssertion(now, { claims: { iat: now, exp: now + 3600 } })
  refused(
    t,
    await tokenRequest(app, assertionForm(await jwtCode(app), longLived)),
    'client_assertion lifetime (exp - iat) is 3600 s; at most 300 s is accepted'
  )
})

t.test('a replayed assertion jti is refused', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const assertion = await clientAssertion(clock.now() / 1000)
  const first = await tokenRequest(app, assertionForm(await jwtCode(app), assertion))
  t.equal(first.statusCode, 200, 'the first use succeeds')
  refused(
    t,
    await tokenRequest(app, assertionForm(await jwtCode(app), assertion)),
    'client_assertion jti was already used: sign a fresh assertion for every request'
  )
})

t.test('bearer tokens the emulator did not issue, or that expired, are refused at verify', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const issued = (await tokenRequest(app, codeForm(await codeFor(app)))).json() as {
    access_token: string
    id_token: string
    expires_in: number
  }
  const now = clock.now() / 1000
  for (const [label, token] of [
    ['the id_token used as an access token', issued.id_token],
    ['an unsigned JWT', unsigned({ sub: '+34666666666', scope: 'number-verification:verify', exp: now + 60 })],
    [
      'the access token with one character changed',
      `${issued.access_token.slice(0, -1)}${issued.access_token.endsWith('A') ? 'B' : 'A'}`
    ],
    ['a prefix of the access token', issued.access_token.slice(0, 20)]
  ]) {
    const res = await verify(app, token as string)
    t.equal(res.statusCode, 401, `${label ?? ''}: 401`)
    t.equal((res.json() as { code: string }).code, 'UNAUTHENTICATED', `${label ?? ''}: UNAUTHENTICATED`)
  }
  t.equal((await verify(app, issued.access_token)).statusCode, 200, 'the real token works')
  clock.advance(issued.expires_in * 1000)
  const expired = await verify(app, issued.access_token)
  t.equal(expired.statusCode, 401, 'and is refused once expired')
  t.equal(expired.headers['x-emulator-reason'], 'access token is unknown or expired')
})
