// Time limits on what a client sends, so slow or stalled uploads cannot hold memory and sockets.
// The body timeout (--body-timeout) answers 408 in the surface's own format: a request whose body
// has not fully arrived that long after its headers fails while it is parsed, through the route's
// error handler, with the refusal its surface gave (src/plugins/surface.ts). Node's own
// requestTimeout (--request-timeout) is the backstop for the whole request, headers included; it
// answers a bare 408 and closes the connection.
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

type PreParsingHook = (
  request: FastifyRequest,
  reply: FastifyReply,
  payload: RequestPayload,
  done: (error: Error | null, payload?: RequestPayload) => void
) => void

interface Watched {
  request: FastifyRequest
  reply: FastifyReply
  payload: RequestPayload
  /** performance.now() at which the body is overdue */
  deadline: number
}

/**
 * The bodies of one surface still arriving, checked by one sweep instead of a timer, a wrapping
 * stream and five listeners per request: under load most bodies come in a packet after their
 * headers (undici, autocannon), so this is every request's path, and that per-request machinery
 * was ~10% of a /verify call. The sweep runs only while some body is watched; a stalled body is
 * cut between `limit` and `limit` + the sweep's period (a quarter of the limit, at most 250 ms).
 */
class BodyWatch {
  private readonly watched = new Set<Watched>()
  private sweeper: NodeJS.Timeout | undefined
  private readonly periodMs: number

  constructor (private readonly limit: number, private readonly fail: (entry: Watched) => void) {
    this.periodMs = Math.max(1, Math.min(250, Math.floor(limit / 4)))
  }

  watch (request: FastifyRequest, reply: FastifyReply, payload: RequestPayload): void {
    this.watched.add({ request, reply, payload, deadline: performance.now() + this.limit })
    if (this.sweeper === undefined) {
      this.sweeper = setInterval(() => { this.sweep() }, this.periodMs)
      this.sweeper.unref()
    }
  }

  private sweep (): void {
    const now = performance.now()
    for (const entry of this.watched) {
      // Arrived, answered before it was read (e.g. 415), or the connection went
      if (entry.request.raw.complete || entry.reply.sent || entry.request.raw.destroyed) {
        this.watched.delete(entry)
      } else if (now >= entry.deadline) {
        this.watched.delete(entry)
        this.fail(entry)
      }
    }
    if (this.watched.size === 0) {
      clearInterval(this.sweeper)
      this.sweeper = undefined
    }
  }
}

/**
 * The preParsing hook a surface adds (src/plugins/surface.ts) when a body timeout is set: a body
 * still arriving `limit` ms after its headers fails with the surface's own refusal
 */
export function bodyTimeoutHook (
  limit: number,
  refusal: (request: FastifyRequest, text: string) => Error
): PreParsingHook | undefined {
  if (limit === 0) return undefined
  const text = `the request body did not arrive within ${limit} ms (--body-timeout)`
  const bodies = new BodyWatch(limit, ({ request, reply, payload }) => {
    // The rest of the body is never read: the connection closes once the answer is out
    reply.header('connection', 'close')
    const error = refusal(request, text)
    // Fastify's body reader listens for the stream's errors and answers through the route's error
    // handler; the stream itself is left alone, since destroying it would close the socket first
    if (payload.listenerCount('error') > 0) payload.emit('error', error)
    else request.raw.destroy(error)
  })
  return (request, reply, payload, done) => {
    // A body that came with its headers is complete by now: nothing to time
    if (!request.raw.complete && hasBody(request)) bodies.watch(request, reply, payload)
    done(null, payload)
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
