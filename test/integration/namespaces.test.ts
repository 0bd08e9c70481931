// Namespaces are isolated worlds in one process: a client pointed at /ns/<name>'s issuer gets the
// whole flow under that prefix (discovery, redirects, JWKS, id_token issuer), and nothing of one
// namespace (code, token, scenario, journal, reset, seed) acts in another or at the root.
import t, { type Test } from 'tap'
import { createLocalJWKSet, jwtVerify } from 'jose'
import type { FastifyInstance } from 'fastify'
import { BASE_URL, buildTestApp, REDIRECT_URI, testKeys } from '../helpers/app.js'
import { startEmulator } from '../../src/index.js'
import {
  AUTHORIZE_PATH,
  authorizationCode,
  authorizeDevice,
  authorizeQuery,
  exchangeCode,
  gatewayLeg,
  inNamespace,
  obtainTokens,
  redirectOf,
  SEED_KONERA,
  tokenRequest,
  verify,
  VERIFY_PATH
} from '../helpers/flow.js'
import { activate, control, journalEntries } from '../scenarios/support.js'

const DEVICE = { konera: SEED_KONERA }

async function withNamespaces (t: Test, ...names: string[]): Promise<FastifyInstance> {
  const { app } = await buildTestApp(t)
  for (const name of names) {
    const res = await app.inject({ method: 'PUT', url: `/_emulator/namespaces/${name}` })
    if (res.statusCode !== 201) throw new Error(`PUT ${name}: ${res.statusCode} ${res.body}`)
  }
  return app
}

t.test('a client pointed at a namespace\'s issuer runs the whole flow under its prefix', async (t) => {
  const app = await withNamespaces(t, 'ci-1234')
  const ns = inNamespace(app, 'ci-1234')
  const issuer = `${BASE_URL}/ns/ci-1234/camara/api/auth/v1`
  const discovery = (
    await ns.inject({ method: 'GET', url: '/camara/api/auth/v1/.well-known/openid-configuration' })
  ).json()
  t.match(discovery, {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`
  })
  const gateway = await gatewayLeg(ns, DEVICE)
  t.match(
    redirectOf(gateway, 'gateway').pathname,
    /^\/ns\/ci-1234\/operators\/telco-es\/authorize$/,
    'the operator leg stays in the namespace'
  )
  const callback = await authorizeDevice(ns, DEVICE)
  t.equal(callback.searchParams.get('iss'), issuer, 'the code\'s redirect names the namespace\'s issuer (RFC 9207)')
  const tokens = await obtainTokens(ns, DEVICE)
  const jwks = (await ns.inject({ method: 'GET', url: '/camara/api/auth/v1/jwks' })).json()
  const { payload } = await jwtVerify(tokens.id_token ?? '', createLocalJWKSet(jwks), {
    issuer,
    audience: 'demo-app',
    currentDate: new Date(Date.UTC(2026, 10, 25, 12))
  })
  t.equal(payload.iss, issuer, 'the id_token names the namespace\'s issuer')
  const verified = await verify(ns, tokens.access_token)
  t.equal(verified.statusCode, 200)
  t.equal(verified.json().devicePhoneNumberVerified, true)
})

t.test('a code or token of one namespace never acts in another or at the root, nor the reverse', async (t) => {
  const app = await withNamespaces(t, 'a', 'b')
  const [a, b] = [inNamespace(app, 'a'), inNamespace(app, 'b')]
  const codeOfA = await authorizationCode(a, DEVICE)
  for (const [where, target] of [['b', b], ['the root', app]] as const) {
    const res = await exchangeCode(target, codeOfA)
    t.equal(res.statusCode, 400, `code of a at ${where}`)
    t.equal(res.json().error, 'invalid_grant')
  }
  t.equal((await exchangeCode(a, codeOfA)).statusCode, 200, 'the code was not spent by the tries elsewhere')
  const tokenOfA = (await obtainTokens(a, DEVICE)).access_token
  const tokenOfRoot = (await obtainTokens(app, DEVICE)).access_token
  t.equal((await verify(b, tokenOfA)).statusCode, 401, 'a\'s token at b')
  t.equal((await verify(app, tokenOfA)).statusCode, 401, 'a\'s token at the root')
  t.equal((await verify(a, tokenOfRoot)).statusCode, 401, 'the root\'s token in a')
  t.equal((await verify(a, tokenOfA)).statusCode, 200)
  t.equal((await verify(app, tokenOfRoot)).statusCode, 200)
})

t.test('a scenario activated in one namespace applies there only', async (t) => {
  const app = await withNamespaces(t, 'a', 'b')
  const [a, b] = [inNamespace(app, 'a'), inNamespace(app, 'b')]
  await activate(a, 'rate-limited')
  for (const [where, target, status] of [['a', a, 429], ['b', b, 200], ['the root', app, 200]] as const) {
    const token = (await obtainTokens(target, DEVICE)).access_token
    t.equal((await verify(target, token)).statusCode, status, where)
  }
  t.equal((await control(b, 'GET', '/scenarios')).json().activations.length, 0)
  t.equal((await control(app, 'GET', '/scenarios')).json().activations.length, 0)
  const defined = await control(b, 'POST', '/scenarios', {
    name: 'only-in-b',
    description: 'b',
    effects: { verifiedResult: false }
  })
  t.equal(defined.statusCode, 201)
  t.equal((await control(a, 'POST', '/scenarios/only-in-b/activate')).statusCode, 404, "b's definition is unknown in a")
})

t.test('each namespace has its own journal, reset and seed', async (t) => {
  const { app } = await buildTestApp(t, { seed: 1 })
  await app.inject({ method: 'PUT', url: '/_emulator/namespaces/a', payload: { seed: 4242 } })
  await app.inject({ method: 'PUT', url: '/_emulator/namespaces/b' })
  const [a, b] = [inNamespace(app, 'a'), inNamespace(app, 'b')]
  await obtainTokens(a, DEVICE)
  const tokenOfB = (await obtainTokens(b, DEVICE)).access_token
  const tokenOfRoot = (await obtainTokens(app, DEVICE)).access_token
  const inA = await journalEntries(a)
  t.ok(inA.length >= 3, 'a\'s legs are in a\'s journal')
  t.ok(inA.every((entry) => entry.path.startsWith('/ns/a/')), 'and only a\'s')
  t.ok(
    (await journalEntries(app)).every((entry) => !entry.path.startsWith('/ns/')),
    "the root's journal has none of the namespaces'"
  )
  t.equal((await control(a, 'GET', '/journal')).json().seed, 4242, 'a\'s own seed')
  t.equal((await control(b, 'GET', '/journal')).json().seed, 1, 'default: the server\'s seed')
  t.equal((await control(a, 'POST', '/reset')).statusCode, 204)
  t.equal((await journalEntries(a)).length, 0, 'a reset')
  t.equal((await verify(b, tokenOfB)).statusCode, 200, 'b untouched by a\'s reset')
  t.equal((await verify(app, tokenOfRoot)).statusCode, 200, 'the root untouched by a\'s reset')
  t.ok((await journalEntries(b)).length > 0)
  t.equal((await control(app, 'POST', '/reset')).statusCode, 204)
  t.equal((await verify(b, tokenOfB)).statusCode, 200, 'the root\'s reset leaves the namespaces')
})

t.test('replacing a namespace starts it empty; deleting it answers 404 in each surface\'s format', async (t) => {
  const app = await withNamespaces(t, 'gone')
  const ns = inNamespace(app, 'gone')
  const token = (await obtainTokens(ns, DEVICE)).access_token
  t.equal((await app.inject({ method: 'PUT', url: '/_emulator/namespaces/gone' })).statusCode, 200)
  t.equal((await verify(ns, token)).statusCode, 401, 'the replaced namespace\'s tokens are gone')
  t.equal((await app.inject({ method: 'DELETE', url: '/_emulator/namespaces/gone' })).statusCode, 204)
  const message = 'no namespace "gone": PUT /_emulator/namespaces/gone creates it (an idle namespace expires)'
  const atToken = await tokenRequest(ns, {
    grant_type: 'client_credentials',
    client_id: 'demo-app',
    client_secret: 'demo-secret'
  })
  t.equal(atToken.statusCode, 404)
  t.strictSame(
    atToken.json(),
    { error: 'invalid_request', error_description: message },
    'OAuth JSON at the token endpoint'
  )
  const atVerify = await verify(ns, token)
  t.strictSame(atVerify.json(), { status: 404, code: 'NOT_FOUND', message }, 'CAMARA ErrorInfo on the API')
  const atControl = await ns.inject({ method: 'GET', url: '/_emulator/journal' })
  t.strictSame(atControl.json(), { status: 404, code: 'NOT_FOUND', message }, 'ErrorInfo on the control API')
  const atAuthorize = await ns.inject({ method: 'GET', url: `${AUTHORIZE_PATH}?${authorizeQuery()}` })
  t.equal(atAuthorize.statusCode, 404)
  t.equal(atAuthorize.headers.location, undefined, 'no redirect to a client the namespace no longer has')
  t.match(atAuthorize.headers['content-type'], /^text\/html/)
  t.match(atAuthorize.body, /no namespace &quot;gone&quot;|no namespace "gone"/, 'a readable page')
  const atRoot = await app.inject({
    method: 'POST',
    url: VERIFY_PATH,
    headers: { authorization: `Bearer ${token}` },
    payload: { phoneNumber: '+34666666666' }
  })
  t.equal(atRoot.statusCode, 401, 'the root is unaffected')
})

t.test('single use holds inside a namespace: ten parallel redemptions of one code, one 200', async (t) => {
  const app = await withNamespaces(t, 'race')
  const ns = inNamespace(app, 'race')
  const code = await authorizationCode(ns, DEVICE)
  const answers = await Promise.all(
    Array.from(
      { length: 10 },
      async () => (await exchangeCode(ns, code, { 'x-emulator-scenario': 'slow-network' })).statusCode
    )
  )
  t.strictSame(answers.filter((status) => status === 200).length, 1)
})

t.test(
  'the programmatic API: emulator.namespace(name, fixtures?) returns the same typed controls and URLs',
  async (t) => {
    const emulator = await startEmulator({ keys: await testKeys() })
    t.teardown(() => emulator.close())
    const ns = await emulator.namespace('prog-1', undefined, { seed: 9 })
    t.equal(ns.name, 'prog-1')
    t.equal(ns.urls.issuer, `${emulator.urls.base}/ns/prog-1/camara/api/auth/v1`)
    t.equal(ns.urls.verify, `${emulator.urls.base}/ns/prog-1/camara/api/number-verification/v1/verify`)
    const authorization = await ns.authorizeDevice({
      clientId: 'demo-app',
      redirectUri: REDIRECT_URI,
      scope: 'openid dpv:FraudPreventionAndDetection number-verification:verify',
      deviceIp: '142.115.147.143'
    })
    t.type(authorization.code, 'string', authorization.errorDescription ?? '')
    const redeemed = await fetch(ns.urls.token, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: authorization.code ?? '',
        redirect_uri: REDIRECT_URI,
        client_id: 'demo-app',
        client_secret: 'demo-secret'
      })
    })
    t.equal(redeemed.status, 200)
    ns.scenarios.activate('rate-limited')
    t.equal(emulator.scenarios.activations().length, 0, 'the root has no activation')
    const minted = await ns.mintToken({
      clientId: 'demo-app',
      msisdn: '+34666666666',
      scope: 'number-verification:verify'
    })
    const called = await fetch(ns.urls.verify, {
      method: 'POST',
      headers: { authorization: `Bearer ${minted.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ phoneNumber: '+34666666666' })
    })
    t.equal(called.status, 429, "the namespace's scenario applies to its own API")
    t.ok(ns.journal.list().length > 0)
    t.ok(emulator.journal.list().every((entry) => !entry.path.startsWith('/ns/')))
    const own = await emulator.namespace('prog-2', {
      operators: [
        { id: 'only', name: 'Only', numberPrefixes: ['+44'], ipRanges: ['10.0.0.0/8'], trustsLoginHint: false }
      ],
      clients: [],
      subscribers: [],
      scenarios: []
    })
    t.strictSame(
      own.fixtures.get().operators.map((o) => o.id),
      ['only']
    )
    await t.rejects(emulator.namespace('Bad Name'), { name: 'NamespaceRequestError' })
    t.equal(await ns.delete(), true)
    t.equal(await ns.delete(), false)
    t.equal((await fetch(ns.urls.discovery)).status, 404)
  }
)
