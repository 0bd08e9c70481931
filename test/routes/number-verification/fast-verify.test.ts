// The /verify fast path answers exactly as the Fastify route does. Two apps on the same fixtures
// and the same manual clock, one with the fast path (the default) and one without, get the same
// requests over real HTTP; status, headers, body and journal entry must match, and each case says
// whether the fast path should have taken the request (Fastify's handler channel tells).
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { once } from 'node:events'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../../src/app.js'
import { defaultConfig } from '../../../src/config/config.js'
import { loadFixtures } from '../../../src/config/fixtures.js'
import type { JournalEntry } from '../../../src/core/journal.js'
import { fastVerifyPath } from '../../../src/routes/number-verification/fast-verify.js'
import { PATH_FAMILIES } from '../../../src/routes/number-verification/family.js'
import { buildTestApp, testKeys } from '../../helpers/app.js'
import { obtainTokens, type FlowOptions } from '../../helpers/flow.js'
import { SEED_KONERA, SEED_MSISDN, sha256Hex, SHARE_ONLY_SCOPE, UUID } from './support.js'

interface Sent { method?: string, path: string, headers?: Record<string, string>, body?: string, chunked?: boolean }
interface Answer { status: number, headers: IncomingHttpHeaders, rawHeaders: string[], body: string }

async function send (app: FastifyInstance, sent: Sent): Promise<Answer> {
  const { port } = app.server.address() as AddressInfo
  return await new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...sent.headers }
    if (sent.body !== undefined && sent.chunked !== true) headers['content-length'] = String(Buffer.byteLength(sent.body))
    const req = httpRequest({ host: '127.0.0.1', port, method: sent.method ?? 'POST', path: sent.path, headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body }) })
    })
    req.on('error', reject)
    if (sent.chunked === true) {
      req.setHeader('transfer-encoding', 'chunked')
      req.write(sent.body?.slice(0, 3) ?? '')
      req.end(sent.body?.slice(3))
    } else req.end(sent.body)
  })
}

/** How many requests the fast path took: it alone uses a token up through consume() */
const taken = { count: 0 }
function countTaken (app: FastifyInstance): void {
  const service = app.emulator.numberVerification
  const consume = service.consume.bind(service)
  service.consume = (call) => { taken.count++; consume(call) }
}

async function listening (fastPath: boolean): Promise<FastifyInstance> {
  const { app } = await buildTestApp(t, {}, { fastPath })
  await app.listen({ port: 0, host: '127.0.0.1' })
  countTaken(app)
  return app
}

const fast = await listening(true)
const slow = await listening(false)

async function tokens (options: FlowOptions = {}): Promise<{ fast: string, slow: string }> {
  const device = { konera: SEED_KONERA, ...options }
  const pair = { fast: (await obtainTokens(fast, device)).access_token, slow: (await obtainTokens(slow, device)).access_token }
  noteFlow(fast, pair.fast)
  noteFlow(slow, pair.slow)
  return pair
}

function lastEntry (app: FastifyInstance): JournalEntry | undefined {
  return app.emulator.journal.list({ limit: 1 }).at(-1)
}

/** The flows of the tokens each app issued here: a journal entry must name its token's flow */
const tokenFlows = new Map<FastifyInstance, Set<string>>()
function noteFlow (app: FastifyInstance, token: string): void {
  const resolved = app.emulator.tokens.resolveAccessToken(token, false)
  if (!('record' in resolved)) throw new Error('no token record')
  if (!tokenFlows.has(app)) tokenFlows.set(app, new Set())
  tokenFlows.get(app)?.add(resolved.record.flowId as string)
}

/**
 * What must be equal: the raw header lines in order (Date's value aside), the body, the journal
 * entry; a generated correlator only has to be a UUID, a flow only the flow of the app's token
 */
function comparable (app: FastifyInstance, answer: Answer, entry: JournalEntry | undefined, sent: Sent): unknown {
  const echoed = [sent.headers?.['x-correlator'], sent.headers?.['x-correlation-id']]
  const correlator = answer.headers['x-correlator'] as string | undefined
  const generated = correlator !== undefined && !echoed.includes(correlator)
  const normal = (value: string): string => generated && value === correlator ? (UUID.test(value) ? '<uuid>' : `not a UUID: ${value}`) : value
  const rawHeaders = answer.rawHeaders.map((value, i) => i % 2 === 1 && answer.rawHeaders[i - 1]?.toLowerCase() === 'date' ? '<date>' : normal(value))
  const flow = entry?.flowId === undefined ? undefined : tokenFlows.get(app)?.has(entry.flowId) === true ? '<the token\'s flow>' : entry.flowId
  const journal = entry === undefined ? undefined : { ...entry, id: '<id>', durationMs: typeof entry.durationMs, flowId: flow, correlator: entry.correlator === undefined ? undefined : normal(entry.correlator) }
  return { status: answer.status, rawHeaders, body: answer.body, journal }
}

interface Case { name: string, sent: (token: string) => Sent, taken: boolean }

/** The plain verify call with this token */
const plainVerify = (token: string, headers: Record<string, string> = {}): Sent => ({ path: '/camara/api/number-verification/v1/verify', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ phoneNumber: SEED_MSISDN }) })

/** A listening app with the fast path, its log lines (JSON) and a token from it */
async function loggingApp (t: Test, logLevel: 'info' | 'warn'): Promise<{ app: FastifyInstance, lines: string[], token: string }> {
  const lines: string[] = []
  const app = await buildApp({ ...defaultConfig, logLevel }, {
    keys: await testKeys(),
    logStream: { write: (line: string) => { lines.push(line); return true } } as unknown as NodeJS.WritableStream
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  countTaken(app)
  return { app, lines, token: (await obtainTokens(app, { konera: SEED_KONERA })).access_token }
}

const JSON_TYPE = { 'content-type': 'application/json' }
const bodyCase = (name: string, body: string, taken = true): Case => ({ name, taken, sent: (token) => ({ path: '/camara/api/number-verification/v1/verify', headers: { authorization: `Bearer ${token}`, ...JSON_TYPE }, body }) })
const headerCase = (name: string, headers: Record<string, string>, taken: boolean, path = '/camara/api/number-verification/v1/verify'): Case => ({
  name,
  taken,
  sent: (token) => ({ path, headers: { authorization: `Bearer ${token}`, ...JSON_TYPE, ...headers }, body: JSON.stringify({ phoneNumber: SEED_MSISDN }) })
})

const cases: Case[] = [
  ...PATH_FAMILIES.flatMap((family): Case[] => [
    { name: `${family.id}: the right number`, taken: true, sent: (token) => ({ path: `${family.prefix}/verify`, headers: { authorization: `Bearer ${token}`, ...JSON_TYPE }, body: JSON.stringify({ phoneNumber: SEED_MSISDN }) }) },
    { name: `${family.id}: another number`, taken: true, sent: (token) => ({ path: `${family.prefix}/verify`, headers: { authorization: `Bearer ${token}`, ...JSON_TYPE }, body: JSON.stringify({ phoneNumber: '+34600000000' }) }) },
    { name: `${family.id}: hashed, upper case`, taken: true, sent: (token) => ({ path: `${family.prefix}/verify`, headers: { authorization: `Bearer ${token}`, ...JSON_TYPE }, body: JSON.stringify({ hashedPhoneNumber: sha256Hex(SEED_MSISDN).toUpperCase() }) }) },
    { name: `${family.id}: not JSON`, taken: true, sent: (token) => ({ path: `${family.prefix}/verify`, headers: { authorization: `Bearer ${token}`, ...JSON_TYPE }, body: '{"phoneNumber":' }) }
  ]),
  bodyCase('hashed, lower case', JSON.stringify({ hashedPhoneNumber: sha256Hex(SEED_MSISDN) })),
  bodyCase('__proto__ in the body', '{"__proto__":{"polluted":true},"phoneNumber":"+34666666666"}'),
  bodyCase('constructor.prototype in the body', '{"constructor":{"prototype":{"polluted":true}}}'),
  bodyCase('an array', '[]'),
  bodyCase('a string', '"+34666666666"'),
  bodyCase('null', 'null'),
  bodyCase('whitespace only', '   '),
  bodyCase('an empty object', '{}'),
  bodyCase('both numbers', JSON.stringify({ phoneNumber: SEED_MSISDN, hashedPhoneNumber: sha256Hex(SEED_MSISDN) })),
  bodyCase('an unknown property too', JSON.stringify({ phoneNumber: SEED_MSISDN, extra: 1 })),
  bodyCase('only unknown properties, multi-byte', JSON.stringify({ número: 'ñ€𝄞' })),
  bodyCase('not E.164', JSON.stringify({ phoneNumber: '34666666666' })),
  bodyCase('a number, not a string', '{"phoneNumber":34666666666}'),
  bodyCase('a bad hash', JSON.stringify({ hashedPhoneNumber: 'abc' })),
  bodyCase('a body split over chunks (content-length)', JSON.stringify({ phoneNumber: SEED_MSISDN }) + ' '.repeat(70_000)),
  headerCase('x-correlator sent', { 'x-correlator': 'abc-123' }, true),
  headerCase('x-correlation-id sent', { 'x-correlation-id': 'agg:42' }, true),
  headerCase('both correlation headers', { 'x-correlator': 'one', 'x-correlation-id': 'two' }, true),
  headerCase('an x-correlator breaking the pattern', { 'x-correlator': 'bad value!' }, false),
  headerCase('charset=utf-8', { 'content-type': 'application/json; charset=utf-8' }, true),
  headerCase('media type in capitals', { 'content-type': 'Application/JSON' }, true),
  headerCase('another charset', { 'content-type': 'application/json; charset=iso-8859-1' }, false),
  headerCase('text/plain', { 'content-type': 'text/plain' }, false),
  headerCase('Accept: application/json', { accept: 'application/json' }, true),
  headerCase('Accept: text/html', { accept: 'text/html' }, false),
  headerCase('a scenario header', { 'x-emulator-scenario': 'verify-always-false' }, false),
  headerCase('an unknown scenario header', { 'x-emulator-scenario': 'no-such-scenario' }, false),
  headerCase('a query string', {}, false, '/camara/api/number-verification/v1/verify?x=1'),
  headerCase('a trailing slash', {}, false, '/camara/api/number-verification/v1/verify/'),
  { name: 'no Authorization', taken: false, sent: () => ({ path: '/camara/api/number-verification/v1/verify', headers: JSON_TYPE, body: JSON.stringify({ phoneNumber: SEED_MSISDN }) }) },
  { name: 'an unknown token', taken: false, sent: () => ({ path: '/camara/api/number-verification/v1/verify', headers: { authorization: 'Bearer not-a-token', ...JSON_TYPE }, body: JSON.stringify({ phoneNumber: SEED_MSISDN }) }) },
  { name: 'no content type', taken: false, sent: (token) => ({ path: '/camara/api/number-verification/v1/verify', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ phoneNumber: SEED_MSISDN }) }) },
  { name: 'an empty body', taken: false, sent: (token) => ({ path: '/camara/api/number-verification/v1/verify', headers: { authorization: `Bearer ${token}`, ...JSON_TYPE }, body: '' }) },
  { name: 'a chunked body', taken: false, sent: (token) => ({ path: '/camara/api/number-verification/v1/verify', headers: { authorization: `Bearer ${token}`, ...JSON_TYPE }, body: JSON.stringify({ phoneNumber: SEED_MSISDN }), chunked: true }) },
  { name: 'a body over the limit', taken: false, sent: (token) => ({ path: '/camara/api/number-verification/v1/verify', headers: { authorization: `Bearer ${token}`, ...JSON_TYPE }, body: JSON.stringify({ phoneNumber: SEED_MSISDN, pad: 'x'.repeat(1024 * 1024) }) }) },
  { name: 'GET', taken: false, sent: (token) => ({ method: 'GET', path: '/camara/api/number-verification/v1/verify', headers: { authorization: `Bearer ${token}` } }) }
]

const seedTokens = await tokens()

async function compare (t: Test, name: string, sent: { fast: Sent, slow: Sent }, expectTaken: boolean): Promise<void> {
  const before = taken.count
  const fastAnswer = await send(fast, sent.fast)
  const tookIt = taken.count > before
  const slowAnswer = await send(slow, sent.slow)
  t.strictSame(comparable(fast, fastAnswer, lastEntry(fast), sent.fast), comparable(slow, slowAnswer, lastEntry(slow), sent.slow), `${name}: the same answer and journal entry`)
  t.equal(tookIt, expectTaken, `${name}: ${expectTaken ? 'taken by the fast path' : 'left to the Fastify route'}`)
}

for (const c of cases) {
  await t.test(c.name, async (t) => {
    await compare(t, c.name, { fast: c.sent(seedTokens.fast), slow: c.sent(seedTokens.slow) }, c.taken)
  })
}

t.test('a token the fast path leaves: no verify scope, a client_credentials token, a flow scenario', async (t) => {
  const shareOnly = await tokens({ scope: SHARE_ONLY_SCOPE })
  const withScenario = await tokens({ extraQuery: { emulator_scenario: 'verify-always-false' } })
  for (const [name, pair] of [['share scope only', shareOnly], ['flow scenario', withScenario]] as const) {
    await compare(t, name, { fast: plainVerify(pair.fast), slow: plainVerify(pair.slow) }, false)
  }
})

t.test('an active control scenario sends every call to the route; the fast path is back when it ends', async (t) => {
  const activations = [fast, slow].map((app) => app.emulator.scenarios.activate('verify-always-false'))
  await compare(t, 'scenario active', { fast: plainVerify(seedTokens.fast), slow: plainVerify(seedTokens.slow) }, false)
  t.equal(JSON.parse((await send(fast, plainVerify(seedTokens.fast))).body).devicePhoneNumberVerified, false, 'the scenario applied')
  for (const [i, app] of [fast, slow].entries()) app.emulator.scenarios.deactivate(activations[i]?.id ?? '')
  await compare(t, 'scenario ended', { fast: plainVerify(seedTokens.fast), slow: plainVerify(seedTokens.slow) }, true)
})

t.test('a fixture scenario on the subscriber sends its calls to the route', async (t) => {
  const base = loadFixtures(defaultConfig.fixtures)
  for (const app of [fast, slow]) {
    app.emulator.loadFixtures({ ...base, subscribers: base.subscribers.map((s) => s.msisdn === SEED_MSISDN ? { ...s, scenarios: ['verify-always-false'] } : s) })
  }
  t.teardown(() => { for (const app of [fast, slow]) app.emulator.loadFixtures(base) })
  await compare(t, 'fixture scenario', { fast: plainVerify(seedTokens.fast), slow: plainVerify(seedTokens.slow) }, false)
  t.equal(JSON.parse((await send(fast, plainVerify(seedTokens.fast))).body).devicePhoneNumberVerified, false, 'the scenario applied')
})

t.test('a single-use token (camara-strict): the fast path uses it up, so the second call is refused by the route', async (t) => {
  const pair = await tokens()
  for (const [app, token] of [[fast, pair.fast], [slow, pair.slow]] as const) {
    const resolved = app.emulator.tokens.resolveAccessToken(token, false)
    if (!('record' in resolved)) throw new Error('no token record')
    resolved.record.singleUse = true
  }
  await compare(t, 'first call', { fast: plainVerify(pair.fast), slow: plainVerify(pair.slow) }, true)
  await compare(t, 'second call', { fast: plainVerify(pair.fast), slow: plainVerify(pair.slow) }, false)
  t.equal(lastEntry(fast)?.reason, 'access token was already used (camara-strict: one API call per token)', 'refused as used')
})

t.test('at --log-level info the route answers every call, so each gets its request log line', async (t) => {
  const { app, lines, token } = await loggingApp(t, 'info')
  const before = taken.count
  const answer = await send(app, plainVerify(token))
  t.equal(answer.status, 200)
  t.equal(taken.count, before, 'the Fastify route answered')
  t.ok(lines.some((line) => line.includes('"operation":"verify"') && line.includes('request completed')), 'the request log line is written')
})

t.test('the fast path leaves requests over its body limit and once the server is closing', async (t) => {
  let closing = false
  const path = fastVerifyPath(fast.emulator, { bodyLimit: 1024, closing: () => closing, unexpected: () => {} })
  const req = { method: 'POST', url: '/camara/api/number-verification/v1/verify', headers: { authorization: `Bearer ${seedTokens.fast}`, 'content-type': 'application/json', 'content-length': '2000' } }
  t.equal(path(req as never, {} as never), false, 'a body over its limit is left to Fastify')
  req.headers['content-length'] = '30'
  closing = true
  t.equal(path(req as never, {} as never), false, 'closing: left to Fastify')
})

t.test('an unexpected error answers the CAMARA 500 and is logged with the correlator', async (t) => {
  const { app, lines, token } = await loggingApp(t, 'warn')
  app.emulator.numberVerification.verify = () => { throw new Error('boom') }
  const before = taken.count
  const answer = await send(app, plainVerify(token, { 'x-correlator': 'trace-500' }))
  t.equal(taken.count, before + 1, 'taken by the fast path')
  t.equal(answer.status, 500)
  t.strictSame(JSON.parse(answer.body), { status: 500, code: 'INTERNAL', message: 'Server error' })
  t.equal(answer.headers['x-emulator-reason'], 'unexpected error (see the log)')
  t.equal(answer.headers['x-correlator'], 'trace-500')
  t.notMatch(answer.body, /boom/, 'nothing of the error in the body')
  const logged = lines.map((line) => JSON.parse(line) as { level: number, correlator?: string, err?: { message: string } }).find((line) => line.err?.message === 'boom')
  t.match(logged, { level: 50, correlator: 'trace-500' }, 'logged as an error with the correlator')
  t.match(app.emulator.journal.list({ limit: 1 })[0], { status: 500, reason: 'unexpected error (see the log)', correlator: 'trace-500' }, 'journaled')
})

/** A raw connection to an app, for what a well-behaved client never does */
async function rawSocket (app: FastifyInstance): Promise<Socket> {
  const { port } = app.server.address() as AddressInfo
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  return socket
}

function head (token: string, length: number): string {
  return `POST /camara/api/number-verification/v1/verify HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`
}

async function until (check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
}

t.test('a client that leaves mid-body: the same journal entry both ways, a 400 with the reason, not an unexpected error', async (t) => {
  const entries = []
  for (const [app, token] of [[fast, seedTokens.fast], [slow, seedTokens.slow]] as const) {
    const before = app.emulator.journal.list().length
    const socket = await rawSocket(app)
    socket.write(head(token, 28) + '{"pho')
    await new Promise((resolve) => setTimeout(resolve, 20))
    socket.destroy()
    await until(() => app.emulator.journal.list().length > before)
    const entry = lastEntry(app)
    t.match(entry?.correlator, UUID, 'a generated correlator')
    entries.push(comparable(app, { status: 0, headers: {}, rawHeaders: [], body: '' }, entry === undefined ? undefined : { ...entry, correlator: '<uuid>' }, { path: '' }))
  }
  t.strictSame(entries[0], entries[1], 'same entry')
  t.match(entries[0], { journal: { status: 400, reason: 'the client closed the connection before the body was complete', flowId: '<the token\'s flow>' } })
})

t.test('an APM tracer subscribed to Fastify\'s handler channel sees every call: the route takes them', async (t) => {
  const listener = (): void => {}
  subscribe('tracing:fastify.request.handler:start', listener)
  t.teardown(() => { unsubscribe('tracing:fastify.request.handler:start', listener) })
  await compare(t, 'traced', { fast: plainVerify(seedTokens.fast), slow: plainVerify(seedTokens.slow) }, false)
})

t.test('once the server is closing, a pipelined call goes to Fastify, which answers 503', async (t) => {
  const app = await listening(true)
  const token = (await obtainTokens(app, { konera: SEED_KONERA })).access_token
  const body = JSON.stringify({ phoneNumber: SEED_MSISDN })
  const socket = await rawSocket(app)
  let received = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => { received += chunk })
  const before = taken.count
  socket.write(head(token, body.length) + body.slice(0, 5))
  await until(() => taken.count > before)
  t.equal(taken.count, before + 1, 'the first call was taken before closing')
  const closed = app.close()
  await new Promise((resolve) => setImmediate(resolve))
  socket.write(body.slice(5) + head(token, body.length) + body)
  await until(() => (received.match(/HTTP\/1\.1 /g) ?? []).length >= 2 || socket.destroyed)
  socket.destroy()
  await closed
  const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]))
  t.strictSame(statuses, [200, 503], 'the call in flight answered, the one after close refused by Fastify')
  t.equal(taken.count, before + 1, 'the fast path took nothing after close')
})
