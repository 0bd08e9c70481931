// GET {issuer}/.well-known/openid-configuration: advertises exactly what is implemented.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { SIGNING_ALGS } from '../../core/fixture-schema.js'
import { NUMBER_VERIFICATION_SCOPES, PROTOCOL_SCOPES } from '../../core/scopes.js'
import { GRANT_TYPES } from '../../core/token-service.js'
import { DiscoverySchema } from '../../schemas/oauth.js'

const discovery: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/.well-known/openid-configuration', {
    config: { operation: 'discovery' },
    schema: {
      summary: 'OpenID Provider metadata',
      tags: ['gateway'],
      response: { 200: DiscoverySchema }
    }
  }, async (request, reply) => {
    await request.emulator.ctx.legs.run(request.facts.leg, { operation: request.facts.operation as 'discovery' | 'jwks' })
    const { urls, keys } = request.emulator
    return {
      issuer: urls.issuer,
      authorization_endpoint: urls.authorizationEndpoint,
      token_endpoint: urls.tokenEndpoint,
      jwks_uri: urls.jwksUri,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      authorization_response_iss_parameter_supported: true,
      grant_types_supported: GRANT_TYPES,
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: keys.algorithms,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: [...SIGNING_ALGS],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: [...PROTOCOL_SCOPES, ...NUMBER_VERIFICATION_SCOPES],
      claims_supported: ['iss', 'sub', 'aud', 'azp', 'exp', 'iat', 'auth_time', 'nonce', 'amr'],
      prompt_values_supported: ['none', 'login', 'consent', 'select_account']
    }
  })
}

export default discovery
