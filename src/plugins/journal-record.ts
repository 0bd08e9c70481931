// What the journal keeps of a request: shared by the journal's onSend hook and the scenarios'
// connection faults (which have no response, so no onSend).
import type { FastifyRequest } from 'fastify'
import type { JournalRecord } from '../core/journal.js'
import { pathOf } from '../core/urls.js'
import { appliedScenarios, type RequestFacts } from './request-facts.js'

/**
 * Journals a request's outcome in its world and counts it in the process's metrics: the one place
 * both happen, for answers (the surfaces' onSend hook) and connection faults alike
 */
export function recordRequest (request: FastifyRequest, outcome: Outcome): void {
  const record = journalRecordOf(request, outcome)
  request.emulator.journal.append(record)
  // Only a traced request has a span (tracing on: src/plugins/tracing.ts)
  const span = request.facts.span
  if (span !== undefined) request.server.tracing?.end(span, record)
  request.server.metrics.observe(
    record,
    request.facts.operation === 'token' ? { grantType: grantTypeOf(request.body) } : {}
  )
}

function grantTypeOf (body: unknown): string | undefined {
  const grantType = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).grant_type : undefined
  return typeof grantType === 'string' ? grantType : undefined
}

/** What the journal keeps of a request: its facts, correlator and scenarios, with the outcome */
export function journalRecordOf (request: FastifyRequest, outcome: Outcome): JournalRecord {
  return recordOf(request.facts, {
    method: request.method,
    url: request.originalUrl,
    correlator: request.correlator,
    scenarios: appliedScenarios(request)
  }, outcome)
}

interface Outcome { status: number, durationMs: number, reason?: string | undefined }

/** The same from the parts: the flow as the core found it (the request's Leg) */
export function recordOf (
  facts: RequestFacts,
  request: { method: string, url: string, correlator: string, scenarios?: string[] | undefined },
  outcome: Outcome
): JournalRecord {
  const flow = facts.leg.flow
  return {
    operation: facts.operation,
    method: request.method,
    path: pathOf(request.url),
    status: outcome.status,
    durationMs: outcome.durationMs,
    startedAt: facts.startedAt,
    flowId: flow.flowId,
    correlator: request.correlator,
    traceId: facts.span?.spanContext().traceId,
    clientId: flow.clientId,
    msisdn: flow.msisdn,
    operatorId: flow.operatorId,
    scenarios: request.scenarios,
    reason: outcome.reason ?? facts.reason,
    checks: facts.leg.checks
  }
}
