// POST {issuer}/bc-authorize: CIBA's backchannel authentication endpoint (poll mode), as OAuth JSON.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { Form } from '../../core/client-authentication.js'
import { OAuthErrorSchema, PARAMETER_MAX_LENGTH } from '../../schemas/oauth.js'
import { formOnly } from './token.js'

const optional = (description: string) => Type.Optional(Type.String({ description, maxLength: PARAMETER_MAX_LENGTH }))

export const BackchannelRequestSchema = Type.Object(
  {
    scope: optional('openid, exactly one dpv: purpose and the API scopes'),
    login_hint: optional('tel:+E164, ipport:IP[:port] or operatortoken:<token> (the only hint CAMARA allows)'),
    client_id: optional('client_secret_post / private_key_jwt'),
    client_secret: optional('client_secret_post'),
    client_assertion_type: optional('private_key_jwt'),
    client_assertion: optional(
      'private_key_jwt: JWT signed by a key of the client JWKS (aud: the issuer or this endpoint)'
    ),
    binding_message: optional('Ignored (ICM r4.2 "Optional Parameters")'),
    user_code: optional('Ignored (ICM r4.2 "Optional Parameters")'),
    requested_expiry: optional('Ignored (ICM r4.2 "Optional Parameters")'),
    emulator_scenario: optional("Scenarios for the whole CIBA flow (the emulator's own parameter, as at authorize)")
  },
  {
    description: 'Parameters not listed here are ignored',
    additionalProperties: Type.String({ maxLength: PARAMETER_MAX_LENGTH })
  }
)

export const BackchannelResponseSchema = Type.Object({
  auth_req_id: Type.String(),
  expires_in: Type.Integer({ examples: [120] }),
  interval: Type.Integer({ examples: [5], description: 'Seconds to wait between polls of the token endpoint' })
})

const bcAuthorize: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/bc-authorize',
    {
      schema: {
        summary: 'CIBA backchannel authentication endpoint (poll mode)',
        description:
          'Client authentication, scope (with openid) and login_hint; answers auth_req_id, expires_in and interval, ' +
            'then poll the token endpoint with grant_type=urn:openid:params:grant-type:ciba. Errors as CAMARA ICM ' +
              'r4.2 Appendix A: 400 invalid_request, unauthorized_client, unknown_user_id, invalid_scope; 401 ' +
                'invalid_client; 403 access_denied.',
        tags: ['gateway'],
        consumes: ['application/x-www-form-urlencoded'],
        body: BackchannelRequestSchema,
        response: {
          200: BackchannelResponseSchema,
          400: OAuthErrorSchema,
          401: OAuthErrorSchema,
          403: OAuthErrorSchema,
          503: OAuthErrorSchema
        }
      },
      config: { operation: 'bc-authorize', checkRequest: formOnly }
    },
    async (request, reply) => {
      const form: Form = request.body ?? {}
      const response = await request.emulator.tokens.backchannel.authorize(
        form,
        request.headers.authorization,
        request.facts.leg
      )
      return await reply.header('cache-control', 'no-store').send(response)
    }
  )
}

export default bcAuthorize
