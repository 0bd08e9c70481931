// POST /camara/api/auth/v1/token: client authentication and the grants, as OAuth JSON.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Form } from '../../core/client-authentication.js'
import { OAuthError } from '../../core/errors.js'
import { OAuthErrorSchema, TokenRequestSchema, TokenResponseSchema } from '../../schemas/oauth.js'
import { documentOnly } from '../route-options.js'
import { oauthScenarioError } from '../scenario-errors.js'

const FORM = 'application/x-www-form-urlencoded'

const token: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/token', {
    schema: {
      summary: 'Token endpoint',
      description: 'authorization_code (with PKCE), refresh_token (rotating) and client_credentials grants; client_secret_post, client_secret_basic and private_key_jwt client authentication.',
      tags: ['gateway'],
      consumes: [FORM],
      body: TokenRequestSchema,
      response: { 200: TokenResponseSchema, 400: OAuthErrorSchema, 401: OAuthErrorSchema }
    },
    validatorCompiler: documentOnly,
    config: { operation: 'token' }
  }, async (request, reply) => {
    const contentType = request.headers['content-type'] ?? ''
    if (!contentType.toLowerCase().startsWith(FORM)) {
      throw new OAuthError('invalid_request', `the token request must be sent as ${FORM}`)
    }
    const form = (request.body ?? {}) as Form
    const { response } = await app.emulator.tokens.token(form, request.headers.authorization, async (grant) => {
      request.facts.flowId = grant.flowId
      request.facts.clientId = grant.clientId
      request.facts.msisdn = grant.msisdn
      request.facts.operatorId = grant.operatorId
      await app.runScenarios(request, reply, { flowScenarios: grant.flowScenarios, toError: oauthScenarioError })
    })
    return await reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(response)
  })
}

export default token
