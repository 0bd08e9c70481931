// POST {family}/verify: true exactly when the claimed number is the one the network bound to the token.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { isoTime } from '../../core/clock.js'
import { CamaraError } from '../../core/errors.js'
import { describeVerifyBody, undeclaredProperties, type VerifyInput } from '../../core/number-verification.js'
import { observe } from '../../core/conformance.js'
import { NV_VERIFY_SCOPE } from '../../core/scopes.js'
import {
  AggregatorVerifyResponseSchema,
  CamaraVerifyResponseSchema,
  CorrelatorHeadersSchema,
  VerifyRequestSchema
} from '../../schemas/camara.js'
import { authorizeCall, NV_ERROR_RESPONSES, type PathFamily } from './family.js'

export interface VerifyAnswer { devicePhoneNumberVerified: boolean, assessedAt?: string }

/** The answer: aggregator paths add when it was assessed */
export function verifyAnswer (verified: boolean, aggregator: boolean, now: number): VerifyAnswer {
  if (!aggregator) return { devicePhoneNumberVerified: verified }
  return { devicePhoneNumberVerified: verified, assessedAt: isoTime(now) }
}

const verify: FastifyPluginAsyncTypebox<{ family: PathFamily }> = async (app, { family }) => {
  const aggregator = family.flavor === 'aggregator'
  app.post('/verify', {
    config: {
      operation: 'verify',
      checkRequest: authorizeCall(NV_VERIFY_SCOPE, family),
      describeInvalidBody: (body, request) => {
        const undeclared = undeclaredProperties(body)
        if (undeclared.length > 0) {
          observe(request.facts.leg, {
            rule: 'declared-properties',
            ok: false,
            detail: `undeclared properties: ${undeclared.join(', ')}`
          })
        }
        return new CamaraError(400, 'INVALID_ARGUMENT', describeVerifyBody(body))
      }
    },
    schema: {
      summary: `Verify the device phone number (${family.label})`,
      description: 'Compares the phoneNumber (or hashedPhoneNumber) with the number the operator network bound to ' +
        'the access token.',
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
  }, async (request) => {
    const input = request.body as VerifyInput
    observe(request.facts.leg, { rule: 'declared-properties', ok: true })
    const service = request.emulator.numberVerification
    const verified = await service.verifyNumber(service.identify(request.call), input, request.facts.leg)
    return verifyAnswer(verified, aggregator, request.emulator.ctx.clock.now())
  })
}

export default verify
