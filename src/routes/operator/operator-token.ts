// POST /operators/:operatorId/operator-token: the operator's entitlement server (GSMA TS.43,
// emulated) issuing an operator token to an app on a device; the device is named by its MSISDN
// or its address (default: where the request came from) and its SIM is taken as authenticated.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { oauthErrorHandler, oauthTimeoutError } from '../gateway/index.js'
import { addSurfaceHooks } from '../../plugins/surface.js'
import { E164_PATTERN } from '../../core/phone-number.js'
import { OAuthErrorSchema } from '../../schemas/oauth.js'

export const OperatorTokenRequestSchema = Type.Object(
  {
    client_id: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'The app the token is for (a registered client_id)',
      examples: ['demo-app-jwt']
    }),
    msisdn: Type.Optional(
      Type.String({ pattern: E164_PATTERN, description: "The device, by its SIM's number", examples: ['+34666666666'] })
    ),
    address: Type.Optional(
      Type.String({
        maxLength: 64,
        description: 'The device, by its IP address (on any network: SIM-based authentication works over Wi-Fi)'
      })
    )
  },
  { additionalProperties: false }
)

export const OperatorTokenResponseSchema = Type.Object({
  operator_token: Type.String({
    description:
      'Opaque; the app hands it to its backend, which sends operatortoken:<it> (JWT-bearer sub or CIBA login_hint)'
  }),
  expires_in: Type.Integer({ description: 'Seconds the token may be redeemed in (once)' }),
  expires_at: Type.String({ format: 'date-time', description: 'TS.43 TemporaryTokenExpiry' })
})

const operatorToken: FastifyPluginAsyncTypebox = async (app) => {
  addSurfaceHooks(app, { timeoutError: oauthTimeoutError })
  app.setErrorHandler(oauthErrorHandler)
  app.post(
    '/operators/:operatorId/operator-token',
    {
      schema: {
        summary:
          'Emulated TS.43 entitlement server: an operator token for an app on a device (SIM-based authentication)',
        description:
          'Stands for the TS.43 temporary-token operation a device OS performs after EAP-AKA with its SIM. 403 ' +
            'access_denied when the operator issues no operator tokens, the SIM cannot, or the device is another ' +
              "operator's; 403 unauthorized_client for an unknown app.",
        tags: ['operator'],
        params: Type.Object({ operatorId: Type.String({ maxLength: 64 }) }),
        body: OperatorTokenRequestSchema,
        response: {
          200: OperatorTokenResponseSchema,
          400: OAuthErrorSchema,
          403: OAuthErrorSchema,
          404: OAuthErrorSchema,
          503: OAuthErrorSchema
        }
      },
      config: { operation: 'operator-token' }
    },
    async (request, reply) => {
      const { client_id: clientId, msisdn, address } = request.body
      const issued = await request.emulator.operatorTokens.acquire(
        request.params.operatorId,
        { clientId, msisdn, address },
        request.ip,
        request.facts.leg
      )
      return await reply.header('cache-control', 'no-store').send({
        operator_token: issued.operatorToken,
        expires_in: issued.expiresIn,
        expires_at: issued.expiresAt
      })
    }
  )
}

export default operatorToken
