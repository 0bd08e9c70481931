// Request correlation: CAMARA's x-correlator and the aggregator's x-correlation-id are echoed on
// every response when sent; a UUID is generated when absent. The CAMARA surface rejects a value
// that breaks CAMARA's pattern (request.correlatorProblem tells it so).
import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { CORRELATOR_256 } from '../core/camara-errors.js'

export const CORRELATOR_PATTERN = CORRELATOR_256
const HEADERS = ['x-correlator', 'x-correlation-id'] as const

declare module 'fastify' {
  interface FastifyRequest {
    correlator: string
    /** Set when a correlation header was sent but breaks CAMARA's pattern */
    correlatorProblem: string | undefined
  }
}

/**
 * The request's correlator, read before Fastify creates the request (its genReqId): the first
 * correlation header that matches CAMARA's pattern, else a fresh UUID.
 */
export function correlatorOf (raw: IncomingMessage): string {
  for (const name of HEADERS) {
    const value = raw.headers[name]
    if (value === undefined) continue
    const text = Array.isArray(value) ? value.join(',') : value
    if (CORRELATOR_PATTERN.test(text)) return text
  }
  return randomUUID()
}

/**
 * The correlation headers to answer with ([name, value] pairs): each one sent, if it keeps
 * CAMARA's pattern; the request id as x-correlator when none is echoed. `problem` tells which one
 * broke the pattern (the CAMARA surface refuses the request).
 */
export function correlationOf (
  headers: IncomingHttpHeaders,
  id: string
): { echo: Array<[string, string]>, problem: string | undefined } {
  const echo: Array<[string, string]> = []
  let problem: string | undefined
  for (const name of HEADERS) {
    const value = headers[name]
    if (value === undefined) continue
    const text = Array.isArray(value) ? value.join(',') : value
    // correlatorOf tested the value that became the request id already
    if (text !== id && !CORRELATOR_PATTERN.test(text)) {
      problem = `${name} must match ^[a-zA-Z0-9-_:;.\\/<>{}]{0,256}$`
      continue
    }
    echo.push([name, text])
  }
  // Answer a generated one in the header family the client used; CAMARA's by default
  if (echo.length === 0) echo.push(['x-correlator', id])
  return { echo, problem }
}

/**
 * Echoes the correlation headers on the response (request-facts' onRequest hook calls it, so
 * every request pays for one hook, not one per concern).
 */
export function correlate (request: FastifyRequest, reply: FastifyReply): void {
  const { echo, problem } = correlationOf(request.headers, request.id)
  request.correlatorProblem = problem
  for (const [name, value] of echo) reply.header(name, value)
}

export default fp(async (app) => {
  app.decorateRequest('correlatorProblem', undefined)
  // Fastify's genReqId (correlatorOf) chose it, and its request logger already carries it
  app.decorateRequest('correlator', { getter (this: FastifyRequest) { return this.id as string } })
}, { name: 'correlation', fastify: '5.x' })
