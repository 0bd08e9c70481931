// TypeBox schemas of the OAuth / OIDC surface, shared by the routes and the OpenAPI document.
import { Type, type Static } from '@sinclair/typebox'
import { htmlResponse, redirectResponse } from './pages.js'

export const OAuthErrorSchema = Type.Object({
  error: Type.String({ examples: ['invalid_grant'] }),
  error_description: Type.String({ examples: ['authorization code is unknown or expired'] })
}, { $id: 'OAuthError', description: 'RFC 6749 section 5.2 error' })
export type OAuthErrorBody = Static<typeof OAuthErrorSchema>

/** Longest value any single parameter may have: far beyond a real one, small enough to bound memory */
export const PARAMETER_MAX_LENGTH = 8192

const optionalString = (description: string, example?: string) =>
  Type.Optional(Type.String({
    description,
    maxLength: PARAMETER_MAX_LENGTH,
    ...(example === undefined ? {} : { examples: [example] })
  }))

export const AuthorizeQuerySchema = Type.Object({
  response_type: optionalString('Must be code', 'code'),
  client_id: optionalString('Registered client id', 'demo-app'),
  redirect_uri: optionalString('Registered redirect URI (exact match)', 'http://localhost:3000/callback'),
  scope: optionalString('Space-separated scopes with exactly one dpv: purpose',
    'openid dpv:FraudPreventionAndDetection number-verification:verify'),
  state: optionalString('Opaque value echoed to the redirect_uri'),
  nonce: optionalString('Echoed in the id_token'),
  prompt: optionalString('none, login, consent or select_account', 'none'),
  login_hint: optionalString('tel:+E164, +E164, ipport:IP[:port], ipport:[IPv6][:port], operatortoken:...',
    'tel:+34666666666'),
  konera_context: optionalString('Aggregator device context: ipv4:ADDR,ipv6:ADDR',
    'ipv4:142.115.147.143,ipv6:2001:4860:7:f04::fe'),
  code_challenge: optionalString('PKCE challenge, BASE64URL(SHA-256(code_verifier))'),
  code_challenge_method: optionalString('Only S256', 'S256'),
  acr_values: optionalString('Accepted and ignored'),
  request: optionalString('Request object (RFC 9101): a JWT signed by a key of the client JWKS, with iss, aud ' +
    '(the issuer), iat, exp (at most 300 s later) and a single-use jti. Its parameters replace the query\'s; ' +
    'client_id, response_type, redirect_uri and scope must also be sent in the query, with the same values.'),
  request_uri: optionalString('Not supported: answered with request_uri_not_supported')
})

export const TokenRequestSchema = Type.Object({
  grant_type: optionalString('authorization_code, refresh_token, client_credentials, ' +
    'urn:ietf:params:oauth:grant-type:jwt-bearer (RFC 7523) or urn:openid:params:grant-type:ciba ' +
    '(CIBA poll mode)', 'authorization_code'),
  assertion: optionalString('jwt-bearer: a JWT signed by a key of the client JWKS with iss (client_id), sub ' +
    '(operatortoken:<token> or tel:+E164), aud (this token endpoint), exp, iat (at most 300 s apart), jti and scope; ' +
    'it authenticates the client when nothing else does'),
  auth_req_id: optionalString('ciba: the auth_req_id bc-authorize answered'),
  code: optionalString('authorization_code: the code from the redirect'),
  redirect_uri: optionalString('authorization_code: the redirect_uri of the authorization request'),
  code_verifier: optionalString('authorization_code: PKCE verifier'),
  refresh_token: optionalString('refresh_token: the refresh token'),
  scope: optionalString('refresh_token: narrower scope; client_credentials: requested scope; ' +
    'never with jwt-bearer (the assertion\'s scope claim)'),
  client_id: optionalString('client_secret_post / private_key_jwt'),
  client_secret: optionalString('client_secret_post'),
  client_assertion_type: optionalString('private_key_jwt', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'),
  client_assertion: optionalString('private_key_jwt: JWT signed by a key of the client JWKS')
}, {
  description: 'Parameters not listed here are ignored (RFC 6749 section 3.2)',
  additionalProperties: Type.String({ maxLength: PARAMETER_MAX_LENGTH })
})
export type TokenRequest = Static<typeof TokenRequestSchema>

export const TokenResponseSchema = Type.Object({
  access_token: Type.String(),
  token_type: Type.Union([Type.Literal('Bearer'), Type.Literal('DPoP')], {
    description: 'DPoP when the request carried a valid DPoP proof (RFC 9449)'
  }),
  expires_in: Type.Integer({ examples: [3600] }),
  scope: Type.String(),
  refresh_token: Type.Optional(Type.String({ description: 'Only with offline_access' })),
  id_token: Type.Optional(Type.String({ description: 'Only with openid' }))
})

export const JwksSchema = Type.Object({
  keys: Type.Array(Type.Record(Type.String(), Type.Unknown()))
})

export const DiscoverySchema = Type.Object({
  issuer: Type.String(),
  authorization_endpoint: Type.String(),
  token_endpoint: Type.String(),
  backchannel_authentication_endpoint: Type.String({ description: 'OpenID CIBA Core: where bc-authorize requests go' }),
  backchannel_token_delivery_modes_supported: Type.Array(Type.String(), {
    description: 'poll only, as CAMARA ICM r4.2 profiles CIBA'
  }),
  backchannel_user_code_parameter_supported: Type.Boolean(),
  jwks_uri: Type.String(),
  response_types_supported: Type.Array(Type.String()),
  response_modes_supported: Type.Array(Type.String()),
  authorization_response_iss_parameter_supported: Type.Boolean({
    description: 'RFC 9207: every authorization response carries iss'
  }),
  grant_types_supported: Type.Array(Type.String()),
  subject_types_supported: Type.Array(Type.String()),
  id_token_signing_alg_values_supported: Type.Array(Type.String()),
  token_endpoint_auth_methods_supported: Type.Array(Type.String()),
  token_endpoint_auth_signing_alg_values_supported: Type.Array(Type.String()),
  code_challenge_methods_supported: Type.Array(Type.String()),
  request_parameter_supported: Type.Boolean({
    description: 'RFC 9101: request objects by value at the authorization endpoint'
  }),
  request_uri_parameter_supported: Type.Boolean({
    description: 'RFC 9101: request objects by reference (not supported)'
  }),
  request_object_signing_alg_values_supported: Type.Array(Type.String()),
  scopes_supported: Type.Array(Type.String()),
  claims_supported: Type.Array(Type.String()),
  prompt_values_supported: Type.Array(Type.String()),
  dpop_signing_alg_values_supported: Type.Array(Type.String(), {
    description: 'RFC 9449: the algorithms DPoP proofs may be signed with'
  }),
  camara_dpop_claims_required: Type.Optional(Type.Array(Type.String(), {
    description: 'CAMARA ICM r4.2: the extension claims DPoP proofs must carry ' +
      '(served when a client of the fixtures requires them)'
  }))
}, { additionalProperties: true })

/** The browser surface answers by redirect: the next hop, or redirect_uri with code or error */
export const RedirectResponseSchema = redirectResponse(
  'Redirect: to the operator, or to redirect_uri with code and state (or error, error_description and state)'
)

/** An error the browser must not be redirected with (unknown client or redirect_uri) */
export const ErrorPageSchema = htmlResponse(
  'HTML error page: the request names no registered client and redirect_uri to send the error to'
)
