// Who may use the control API: with --admin-token every control route needs the bearer token
// (health stays open); with --no-admin the control routes are not served at all (health stays).
// The routes are read from the router, so a control route added later is held to the same rule.
import t from 'tap'
import type { FastifyInstance, HTTPMethods } from 'fastify'
import { defaultFixtureDocument, SEED_MSISDN } from '../../scenarios/support.js'
import { buildTestApp } from '../../helpers/app.js'
import { servedRoutes } from '../../helpers/routes.js'

const ADMIN_TOKEN = 's3cret-admin-token'
const UNAUTHENTICATED = {
  status: 401,
  code: 'UNAUTHENTICATED',
  message: 'the control API requires Authorization: Bearer <admin token> (--admin-token)'
}
/** Open by design: readiness probes, and the dashboard page that asks for the token itself */
// The page and its script hold no data (a browser navigation cannot send a bearer token)
const OPEN = new Set(['GET /_emulator/health', 'GET /_emulator/ui', 'GET /_emulator/ui/dashboard.js'])
const PARAMS: Record<string, string> = {
  name: 'rate-limited',
  msisdn: encodeURIComponent(SEED_MSISDN),
  id: 'activation-1',
  flowId: 'flow-1'
}

/** Every (method, path) under /_emulator the router holds */
function controlRoutes (app: FastifyInstance): string[] {
  return [...servedRoutes(app)].filter((route) => route.split(' ')[1]?.startsWith('/_emulator') === true).sort()
}

function concrete (route: string): { method: HTTPMethods, url: string } {
  const [method, path] = route.split(' ') as [HTTPMethods, string]
  return { method, url: path.replace(/:(\w+)/g, (_, name: string) => PARAMS[name] ?? 'x') }
}

t.test(
  'with --admin-token, every control route but health answers 401 without the token or with a wrong one',
  async (t) => {
    const { app } = await buildTestApp(t, { adminToken: ADMIN_TOKEN })
    const routes = controlRoutes(app)
    t.ok(routes.length >= 15, `the router holds the control routes (${routes.length})`)
    for (const route of routes.filter((r) => !OPEN.has(r))) {
      t.test(route, async (t) => {
        const { method, url } = concrete(route)
        for (const authorization of [
          undefined,
          'Bearer wrong-token',
          `Bearer ${ADMIN_TOKEN}x`,
          `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`,
          ADMIN_TOKEN
        ]) {
          const res = await app.inject({ method, url, headers: authorization === undefined ? {} : { authorization } })
          t.equal(res.statusCode, 401, `authorization: ${authorization ?? '(none)'}`)
          t.strictSame(res.json(), UNAUTHENTICATED)
          const challenge =
            authorization?.startsWith('Bearer ') === true
              ? 'Bearer realm="camara-nv-emulator control", error="invalid_token", ' +
                `error_description="${UNAUTHENTICATED.message}"`
              : 'Bearer realm="camara-nv-emulator control"'
          t.equal(res.headers['www-authenticate'], challenge, 'RFC 6750 section 3')
        }
      })
    }
    t.test('health stays open', async (t) => {
      t.equal((await app.inject({ method: 'GET', url: '/_emulator/health' })).statusCode, 200)
    })
    t.test("a namespace's control routes are guarded the same way", async (t) => {
      const created = await app.inject({
        method: 'PUT',
        url: '/_emulator/namespaces/ci-1',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` }
      })
      t.equal(created.statusCode, 201)
      // Served by the same routes under /ns/<name>, but the namespaces themselves, the process's
      // metrics and the dashboard
      const rootOnly = ['/_emulator/namespaces', '/_emulator/ui', '/_emulator/metrics']
      const inNamespace = routes.filter(
        (r) => !OPEN.has(r) && !rootOnly.some((path) => r.includes(path)) && r !== 'GET /_emulator/journal/stream'
      )
      t.ok(inNamespace.length >= 15, `${inNamespace.length} routes`)
      for (const route of inNamespace) {
        const { method, url } = concrete(route)
        const res = await app.inject({ method, url: `/ns/ci-1${url}` })
        t.equal(res.statusCode, 401, `${method} /ns/ci-1${url}`)
      }
    })
  }
)

t.test('with --admin-token, the token opens every control route', async (t) => {
  const { app } = await buildTestApp(t, { adminToken: ADMIN_TOKEN })
  const seed = defaultFixtureDocument().subscribers.find((s) => s.msisdn === SEED_MSISDN)
  const msisdn = encodeURIComponent(SEED_MSISDN)
  const calls: Array<{ method: HTTPMethods, url: string, payload?: Record<string, unknown>, status: number }> = [
    { method: 'GET', url: '/_emulator/fixtures', status: 200 },
    { method: 'GET', url: '/_emulator/subscribers', status: 200 },
    { method: 'PUT', url: `/_emulator/subscribers/${msisdn}`, payload: seed, status: 200 },
    { method: 'DELETE', url: `/_emulator/subscribers/${encodeURIComponent('+34600000005')}`, status: 204 },
    {
      method: 'POST',
      url: '/_emulator/tokens',
      payload: { clientId: 'demo-app', msisdn: SEED_MSISDN, scope: 'number-verification:verify' },
      status: 201
    },
    {
      method: 'POST',
      url: '/_emulator/operator-tokens',
      payload: { clientId: 'demo-app-jwt', msisdn: SEED_MSISDN },
      status: 201
    },
    { method: 'GET', url: '/_emulator/scenarios', status: 200 },
    {
      method: 'POST',
      url: '/_emulator/scenarios',
      payload: { name: 'my-scenario', description: 'd', effects: { verifiedResult: true } },
      status: 201
    },
    { method: 'DELETE', url: '/_emulator/scenarios/my-scenario', status: 204 },
    { method: 'POST', url: '/_emulator/scenarios/rate-limited/activate', payload: {}, status: 201 },
    { method: 'DELETE', url: '/_emulator/scenarios/rate-limited/activate', status: 204 },
    { method: 'POST', url: '/_emulator/scenarios/rate-limited/activate', payload: {}, status: 201 },
    { method: 'DELETE', url: '/_emulator/activations/activation-2', status: 204 },
    { method: 'DELETE', url: '/_emulator/activations', status: 204 },
    { method: 'GET', url: '/_emulator/journal', status: 200 },
    { method: 'GET', url: '/_emulator/metrics', status: 200 },
    { method: 'GET', url: '/_emulator/clients/demo-app/report', status: 200 },
    { method: 'DELETE', url: '/_emulator/journal', status: 204 },
    { method: 'GET', url: '/_emulator/ui/sections/world', status: 200 },
    { method: 'GET', url: '/_emulator/ui/sections/scenarios', status: 200 },
    { method: 'GET', url: '/_emulator/ui/sections/journal', status: 204 },
    { method: 'GET', url: '/_emulator/ui/sections/flows/flow-1', status: 200 },
    { method: 'GET', url: '/_emulator/ui/sections/conformance', status: 200 },
    { method: 'PUT', url: '/_emulator/namespaces/ci-1', status: 201 },
    { method: 'GET', url: '/_emulator/namespaces', status: 200 },
    { method: 'DELETE', url: '/_emulator/namespaces/ci-1', status: 204 },
    { method: 'POST', url: '/_emulator/reset', status: 204 }
  ]
  // Every guarded route is among the calls, so a control route added later must be added here.
  // The event stream never ends under inject(): journal.test.ts reads it over a real socket
  const called = (route: string): boolean => {
    const [method, path] = route.split(' ') as [string, string]
    const pattern = new RegExp(`^${path.replace(/:\w+/g, '[^/]+')}$`)
    return calls.some((call) => call.method === method && pattern.test(call.url))
  }
  t.strictSame(
    controlRoutes(app).filter(
      (route) => !OPEN.has(route) && route !== 'GET /_emulator/journal/stream' && !called(route)
    ),
    [],
    'no guarded route left out'
  )
  for (const call of calls) {
    const res = await app.inject({
      method: call.method,
      url: call.url,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      ...(call.payload === undefined ? {} : { payload: call.payload })
    })
    t.equal(res.statusCode, call.status, `${call.method} ${call.url}: ${res.body.slice(0, 120)}`)
  }
  const lowerCase = await app.inject({
    method: 'GET',
    url: '/_emulator/fixtures',
    headers: { authorization: `bearer ${ADMIN_TOKEN}` }
  })
  t.equal(lowerCase.statusCode, 200, 'the scheme is case-insensitive')
})

t.test('without --admin-token the control API is open', async (t) => {
  const { app } = await buildTestApp(t)
  t.equal((await app.inject({ method: 'GET', url: '/_emulator/scenarios' })).statusCode, 200)
  t.equal(
    (await app.inject({ method: 'GET', url: '/_emulator/scenarios', headers: { authorization: 'Bearer anything' } }))
      .statusCode,
    200
  )
})

t.test('with --no-admin every control route is 404 and health answers 200', async (t) => {
  const enabled = await buildTestApp(t)
  const routes = controlRoutes(enabled.app)
  await enabled.app.close()
  const { app } = await buildTestApp(t, { admin: false })
  t.strictSame(controlRoutes(app), ['GET /_emulator/health'], 'the router holds health only')
  for (const route of routes.filter((r) => r !== 'GET /_emulator/health')) {
    const { method, url } = concrete(route)
    const res = await app.inject({ method, url })
    t.equal(res.statusCode, 404, route)
  }
  const health = await app.inject({ method: 'GET', url: '/_emulator/health' })
  t.equal(health.statusCode, 200)
  t.match(health.json(), { status: 'ok' })
})
