// /_emulator/namespaces: create or replace, list, remove; names checked, the count capped, idle
// namespaces expiring, fixtures checked like fixture files, and the admin token guarding it all.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { BASE_URL, buildTestApp } from '../../helpers/app.js'
import { inNamespace } from '../../helpers/flow.js'

async function put (
  app: FastifyInstance, name: string, body?: unknown, headers: Record<string, string> = {}
): Promise<{ statusCode: number, json: () => any }> {
  return await app.inject({
    method: 'PUT',
    url: `/_emulator/namespaces/${name}`,
    headers,
    ...(body === undefined ? {} : { payload: body as Record<string, unknown> })
  })
}

const OWN_WORLD = {
  operators: [{ id: 'ns-telco', name: 'Namespace telco', numberPrefixes: ['+44'], ipRanges: ['10.44.0.0/16'] }],
  clients: [{ clientId: 'ns-app', clientSecret: 'ns-secret', redirectUris: ['http://localhost:4000/cb'], scopes: ['number-verification:verify'], tokenEndpointAuthMethods: ['client_secret_post'] }],
  subscribers: [{ msisdn: '+447700900123', operator: 'ns-telco', ipv4: ['10.44.0.7'], connection: 'mobile-data' }]
}

t.test('PUT creates (201) then replaces (200), GET lists, DELETE removes (204, then 404)', async (t) => {
  const { app } = await buildTestApp(t)
  const created = await put(app, 'ci-1234')
  t.equal(created.statusCode, 201)
  t.strictSame(created.json(), {
    name: 'ci-1234',
    createdAt: '2026-11-25T12:00:00.000Z',
    ownFixtures: false,
    issuer: `${BASE_URL}/ns/ci-1234/camara/api/auth/v1`
  })
  t.equal((await put(app, 'ci-1234', { seed: 7 })).statusCode, 200, 'replaced')
  t.equal((await put(app, 'other', { fixtures: OWN_WORLD })).statusCode, 201)
  const listed = await app.inject({ method: 'GET', url: '/_emulator/namespaces' })
  t.strictSame(listed.json(), {
    max: 100,
    namespaces: [
      {
        name: 'ci-1234',
        createdAt: '2026-11-25T12:00:00.000Z',
        ownFixtures: false,
        seed: 7,
        issuer: `${BASE_URL}/ns/ci-1234/camara/api/auth/v1`
      },
      {
        name: 'other',
        createdAt: '2026-11-25T12:00:00.000Z',
        ownFixtures: true,
        issuer: `${BASE_URL}/ns/other/camara/api/auth/v1`
      }
    ]
  })
  t.equal((await app.inject({ method: 'DELETE', url: '/_emulator/namespaces/ci-1234' })).statusCode, 204)
  const again = await app.inject({ method: 'DELETE', url: '/_emulator/namespaces/ci-1234' })
  t.equal(again.statusCode, 404)
  t.strictSame(again.json(), { status: 404, code: 'NOT_FOUND', message: 'no namespace "ci-1234"' })
  t.strictSame((await app.inject({ method: 'GET', url: '/_emulator/namespaces' })).json().namespaces
    .map((n: { name: string }) => n.name), ['other'])
})

t.test('names are checked: lowercase letters, digits and "-", at most 63, not starting with "-"', async (t) => {
  const { app } = await buildTestApp(t)
  for (const name of ['Upper', 'under_score', '-leading', 'a'.repeat(64), 'dot.ted']) {
    const res = await put(app, name)
    t.equal(res.statusCode, 400, name)
    t.match(res.json(), { status: 400, code: 'INVALID_ARGUMENT', message: /must match \^\[a-z0-9\]\[a-z0-9-\]\{0,62\}\$/ }, name)
  }
  t.equal((await put(app, 'a'.repeat(63))).statusCode, 201, '63 characters')
  t.equal((await put(app, '0-9')).statusCode, 201)
  const unknown = await app.inject({ method: 'GET', url: '/ns/Upper/_emulator/health' })
  t.equal(unknown.statusCode, 404, 'a name no namespace can have is simply not found')
})

t.test('the count is capped by --max-namespaces: 429 QUOTA_EXCEEDED, replacing is not adding, ' +
  'deleting makes room', async (t) => {
  const { app } = await buildTestApp(t, { maxNamespaces: 2 })
  t.equal((await put(app, 'one')).statusCode, 201)
  t.equal((await put(app, 'two')).statusCode, 201)
  const refused = await put(app, 'three')
  t.equal(refused.statusCode, 429)
  t.strictSame(refused.json(), {
    status: 429,
    code: 'QUOTA_EXCEEDED',
    message: 'at most 2 namespaces (--max-namespaces); DELETE one, or let an idle one expire'
  })
  t.equal((await app.inject({ method: 'GET', url: '/ns/three/_emulator/health' })).statusCode, 404,
    'nothing was created')
  t.equal((await put(app, 'two', { seed: 3 })).statusCode, 200, 'replacing at the cap')
  t.equal((await app.inject({ method: 'DELETE', url: '/_emulator/namespaces/one' })).statusCode, 204)
  t.equal((await put(app, 'three')).statusCode, 201, 'room again')
})

t.test('a namespace nobody uses expires after --namespace-idle; using it keeps it alive', async (t) => {
  const { app, clock } = await buildTestApp(t, { namespaceIdle: 60 })
  await put(app, 'busy')
  await put(app, 'idle')
  const health = async (name: string): Promise<number> =>
    (await app.inject({ method: 'GET', url: `/ns/${name}/_emulator/health` })).statusCode
  for (let i = 0; i < 4; i++) {
    clock.advance(40_000)
    t.equal(await health('busy'), 200, `busy after ${(i + 1) * 40} s`)
  }
  t.equal(await health('idle'), 404, 'idle for 160 s: gone')
  t.strictSame((await app.inject({ method: 'GET', url: '/_emulator/namespaces' })).json().namespaces
    .map((n: { name: string }) => n.name), ['busy'])
  t.equal((await put(app, 'idle')).statusCode, 201, 'an expired namespace can be created again')
})

t.test('a namespace\'s fixtures are checked like a fixture file: the JSON path and the rule', async (t) => {
  const { app } = await buildTestApp(t)
  const broken = await put(app, 'broken', {
    fixtures: {
      ...OWN_WORLD,
      subscribers: [{ msisdn: '+447700900123', operator: 'nobody', connection: 'mobile-data' }]
    }
  })
  t.equal(broken.statusCode, 400)
  t.match(broken.json(), { status: 400, code: 'INVALID_FIXTURE', message: /^\$\.subscribers\[0\]\.operator: / })
  const badField = await put(app, 'broken', { fixtures: { ...OWN_WORLD, extra: true } })
  t.match(badField.json(), { status: 400, code: 'INVALID_FIXTURE', message: '$.extra: unknown property "extra"' })
  const badBody = await put(app, 'broken', { fixture: OWN_WORLD })
  t.match(badBody.json(), { status: 400, code: 'INVALID_ARGUMENT', message: 'body has unknown property "fixture"' })
  const badSeed = await put(app, 'broken', { seed: -1 })
  t.equal(badSeed.statusCode, 400)
  t.equal((await app.inject({ method: 'GET', url: '/ns/broken/_emulator/health' })).statusCode, 404,
    'nothing half-made is served')
})

t.test('a namespace serves its own fixtures; the server\'s stay as they are', async (t) => {
  const { app } = await buildTestApp(t)
  await put(app, 'own', { fixtures: OWN_WORLD })
  await put(app, 'plain')
  const subscribers = async (target: FastifyInstance): Promise<string[]> =>
    (await target.inject({ method: 'GET', url: '/_emulator/subscribers' })).json()
      .map((s: { msisdn: string }) => s.msisdn)
  t.strictSame(await subscribers(inNamespace(app, 'own')), ['+447700900123'])
  t.strictSame(await subscribers(inNamespace(app, 'plain')), await subscribers(app), 'default: the server\'s fixtures')
  const added = await inNamespace(app, 'plain').inject({
    method: 'PUT',
    url: '/_emulator/subscribers/%2B34600000999',
    payload: { msisdn: '+34600000999', operator: 'telco-es', connection: 'mobile-data' }
  })
  t.equal(added.statusCode, 201)
  t.notOk((await subscribers(app)).includes('+34600000999'), 'a runtime change in a namespace stays there')
  const health = (await inNamespace(app, 'own').inject({ method: 'GET', url: '/_emulator/health' })).json()
  t.match(health, {
    status: 'ok',
    issuer: `${BASE_URL}/ns/own/camara/api/auth/v1`,
    operators: 1,
    clients: 1,
    subscribers: 1
  })
})

t.test('the admin token guards the namespaces and every namespace\'s control API', async (t) => {
  const { app } = await buildTestApp(t, { adminToken: 'sesame' })
  const bearer = { authorization: 'Bearer sesame' }
  t.equal((await put(app, 'guarded')).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/_emulator/namespaces' })).statusCode, 401)
  t.equal((await put(app, 'guarded', undefined, bearer)).statusCode, 201)
  t.equal((await app.inject({ method: 'DELETE', url: '/_emulator/namespaces/guarded' })).statusCode, 401)
  const journal = await app.inject({ method: 'GET', url: '/ns/guarded/_emulator/journal' })
  t.equal(journal.statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/ns/guarded/_emulator/journal', headers: bearer })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/ns/guarded/_emulator/health' })).statusCode, 200,
    'health needs no token, as at the root')
})

t.test('--no-admin serves no namespace management (health only)', async (t) => {
  const { app } = await buildTestApp(t, { admin: false })
  t.equal((await put(app, 'x')).statusCode, 404)
})

t.test('a namespace has no namespaces of its own and no dashboard', async (t) => {
  const { app } = await buildTestApp(t)
  await put(app, 'flat')
  t.equal((await app.inject({ method: 'PUT', url: '/ns/flat/_emulator/namespaces/inner' })).statusCode, 404)
  t.equal((await app.inject({ method: 'GET', url: '/ns/flat/_emulator' })).statusCode, 404)
})

t.test('a namespace serves every surface but the demo and the docs, which are not found there', async (t) => {
  const { app } = await buildTestApp(t)
  await put(app, 'all')
  const ns = inNamespace(app, 'all')
  for (const url of [
    '/camara/api/auth/v1/jwks', '/camara/api/auth/v1/.well-known/openid-configuration', '/_emulator/health',
    '/_emulator/fixtures', '/_emulator/scenarios'
  ]) {
    t.equal((await ns.inject({ method: 'GET', url })).statusCode, 200, url)
  }
  for (const url of [
    '/number-verification/v1/verify', '/number-verification/v2/verify', '/camara/number-verification/v1/verify',
    '/camara/api/number-verification/v1/verify'
  ]) {
    const res = await ns.inject({ method: 'POST', url, payload: { phoneNumber: '+34666666666' } })
    t.equal(res.statusCode, 401, `${url}: the API is there and wants a token`)
  }
  for (const url of ['/demo', '/openapi.json', '/docs', '/_emulator', '/_emulator/ui', '/nothing']) {
    const res = await ns.inject({ method: 'GET', url })
    t.equal(res.statusCode, 404, url)
    t.equal(res.json().code, 'NOT_FOUND')
  }
  t.equal((await app.inject({ method: 'GET', url: '/ns/all' })).statusCode, 404)
  const journal = (await ns.inject({ method: 'GET', url: '/_emulator/journal' })).json()
  t.ok(journal.entries.some((entry: { path: string }) => entry.path === '/ns/all/camara/api/auth/v1/jwks'),
    'the journal keeps the path as sent')
})

t.test('the OpenAPI document lists the namespace routes', async (t) => {
  const { app } = await buildTestApp(t)
  const paths = Object.keys(
    (await app.inject({ method: 'GET', url: '/openapi.json' })).json().paths as Record<string, unknown>)
  t.ok(paths.includes('/_emulator/namespaces/{name}'))
  t.ok(paths.includes('/_emulator/namespaces'))
})
