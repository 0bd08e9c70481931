// One OpenTelemetry span per request to a leg, exported over OTLP/HTTP (JSON) in batches: named
// after the leg, kind SERVER, continuing the caller's W3C traceparent, with the HTTP attributes
// and what the emulator knows of the flow. Loaded only when tracing is on (src/plugins/tracing.ts),
// and the SDK's packages only by RequestTracing.create: the bundle leaves them external, and an
// external static import would be hoisted to its top and loaded at every start (~60 ms).
// The provider is the app's own, never the global one: a process may build many apps (tests, the
// programmatic API), each with its own endpoint and shutdown.
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  defaultTextMapGetter,
  type Attributes,
  type Span,
  type Tracer
} from '@opentelemetry/api'
import type { ExportResult, W3CTraceContextPropagator } from '@opentelemetry/core'
import type { BasicTracerProvider, ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'
import type { FastifyRequest } from 'fastify'
import type { JournalRecord } from '../core/journal.js'
import { pathOf } from '../core/urls.js'
import { namespaceOf } from './namespace-url.js'
import type { Operation } from './request-facts.js'

export const SERVICE_NAME = 'camara-nv-emulator'

/** The journaled operations: a span for each journal entry, and none for the control API or the docs */
const TRACED: ReadonlySet<Operation> = new Set([
  'authorize',
  'operator',
  'token',
  'verify',
  'share',
  'discovery',
  'jwks',
  'other'
])

/** The traces endpoint of an OTLP/HTTP base endpoint, as OTEL_EXPORTER_OTLP_ENDPOINT is read: /v1/traces appended */
export function tracesUrl (base: string): string {
  const url = new URL(base)
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`
  return url.href
}

export interface RequestTracingOptions {
  /** Where spans are posted (the traces endpoint, /v1/traces included) */
  url: string
  serviceVersion: string
  /** A batch the collector did not take (unreachable, refused) */
  exportFailed: (error: Error) => void
}

/** The exporter, telling of batches it could not deliver (the SDK's own report goes to a silent diag logger) */
class ReportingExporter implements SpanExporter {
  constructor (
    private readonly inner: SpanExporter,
    private readonly failed: (error: Error) => void,
    /** The SDK's ExportResultCode.SUCCESS */
    private readonly success: ExportResult['code']
  ) {}

  export (spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code !== this.success) this.failed(result.error ?? new Error('export failed'))
      done(result)
    })
  }

  async shutdown (): Promise<void> {
    await this.inner.shutdown()
  }

  async forceFlush (): Promise<void> {
    await this.inner.forceFlush?.()
  }
}

export class RequestTracing {
  private readonly tracer: Tracer

  private constructor (
    private readonly provider: BasicTracerProvider,
    private readonly propagator: W3CTraceContextPropagator,
    serviceVersion: string
  ) {
    this.tracer = provider.getTracer(SERVICE_NAME, serviceVersion)
  }

  /** The tracer and its exporter, the SDK's packages loaded on the way */
  static async create (options: RequestTracingOptions): Promise<RequestTracing> {
    const [core, otlp, resources, sdk] = await Promise.all([
      import('@opentelemetry/core'), import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'), import('@opentelemetry/sdk-trace-base')
    ])
    // 3 s, not the SDK's 10: the last batch is sent at shutdown, which a container stop gives 10 s
    // in all, after the requests in flight (server.ts)
    const exporter = new ReportingExporter(
      new otlp.OTLPTraceExporter({ url: options.url, timeoutMillis: 3000 }),
      options.exportFailed,
      core.ExportResultCode.SUCCESS
    )
    const provider = new sdk.BasicTracerProvider({
      resource: resources.resourceFromAttributes({
        'service.name': SERVICE_NAME,
        'service.version': options.serviceVersion
      }),
      spanProcessors: [new sdk.BatchSpanProcessor(exporter)]
    })
    return new RequestTracing(provider, new core.W3CTraceContextPropagator(), options.serviceVersion)
  }

  /**
   * Opens the request's span in its facts (a leg's request only), as the request arrives: the
   * handler's work and any injected latency fall inside it
   */
  start (request: FastifyRequest): void {
    const operation = request.facts.operation
    if (!TRACED.has(operation)) return
    // The caller's traceparent and tracestate, if valid: otherwise a new trace
    const parent = this.propagator.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter)
    const attributes: Attributes = {
      'http.request.method': request.method,
      'url.path': pathOf(request.originalUrl),
      'url.scheme': request.protocol,
      'client.address': request.ip
    }
    const route = request.routeOptions.url
    if (route !== undefined) attributes['http.route'] = route
    const namespace = namespaceOf(request.raw)
    if (namespace !== undefined) attributes['emulator.namespace'] = namespace
    request.facts.span = this.tracer.startSpan(operation, { kind: SpanKind.SERVER, attributes }, parent)
  }

  /** Closes the span with the request's outcome, as journaled (status 0: a connection fault) */
  end (span: Span, record: JournalRecord): void {
    const attributes: Attributes = {}
    if (record.status > 0) attributes['http.response.status_code'] = record.status
    if (record.flowId !== undefined) attributes['emulator.flow_id'] = record.flowId
    if (record.clientId !== undefined) attributes['emulator.client_id'] = record.clientId
    if (record.operatorId !== undefined) attributes['emulator.operator_id'] = record.operatorId
    if (record.scenarios !== undefined && record.scenarios.length > 0) {
      attributes['emulator.scenarios'] = [...record.scenarios]
    }
    if (record.reason !== undefined) attributes['emulator.reason'] = record.reason
    if (record.status === 0) {
      attributes['error.type'] = 'connection_fault'
      span.setStatus({ code: SpanStatusCode.ERROR, message: record.reason ?? 'connection fault' })
    } else if (record.status >= 500) {
      // HTTP semantic conventions: a server span is an error for 5xx only; 4xx is the client's
      attributes['error.type'] = String(record.status)
      span.setStatus({ code: SpanStatusCode.ERROR })
    }
    span.setAttributes(attributes)
    span.end()
  }

  /**
   * Sends what is still batched, then stops the exporter. A batch the collector refuses is already
   * in the log (exportFailed), and must not fail the app's close
   */
  async shutdown (): Promise<void> {
    await this.provider.shutdown().catch(() => {})
  }
}
