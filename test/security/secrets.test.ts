// Secrets: compared in constant time whatever their length, and never written to the log.
import { PassThrough } from 'node:stream'
import t from 'tap'
import { secretsEqual } from '../../src/core/client-authentication.js'
import { pkceMatches } from '../../src/core/token-service.js'
import { buildTestApp } from '../helpers/app.js'
import { codeForm, tokenRequest, verify } from '../helpers/flow.js'
import { assertionForm, CHALLENGE, clientAssertion, codeFor, VERIFIER } from './support.js'

t.test('client secrets are compared in constant time, and a secret of any length is simply wrong', async (t) => {
  // Behaviour: timingSafeEqual alone throws on different lengths; hashing first makes every length comparable
  t.equal(secretsEqual('demo-secret', 'demo-secret'), true)
  for (const given of ['', 'demo', 'demo-secreX', 'demo-secret ', 'demo-secret-and-much-more', 'x'.repeat(10_000)]) {
    t.equal(secretsEqual(given, 'demo-secret'), false, `${JSON.stringify(given.slice(0, 30))} does not match`)
  }
  t.equal(pkceMatches(VERIFIER, CHALLENGE), true)
  t.equal(pkceMatches(VERIFIER, CHALLENGE.slice(1)), false, 'a shorter challenge does not throw')
  // The comparison itself is node:crypto's constant-time one
  t.match(secretsEqual.toString(), /timingSafeEqual\(/, 'secretsEqual compares with timingSafeEqual')
  t.match(pkceMatches.toString(), /timingSafeEqual\(/, 'pkceMatches compares with timingSafeEqual')

  // Observed, not read from the source: every comparison goes through node:crypto's
  // timingSafeEqual with two equal-length buffers, whatever the length of the secret given
  const calls: Array<[number, number]> = []
  const crypto = await import('node:crypto')
  const spied = {
    ...crypto,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView): boolean => {
      calls.push([a.byteLength, b.byteLength])
      return crypto.timingSafeEqual(a, b)
    }
  }
  const spiedAuth = await t.mockImport<typeof import('../../src/core/client-authentication.js')>(
    '../../src/core/client-authentication.js',
  { 'node:crypto': spied }
  )
  for (const given of ['', 'demo', 'demo-secret', 'x'.repeat(10_000)]) {
    calls.length = 0
    spiedAuth.secretsEqual(given, 'demo-secret')
    t.same(calls, [[32, 32]], `${given.length} characters: one constant-time comparison of equal lengths`)
  }
  const spiedTokens = await t.mockImport<typeof import('../../src/core/token-service.js')>(
    '../../src/core/token-service.js',
  { 'node:crypto': spied }
  )
  calls.length = 0
  t.equal(spiedTokens.pkceMatches(`${VERIFIER.slice(0, -1)}x`, CHALLENGE), false)
  t.same(calls, [[CHALLENGE.length, CHALLENGE.length]], 'a wrong verifier is compared in constant time, not with ===')

  // And through the token endpoint, by body and by Basic header
  const { app } = await buildTestApp(t)
  for (const secret of ['demo', 'demo-secreX', 'demo-secret-and-much-more', ' demo-secret']) {
    const post = await tokenRequest(app, codeForm(await codeFor(app), { client_secret: secret }))
    t.equal(post.statusCode, 401, `post ${JSON.stringify(secret)}`)
    t.strictSame(post.json(), { error: 'invalid_client', error_description: 'client authentication failed' })
    const basic = await tokenRequest(
      app,
      codeForm(await codeFor(app), { client_id: undefined, client_secret: undefined }),
      { authorization: `Basic ${Buffer.from(`demo-app:${secret}`).toString('base64')}` }
    )
    t.equal(basic.statusCode, 401, `basic ${JSON.stringify(secret)}`)
    t.equal(basic.headers['www-authenticate'], 'Basic realm="camara-nv-emulator", charset="UTF-8"')
  }
  t.equal((await tokenRequest(app, codeForm(await codeFor(app)))).statusCode, 200, 'the right secret works')
})

t.test('no secret, code or token of a whole flow appears in the log, even at trace level', async (t) => {
  const lines: string[] = []
  const logStream = new PassThrough()
  logStream.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')))
  const { app, clock } = await buildTestApp(
    t,
    { adminToken: 'admin-token-value' },
    { logStream, logger: { level: 'trace' } }
  )

  const secrets: string[] = ['demo-secret', 'admin-token-value', VERIFIER]
  const scope = 'openid offline_access dpv:FraudPreventionAndDetection number-verification:verify'
  // client_secret_post, with PKCE and a refresh
  const code = await codeFor(app, { scope, code_challenge: CHALLENGE, code_challenge_method: 'S256' })
  const tokens = (await tokenRequest(app, codeForm(code, { code_verifier: VERIFIER }))).json() as {
    access_token: string
    refresh_token: string
    id_token: string
  }
  secrets.push(code, tokens.access_token, tokens.refresh_token, tokens.id_token)
  t.equal((await verify(app, tokens.access_token)).statusCode, 200)
  const refreshed = (
    await tokenRequest(app, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: 'demo-app',
      client_secret: 'demo-secret'
    })
  ).json() as { access_token: string, refresh_token: string }
  secrets.push(refreshed.access_token, refreshed.refresh_token)
  // A replay (logged as a refusal) and a wrong Basic secret
  await tokenRequest(app, codeForm(code, { code_verifier: VERIFIER }))
  const basic = Buffer.from('demo-app:wrong-secret-value').toString('base64')
  secrets.push(basic, 'wrong-secret-value')
  await tokenRequest(app, codeForm(await codeFor(app), { client_id: undefined, client_secret: undefined }), {
    authorization: `Basic ${basic}`
  })
  // private_key_jwt
  const assertion = await clientAssertion(clock.now() / 1000)
  const jwtCode = await codeFor(app, {
    client_id: 'demo-app-jwt',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256'
  })
  const jwtTokens = (await tokenRequest(app, assertionForm(jwtCode, assertion))).json() as { access_token: string }
  secrets.push(assertion, jwtCode, jwtTokens.access_token)
  // The control API with its admin token, and a bearer token refused at verify
  await app.inject({ method: 'GET', url: '/_emulator/journal', headers: { authorization: 'Bearer admin-token-value' } })
  await verify(app, 'guessed-token-value')
  secrets.push('guessed-token-value')

  const log = lines.join('')
  t.ok(lines.length >= 10, `the flow was logged (${lines.length} lines)`)
  t.match(log, /"operation":"token"/, 'token requests are in the log')
  for (const secret of secrets) {
    t.notOk(log.includes(secret), `the log does not contain ${secret.slice(0, 12)}...`)
  }
})
