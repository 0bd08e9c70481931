// Time limits on what a client sends, so slow or stalled uploads cannot hold memory and sockets.
// The body timeout (--body-timeout) answers 408 in the surface's own format: a request whose body
// has not fully arrived that long after its headers fails while it is parsed, through the route's
// error handler. Node's own requestTimeout (--request-timeout) is the backstop for the whole
// request, headers included; it answers a bare 408 and closes the connection.
import { PassThrough } from 'node:stream'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AuthorizeError, CamaraError, OAuthError } from '../core/errors.js'
import { AUTH_PREFIX, pathOf } from '../core/urls.js'

export interface BodyTimeoutOptions {
  /** Ms from the headers to the end of the body; 0: no limit */
  bodyTimeout: number
  /** Ms for the whole request (Node's server.requestTimeout); 0: no limit */
  requestTimeout: number
}

/** The refusal in the format of the surface the path belongs to, as each one's error handler renders it */
export function bodyTimeoutError (request: FastifyRequest, ms: number): Error {
  const text = `the request body did not arrive within ${ms} ms (--body-timeout)`
  const path = pathOf(request.url)
  if (path.startsWith(`${AUTH_PREFIX}/`)) return new OAuthError('invalid_request', text, { statusCode: 408 })
  // The SIM picker's browser surface renders only authorization errors (as a 400 page)
  if (path.startsWith('/operators/')) {
    return new AuthorizeError('invalid_request', text, undefined, 'Send the form again.')
  }
  if (path.startsWith('/demo')) return Object.assign(new Error(text), { statusCode: 408 })
  return new CamaraError(408, 'REQUEST_TIMEOUT', text)
}

/** Whether the request says a body follows (chunked, or a length above 0) */
export function hasBody (request: FastifyRequest): boolean {
  const { headers } = request
  const length = headers['content-length']
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

export default fp<BodyTimeoutOptions>(async (app, options) => {
  // Node checks requestTimeout only for requests whose headers are complete if headersTimeout
  // (60 s by default) is not above it: without this, a requestTimeout below 60 s never fires
  if (options.requestTimeout > 0 && app.server.headersTimeout > options.requestTimeout) {
    app.server.headersTimeout = options.requestTimeout
  }
  const limit = options.bodyTimeout
  if (limit === 0) return

  app.addHook('preParsing', (request, reply, payload, done) => {
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
      timed.destroy(bodyTimeoutError(request, limit))
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
  })
}, { name: 'body-timeout', fastify: '5.x' })
