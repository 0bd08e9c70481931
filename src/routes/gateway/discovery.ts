// GET {issuer}/.well-known/openid-configuration (OpenID Connect Discovery) and the same document
// at /.well-known/oauth-authorization-server{issuer path} (RFC 8414 section 3): advertises exactly
// what is implemented.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { Static } from '@sinclair/typebox'
import { CAMARA_DPOP_CLAIMS, DPOP_ALGS } from '../../core/dpop.js'
import { SIGNING_ALGS } from '../../core/fixture-schema.js'
import { NUMBER_VERIFICATION_SCOPES, PROTOCOL_SCOPES } from '../../core/scopes.js'
import { GRANT_TYPES } from '../../core/token-service.js'
import { DiscoverySchema } from '../../schemas/oauth.js'

/** Where RFC 8414 clients look for the metadata of an issuer: the well-known prefix, then the issuer's path */
export const RFC8414_PREFIX = '/.well-known/oauth-authorization-server'

const discovery: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/.well-known/openid-configuration', {
    config: { operation: 'discovery' },
    schema: {
      summary: 'OpenID Provider metadata',
      tags: ['gateway'],
      response: { 200: DiscoverySchema }
    }
  }, metadata)
}

/** The RFC 8414 path of the metadata, registered at the root with the prefix (src/routes/gateway/index.ts) */
export const authorizationServerMetadata: FastifyPluginAsyncTypebox<{ issuerPath: string }> = async (
  app,
  { issuerPath }
) => {
  app.get(
    issuerPath,
    {
      config: { operation: 'discovery' },
      schema: {
        summary: 'OAuth 2.0 Authorization Server Metadata (RFC 8414): the same document as openid-configuration',
        tags: ['gateway'],
        response: { 200: DiscoverySchema }
      }
    },
    metadata
  )
}

async function metadata (request: FastifyRequest): Promise<Static<typeof DiscoverySchema>> {
  await request.emulator.ctx.legs.run(request.facts.leg, { operation: 'discovery' })
  const { urls, keys } = request.emulator
  return {
    issuer: urls.issuer,
    authorization_endpoint: urls.authorizationEndpoint,
    token_endpoint: urls.tokenEndpoint,
    // OpenID CIBA Core section 4, poll mode only (ICM r4.2)
    backchannel_authentication_endpoint: urls.backchannelAuthenticationEndpoint,
    backchannel_token_delivery_modes_supported: ['poll'],
    backchannel_user_code_parameter_supported: false,
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
    // RFC 9101: request objects by value only, signed with the algorithms client assertions accept
    request_parameter_supported: true,
    request_uri_parameter_supported: false,
    request_object_signing_alg_values_supported: [...SIGNING_ALGS],
    scopes_supported: [...PROTOCOL_SCOPES, ...NUMBER_VERIFICATION_SCOPES],
    claims_supported: ['iss', 'sub', 'aud', 'azp', 'exp', 'iat', 'auth_time', 'nonce', 'amr'],
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    dpop_signing_alg_values_supported: [...DPOP_ALGS],
    // ICM r4.2: a server that requires the extension claims MUST say so here; they are required
    // per client (dpopCamaraClaims), so advertised while any client of this world has them
    ...(request.emulator.ctx.directory().someClient((client) => client.dpopCamaraClaims === true)
      ? { camara_dpop_claims_required: [...CAMARA_DPOP_CLAIMS] }
      : {})
  }
}

export default discovery
