// One log line per request, written when the response is done, instead of Fastify's two; each
// surface adds the hook in its own scope (src/plugins/surface.ts).
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { appliedScenarios } from './request-facts.js'

const INFO_OR_FINER = new Set(['info', 'debug', 'trace'])

/** Whether a server at this log level writes a line per request */
export function logsRequests (level: string): boolean {
  return INFO_OR_FINER.has(level)
}

/** The onResponse hook of every surface at info level or finer (src/plugins/surface.ts) */
export function requestLogHook (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  request.log.info({
    method: request.method,
    url: request.originalUrl,
    statusCode: reply.statusCode,
    ms: Math.round(reply.elapsedTime * 100) / 100,
    operation: request.facts.operation,
    flowId: request.facts.leg.flow.flowId,
    reason: request.facts.reason,
    scenarios: appliedScenarios(request)
  }, 'request completed')
  done()
}
