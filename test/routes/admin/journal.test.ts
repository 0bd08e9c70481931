// The journal through HTTP (/_emulator/journal): one entry per request of the emulated surfaces,
// linked by flow id from authorize to the API call, with client, subscriber, correlator, status,
// scenarios and the reason of each refusal; filters; a bounded ring; clearing; and the server-sent
// event stream read from a real socket.
import { request as httpRequest, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import {
  accessTokenFor, buildScenarioApp, codeFor, control, exchangeCode, journalEntries, NEIGHBOUR_KONERA, NEIGHBOUR_MSISDN,
  SEED_MSISDN, verify, type JournalEntryView
} from '../../scenarios/support.js'

const NOW = Date.parse('2026-11-25T12:00:00.000Z')
const DISCOVERY = '/camara/api/auth/v1/.well-known/openid-configuration'

/** An entry without what depends on real elapsed time (durationMs, and time = clock - duration), and its checks */
function stable (entry: JournalEntryView): Omit<JournalEntryView, 'time' | 'durationMs' | 'checks'> {
  const { time: _time, durationMs: _duration, checks: _checks, ...rest } = entry
  return rest
}

t.test('a full flow is four entries sharing one flow id, with client, subscriber, correlator and status', async (t) => {
  const { app } = await buildScenarioApp(t)
  const token = await accessTokenFor(app, { headers: { 'x-correlator': 'flow-1' } })
  t.equal((await verify(app, token, { headers: { 'x-correlator': 'verify-1' } })).statusCode, 200)

  const entries = await journalEntries(app)
  t.equal(entries.length, 4)
  const flowId = entries[0]?.flowId as string
  t.match(flowId, /^\S{12}$/)
  const common = { flowId, clientId: 'demo-app', operatorId: 'telco-es', scenarios: [], seed: 1 }
  t.strictSame(
    entries.map(stable),
    [
      {
        id: 1,
        operation: 'authorize',
        method: 'GET',
        path: '/camara/api/auth/v1/authorize',
        status: 302,
        correlator: 'flow-1',
        ...common
      },
      {
        id: 2,
        operation: 'operator',
        method: 'GET',
        path: '/operators/telco-es/authorize',
        status: 302,
        correlator: 'flow-1',
        msisdn: SEED_MSISDN,
        ...common
      },
      {
        id: 3,
        operation: 'token',
        method: 'POST',
        path: '/camara/api/auth/v1/token',
        status: 200,
        correlator: 'flow-1',
        msisdn: SEED_MSISDN,
        ...common
      },
      {
        id: 4,
        operation: 'verify',
        method: 'POST',
        path: '/camara/api/number-verification/v1/verify',
        status: 200,
        correlator: 'verify-1',
        msisdn: SEED_MSISDN,
        ...common
      }
    ].map((entry) => ({ ...entry }))
  )
  // What each request showed of the client (GET /_emulator/clients/{id}/report grades them)
  t.strictSame(
    entries.map((entry) => (entry.checks ?? []).map((check) => `${check.rule}:${check.ok ? 'ok' : 'broken'}`)),
    [
      [
        'redirect-uri:ok',
        'purpose:ok',
        'prompt-none:broken',
        'pkce:broken',
        'state:ok',
        'nonce:broken',
        'no-retry-loop:ok'
      ],
      [],
      ['private-key-jwt:broken', 'redirect-uri:ok', 'code-once:ok'],
      ['token-age:ok', 'operation-scope:ok', 'x-correlator:ok', 'declared-properties:ok', 'token-single-use:ok']
    ]
  )
  t.match(
    entries[0]?.checks?.find((check) => check.rule === 'state'),
    { fresh: /^[\w-]{16}$/ },
    'a fingerprint, not the state'
  )
  for (const entry of entries) {
    t.ok(entry.durationMs >= 0, `${entry.operation}: a duration`)
    t.ok(
      Date.parse(entry.time) <= NOW && Date.parse(entry.time) > NOW - 60_000,
      `${entry.operation}: arrival time on the emulator clock`
    )
  }
})

t.test('refusals are journaled with their reason: a replayed code, then the revoked token', async (t) => {
  const { app } = await buildScenarioApp(t)
  const code = await codeFor(app)
  const first = await exchangeCode(app, code)
  t.equal(first.statusCode, 200)
  const replay = await exchangeCode(app, code)
  t.equal(replay.statusCode, 400)
  const revoked = await verify(app, (first.json() as { access_token: string }).access_token)
  t.equal(revoked.statusCode, 401)

  const flowId = (await journalEntries(app, { operation: 'authorize' }))[0]?.flowId as string
  const flow = await journalEntries(app, { flowId })
  t.strictSame(flow.map((e) => [e.operation, e.status, e.reason]), [
    ['authorize', 302, undefined],
    ['operator', 302, undefined],
    ['token', 200, undefined],
    ['token', 400, 'authorization code was already used; the tokens issued with it are revoked'],
    ['verify', 401, 'access token was revoked (authorization code replayed)']
  ], 'the refusals are filed under the flow whose code and token they presented')
  t.match(flow.slice(3), [
    { clientId: 'demo-app', msisdn: SEED_MSISDN, operatorId: 'telco-es' },
    { clientId: 'demo-app', msisdn: SEED_MSISDN, operatorId: 'telco-es' }
  ])

  t.test('a redirect_uri refusal at authorize says so too', async (t) => {
    const res = await app.inject({
      method: 'GET',
      url: '/camara/api/auth/v1/authorize?response_type=code&client_id=demo-app' +
        '&redirect_uri=http%3A%2F%2Fevil.example%2Fcb&scope=openid'
    })
    t.equal(res.statusCode, 400)
    const last = (await journalEntries(app, { operation: 'authorize', limit: 1 }))[0]
    t.match(last, { status: 400, reason: 'redirect_uri "http://evil.example/cb" is not registered for client "demo-app"' })
  })
})

t.test('filters: flowId, correlator, msisdn, operation, limit and sinceId', async (t) => {
  const { app } = await buildScenarioApp(t)
  const seedToken = await accessTokenFor(app, { headers: { 'x-correlator': 'seed-flow' } })
  const neighbourToken = await accessTokenFor(app, {
    konera: NEIGHBOUR_KONERA,
    headers: { 'x-correlator': 'neighbour-flow' }
  })
  await verify(app, seedToken, { headers: { 'x-correlator': 'seed-verify' } })
  await verify(app, neighbourToken, { phoneNumber: NEIGHBOUR_MSISDN, headers: { 'x-correlator': 'neighbour-verify' } })
  const all = await journalEntries(app)
  t.strictSame(all.map((e) => e.id), [1, 2, 3, 4, 5, 6, 7, 8])
  const seedFlow = all[0]?.flowId as string
  const neighbourFlow = all[3]?.flowId as string
  t.not(seedFlow, neighbourFlow)

  const ids = async (query: Record<string, string | number>): Promise<number[]> =>
    (await journalEntries(app, query)).map((e) => e.id)
  t.strictSame(await ids({ flowId: seedFlow }), [1, 2, 3, 7])
  t.strictSame(await ids({ flowId: neighbourFlow }), [4, 5, 6, 8])
  t.strictSame(await ids({ correlator: 'neighbour-flow' }), [4, 5, 6])
  t.strictSame(await ids({ correlator: 'seed-verify' }), [7])
  t.strictSame(await ids({ msisdn: NEIGHBOUR_MSISDN }), [5, 6, 8], 'the gateway leg does not know the subscriber yet')
  t.strictSame(await ids({ operation: 'verify' }), [7, 8])
  t.strictSame(await ids({ operation: 'token', flowId: seedFlow }), [3], 'filters combine')
  t.strictSame(await ids({ limit: 3 }), [6, 7, 8], 'the newest N, oldest first')
  t.strictSame(await ids({ sinceId: 6 }), [7, 8])
  t.strictSame(await ids({ flowId: 'no-such-flow' }), [])

  t.test('a bad filter is 400 INVALID_ARGUMENT', async (t) => {
    const zero = await control(app, 'GET', '/journal?limit=0')
    t.equal(zero.statusCode, 400)
    t.strictSame(zero.json(), { status: 400, code: 'INVALID_ARGUMENT', message: 'querystring.limit must be >= 1' })
    const unknown = await control(app, 'GET', '/journal?subscriber=%2B34666666666')
    t.equal(unknown.statusCode, 400)
    t.strictSame(unknown.json(), {
      status: 400,
      code: 'INVALID_ARGUMENT',
      message: 'querystring has unknown property "subscriber"'
    })
  })
})

t.test('control and health requests are not journaled', async (t) => {
  const { app } = await buildScenarioApp(t)
  t.equal((await app.inject({ method: 'GET', url: DISCOVERY })).statusCode, 200)
  await control(app, 'GET', '/health')
  await control(app, 'GET', '/scenarios')
  await control(app, 'POST', '/scenarios/rate-limited/activate', { remaining: 1 })
  await control(app, 'GET', '/fixtures')
  await control(app, 'GET', '/journal')
  await control(app, 'POST', '/tokens', {
    clientId: 'demo-app',
    msisdn: SEED_MSISDN,
    scope: 'number-verification:verify'
  })
  const entries = await journalEntries(app)
  t.strictSame(entries.map((e) => [e.id, e.operation, e.path]), [[1, 'discovery', DISCOVERY]])
})

t.test('the journal reports the seed, on itself and on every entry', async (t) => {
  const { app } = await buildScenarioApp(t, { seed: 4_000_000_001 })
  await app.inject({ method: 'GET', url: DISCOVERY })
  const res = await control(app, 'GET', '/journal')
  t.match(res.json(), { seed: 4_000_000_001, capacity: 1000, entries: [{ seed: 4_000_000_001 }] })
})

t.test('the journal is a bounded ring: the oldest entries make room for new ones', async (t) => {
  const { app } = await buildScenarioApp(t)
  for (let i = 0; i < 1005; i++) await app.inject({ method: 'GET', url: DISCOVERY })
  const res = await control(app, 'GET', '/journal')
  const body = res.json() as { capacity: number, entries: JournalEntryView[] }
  t.equal(body.capacity, 1000)
  t.equal(body.entries.length, 1000)
  t.equal(body.entries[0]?.id, 6)
  t.equal(body.entries.at(-1)?.id, 1005)
})

t.test('DELETE /_emulator/journal empties it; ids keep increasing for sinceId pollers', async (t) => {
  const { app } = await buildScenarioApp(t)
  await app.inject({ method: 'GET', url: DISCOVERY })
  await app.inject({ method: 'GET', url: DISCOVERY })
  const res = await control(app, 'DELETE', '/journal')
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  t.strictSame(await journalEntries(app), [])
  await app.inject({ method: 'GET', url: DISCOVERY })
  t.strictSame((await journalEntries(app, { sinceId: 2 })).map((e) => e.id), [3])
})

/** Reads server-sent events from a response until `count` events arrived */
function readEvents (response: IncomingMessage, count: number): Promise<Array<Record<string, string>>> {
  return new Promise((resolve, reject) => {
    let buffer = ''
    const events: Array<Record<string, string>> = []
    response.setEncoding('utf8')
    response.on('data', (chunk: string) => {
      buffer += chunk
      let end = buffer.indexOf('\n\n')
      while (end !== -1) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const fields = Object.fromEntries(block.split('\n').filter((line) => !line.startsWith(':')).map((line) => {
          const colon = line.indexOf(':')
          return [line.slice(0, colon), line.slice(colon + 1).trimStart()]
        }))
        if (Object.keys(fields).length > 0) events.push(fields)
        if (events.length === count) resolve(events)
        end = buffer.indexOf('\n\n')
      }
    })
    response.on('error', reject)
    response.on('end', () => reject(new Error(`stream ended after ${events.length} events`)))
  })
}

t.test(
  'GET /_emulator/journal/stream delivers an entry event per new entry over a real socket, and ends on close',
  async (t) => {
    const { app } = await buildScenarioApp(t)
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as AddressInfo

    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/_emulator/journal/stream', agent: false }, resolve)
      req.on('error', reject)
      req.end()
    })
    t.equal(response.statusCode, 200)
    t.equal(response.headers['content-type'], 'text/event-stream')
    t.equal(response.headers['cache-control'], 'no-store')
    // The stream is subscribed once its headers are out: what happens now is streamed
    const events = readEvents(response, 2)
    await fetch(`http://127.0.0.1:${port}${DISCOVERY}`, { headers: { 'x-correlator': 'streamed-1' } })
    await fetch(`http://127.0.0.1:${port}/_emulator/scenarios`)
    await fetch(`http://127.0.0.1:${port}/camara/api/auth/v1/jwks`)
    const [first, second] = await events
    t.match(first, { id: '1', event: 'entry' })
    t.match(JSON.parse(first?.data ?? '{}'), {
      id: 1,
      operation: 'discovery',
      status: 200,
      correlator: 'streamed-1',
      seed: 1
    })
    t.match(second, { id: '2', event: 'entry' }, 'the control request in between was not streamed')
    t.match(JSON.parse(second?.data ?? '{}'), { id: 2, operation: 'jwks', status: 200 })

    const ended = new Promise<void>((resolve) => response.once('end', resolve))
    await app.close()
    await ended
    t.pass('closing the app ended the stream instead of waiting for it')
  }
)
