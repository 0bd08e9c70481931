// What every surface does to each of its requests, registered by the surface in its own scope
// (never on the root, so the routes outside the surfaces and the not-found answers pay nothing):
// one onRequest hook (the request's facts, its correlation headers, the route's own checks), one
// preParsing hook when a body timeout is set (a stalled body answered in the surface's format),
// one onSend hook (the HTML security headers, a body fault the scenarios decided, the journal
// entry and the metrics) and, at info level or finer, one onResponse hook writing the request's log line.
// Each hook costs every request ~1 us under load: callback style, and merged, for that reason.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { bodyTimeoutHook } from './body-timeout.js'
import { recordRequest } from './journal-record.js'
import { factsHook, type Operation } from './request-facts.js'
import { logsRequests, requestLogHook } from './request-log.js'
import { outgoingBody } from './scenarios.js'
import { htmlSecurityHeaders } from '../views/html-security-headers.js'
import { CamaraError } from '../core/errors.js'

export interface SurfaceOptions {
  /** The refusal of a body that did not arrive in time, in the surface's format */
  timeoutError: (request: FastifyRequest, text: string) => Error
}

/**
 * Operations never journaled, so a dashboard polling the journal does not fill it with itself
 * (the control API; docs, and the demo app's own pages)
 */
const UNJOURNALED: ReadonlySet<Operation> = new Set(['control', 'docs'])

/** The refusal of a stalled body on the surfaces that answer { status, code, message } */
export function camaraTimeoutError (_request: FastifyRequest, text: string): Error {
  return new CamaraError(408, 'REQUEST_TIMEOUT', text)
}

export function addSurfaceHooks (app: FastifyInstance, options: SurfaceOptions): void {
  app.addHook('onRequest', factsHook(app))
  const timeout = bodyTimeoutHook(app.bodyTimeout, options.timeoutError)
  if (timeout !== undefined) app.addHook('preParsing', timeout)
  // Every world shares the root's way of waiting; each has its own journal
  const { sleep } = app.emulator.ctx.legs
  // Recorded as the response goes out, so the entry exists by the time the client reads the
  // answer, and with no onResponse hook Fastify does not watch every response for its end (~5% of
  // a /verify call). durationMs is the time to the response, injected latency included; a
  // slow-body fault's dribbling comes after it.
  app.addHook('onSend', (
    request: FastifyRequest,
    reply: FastifyReply,
    payload: unknown,
    done: (error: Error | null, body?: unknown) => void
  ) => {
    htmlSecurityHeaders(reply)
    const body = outgoingBody(request, reply, payload, sleep)
    // A request to a namespace that does not exist has no world and no journal to be in
    if (!UNJOURNALED.has(request.facts.operation) && request.emulator !== null) {
      recordRequest(request, { status: reply.statusCode, durationMs: Math.round(reply.elapsedTime * 100) / 100 })
    }
    done(null, body)
  })
  // No hook at all below info (e.g. --log-level warn under load): the level is fixed at start
  if (logsRequests(app.log.level)) app.addHook('onResponse', requestLogHook)
}
