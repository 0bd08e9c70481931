// Records every request of the emulated surfaces in the journal as its response is sent, with
// the facts the routes learnt and the scenarios applied. Control and docs requests are left out,
// so a dashboard polling the journal does not fill it with itself.
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { JournalRecord } from '../core/journal.js'

const UNJOURNALED = new Set(['control', 'docs'])

function pathOf (url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

/** What the journal keeps of a request: its facts, correlator and scenarios, with the outcome */
export function journalRecordOf (request: FastifyRequest, outcome: { status: number, durationMs: number, reason?: string | undefined }): JournalRecord {
  const { facts } = request
  return {
    operation: facts.operation,
    method: request.method,
    path: pathOf(request.url),
    status: outcome.status,
    durationMs: outcome.durationMs,
    startedAt: facts.startedAt,
    flowId: facts.flowId,
    correlator: request.correlator,
    clientId: facts.clientId,
    msisdn: facts.msisdn,
    operatorId: facts.operatorId,
    scenarios: request.appliedScenarios,
    reason: outcome.reason ?? facts.reason
  }
}

export default fp(async (app) => {
  // Recorded as the response goes out (onSend, after the scenarios' body faults): the entry exists
  // by the time the client reads the answer, and no onResponse hook means Fastify does not watch
  // every response for its end (~5% of a /verify call). durationMs is the time to the response,
  // injected latency included; a slow-body fault's dribbling comes after it.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (!UNJOURNALED.has(request.facts.operation)) {
      app.emulator.journal.append(journalRecordOf(request, { status: reply.statusCode, durationMs: Math.round(reply.elapsedTime * 100) / 100 }))
    }
    done(null, payload)
  })
}, { name: 'journal', fastify: '5.x', dependencies: ['request-facts', 'correlation', 'scenarios'] })
