// OpenTelemetry traces (--otlp-endpoint): a SERVER span per leg's request, exported over OTLP/HTTP
// to a receiver written here, continuing the caller's traceparent, with the journal showing the
// trace id; and with tracing off, no span anywhere and no trace id in the journal.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as wait } from 'node:timers/promises'
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import { trace } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import type { FastifyInstance } from 'fastify'
import type { JournalEntry } from '../../src/core/journal.js'
import { tracesUrl } from '../../src/plugins/request-tracing.js'
import { VERSION } from '../../src/version.js'
import { buildTestApp } from '../helpers/app.js'
import {
  SEED_KONERA, VERIFY_PATH, authorizationCode, obtainTokens, redeemCode, share, verify
} from '../helpers/flow.js'

/** The parts of the OTLP/HTTP JSON encoding read here (opentelemetry-proto, ExportTraceServiceRequest) */
interface AnyValue { stringValue?: string, intValue?: number | string, arrayValue?: { values: AnyValue[] } }
interface KeyValue { key: string, value: AnyValue }
interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  traceState?: string
  name: string
  kind: number
  startTimeUnixNano: string | number
  endTimeUnixNano: string | number
  attributes: KeyValue[]
  status?: { code?: number, message?: string }
}
interface ExportRequest {
  resourceSpans: Array<{
    resource: { attributes: KeyValue[] }, scopeSpans: Array<{ scope: { name: string }, spans: OtlpSpan[] }>
  }>
}

/** OTLP's SpanKind and StatusCode numbers */
const SPAN_KIND_SERVER = 2
const STATUS_UNSET = 0
const STATUS_ERROR = 2

interface Receiver {
  /** The base endpoint to give --otlp-endpoint */
  base: string
  posts: Array<{ path: string, contentType: string | undefined, body: ExportRequest }>
  spans: () => OtlpSpan[]
}

/** An OTLP/HTTP collector in miniature: takes each POST's JSON, answers `status`; closed in teardown */
async function otlpReceiver (t: Test, status = 200): Promise<Receiver> {
  const posts: Receiver['posts'] = []
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      posts.push({
        path: request.url ?? '',
        contentType: request.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportRequest
      })
      response.writeHead(status, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    // The exporter keeps its connection alive: close() alone would wait for it
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  const { port } = server.address() as AddressInfo
  return {
    base: `http://127.0.0.1:${port}`,
    posts,
    spans: () => posts.flatMap((post) => post.body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)))
  }
}

/** A span's attributes as plain values */
function attributesOf (attributes: KeyValue[]): Record<string, unknown> {
  const valueOf = (value: AnyValue): unknown => {
    if (value.stringValue !== undefined) return value.stringValue
    if (value.intValue !== undefined) return Number(value.intValue)
    if (value.arrayValue !== undefined) return value.arrayValue.values.map(valueOf)
    return value
  }
  return Object.fromEntries(attributes.map(({ key, value }) => [key, valueOf(value)]))
}

async function journalOf (app: FastifyInstance): Promise<JournalEntry[]> {
  return (await app.inject({ method: 'GET', url: '/_emulator/journal' })).json<{ entries: JournalEntry[] }>().entries
}

function spanNamed (spans: OtlpSpan[], name: string): OtlpSpan {
  const found = spans.filter((span) => span.name === name)
  if (found.length !== 1) {
    throw new Error(`expected one ${name} span, got ${found.length}: ${spans.map((s) => s.name).join(', ')}`)
  }
  return found[0] as OtlpSpan
}

const CALLER_TRACE = '0af7651916cd43dd8448eb211c80319c'
const CALLER_SPAN = 'b7ad6b7169203331'
const TRACEPARENT = `00-${CALLER_TRACE}-${CALLER_SPAN}-01`

t.test('tracesUrl appends /v1/traces to the base endpoint, as OTEL_EXPORTER_OTLP_ENDPOINT is read', async (t) => {
  t.equal(tracesUrl('http://localhost:4318'), 'http://localhost:4318/v1/traces')
  t.equal(tracesUrl('http://localhost:4318/'), 'http://localhost:4318/v1/traces')
  t.equal(tracesUrl('https://otel.example.com/tenant-a/'), 'https://otel.example.com/tenant-a/v1/traces')
})

t.test('each leg is a SERVER span named after it, continuing the caller\'s traceparent; ' +
  'the journal shows its trace id', async (t) => {
  const receiver = await otlpReceiver(t)
  const { app } = await buildTestApp(t, { otlpEndpoint: `${receiver.base}/otlp/` })
  const headers = { traceparent: TRACEPARENT, tracestate: 'vendor=abc' }
  const tokens = await obtainTokens(app, { konera: SEED_KONERA, headers })
  t.equal((await verify(app, tokens.access_token, { headers })).statusCode, 200)
  t.equal((await share(app, tokens.access_token)).statusCode, 200, 'share: no traceparent')
  t.equal((await app.inject({
    method: 'GET',
    url: '/camara/api/auth/v1/.well-known/openid-configuration'
  })).statusCode, 200)
  const journal = await journalOf(app)
  // Closing flushes the batch: nothing is exported before (the batch waits 5 s)
  await app.close()

  t.equal(receiver.posts.length, 1, 'one batch, sent at shutdown')
  t.strictSame([receiver.posts[0]?.path, receiver.posts[0]?.contentType], ['/otlp/v1/traces', 'application/json'],
    'OTLP/HTTP JSON, to the base endpoint\'s /v1/traces')
  const resource = attributesOf(receiver.posts[0]?.body.resourceSpans[0]?.resource.attributes ?? [])
  t.match(resource, { 'service.name': 'camara-nv-emulator', 'service.version': VERSION })

  const spans = receiver.spans()
  t.strictSame(spans.map((span) => span.name).sort(),
    ['authorize', 'discovery', 'operator', 'share', 'token', 'verify'],
    'a span per leg\'s request; none for the control API\'s journal read')
  t.ok(spans.every((span) => span.kind === SPAN_KIND_SERVER), 'all of kind SERVER')
  for (const name of ['authorize', 'operator', 'token', 'verify']) {
    const span = spanNamed(spans, name)
    t.strictSame([span.traceId, span.parentSpanId, span.traceState], [CALLER_TRACE, CALLER_SPAN, 'vendor=abc'],
      `${name} continues the caller's trace`)
  }
  for (const name of ['share', 'discovery']) {
    const span = spanNamed(spans, name)
    t.not(span.traceId, CALLER_TRACE, `${name}: no traceparent, a trace of its own`)
    t.match(span.traceId, /^[0-9a-f]{32}$/)
    t.notOk(span.parentSpanId, `${name} has no parent`)
  }
  t.equal(new Set(spans.map((span) => span.spanId)).size, spans.length, 'each its own span id')

  const entry = (operation: string): JournalEntry => {
    const found = journal.find((e) => e.operation === operation)
    if (found === undefined) throw new Error(`no ${operation} entry`)
    return found
  }
  for (const span of spans) {
    t.equal(entry(span.name).traceId, span.traceId, `the ${span.name} entry shows its span's trace id`)
  }
  t.equal(journal.length, spans.length, 'a span for each journal entry')

  const verifyEntry = entry('verify')
  t.strictSame(attributesOf(spanNamed(spans, 'verify').attributes), {
    'http.request.method': 'POST',
    'url.path': VERIFY_PATH,
    'url.scheme': 'http',
    'client.address': '127.0.0.1',
    'http.route': VERIFY_PATH,
    'http.response.status_code': 200,
    'emulator.flow_id': verifyEntry.flowId,
    'emulator.client_id': 'demo-app',
    'emulator.operator_id': verifyEntry.operatorId
  })
  t.match(verifyEntry, { flowId: /\S/, operatorId: /\S/ })
  t.equal(spanNamed(spans, 'verify').status?.code ?? STATUS_UNSET, STATUS_UNSET, 'a 200 leaves the status unset')
  t.match(attributesOf(spanNamed(spans, 'authorize').attributes), {
    'http.request.method': 'GET',
    'http.response.status_code': 302,
    'emulator.flow_id': verifyEntry.flowId
  })
})

t.test('5xx and connection faults are ERROR spans with the scenarios and the reason; ' +
  'injected latency is inside the span', async (t) => {
  const receiver = await otlpReceiver(t)
  const waited: number[] = []
  // The latency is asked for 2 s (slow-operator); the test waits 150 ms of it for real
  const sleep = async (ms: number): Promise<void> => {
    waited.push(ms)
    await wait(150)
  }
  const { app } = await buildTestApp(t, { otlpEndpoint: receiver.base }, { sleep })
  const code = await authorizationCode(app, {
    konera: SEED_KONERA,
    headers: { 'x-emulator-scenario': 'slow-operator' }
  })
  t.strictSame(waited, [2000], 'the operator leg waited')
  const tokens = await redeemCode(app, code)
  t.equal((await verify(app, tokens.access_token, { scenarios: 'internal-error' })).statusCode, 500)
  t.equal((await verify(app, 'not-a-token')).statusCode, 401)
  await t.rejects(verify(app, tokens.access_token, { scenarios: 'connection-reset' }), { code: 'ECONNRESET' })
  const journal = await journalOf(app)
  await app.close()

  const spans = receiver.spans()
  const operator = spanNamed(spans, 'operator')
  const durationMs = (Number(BigInt(operator.endTimeUnixNano) - BigInt(operator.startTimeUnixNano)) / 1e6)
  t.ok(durationMs >= 140, `the operator span (${durationMs} ms) holds the injected wait`)
  t.match(attributesOf(operator.attributes),
    { 'emulator.scenarios': ['slow-operator'], 'http.response.status_code': 302 })

  const verifies = spans.filter((span) => span.name === 'verify')
  t.equal(verifies.length, 3)
  const [failed, refused, reset] = verifies.sort((a, b) =>
    Number(BigInt(a.startTimeUnixNano) - BigInt(b.startTimeUnixNano)))
  t.equal(failed?.status?.code, STATUS_ERROR, 'a 500 is an error')
  t.match(attributesOf(failed?.attributes ?? []), {
    'http.response.status_code': 500,
    'error.type': '500',
    'emulator.scenarios': ['internal-error']
  })
  t.equal(refused?.status?.code ?? STATUS_UNSET, STATUS_UNSET, 'a 401 is the client\'s error, not the server\'s')
  const refusedAttributes = attributesOf(refused?.attributes ?? [])
  t.equal(refusedAttributes['http.response.status_code'], 401)
  t.notOk('error.type' in refusedAttributes)
  t.strictSame(reset?.status, { code: STATUS_ERROR, message: 'fault connection-reset (scenario connection-reset)' },
    'a connection fault is an error')
  const resetAttributes = attributesOf(reset?.attributes ?? [])
  t.match(resetAttributes, {
    'error.type': 'connection_fault',
    'emulator.reason': 'fault connection-reset (scenario connection-reset)',
    'emulator.scenarios': ['connection-reset']
  })
  t.notOk('http.response.status_code' in resetAttributes, 'no response, no status code')
  const resetEntry = journal.find((entry) => entry.status === 0)
  t.equal(resetEntry?.traceId, reset?.traceId, 'the fault\'s journal entry shows its trace too')
})

t.test('the journal\'s live stream carries each entry\'s trace id', async (t) => {
  const receiver = await otlpReceiver(t)
  const { app } = await buildTestApp(t, { otlpEndpoint: receiver.base })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/_emulator/journal/stream', agent: false }, resolve)
    req.on('error', reject)
    req.end()
  })
  // The first `event: entry` block's data line
  const data = new Promise<string>((resolve, reject) => {
    let buffer = ''
    response.setEncoding('utf8')
    response.on('data', (chunk: string) => {
      buffer += chunk
      const found = /event: entry\ndata: (.*)\n\n/.exec(buffer)
      if (found !== null) resolve(found[1] as string)
    })
    response.on('error', reject)
  })
  await fetch(`http://127.0.0.1:${port}/camara/api/auth/v1/jwks`, { headers: { traceparent: TRACEPARENT } })
  t.match(JSON.parse(await data), { operation: 'jwks', traceId: CALLER_TRACE })
  response.destroy()
  await app.close()
  t.equal(spanNamed(receiver.spans(), 'jwks').traceId, CALLER_TRACE)
})

t.test('a namespace\'s request names its namespace; its route and path are the ones the caller sent', async (t) => {
  const receiver = await otlpReceiver(t)
  const { app } = await buildTestApp(t, { otlpEndpoint: receiver.base })
  t.equal((await app.inject({ method: 'PUT', url: '/_emulator/namespaces/ci-1' })).statusCode, 201)
  t.equal((await app.inject({ method: 'GET', url: '/ns/ci-1/camara/api/auth/v1/jwks' })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/no/such/path' })).statusCode, 404)
  await app.close()
  const spans = receiver.spans()
  t.match(attributesOf(spanNamed(spans, 'jwks').attributes), {
    'emulator.namespace': 'ci-1',
    'url.path': '/ns/ci-1/camara/api/auth/v1/jwks',
    'http.route': '/camara/api/auth/v1/jwks'
  })
  const other = attributesOf(spanNamed(spans, 'other').attributes)
  t.match(other, { 'url.path': '/no/such/path', 'http.response.status_code': 404 })
  t.notOk('http.route' in other, 'no route matched: no http.route')
  t.notOk('emulator.namespace' in other)
})

t.test('a collector that refuses the spans is said in the log; requests are not affected', async (t) => {
  const receiver = await otlpReceiver(t, 400)
  const lines: Array<{ msg?: string, level?: number, otlpEndpoint?: string }> = []
  const logStream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') lines.push(JSON.parse(line) as typeof lines[number])
      }
      done()
    }
  })
  const { app } = await buildTestApp(t, { otlpEndpoint: receiver.base }, { logger: { level: 'warn' }, logStream })
  t.equal((await app.inject({
    method: 'GET',
    url: '/camara/api/auth/v1/.well-known/openid-configuration'
  })).statusCode, 200)
  await app.close()
  t.equal(receiver.posts.length, 1, 'the batch was sent')
  t.match(lines.filter((line) => line.msg === 'could not export spans'), [{ level: 40, otlpEndpoint: receiver.base }])
})

t.test('with tracing off no span is made, whatever the OTEL_* environment, ' +
  'and the journal has no trace id', async (t) => {
  const receiver = await otlpReceiver(t)
  // The SDK's own variables do not switch tracing on: only --otlp-endpoint does
  const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.base
  // A global provider catches any span made through the API's globals
  const memory = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] })
  trace.setGlobalTracerProvider(provider)
  t.teardown(async () => {
    if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT
    else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved
    trace.disable()
    await provider.shutdown()
  })
  const { app } = await buildTestApp(t)
  t.equal(app.tracing, undefined, 'no tracer')
  const headers = { traceparent: TRACEPARENT }
  const tokens = await obtainTokens(app, { konera: SEED_KONERA, headers })
  t.equal((await verify(app, tokens.access_token, { headers })).statusCode, 200)
  const journal = await journalOf(app)
  await app.close()
  t.equal(journal.length, 4)
  t.strictSame(journal.filter((entry) => 'traceId' in entry), [], 'no entry has a trace id')
  t.strictSame(memory.getFinishedSpans(), [], 'no span through the global API')
  t.strictSame(receiver.posts, [], 'nothing exported')
})
