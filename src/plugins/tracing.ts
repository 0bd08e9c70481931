// OpenTelemetry traces, on with --otlp-endpoint: app.tracing, which the surfaces' hooks call to
// start a span per request (request-facts.ts) and end it where the request is journaled
// (journal-record.ts). Off by default, and then free: app.tracing is undefined, the OpenTelemetry
// SDK is never loaded (request-tracing.ts is imported only when on) and no span is made.
import fp from 'fastify-plugin'
import type { RequestTracing } from './request-tracing.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The request spans' tracer; undefined when tracing is off */
    tracing: RequestTracing | undefined
  }
}

export interface TracingOptions {
  /** The OTLP/HTTP base endpoint (config's otlpEndpoint); undefined: tracing off */
  otlpEndpoint: string | undefined
  /** The resource's service.version */
  serviceVersion: string
}

export default fp<TracingOptions>(async (app, options) => {
  if (options.otlpEndpoint === undefined) {
    app.decorate('tracing', undefined)
    return
  }
  const { RequestTracing, tracesUrl } = await import('./request-tracing.js')
  const tracing = await RequestTracing.create({
    url: tracesUrl(options.otlpEndpoint),
    serviceVersion: options.serviceVersion,
    // An unreachable collector costs spans, never requests: said in the log, not thrown
    exportFailed: (error) => app.log.warn({ err: error, otlpEndpoint: options.otlpEndpoint }, 'could not export spans')
  })
  app.decorate('tracing', tracing)
  // Spans still batched are sent before the process ends
  app.addHook('onClose', async () => { await tracing.shutdown() })
}, { name: 'tracing', fastify: '5.x' })
