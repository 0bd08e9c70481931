// The operator leg's scenario step, shared by the operator endpoint and the SIM picker.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Identification, PendingAuthorization } from '../../core/authorization.js'
import { authorizeScenarioError } from '../scenario-errors.js'

/**
 * What the operator leg does once the device is identified (or not), before a code is issued:
 * record the facts and run the scenarios, whose errors redirect like the operator's own.
 */
export function operatorLegScenarios (request: FastifyRequest, reply: FastifyReply) {
  return async (pending: PendingAuthorization, identification: Identification): Promise<void> => {
    request.facts.flowId = pending.flowId
    request.facts.clientId = pending.clientId
    if (identification.outcome !== 'failed') request.facts.msisdn = identification.msisdn
    await request.server.runScenarios(request, reply, {
      flowScenarios: pending.flowScenarios,
      toError: authorizeScenarioError({ redirectUri: pending.redirectUri, state: pending.state })
    })
  }
}
