// One log line per request, written when the response is done, instead of Fastify's two.
import fp from 'fastify-plugin'
import { appliedScenarios } from './request-facts.js'

const INFO_OR_FINER = new Set(['info', 'debug', 'trace'])

/** Whether a server at this log level writes a line per request */
export function logsRequests (level: string): boolean {
  return INFO_OR_FINER.has(level)
}

export default fp(async (app) => {
  // No hook at all below info (e.g. --log-level warn under load): the level is fixed at start
  if (!logsRequests(app.log.level)) return
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info({
      method: request.method,
      url: request.url,
      statusCode: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 100) / 100,
      operation: request.facts.operation,
      flowId: request.facts.leg.flow.flowId,
      reason: request.facts.reason,
      scenarios: appliedScenarios(request)
    }, 'request completed')
    done()
  })
}, { name: 'request-log', fastify: '5.x', dependencies: ['request-facts', 'correlation'] })
