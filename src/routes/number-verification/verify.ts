// POST {family}/verify: true exactly when the claimed number is the one the network bound to the token.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { isoTime } from '../../core/clock.js'
import type { Decision } from '../../core/scenarios/engine.js'
import { NV_VERIFY_SCOPE } from '../../core/scopes.js'
import { AggregatorVerifyResponseSchema, CamaraVerifyResponseSchema, CorrelatorHeadersSchema, VerifyRequestSchema } from '../../schemas/camara.js'
import { documentOnly } from '../route-options.js'
import { camaraScenarioError } from '../scenario-errors.js'
import { authorizeCall, NV_ERROR_RESPONSES, type PathFamily } from './family.js'

export interface VerifyAnswer { devicePhoneNumberVerified: boolean, assessedAt?: string }

/** The answer: aggregator paths add when it was assessed (the fast path answers the same) */
export function verifyAnswer (verified: boolean, aggregator: boolean, now: number): VerifyAnswer {
  if (!aggregator) return { devicePhoneNumberVerified: verified }
  return { devicePhoneNumberVerified: verified, assessedAt: isoTime(now) }
}

const verify: FastifyPluginAsyncTypebox<{ family: PathFamily }> = async (app, { family }) => {
  // One renderer per path family, not one per call
  const toError = camaraScenarioError(family.version)
  const aggregator = family.flavor === 'aggregator'
  app.post('/verify', {
    config: { operation: 'verify', checkRequest: authorizeCall(NV_VERIFY_SCOPE, family) },
    schema: {
      summary: `Verify the device phone number (${family.label})`,
      description: 'Compares the phoneNumber (or hashedPhoneNumber) with the number the operator network bound to the access token.',
      tags: [family.tag],
      operationId: `verify_${family.id}`,
      security: [{ openId: [NV_VERIFY_SCOPE] }],
      headers: CorrelatorHeadersSchema,
      body: VerifyRequestSchema,
      response: {
        200: aggregator ? AggregatorVerifyResponseSchema : CamaraVerifyResponseSchema,
        ...NV_ERROR_RESPONSES
      }
    },
    validatorCompiler: documentOnly,
  }, (request, reply) => {
    // Not async: the common case (no latency to inject) answers without a promise, the hot path
    // of a client's load test. Throwing here reaches the family's error handler all the same
    const service = app.emulator.numberVerification
    const input = service.parseVerifyBody(request.body)
    const running = app.runScenarios(request, reply, {
      flowScenarios: request.call.token.flowScenarios,
      claimedNumber: 'phoneNumber' in input ? input.phoneNumber : undefined,
      toError
    })
    const answer = (decision: Decision): VerifyAnswer => {
      return verifyAnswer(decision.verifiedResult ?? service.verify(request.call, input), aggregator, app.emulator.ctx.clock.now())
    }
    return running instanceof Promise ? running.then(answer) : answer(running)
  })
}

export default verify
