// Time limits on what a client sends, so slow or stalled uploads cannot hold memory and sockets.
// The body timeout (--body-timeout) answers 408 in the surface's own format: a request whose body
// has not fully arrived that long after its headers fails while it is parsed, through the route's
// error handler, with the refusal its surface gave (src/plugins/surface.ts). Node's own
// requestTimeout (--request-timeout) is the backstop for the whole request, headers included; it
// answers a bare 408 and closes the connection.
import { PassThrough } from 'node:stream'
import type { FastifyReply, FastifyRequest, RequestPayload } from 'fastify'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyInstance {
    /** Ms from the headers to the end of the body (--body-timeout); 0: no limit */
    bodyTimeout: number
  }
}

export interface BodyTimeoutOptions {
  /** Ms from the headers to the end of the body; 0: no limit */
  bodyTimeout: number
  /** Ms for the whole request (Node's server.requestTimeout); 0: no limit */
  requestTimeout: number
}

/** Whether the request says a body follows (chunked, or a length above 0) */
export function hasBody (request: FastifyRequest): boolean {
  const { headers } = request
  const length = headers['content-length']
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

type PreParsingHook = (request: FastifyRequest, reply: FastifyReply, payload: RequestPayload, done: (error: Error | null, payload?: RequestPayload) => void) => void

/**
 * The preParsing hook a surface adds (src/plugins/surface.ts) when a body timeout is set: a body
 * still arriving `limit` ms after its headers fails with the surface's own refusal
 */
export function bodyTimeoutHook (limit: number, refusal: (request: FastifyRequest, text: string) => Error): PreParsingHook | undefined {
  if (limit === 0) return undefined
  const text = `the request body did not arrive within ${limit} ms (--body-timeout)`
  return (request, reply, payload, done) => {
    // A body that came with its headers (nearly every one) is complete by now: nothing to time
    if (request.raw.complete || !hasBody(request)) {
      done(null, payload)
      return
    }
    const timed = new PassThrough()
    const timer = setTimeout(() => {
      payload.unpipe(timed)
      // The rest of the body is never read: the connection closes once the answer is out
      reply.header('connection', 'close')
      timed.destroy(refusal(request, text))
    }, limit)
    const stop = (): void => { clearTimeout(timer) }
    timed.once('end', stop)
    timed.once('close', stop)
    // Answered before the body was read (e.g. 415): the timer must not fire on a stream nobody reads
    reply.raw.once('finish', stop)
    // Fastify listens for errors only while it reads; one that comes after must not go unhandled
    timed.on('error', stop)
    payload.once('error', (error) => { stop(); timed.destroy(error) })
    payload.pipe(timed)
    done(null, timed)
  }
}

export default fp<BodyTimeoutOptions>(async (app, options) => {
  // Node checks requestTimeout only for requests whose headers are complete if headersTimeout
  // (60 s by default) is not above it: without this, a requestTimeout below 60 s never fires
  if (options.requestTimeout > 0 && app.server.headersTimeout > options.requestTimeout) {
    app.server.headersTimeout = options.requestTimeout
  }
  // Each surface reads it to add its own hook
  app.decorate('bodyTimeout', options.bodyTimeout)
}, { name: 'body-timeout', fastify: '5.x' })
