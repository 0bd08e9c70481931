// GET /_emulator/metrics: what a flow and its calls add, the guard, and the bounds on labels.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { EmulatorMetrics, MAX_LABEL_VALUES, OTHER } from '../../../src/plugins/metrics.js'
import type { JournalRecord } from '../../../src/core/journal.js'
import { buildTestApp } from '../../helpers/app.js'
import { obtainTokens, SEED_KONERA, SEED_MSISDN } from '../../helpers/flow.js'

/** The exposition's samples: `name{labels}` -> value */
function samples (text: string): Map<string, number> {
  const found = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    found.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return found
}

async function scrape (app: FastifyInstance, headers: Record<string, string> = {}): Promise<Map<string, number>> {
  const res = await app.inject({ method: 'GET', url: '/_emulator/metrics', headers })
  if (res.statusCode !== 200) throw new Error(`metrics answered ${res.statusCode}: ${res.body}`)
  return samples(res.body)
}

async function verify (
  app: FastifyInstance,
  token: string | undefined,
  headers: Record<string, string> = {}
): Promise<number> {
  const res = await app.inject({
    method: 'POST',
    url: '/number-verification/v2/verify',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...headers
    },
    payload: JSON.stringify({ phoneNumber: SEED_MSISDN })
  })
  return res.statusCode
}

t.test('a flow and its calls, counted by leg, status, client and scenario', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/_emulator/metrics' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8')
  const before = samples(res.body)
  t.equal(before.get('nv_emulator_flows_started_total'), 0)
  t.ok(before.has('nv_emulator_process_resident_memory_bytes'), 'the process\'s own metrics')

  const { access_token: token } = await obtainTokens(app, { konera: SEED_KONERA })
  t.equal(await verify(app, token), 200)
  t.equal(await verify(app, token, { 'x-emulator-scenario': 'rate-limited' }), 429)
  t.equal(await verify(app, undefined), 401)

  const after = await scrape(app)
  t.equal(after.get('nv_emulator_flows_started_total'), 1)
  t.equal(after.get('nv_emulator_flows_completed_total'), 1)
  t.equal(after.get('nv_emulator_requests_total{leg="authorize",status="302",client="demo-app"}'), 1)
  t.equal(after.get('nv_emulator_requests_total{leg="token",status="200",client="demo-app"}'), 1)
  t.equal(after.get('nv_emulator_requests_total{leg="verify",status="200",client="demo-app"}'), 1)
  t.equal(after.get('nv_emulator_requests_total{leg="verify",status="429",client="demo-app"}'), 1)
  t.equal(after.get('nv_emulator_requests_total{leg="verify",status="401",client="none"}'), 1, 'no token, no client')
  t.equal(after.get('nv_emulator_scenarios_applied_total{scenario="rate-limited",leg="verify"}'), 1)
  t.equal(after.get('nv_emulator_request_duration_seconds_count{leg="verify"}'), 3)
  t.equal(after.get('nv_emulator_store_entries{collection="grants"}'), 1)
  t.equal(after.get('nv_emulator_store_entries{collection="accessTokens"}'), 1)
  t.notOk(
    [...after.keys()].some((name) => name.includes('leg="control"')),
    'the control API, scrapes included, is not counted'
  )

  const refresh = await app.inject({
    method: 'POST',
    url: '/camara/api/auth/v1/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload:
      'grant_type=client_credentials&client_id=demo-app&client_secret=demo-secret&scope=number-verification%3Averify'
  })
  t.equal(refresh.statusCode, 200)
  const later = await scrape(app)
  t.equal(later.get('nv_emulator_requests_total{leg="token",status="200",client="demo-app"}'), 2)
  t.equal(later.get('nv_emulator_flows_completed_total'), 1, 'only a code exchange completes a flow')
})

t.test('a refused authorization starts no flow', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({
    method: 'GET',
    url: '/camara/api/auth/v1/authorize?response_type=code&client_id=demo-app' +
      '&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcallback&scope=openid&state=s'
  })
  t.equal(res.statusCode, 302)
  t.match(res.headers.location, /error=/, 'redirected with an error')
  const after = await scrape(app)
  t.equal(after.get('nv_emulator_flows_started_total'), 0)
  t.equal(after.get('nv_emulator_requests_total{leg="authorize",status="302",client="demo-app"}'), 1,
    'counted under its registered client, as in the journal')
})

t.test('guarded like the control API; not served in a namespace', async (t) => {
  const { app } = await buildTestApp(t, { adminToken: 'sesame' })
  const anonymous = await app.inject({ method: 'GET', url: '/_emulator/metrics' })
  t.equal(anonymous.statusCode, 401)
  t.equal((await scrape(app, { authorization: 'Bearer sesame' })).get('nv_emulator_flows_started_total'), 0)
  const foreign = await app.inject({
    method: 'GET',
    url: '/_emulator/metrics',
    headers: { host: 'evil.example', authorization: 'Bearer sesame' }
  })
  t.equal(foreign.statusCode, 403, 'a request a web page could forge')
  const created = await app.inject({
    method: 'PUT',
    url: '/_emulator/namespaces/job-1',
    headers: { authorization: 'Bearer sesame' }
  })
  t.equal(created.statusCode, 201)
  const inNamespace = await app.inject({
    method: 'GET',
    url: '/ns/job-1/_emulator/metrics',
    headers: { authorization: 'Bearer sesame' }
  })
  t.equal(inNamespace.statusCode, 404)
})

t.test('EmulatorMetrics: bounded labels, connection faults, a store that cannot answer', async (t) => {
  const base = {
    operation: 'verify',
    method: 'POST',
    path: '/number-verification/v2/verify',
    status: 200,
    durationMs: 2
  }
  const record = (overrides: Partial<JournalRecord>): JournalRecord =>
    ({ ...base, startedAt: 0, correlator: 'c', ...overrides }) as JournalRecord
  const metrics = new EmulatorMetrics({ storeSizes: async () => { throw new Error('store down') }, maxLabelValues: 2 })
  for (const clientId of ['a', 'b', 'c', 'd', 'a']) metrics.observe(record({ clientId }))
  metrics.observe(record({ status: 0, clientId: 'a', scenarios: ['connection-reset'] }))
  const found = samples(await metrics.text())
  t.equal(found.get('nv_emulator_requests_total{leg="verify",status="200",client="a"}'), 2)
  t.equal(found.get('nv_emulator_requests_total{leg="verify",status="200",client="b"}'), 1)
  t.equal(found.get(`nv_emulator_requests_total{leg="verify",status="200",client="${OTHER}"}`), 2, 'past the bound')
  t.equal(found.get('nv_emulator_requests_total{leg="verify",status="0",client="a"}'), 1, 'a connection fault')
  t.notOk([...found.keys()].some((name) => name.startsWith('nv_emulator_store_entries{')), 'no store figure')

  // The default bound: the first MAX_LABEL_VALUES clients keep their names, the next is 'other'
  const bounded = new EmulatorMetrics({ storeSizes: async () => ({}) })
  for (let i = 0; i <= MAX_LABEL_VALUES; i++) bounded.observe(record({ clientId: `client-${i}` }))
  const named = samples(await bounded.text())
  t.equal(named.get(`nv_emulator_requests_total{leg="verify",status="200",client="client-${MAX_LABEL_VALUES - 1}"}`), 1)
  t.equal(named.get(`nv_emulator_requests_total{leg="verify",status="200",client="${OTHER}"}`), 1)
  t.notOk(named.has(`nv_emulator_requests_total{leg="verify",status="200",client="client-${MAX_LABEL_VALUES}"}`))
})
