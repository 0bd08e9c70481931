// POST /camara/api/auth/v1/token: client authentication and the grants, as OAuth JSON.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { Form } from '../../core/client-authentication.js'
import { OAuthError } from '../../core/errors.js'
import { OAuthErrorSchema, TokenRequestSchema, TokenResponseSchema } from '../../schemas/oauth.js'

const FORM = 'application/x-www-form-urlencoded'

/** Before the body is read: the token endpoint takes form bodies only (RFC 6749 section 3.2) */
export function formOnly (request: FastifyRequest): void {
  const contentType = request.headers['content-type'] ?? ''
  if (!contentType.toLowerCase().startsWith(FORM)) {
    throw new OAuthError('invalid_request', `the token request must be sent as ${FORM}`)
  }
}

const token: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/token',
    {
      schema: {
        summary: 'Token endpoint',
        description:
          'authorization_code (with PKCE), refresh_token (rotating), client_credentials, jwt-bearer (RFC 7523: ' +
            "sub=operatortoken:<token> or a trusted client's tel:+E164, no refresh token) and ciba (poll mode: " +
              'authorization_pending, slow_down, expired_token, access_denied until the tokens) grants; ' +
                'client_secret_post, client_secret_basic and private_key_jwt client authentication; a DPoP header ' +
                  '(RFC 9449) gets a DPoP-bound token.',
        tags: ['gateway'],
        consumes: [FORM],
        body: TokenRequestSchema,
        response: { 200: TokenResponseSchema, 400: OAuthErrorSchema, 401: OAuthErrorSchema }
      },
      config: { operation: 'token', checkRequest: formOnly }
    },
    async (request, reply) => {
      const form: Form = request.body ?? {}
      const { response } = await request.emulator.tokens.token(
        form,
        request.headers.authorization,
        request.facts.leg,
        request.headers.dpop
      )
      return await reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(response)
    }
  )
}

export default token
