// What the journal keeps of a request: shared by the journal's onSend hook and the scenarios'
// connection faults (which have no response, so no onSend).
import type { FastifyRequest } from 'fastify'
import type { JournalRecord } from '../core/journal.js'
import { pathOf } from '../core/urls.js'

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
