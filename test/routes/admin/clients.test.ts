// GET /_emulator/clients/{id}/report: a client that does everything a strict operator asks passes
// every rule it showed; a sloppy one fails each rule it broke, with the journal entries that did.
import { createHash, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { importJWK, SignJWT, type JWK } from 'jose'
import type { ManualClock } from '../../../src/core/clock.js'
import { CONFORMANCE_RULES } from '../../../src/core/conformance.js'
import { buildTestApp, REDIRECT_URI } from '../../helpers/app.js'
import { authorizeDevice, NV_SCOPES, tokenRequest, type Fields } from '../../helpers/flow.js'
import { SEED_KONERA, SEED_MSISDN, sha256Hex } from '../number-verification/support.js'

const JWT_CLIENT = 'demo-app-jwt'
const TOKEN_ENDPOINT = 'http://emulator.test/camara/api/auth/v1/token'
const DEMO_KEY = JSON.parse(
  readFileSync(new URL('../../../fixtures/keys/demo-app-jwt.private.jwk.json', import.meta.url), 'utf8')
) as JWK

interface RuleView {
  id: string
  status: string
  passed: number
  failed: number
  source: string
  failures: Array<{ entryId: number, detail: string, operation: string }>
}
interface ReportView {
  clientId: string
  verdict: string
  requests: number
  rules: RuleView[]
  journal: { capacity: number, entries: number }
  notGraded: string[]
}

async function report (app: FastifyInstance, clientId: string, query = ''): Promise<ReportView> {
  const res = await app.inject({ method: 'GET', url: `/_emulator/clients/${clientId}/report${query}` })
  if (res.statusCode !== 200) throw new Error(`report answered ${res.statusCode}: ${res.body}`)
  return res.json()
}

function statuses (view: ReportView): Record<string, string> {
  return Object.fromEntries(view.rules.map((rule) => [rule.id, rule.status]))
}

function rule (view: ReportView, id: string): RuleView {
  const found = view.rules.find((r) => r.id === id)
  if (found === undefined) throw new Error(`no rule ${id}`)
  return found
}

async function assertion (clock: ManualClock, lifetime = 60, jti: string = randomUUID()): Promise<string> {
  const iat = Math.floor(clock.now() / 1000)
  return await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'demo-app-jwt-es256' })
    .setIssuer(JWT_CLIENT).setSubject(JWT_CLIENT).setAudience(TOKEN_ENDPOINT).setJti(jti)
    .setIssuedAt(iat).setExpirationTime(iat + lifetime)
    .sign(await importJWK(DEMO_KEY, 'ES256'))
}

/** demo-app-jwt as a strict operator wants it: PKCE S256, prompt=none, fresh state and nonce, private_key_jwt */
async function strictFlow (app: FastifyInstance, clock: ManualClock): Promise<{ token: string, flowId: string }> {
  const verifier = `${randomUUID()}-${randomUUID()}`
  const callback = await authorizeDevice(app, {
    clientId: JWT_CLIENT,
    konera: SEED_KONERA,
    prompt: 'none',
    state: randomUUID(),
    extraQuery: {
      nonce: randomUUID(),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256'
    }
  })
  const res = await tokenRequest(app, {
    grant_type: 'authorization_code',
    code: callback.searchParams.get('code') ?? '',
    redirect_uri: REDIRECT_URI,
    client_id: JWT_CLIENT,
    code_verifier: verifier,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await assertion(clock)
  })
  if (res.statusCode !== 200) throw new Error(`token answered ${res.statusCode}: ${res.body}`)
  const token = (res.json() as { access_token: string }).access_token
  const journal = await app.inject({ method: 'GET', url: '/_emulator/journal?operation=token' })
  const flowId = (journal.json() as { entries: Array<{ flowId: string }> }).entries.at(-1)?.flowId ?? ''
  return { token, flowId }
}

async function verify (
  app: FastifyInstance, token: string, body: unknown, headers: Record<string, string> = {}
): Promise<number> {
  const res = await app.inject({
    method: 'POST',
    url: '/number-verification/v2/verify',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    payload: JSON.stringify(body)
  })
  return res.statusCode
}

t.test('a strict client passes every rule it showed; the rest are not seen', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const first = await strictFlow(app, clock)
  t.equal(await verify(app, first.token, { phoneNumber: SEED_MSISDN }, { 'x-correlator': randomUUID() }), 200)
  const second = await strictFlow(app, clock)
  t.equal(await verify(
    app, second.token, { hashedPhoneNumber: sha256Hex(SEED_MSISDN) }, { 'x-correlator': randomUUID() }
  ), 200)

  const view = await report(app, JWT_CLIENT)
  t.equal(view.verdict, 'pass')
  t.equal(view.requests, 8, 'two flows of four requests')
  t.strictSame(statuses(view), {
    purpose: 'pass',
    'prompt-none': 'pass',
    pkce: 'pass',
    state: 'pass',
    nonce: 'pass',
    'private-key-jwt': 'pass',
    'assertion-lifetime': 'pass',
    'assertion-jti': 'pass',
    'assertion-scope': 'not-seen',
    'operator-token-once': 'not-seen',
    'redirect-uri': 'pass',
    'code-once': 'pass',
    'token-single-use': 'pass',
    'token-age': 'pass',
    'no-refresh': 'not-seen',
    'x-correlator': 'pass',
    'operation-scope': 'pass',
    'declared-properties': 'pass',
    'no-retry-loop': 'not-seen',
    'hashed-case': 'pass'
  })
  t.equal(rule(view, 'pkce').passed, 2)
  t.match(rule(view, 'private-key-jwt').source, /ICM r4\.2/)
  t.equal(view.rules.length, CONFORMANCE_RULES.length)
  t.ok(view.notGraded.some((text) => text.includes('id_token')), 'what the client\'s own tests must show is named')
  t.strictSame(view.journal, { capacity: 1000, entries: 8 })

  const oneFlow = await report(app, JWT_CLIENT, `?flowId=${first.flowId}`)
  t.equal(oneFlow.requests, 4, 'one flow')
  t.equal(rule(oneFlow, 'hashed-case').status, 'not-seen', 'the hashed call was in the other flow')
})

t.test('a sloppy client fails each rule it broke, naming the journal entries', async (t) => {
  const { app } = await buildTestApp(t)
  // demo-app, client_secret_post, no PKCE, no prompt, no nonce, the same state twice
  const authorize = async (extra: Fields = {}): Promise<URL> =>
    await authorizeDevice(app, {
      konera: SEED_KONERA, state: 'always-the-same', scope: `${NV_SCOPES} offline_access`, extraQuery: extra
    })
  const code = (await authorize()).searchParams.get('code') ?? ''
  const form = {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    client_id: 'demo-app',
    client_secret: 'demo-secret'
  }
  const tokens = (await tokenRequest(app, form)).json() as { access_token: string, refresh_token: string }
  await authorize({ scope: 'openid number-verification:verify' })
  const fresh = (await tokenRequest(app, {
    grant_type: 'refresh_token',
    refresh_token: tokens.refresh_token,
    client_id: 'demo-app',
    client_secret: 'demo-secret'
  })).json() as { access_token: string }
  t.equal(await verify(app, fresh.access_token, { phoneNumber: SEED_MSISDN }), 200, 'no x-correlator')
  t.equal(await verify(app, fresh.access_token, { hashedPhoneNumber: sha256Hex(SEED_MSISDN).replace(/[a-f]/, (c) => c.toUpperCase()) }), 200,
    'the same token again, a mixed-case hash')
  t.equal(await verify(app, fresh.access_token, { phoneNumber: SEED_MSISDN, extra: true }), 400,
    'an undeclared property')
  t.equal(await verify(app, fresh.access_token, { phoneNumber: SEED_MSISDN }, { 'x-correlator': 'fine' }), 200)
  t.equal(await verify(app, fresh.access_token, { phoneNumber: SEED_MSISDN }, { 'x-correlator': 'not fine!' }), 400,
    'a malformed x-correlator')
  t.equal((await tokenRequest(app, form)).statusCode, 400, 'the code again')

  const view = await report(app, 'demo-app')
  t.equal(view.verdict, 'fail')
  const failed = view.rules.filter((r) => r.status === 'fail').map((r) => r.id).sort()
  t.strictSame(failed, [
    'code-once', 'declared-properties', 'hashed-case', 'no-refresh', 'nonce', 'pkce', 'private-key-jwt', 'prompt-none',
    'purpose', 'state', 'token-single-use', 'x-correlator'
  ].sort())
  t.equal(rule(view, 'redirect-uri').status, 'pass')
  t.match(rule(view, 'state').failures, [{ operation: 'authorize', detail: /^the same state again: first sent in journal entry \d+$/ }])
  t.match(rule(view, 'code-once').failures, [
    { operation: 'token', detail: 'the authorization code was redeemed again' }
  ])
  t.match(rule(view, 'token-single-use').failures, [{ operation: 'verify', detail: /^the same access token again/ }, { operation: 'verify' }])
  t.equal(rule(view, 'token-age').status, 'pass')
  t.match(rule(view, 'declared-properties').failures, [{ detail: 'undeclared properties: extra' }])
  t.match(rule(view, 'purpose').failures, [{ detail: '0 dpv: purposes in the scope' }])
  t.match(rule(view, 'x-correlator'), { passed: 1, failed: 1, failures: [{ detail: /^x-correlator must match/ }] }, 'an absent one is not graded')

  const junit = await app.inject({ method: 'GET', url: '/_emulator/clients/demo-app/report?format=junit' })
  t.equal(junit.statusCode, 200)
  t.equal(junit.headers['content-type'], 'application/xml; charset=utf-8')
  t.match(junit.body, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="camara-nv-emulator" tests="20" failures="12" skipped="\d+">/)
  t.match(junit.body, /<testcase classname="demo-app" name="pkce: PKCE with S256 on every authorization request">\n.*\n\s+<failure message="2 of 2 requests broke the rule">journal entry \d+ \(authorize, flow [\w-]+\): no code_challenge/)

  t.equal((await app.inject({ method: 'DELETE', url: '/_emulator/journal' })).statusCode, 204)
  t.equal((await report(app, 'demo-app')).verdict, 'no-requests', 'reset with the journal')
})

t.test('with PKCE, state and nonce are the client\'s choice: graded only when sent', async (t) => {
  const { app } = await buildTestApp(t)
  const verifier = `${randomUUID()}-${randomUUID()}`
  const pkce = {
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256'
  }
  await authorizeDevice(app, {
    clientId: JWT_CLIENT,
    konera: SEED_KONERA,
    prompt: 'none',
    state: undefined,
    extraQuery: { ...pkce, state: undefined }
  })
  let view = await report(app, JWT_CLIENT)
  t.strictSame(
    [rule(view, 'state').status, rule(view, 'nonce').status, rule(view, 'pkce').status],
    ['not-seen', 'not-seen', 'pass']
  )
  await authorizeDevice(app, {
    clientId: JWT_CLIENT, konera: SEED_KONERA, prompt: 'none', extraQuery: { state: undefined }
  })
  view = await report(app, JWT_CLIENT)
  t.match(rule(view, 'state'), { status: 'fail', failures: [{ detail: 'no state, and no PKCE' }] })
  t.match(rule(view, 'nonce'), { status: 'fail', failures: [{ detail: 'no nonce, and no PKCE' }] })
})

t.test('a Number Verification token used more than 300 s after its issue fails token-age', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const { token } = await strictFlow(app, clock)
  clock.advance(301_000)
  t.equal(await verify(app, token, { phoneNumber: SEED_MSISDN }, { 'x-correlator': 'late' }), 200,
    'served on /v2 all the same')
  const view = await report(app, JWT_CLIENT)
  t.match(rule(view, 'token-age'), {
    status: 'fail', failures: [{ operation: 'verify', detail: 'the access token was 301 s old' }]
  })
  t.equal(view.verdict, 'fail')
})

t.test('retrying in a loop after login_required fails no-retry-loop; a retry or two does not', async (t) => {
  const { app } = await buildTestApp(t)
  const unknownDevice = { konera: 'ipv4:203.0.113.9', prompt: 'none' }
  const attempt = async (): Promise<string | null> =>
    (await authorizeDevice(app, unknownDevice)).searchParams.get('error')
  t.equal(await attempt(), 'login_required')
  t.equal(await attempt(), 'login_required')
  t.equal(await attempt(), 'login_required')
  let view = await report(app, 'demo-app')
  t.equal(rule(view, 'no-retry-loop').status, 'pass', 'the first refusal was followed by two new requests')
  t.equal(await attempt(), 'login_required')
  view = await report(app, 'demo-app')
  t.equal(rule(view, 'no-retry-loop').status, 'fail')
  t.match(rule(view, 'no-retry-loop').failures, [
    { detail: '3 new authorization requests within 60 s of this refusal' }
  ])
})

t.test('failed client assertions are the client\'s: lifetime, reused jti', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const form = (clientAssertion: string): Fields => ({
    grant_type: 'client_credentials',
    scope: 'number-verification:verify',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: clientAssertion
  })
  t.equal((await tokenRequest(app, form(await assertion(clock, 3600)))).statusCode, 401)
  const jti = randomUUID()
  t.equal((await tokenRequest(app, form(await assertion(clock, 60, jti)))).statusCode, 200)
  t.equal((await tokenRequest(app, form(await assertion(clock, 60, jti)))).statusCode, 401)
  const view = await report(app, JWT_CLIENT)
  t.match(rule(view, 'assertion-lifetime'), {
    status: 'fail', passed: 2, failed: 1, failures: [{ detail: 'client_assertion lifetime 3600 s' }]
  })
  t.match(rule(view, 'assertion-jti'), {
    status: 'fail', passed: 1, failed: 1, failures: [{ detail: 'client_assertion jti already used' }]
  })
})

t.test('an unknown client is 404; the route is guarded like the control API', async (t) => {
  const { app } = await buildTestApp(t, { adminToken: 'sesame' })
  const unknown = await app.inject({
    method: 'GET', url: '/_emulator/clients/nobody/report', headers: { authorization: 'Bearer sesame' }
  })
  t.equal(unknown.statusCode, 404)
  t.strictSame(unknown.json(), {
    status: 404,
    code: 'NOT_FOUND',
    message: 'no client "nobody" in the fixtures or the journal; GET /_emulator/fixtures lists them'
  })
  t.equal((await app.inject({ method: 'GET', url: '/_emulator/clients/demo-app/report' })).statusCode, 401)
  const bad = await app.inject({
    method: 'GET', url: '/_emulator/clients/demo-app/report?format=pdf', headers: { authorization: 'Bearer sesame' }
  })
  t.equal(bad.statusCode, 400)
})
