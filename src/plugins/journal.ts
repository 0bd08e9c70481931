// Records every request of the emulated surfaces in the journal once its response is sent, with
// the facts the routes learnt and the scenarios applied. Control and docs requests are left out,
// so a dashboard polling the journal does not fill it with itself.
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { JournalRecord } from '../core/journal.js'

const UNJOURNALED = new Set(['control', 'docs'])

/** What the journal keeps of a request: its facts, correlator and scenarios, with the outcome */
export function journalRecordOf (request: FastifyRequest, outcome: { status: number, durationMs: number, reason?: string | undefined }): JournalRecord {
  const { facts } = request
  return {
    operation: facts.operation,
    method: request.method,
    path: request.url.split('?')[0] ?? request.url,
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
  app.addHook('onResponse', (request, reply, done) => {
    if (UNJOURNALED.has(request.facts.operation)) return done()
    app.emulator.journal.record(journalRecordOf(request, { status: reply.statusCode, durationMs: Math.round(reply.elapsedTime * 100) / 100 }))
    done()
  })
}, { name: 'journal', fastify: '5.x', dependencies: ['request-facts', 'correlation', 'scenarios'] })
