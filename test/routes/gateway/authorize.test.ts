// GET /camara/api/auth/v1/authorize and the operator leg it redirects to: which errors are pages,
// which are redirects, and how the operator identifies (or fails to identify) the device.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { DEFAULT_FIXTURES } from '../../../src/config/config.js'
import { loadFixtures } from '../../../src/config/fixtures.js'
import { buildTestApp, ISSUER, REDIRECT_URI, SCOPE } from '../../helpers/app.js'
import { tempDir } from '../../helpers/temp-dir.js'
import {
  AUTHORIZE_PATH, SEED_DEVICE_IPV4, SEED_DEVICE_IPV6, authorizeAtGateway, authorizeParams, follow, identifiedSubscriber,
  locationOf, obtainCode, runAuthorization, type Params
} from './flow.js'

const STATE = 'af0ifjsldkj'
const OPERATOR_LOCATION = /^http:\/\/emulator\.test\/operators\/(telco-es|telco-in)\/authorize\?request_id=([A-Za-z0-9_-]{24})$/
const PAGE_HINT = 'Check the client_id and redirect_uri against the fixture file ' +
  '(clients[].clientId, clients[].redirectUris).'
const SEED_KONERA_QUERY = 'konera_context=ipv4%3A142.115.147.143%2Cipv6%3A2001%3A4860%3A7%3Af04%3A%3Afe'

/** A 400 HTML page, never a redirect: the client or redirect_uri cannot be trusted */
function assertErrorPage (t: Test, res: LightMyRequestResponse, error: string, escapedDescription: string): void {
  t.equal(res.statusCode, 400, 'status')
  t.equal(res.headers['content-type'], 'text/html; charset=utf-8', 'content type')
  t.equal(res.headers.location, undefined, 'no Location header')
  t.ok(res.body.includes(`<title>Authorization error: ${error}</title>`), `page names ${error}`)
  t.ok(res.body.includes(`<code>${error}</code>`), 'error code shown')
  t.ok(res.body.includes(`<p>${escapedDescription}</p>`), `page says: ${escapedDescription}`)
}

/** A 302 to the registered redirect_uri carrying exactly error, error_description and state */
function assertErrorRedirect (
  t: Test,
  res: LightMyRequestResponse,
  expected: { error: string, error_description: string, state?: string },
  redirectUri = REDIRECT_URI
): void {
  t.equal(res.statusCode, 302, 'status')
  const location = new URL(locationOf(res))
  const base = new URL(redirectUri)
  t.equal(location.origin + location.pathname, base.origin + base.pathname, 'redirects to the redirect_uri')
  const params = [...location.searchParams.entries()].filter(([name]) => !base.searchParams.has(name))
  t.strictSame(params, Object.entries({
    error: expected.error,
    error_description: expected.error_description,
    ...(expected.state === undefined ? {} : { state: expected.state }),
    iss: ISSUER
  }), 'error parameters, and the issuer (RFC 9207)')
  t.equal(res.body, '', 'no body')
}

/** Request, then the operator leg; the operator's redirect back to the app */
async function operatorAnswer (
  app: Awaited<ReturnType<typeof buildTestApp>>['app'],
  params: Params,
  remoteAddress?: string
): Promise<LightMyRequestResponse> {
  const device = remoteAddress === undefined ? {} : { remoteAddress }
  const { operator } = await runAuthorization(app, params, device)
  return operator
}

/** A copy of the default fixtures changed by `edit`, written to a temporary file */
function fixtureFile (
  edit: (document: Record<string, unknown> & { clients: Array<Record<string, unknown>> }) => void
): string {
  const document = JSON.parse(readFileSync(DEFAULT_FIXTURES, 'utf8')) as Record<string, unknown> & {
    clients: Array<Record<string, unknown>>
  }
  delete document.$schema
  edit(document)
  const file = join(tempDir(t, 'nv-authorize-'), 'fixtures.json')
  writeFileSync(file, JSON.stringify(document))
  return file
}

t.test('requests whose client or redirect_uri cannot be trusted get a 400 page, never a redirect', async (t) => {
  const { app } = await buildTestApp(t)

  const cases: Array<{ name: string, params: Params, error: string, description: string }> = [
    {
      name: 'unknown client_id',
      params: { client_id: 'nobody' },
      error: 'unauthorized_client',
      description: 'client_id &quot;nobody&quot; is not registered'
    },
    {
      name: 'missing client_id',
      params: { client_id: undefined },
      error: 'invalid_request',
      description: 'client_id is required'
    },
    {
      name: 'empty client_id',
      params: { client_id: '' },
      error: 'invalid_request',
      description: 'client_id is required'
    },
    {
      name: 'repeated client_id',
      params: { client_id: ['demo-app', 'demo-app'] },
      error: 'invalid_request',
      description: 'client_id must not be repeated'
    },
    {
      name: 'missing redirect_uri',
      params: { redirect_uri: undefined },
      error: 'invalid_request',
      description: 'redirect_uri is required'
    },
    {
      name: 'unregistered redirect_uri',
      params: { redirect_uri: 'https://attacker.example/cb' },
      error: 'invalid_request',
      description: 'redirect_uri &quot;https://attacker.example/cb&quot; is not registered for client &quot;demo-app&quot;'
    },
    {
      name: 'redirect_uri differing only by a trailing slash',
      params: { redirect_uri: `${REDIRECT_URI}/` },
      error: 'invalid_request',
      description: 'redirect_uri &quot;http://localhost:3000/callback/&quot; is not registered for client &quot;demo-app&quot;'
    },
    {
      name: 'repeated redirect_uri',
      params: { redirect_uri: [REDIRECT_URI, REDIRECT_URI] },
      error: 'invalid_request',
      description: 'redirect_uri must not be repeated'
    },
    {
      // The client is checked first: even a broken request of an unknown client must not redirect
      name: 'unknown client with other errors',
      params: { client_id: 'nobody', response_type: 'token', scope: undefined },
      error: 'unauthorized_client',
      description: 'client_id &quot;nobody&quot; is not registered'
    }
  ]
  for (const { name, params, error, description } of cases) {
    t.test(name, async (t) => {
      assertErrorPage(t, await authorizeAtGateway(app, authorizeParams(params)), error, description)
    })
  }

  t.test('the page carries the fixture hint', async (t) => {
    const res = await authorizeAtGateway(app, authorizeParams({ client_id: 'nobody' }))
    t.ok(res.body.includes(`<p>${PAGE_HINT}</p>`))
  })
})

t.test('a client_id containing markup is escaped on the error page', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await authorizeAtGateway(app, authorizeParams({ client_id: '<script>alert("x")</script>\'&' }))
  assertErrorPage(t, res, 'unauthorized_client',
    'client_id &quot;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;&quot; is not registered')
  t.notOk(res.body.includes('<script'), 'no raw script tag')
})

t.test('a redirect_uri containing markup is escaped on the error page', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await authorizeAtGateway(app, authorizeParams({ redirect_uri: 'http://x/"><img src=x onerror=alert(1)>' }))
  assertErrorPage(t, res, 'invalid_request',
    'redirect_uri &quot;http://x/&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&quot; is not registered for client &quot;demo-app&quot;')
  t.notOk(res.body.includes('<img'), 'no raw tag')
})

t.test('other request errors redirect to redirect_uri with error, error_description and state', async (t) => {
  const { app } = await buildTestApp(t)
  const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'

  const cases: Array<{ name: string, params: Params, error: string, description: string }> = [
    {
      name: 'missing response_type',
      params: { response_type: undefined },
      error: 'invalid_request',
      description: 'response_type is required'
    },
    {
      name: 'response_type token',
      params: { response_type: 'token' },
      error: 'unsupported_response_type',
      description: 'response_type "token" is not supported; use code'
    },
    {
      name: 'response_type code id_token',
      params: { response_type: 'code id_token' },
      error: 'unsupported_response_type',
      description: 'response_type "code id_token" is not supported; use code'
    },
    { name: 'missing scope', params: { scope: undefined }, error: 'invalid_request', description: 'scope is required' },
    { name: 'empty scope', params: { scope: '' }, error: 'invalid_request', description: 'scope is required' },
    { name: 'blank scope', params: { scope: '   ' }, error: 'invalid_scope', description: 'scope is empty' },
    {
      name: 'scope the client may not ask for',
      params: { scope: 'openid dpv:FraudPreventionAndDetection number-verification:verify sim-swap:check' },
      error: 'invalid_scope',
      description: 'scope not allowed for this client: sim-swap:check'
    },
    {
      name: 'no dpv: purpose',
      params: { scope: 'openid number-verification:verify' },
      error: 'invalid_scope',
      description: 'a dpv: purpose is required, e.g. dpv:FraudPreventionAndDetection'
    },
    {
      name: 'two dpv: purposes',
      params: { scope: 'openid dpv:FraudPreventionAndDetection dpv:Marketing number-verification:verify' },
      error: 'invalid_scope',
      description: 'exactly one dpv: purpose is allowed, got dpv:FraudPreventionAndDetection dpv:Marketing'
    },
    {
      name: 'unknown prompt',
      params: { prompt: 'create' },
      error: 'invalid_request',
      description: 'prompt value "create" is not supported'
    },
    {
      name: 'prompt=none with login',
      params: { prompt: 'none login' },
      error: 'invalid_request',
      description: 'prompt=none cannot be combined with other values'
    },
    {
      name: 'prompt=none with consent',
      params: { prompt: 'consent none' },
      error: 'invalid_request',
      description: 'prompt=none cannot be combined with other values'
    },
    {
      name: 'PKCE required but missing (demo-app-jwt)',
      params: { client_id: 'demo-app-jwt' },
      error: 'invalid_request',
      description: 'PKCE is required for this client: send code_challenge and code_challenge_method=S256'
    },
    {
      name: 'PKCE required, only the method sent',
      params: { client_id: 'demo-app-jwt', code_challenge_method: 'S256' },
      error: 'invalid_request',
      description: 'PKCE is required for this client: send code_challenge and code_challenge_method=S256'
    },
    {
      name: 'code_challenge_method plain',
      params: { code_challenge: challenge, code_challenge_method: 'plain' },
      error: 'invalid_request',
      description: 'code_challenge_method "plain" is not supported; use S256'
    },
    {
      // RFC 7636: a missing method means plain, which is refused
      name: 'code_challenge without code_challenge_method',
      params: { code_challenge: challenge },
      error: 'invalid_request',
      description: 'code_challenge_method "plain" is not supported; use S256'
    },
    {
      name: 'code_challenge_method without code_challenge',
      params: { code_challenge_method: 'S256' },
      error: 'invalid_request',
      description: 'code_challenge_method was sent without code_challenge'
    },
    {
      name: 'code_challenge too short',
      params: { code_challenge: 'abc', code_challenge_method: 'S256' },
      error: 'invalid_request',
      description: 'code_challenge must be 43-128 characters of [A-Za-z0-9-._~]'
    },
    {
      name: 'code_challenge with characters outside the PKCE alphabet',
      params: { code_challenge: `${challenge.slice(0, 42)}+`, code_challenge_method: 'S256' },
      error: 'invalid_request',
      description: 'code_challenge must be 43-128 characters of [A-Za-z0-9-._~]'
    },
    {
      name: 'code_challenge too long',
      params: { code_challenge: 'a'.repeat(129), code_challenge_method: 'S256' },
      error: 'invalid_request',
      description: 'code_challenge must be 43-128 characters of [A-Za-z0-9-._~]'
    },
    {
      name: 'tel: hint that is not E.164',
      params: { login_hint: 'tel:666666666' },
      error: 'invalid_request',
      description: 'login_hint "tel:666666666" is not tel:+E.164 (e.g. tel:+34666666666)'
    },
    {
      name: 'bare + hint that is not E.164',
      params: { login_hint: '+0034666' },
      error: 'invalid_request',
      description: 'login_hint "+0034666" is not tel:+E.164 (e.g. tel:+34666666666)'
    },
    {
      name: 'ipport: hint with a bad address',
      params: { login_hint: 'ipport:142.115.147.300' },
      error: 'invalid_request',
      description: 'login_hint "ipport:142.115.147.300" is not ipport:IPv4[:port] or ipport:[IPv6][:port]'
    },
    {
      name: 'ipport: hint with a port out of range',
      params: { login_hint: 'ipport:142.115.147.143:70000' },
      error: 'invalid_request',
      description: 'login_hint "ipport:142.115.147.143:70000" is not ipport:IPv4[:port] or ipport:[IPv6][:port]'
    },
    {
      name: 'ipport: hint with an IPv4 address in brackets',
      params: { login_hint: 'ipport:[142.115.147.143]' },
      error: 'invalid_request',
      description: 'login_hint "ipport:[142.115.147.143]" is not ipport:IPv4[:port] or ipport:[IPv6][:port]'
    },
    {
      name: 'konera_context entry without a key',
      params: { konera_context: '142.115.147.143' },
      error: 'invalid_request',
      description: 'konera_context entry "142.115.147.143" is not key:value'
    },
    {
      name: 'konera_context ipv4 that is not IPv4',
      params: { konera_context: 'ipv4:2001:4860:7:f04::fe' },
      error: 'invalid_request',
      description: 'konera_context ipv4 "2001:4860:7:f04::fe" is not a valid IPv4 address'
    },
    {
      name: 'konera_context ipv6 that is not IPv6',
      params: { konera_context: 'ipv4:142.115.147.143,ipv6:not-an-address' },
      error: 'invalid_request',
      description: 'konera_context ipv6 "not-an-address" is not a valid IPv6 address'
    },
    {
      name: 'konera_context with ipv4 twice',
      params: { konera_context: 'ipv4:142.115.147.143,ipv4:142.115.147.144' },
      error: 'invalid_request',
      description: 'konera_context has ipv4 twice'
    },
    {
      name: 'repeated scope',
      params: { scope: [SCOPE, SCOPE] },
      error: 'invalid_request',
      description: 'scope must not be repeated'
    },
    {
      name: 'repeated response_type',
      params: { response_type: ['code', 'code'] },
      error: 'invalid_request',
      description: 'response_type must not be repeated'
    },
    {
      name: 'repeated login_hint',
      params: { login_hint: ['tel:+34666666666', 'tel:+34666666667'] },
      error: 'invalid_request',
      description: 'login_hint must not be repeated'
    },
    {
      name: 'repeated konera_context',
      params: { konera_context: [`ipv4:${SEED_DEVICE_IPV4}`, `ipv4:${SEED_DEVICE_IPV4}`] },
      error: 'invalid_request',
      description: 'konera_context must not be repeated'
    }
  ]
  for (const { name, params, error, description } of cases) {
    t.test(name, async (t) => {
      const res = await authorizeAtGateway(app, authorizeParams(params))
      assertErrorRedirect(t, res, { error, error_description: description, state: STATE })
    })
  }

  t.test('without state the error redirect carries no state', async (t) => {
    const res = await authorizeAtGateway(app, authorizeParams({ state: undefined, response_type: 'token' }))
    assertErrorRedirect(t, res, {
      error: 'unsupported_response_type',
      error_description: 'response_type "token" is not supported; use code'
    })
  })

  t.test('a repeated state is refused, echoing the first value', async (t) => {
    const res = await authorizeAtGateway(app, authorizeParams({ state: ['first', 'second'] }))
    assertErrorRedirect(t, res, {
      error: 'invalid_request',
      error_description: 'state must not be repeated',
      state: 'first'
    })
  })

  t.test('a state with reserved characters comes back intact', async (t) => {
    const state = 'a b&c=d/é?#'
    const res = await authorizeAtGateway(app, authorizeParams({ state, scope: undefined }))
    assertErrorRedirect(t, res, { error: 'invalid_request', error_description: 'scope is required', state })
  })
})

t.test('a valid request is routed to the operator with a one-time request_id', async (t) => {
  const { app } = await buildTestApp(t)
  const gateway = await authorizeAtGateway(app, authorizeParams({ konera_context: `ipv4:${SEED_DEVICE_IPV4}` }))
  t.equal(gateway.statusCode, 302)
  t.match(locationOf(gateway), OPERATOR_LOCATION)
  t.equal(OPERATOR_LOCATION.exec(locationOf(gateway))?.[1], 'telco-es')
  t.equal(gateway.body, '')

  const operator = await follow(app, locationOf(gateway))
  t.equal(operator.statusCode, 302)
  const callback = new URL(locationOf(operator))
  t.equal(callback.origin + callback.pathname, REDIRECT_URI)
  t.strictSame([...callback.searchParams.keys()], ['code', 'state', 'iss'])
  t.equal(callback.searchParams.get('iss'), ISSUER, 'RFC 9207: the code names its issuer')
  t.match(callback.searchParams.get('code'), /^[A-Za-z0-9_-]{32}$/)
  t.equal(callback.searchParams.get('state'), STATE)

  const { msisdn, amr } = await identifiedSubscriber(app, callback.searchParams.get('code') as string)
  t.equal(msisdn, '+34666666666')
  t.strictSame(amr, ['nba', 'mnba'])
})

t.test('without state the code redirect carries only the code', async (t) => {
  const { app } = await buildTestApp(t)
  const { callback } = await runAuthorization(app, authorizeParams({
    state: undefined,
    konera_context: `ipv4:${SEED_DEVICE_IPV4}`
  }))
  t.strictSame([...callback.searchParams.keys()], ['code', 'iss'])
})

t.test('the seed\'s URL-encoded konera_context identifies +34666666666', async (t) => {
  const { app } = await buildTestApp(t)
  const url = `${AUTHORIZE_PATH}?response_type=code&client_id=demo-app` +
    `&redirect_uri=${encodeURIComponent(REDIRECT_URI)}` +
    `&scope=${encodeURIComponent(SCOPE)}&state=${STATE}&prompt=none&${SEED_KONERA_QUERY}`
  const gateway = await app.inject({ method: 'GET', url })
  t.equal(gateway.statusCode, 302)
  t.equal(OPERATOR_LOCATION.exec(locationOf(gateway))?.[1], 'telco-es')
  const operator = await follow(app, locationOf(gateway))
  const callback = new URL(locationOf(operator))
  t.equal(callback.searchParams.get('state'), STATE)
  const { msisdn } = await identifiedSubscriber(app, callback.searchParams.get('code') as string)
  t.equal(msisdn, '+34666666666')
})

t.test('acr_values is accepted and ignored', async (t) => {
  const { app } = await buildTestApp(t)
  const code = await obtainCode(app, authorizeParams({
    acr_values: 'urn:unknown:acr nonsense',
    konera_context: `ipv4:${SEED_DEVICE_IPV4}`
  }))
  t.equal((await identifiedSubscriber(app, code)).msisdn, '+34666666666')
})

t.test('unsupported login_hint forms are ignored', async (t) => {
  const { app } = await buildTestApp(t)
  for (const loginHint of ['operatortoken:opaque-token', 'email:someone@example.com', 'sub:1234']) {
    const code = await obtainCode(app, authorizeParams({
      login_hint: loginHint,
      konera_context: `ipv4:${SEED_DEVICE_IPV4}`
    }))
    t.equal((await identifiedSubscriber(app, code)).msisdn, '+34666666666', loginHint)
  }
})

t.test('the device is identified from the address it is seen on', async (t) => {
  const { app } = await buildTestApp(t)

  const cases: Array<{ name: string, params: Params, remoteAddress?: string, operator: string, msisdn: string }> = [
    {
      name: 'konera_context with IPv6 only',
      params: { konera_context: `ipv6:${SEED_DEVICE_IPV6}` },
      operator: 'telco-es',
      msisdn: '+34666666666'
    },
    {
      name: 'konera_context with an unknown extra entry',
      params: { konera_context: `ipv4:${SEED_DEVICE_IPV4},msisdn:+34600000002` },
      operator: 'telco-es',
      msisdn: '+34666666666'
    },
    {
      name: 'login_hint ipport:IPv4',
      params: { login_hint: 'ipport:142.115.147.144' },
      operator: 'telco-es',
      msisdn: '+34666666667'
    },
    {
      name: 'login_hint ipport:IPv4:port',
      params: { login_hint: 'ipport:142.115.147.143:16790' },
      operator: 'telco-es',
      msisdn: '+34666666666'
    },
    {
      name: 'login_hint ipport:[IPv6]',
      params: { login_hint: `ipport:[${SEED_DEVICE_IPV6}]` },
      operator: 'telco-es',
      msisdn: '+34666666666'
    },
    {
      name: 'login_hint ipport:[IPv6]:port',
      params: { login_hint: `ipport:[${SEED_DEVICE_IPV6}]:8080` },
      operator: 'telco-es',
      msisdn: '+34666666666'
    },
    {
      name: 'login_hint ipport:IPv6 without brackets',
      params: { login_hint: 'ipport:2401:4900:1c0a:2f3::9' },
      operator: 'telco-in',
      msisdn: '+919036499174'
    },
    {
      name: 'the request source address',
      params: {},
      remoteAddress: '142.115.147.144',
      operator: 'telco-es',
      msisdn: '+34666666667'
    },
    {
      name: 'an IPv4-mapped IPv6 source address',
      params: {},
      remoteAddress: '::ffff:142.115.147.144',
      operator: 'telco-es',
      msisdn: '+34666666667'
    },
    {
      name: 'second operator by IPv4 source',
      params: {},
      remoteAddress: '49.36.10.20',
      operator: 'telco-in',
      msisdn: '+919036499174'
    },
    {
      name: 'second operator by an address of its IPv6 /64',
      params: {},
      remoteAddress: '2401:4900:1c0a:2f3:abcd::1',
      operator: 'telco-in',
      msisdn: '+919036499174'
    },
    {
      name: 'second operator by konera_context IPv6 in its /64',
      params: { konera_context: 'ipv6:2401:4900:1c0a:2f3::1' },
      operator: 'telco-in',
      msisdn: '+919036499174'
    },
    {
      name: 'a tel: hint does not override the network identification',
      params: { login_hint: 'tel:+34666666667', konera_context: `ipv4:${SEED_DEVICE_IPV4}` },
      operator: 'telco-es',
      msisdn: '+34666666666'
    },
    {
      name: 'a tel: hint of another operator does not route away from the network',
      params: { login_hint: '+919036499174', konera_context: `ipv4:${SEED_DEVICE_IPV4}` },
      operator: 'telco-es',
      msisdn: '+34666666666'
    }
  ]
  for (const { name, params, remoteAddress, operator, msisdn } of cases) {
    t.test(name, async (t) => {
      const device = remoteAddress === undefined ? {} : { remoteAddress }
      const { gateway, callback } = await runAuthorization(app, authorizeParams({ prompt: 'none', ...params }), device)
      t.equal(OPERATOR_LOCATION.exec(locationOf(gateway))?.[1], operator, 'routed operator')
      t.equal(callback.searchParams.get('state'), STATE)
      const code = callback.searchParams.get('code')
      t.type(code, 'string', `code issued (${callback.toString()})`)
      const identified = await identifiedSubscriber(app, code as string)
      t.equal(identified.msisdn, msisdn, 'identified subscriber')
      t.strictSame(identified.amr, ['nba', 'mnba'])
    })
  }
})

t.test('X-Forwarded-For is ignored unless trustProxy is set', async (t) => {
  const device = { headers: { 'x-forwarded-for': '142.115.147.144' } }

  t.test('not trusted: the socket address (127.0.0.1) is used', async (t) => {
    const { app } = await buildTestApp(t)
    const { gateway, operator } = await runAuthorization(app, authorizeParams({ prompt: 'none' }), device)
    t.equal(OPERATOR_LOCATION.exec(locationOf(gateway))?.[1], 'telco-es', 'default operator')
    assertErrorRedirect(t, operator, {
      error: 'login_required',
      error_description: 'Telco ES (emulated) cannot identify the device: address 127.0.0.1 is not a subscriber on ' +
        'its mobile network',
      state: STATE
    })
  })

  t.test('trusted: the forwarded address identifies the device', async (t) => {
    const { app } = await buildTestApp(t, { trustProxy: true })
    const code = await obtainCode(app, authorizeParams({ prompt: 'none' }), device)
    t.equal((await identifiedSubscriber(app, code)).msisdn, '+34666666667')
  })

  t.test('trusted: the left-most (client) address of a chain identifies the device', async (t) => {
    const { app } = await buildTestApp(t, { trustProxy: true })
    const code = await obtainCode(app, authorizeParams({ prompt: 'none' }), {
      headers: { 'x-forwarded-for': '49.36.10.20, 10.0.0.1' }
    })
    t.equal((await identifiedSubscriber(app, code)).msisdn, '+919036499174')
  })
})

t.test('a device the operator cannot authenticate by network', async (t) => {
  const { app } = await buildTestApp(t)

  const cases: Array<{ name: string, params: Params, remoteAddress?: string, error: string, description: string }> = [
    {
      name: 'WiFi subscriber with prompt=none: login_required',
      params: { prompt: 'none', konera_context: 'ipv4:81.40.12.34' },
      error: 'login_required',
      description: 'Telco ES (emulated) cannot authenticate +34600000002: the device is on wifi, not mobile data and ' +
        'no fallback method'
    },
    {
      name: 'WiFi subscriber without prompt: access_denied',
      params: { konera_context: 'ipv4:81.40.12.34' },
      error: 'access_denied',
      description: 'Telco ES (emulated) cannot authenticate +34600000002: the device is on wifi, not mobile data and ' +
        'no fallback method'
    },
    {
      name: 'SMS-OTP-only subscriber with prompt=none: login_required',
      params: { prompt: 'none', konera_context: 'ipv4:142.115.147.150' },
      error: 'login_required',
      description: 'Telco ES (emulated) cannot authenticate +34600000003 by network (network authentication is not ' +
        'enabled for this subscriber) and its SMS OTP fallback needs interaction, which prompt=none forbids'
    },
    {
      name: 'WiFi subscriber with SMS OTP fallback and prompt=none: login_required',
      params: { prompt: 'none', konera_context: 'ipv4:81.40.12.35' },
      error: 'login_required',
      description: 'Telco ES (emulated) cannot authenticate +34600000004 by network (the device is on wifi, not ' +
        'mobile data) and its SMS OTP fallback needs interaction, which prompt=none forbids'
    },
    {
      name: 'barred subscriber with prompt=none: login_required',
      params: { prompt: 'none', konera_context: 'ipv4:142.115.147.151' },
      error: 'login_required',
      description: 'Telco ES (emulated) cannot authenticate +34600000005: network authentication is not enabled for ' +
        'this subscriber and no fallback method'
    },
    {
      name: 'barred subscriber without prompt: access_denied',
      params: { prompt: 'login', konera_context: 'ipv4:142.115.147.151' },
      error: 'access_denied',
      description: 'Telco ES (emulated) cannot authenticate +34600000005: network authentication is not enabled for ' +
        'this subscriber and no fallback method'
    },
    {
      name: 'an address no operator knows goes to the default operator, which cannot place it',
      params: { prompt: 'none' },
      remoteAddress: '203.0.113.7',
      error: 'login_required',
      description: 'Telco ES (emulated) cannot identify the device: address 203.0.113.7 is not a subscriber on its ' +
        'mobile network'
    },
    {
      name: 'an unknown address in the operator range',
      params: { konera_context: 'ipv4:142.115.1.1' },
      error: 'access_denied',
      description: 'Telco ES (emulated) cannot identify the device: address 142.115.1.1, 127.0.0.1 is not a ' +
        'subscriber on its mobile network'
    },
    {
      // The operator does not trust hints: the device must be seen on the subscriber's address
      name: 'a tel: hint alone does not authenticate',
      params: { prompt: 'none', login_hint: 'tel:+919036499174' },
      error: 'login_required',
      description: 'Telco IN (emulated) cannot authenticate +919036499174: address 127.0.0.1 is not its address on ' +
        'the mobile network and no fallback method'
    },
    {
      // The gateway routes by address to telco-es; the device's subscriber belongs to telco-in
      name: 'a subscriber seen on another operator\'s range',
      params: { prompt: 'none', konera_context: 'ipv4:142.115.7.7,ipv6:2401:4900:1c0a:2f3::1' },
      error: 'login_required',
      description: 'Telco ES (emulated) cannot identify the device: address 142.115.7.7, 2401:4900:1c0a:2f3::1, ' +
        '127.0.0.1 is not a subscriber on its mobile network'
    }
  ]
  for (const { name, params, remoteAddress, error, description } of cases) {
    t.test(name, async (t) => {
      const operator = await operatorAnswer(app, authorizeParams(params), remoteAddress)
      assertErrorRedirect(t, operator, { error, error_description: description, state: STATE })
    })
  }
})

t.test('SMS OTP subscribers get a code when interaction is allowed, without network amr', async (t) => {
  const { app } = await buildTestApp(t)
  for (const [address, msisdn] of [['142.115.147.150', '+34600000003'], ['81.40.12.35', '+34600000004']] as const) {
    const code = await obtainCode(app, authorizeParams({ konera_context: `ipv4:${address}` }))
    const identified = await identifiedSubscriber(app, code)
    t.equal(identified.msisdn, msisdn)
    t.strictSame(identified.amr, ['sms', 'otp'])
  }
})

t.test('without a default operator, an address no operator knows ends at the gateway', async (t) => {
  const file = fixtureFile((document) => { delete document.defaultOperator })
  const { app } = await buildTestApp(t, { fixtures: [file] })
  const description = 'no operator could be found for this device (no address in an operator range, no tel: hint ' +
    'with a known prefix, no default operator)'

  const none = await authorizeAtGateway(app, authorizeParams({ prompt: 'none', konera_context: 'ipv4:203.0.113.7' }))
  assertErrorRedirect(t, none, { error: 'login_required', error_description: description, state: STATE })
  const interactive = await authorizeAtGateway(app, authorizeParams({ konera_context: 'ipv4:203.0.113.7' }))
  assertErrorRedirect(t, interactive, { error: 'access_denied', error_description: description, state: STATE })

  // A tel: hint with a known prefix still finds the operator
  const byPrefix = await authorizeAtGateway(app, authorizeParams({ login_hint: 'tel:+34699999999' }))
  t.equal(OPERATOR_LOCATION.exec(locationOf(byPrefix))?.[1], 'telco-es')
})

t.test('a redirect_uri with a query keeps its parameters in every redirect', async (t) => {
  const redirectUri = 'http://localhost:3000/callback?tenant=acme&lang=es'
  const file = fixtureFile((document) => {
    document.clients.push({
      clientId: 'tenant-app',
      clientSecret: 'tenant-secret',
      redirectUris: [redirectUri],
      scopes: ['number-verification:verify'],
      tokenEndpointAuthMethods: ['client_secret_post']
    })
  })
  const { app } = await buildTestApp(t, { fixtures: [file] })
  const params = authorizeParams({
    client_id: 'tenant-app',
    redirect_uri: redirectUri,
    konera_context: `ipv4:${SEED_DEVICE_IPV4}`
  })

  const { callback } = await runAuthorization(app, params)
  t.strictSame([...callback.searchParams.keys()], ['tenant', 'lang', 'code', 'state', 'iss'])
  t.equal(callback.searchParams.get('tenant'), 'acme')
  t.equal(callback.searchParams.get('lang'), 'es')

  const error = await authorizeAtGateway(app, { ...params, response_type: 'token' })
  assertErrorRedirect(t, error, {
    error: 'unsupported_response_type',
    error_description: 'response_type "token" is not supported; use code',
    state: STATE
  }, redirectUri)
  t.equal(new URL(locationOf(error)).searchParams.get('tenant'), 'acme')
})

t.test('the operator leg refuses requests it was not sent by the gateway', async (t) => {
  const requestPage = (t: Test, res: LightMyRequestResponse, description: string): void =>
    assertErrorPage(t, res, 'invalid_request', description)
  const stale = 'this authorization request is unknown, expired or already completed: start again at the gateway'

  t.test('missing request_id', async (t) => {
    const { app } = await buildTestApp(t)
    requestPage(t, await app.inject({ method: 'GET', url: '/operators/telco-es/authorize' }),
      'request_id is required: start the flow at the gateway authorize endpoint')
    requestPage(t, await app.inject({ method: 'GET', url: '/operators/telco-es/authorize?request_id=' }),
      'request_id is required: start the flow at the gateway authorize endpoint')
  })

  t.test('unknown request_id', async (t) => {
    const { app } = await buildTestApp(t)
    requestPage(t, await app.inject({
      method: 'GET',
      url: '/operators/telco-es/authorize?request_id=AAAAAAAAAAAAAAAAAAAAAAAA'
    }), stale)
  })

  t.test('expired request_id (past 300 s)', async (t) => {
    const { app, clock } = await buildTestApp(t)
    const gateway = await authorizeAtGateway(app, authorizeParams({ konera_context: `ipv4:${SEED_DEVICE_IPV4}` }))
    clock.advance(300_000)
    requestPage(t, await follow(app, locationOf(gateway)), stale)
  })

  t.test('a request_id just before expiry still completes', async (t) => {
    const { app, clock } = await buildTestApp(t)
    const gateway = await authorizeAtGateway(app, authorizeParams({ konera_context: `ipv4:${SEED_DEVICE_IPV4}` }))
    clock.advance(299_999)
    const operator = await follow(app, locationOf(gateway))
    t.equal(operator.statusCode, 302)
    t.ok(new URL(locationOf(operator)).searchParams.has('code'))
  })

  t.test('reused request_id', async (t) => {
    const { app } = await buildTestApp(t)
    const gateway = await authorizeAtGateway(app, authorizeParams({ konera_context: `ipv4:${SEED_DEVICE_IPV4}` }))
    const first = await follow(app, locationOf(gateway))
    t.equal(first.statusCode, 302)
    requestPage(t, await follow(app, locationOf(gateway)), stale)
  })

  t.test('a failed identification also consumes the request_id', async (t) => {
    const { app } = await buildTestApp(t)
    const gateway = await authorizeAtGateway(app, authorizeParams({ konera_context: 'ipv4:81.40.12.34' }))
    t.equal((await follow(app, locationOf(gateway))).statusCode, 302)
    requestPage(t, await follow(app, locationOf(gateway)), stale)
  })

  t.test('request_id sent to the wrong operator', async (t) => {
    const { app } = await buildTestApp(t)
    const gateway = await authorizeAtGateway(app, authorizeParams({ konera_context: `ipv4:${SEED_DEVICE_IPV4}` }))
    const requestId = new URL(locationOf(gateway)).searchParams.get('request_id') as string
    requestPage(t, await app.inject({ method: 'GET', url: `/operators/telco-in/authorize?request_id=${requestId}` }),
      'this authorization request was routed to operator &quot;telco-es&quot;, not &quot;telco-in&quot;')
    requestPage(t, await app.inject({
      method: 'GET',
      url: `/operators/no-such-operator/authorize?request_id=${requestId}`
    }), 'this authorization request was routed to operator &quot;telco-es&quot;, not &quot;no-such-operator&quot;')
    // The misdirected attempt does not burn the request: the right operator still completes it
    const operator = await follow(app, locationOf(gateway))
    t.ok(new URL(locationOf(operator)).searchParams.has('code'))
  })

  t.test('an operator removed from the fixtures mid-flow answers temporarily_unavailable', async (t) => {
    const { app } = await buildTestApp(t)
    const gateway = await authorizeAtGateway(app, authorizeParams({ konera_context: 'ipv4:49.36.10.20' }))
    t.equal(OPERATOR_LOCATION.exec(locationOf(gateway))?.[1], 'telco-in')
    const fixtures = loadFixtures([DEFAULT_FIXTURES])
    app.emulator.replaceFixtures({
      ...fixtures,
      operators: fixtures.operators.filter((o) => o.id !== 'telco-in'),
      subscribers: fixtures.subscribers.filter((s) => s.operator !== 'telco-in')
    })
    assertErrorRedirect(t, await follow(app, locationOf(gateway)), {
      error: 'temporarily_unavailable',
      error_description: 'operator "telco-in" is no longer configured',
      state: STATE
    })
  })
})
