// POST /_emulator/operator-tokens: an operator token for a subscriber and an app, as its
// operator's entitlement server would issue it, for back-end tests that skip the device leg.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { CamaraError, OAuthError } from '../../core/errors.js'
import { OPERATOR_TOKEN_LIFETIME } from '../../core/fixture-schema.js'
import { E164_PATTERN } from '../../core/phone-number.js'
import { ErrorInfoSchema } from '../../schemas/camara.js'

const operatorTokens: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/operator-tokens',
    {
      config: { operation: 'control' },
      schema: {
        summary: 'Mint an operator token (TS.43, SIM-based authentication) for a subscriber and an app',
        tags: ['control'],
        body: Type.Object(
          {
            clientId: Type.String({ minLength: 1, examples: ['demo-app-jwt'] }),
            msisdn: Type.String({ pattern: E164_PATTERN, examples: ['+34666666666'] }),
            lifetimeSeconds: Type.Optional(
              Type.Integer({
                ...OPERATOR_TOKEN_LIFETIME,
                description: "Default: the operator's operatorTokens.lifetimeSeconds"
              })
            )
          },
          { additionalProperties: false }
        ),
        response: {
          201: Type.Object({
            operatorToken: Type.String(),
            expiresIn: Type.Integer(),
            expiresAt: Type.String({ format: 'date-time' }),
            operatorId: Type.String(),
            flowId: Type.String()
          }),
          400: ErrorInfoSchema,
          409: ErrorInfoSchema,
          503: ErrorInfoSchema
        }
      }
    },
    async (request, reply) => {
      try {
        const issued = await request.emulator.operatorTokens.mint(request.body)
        request.facts.leg.flow = {
          flowId: issued.flowId,
          clientId: request.body.clientId,
          msisdn: request.body.msisdn,
          operatorId: issued.operatorId
        }
        return await reply.code(201).header('cache-control', 'no-store').send(issued)
      } catch (error) {
        // The entitlement server's refusals, in the control API's format
        if (error instanceof OAuthError) throw controlRefusal(error)
        throw error
      }
    }
  )
}

/** 409: the world does not allow it (no SIM support, no operator tokens); 503: the cap; else 400 */
function controlRefusal (error: OAuthError): CamaraError {
  if (error.statusCode === 403) return new CamaraError(409, 'CONFLICT', error.description)
  if (error.statusCode === 503) return new CamaraError(503, 'UNAVAILABLE', error.description)
  return new CamaraError(400, 'INVALID_ARGUMENT', error.description)
}

export default operatorTokens
