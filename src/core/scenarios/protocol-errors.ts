// The errors a scenario may inject, per surface, with the wording real servers use: CAMARA
// ErrorInfo codes (PROTOCOL.md section 4, messages from CAMARA Commonalities), OAuth token
// endpoint errors (RFC 6749 section 5.2) and authorization redirect errors (RFC 6749 4.1.2.1,
// OpenID Connect Core 3.1.2.6).

export { CAMARA_ERROR_CODES, CAMARA_ERROR_STATUSES, CAMARA_ERRORS, type CamaraErrorCode } from '../camara-errors.js'

/**
 * Token endpoint (and bc-authorize) errors; server_error and temporarily_unavailable are borrowed from the authorize
 * list, as many servers do
 */
export const OAUTH_TOKEN_ERRORS = {
  invalid_request: {
    status: 400,
    description: 'The request is missing a required parameter or is otherwise malformed.'
  },
  invalid_client: { status: 401, description: 'Client authentication failed.' },
  invalid_grant: {
    status: 400,
    description: 'The authorization grant is invalid, expired, revoked or was issued to another client.'
  },
  unauthorized_client: { status: 400, description: 'The client is not authorized to use this grant type.' },
  unsupported_grant_type: { status: 400, description: 'The grant type is not supported.' },
  invalid_scope: { status: 400, description: 'The requested scope is invalid, unknown or exceeds what was granted.' },
  server_error: { status: 500, description: 'The authorization server encountered an unexpected condition.' },
  temporarily_unavailable: {
    status: 503,
    description: 'The authorization server is temporarily unable to handle the request.'
  },
  // CIBA (OpenID CIBA Core 1.0 sections 11 and 13; CAMARA ICM r4.2 Appendix A)
  access_denied: { status: 400, description: 'The user denied the authorization request.' },
  authorization_pending: {
    status: 400,
    description: 'The authorization request is still pending: the user has not been authenticated yet.'
  },
  slow_down: {
    status: 400,
    description: 'The authorization request is still pending; poll less often (the interval grows by 5 s).'
  },
  expired_token: { status: 400, description: 'The auth_req_id has expired: make a new authentication request.' },
  unknown_user_id: { status: 400, description: 'The end-user the login_hint names cannot be identified.' }
} as const satisfies Record<string, { status: number, description: string }>

export type OAuthTokenErrorCode = keyof typeof OAUTH_TOKEN_ERRORS
export const OAUTH_TOKEN_ERROR_CODES = Object.keys(OAUTH_TOKEN_ERRORS) as OAuthTokenErrorCode[]

/** Errors an authorization endpoint reports by redirecting to the client */
export const AUTHORIZE_ERRORS = {
  invalid_request: 'The request is missing a required parameter or is otherwise malformed.',
  unauthorized_client: 'The client is not authorized to request an authorization code.',
  access_denied: 'The resource owner or the operator denied the request.',
  unsupported_response_type: 'The response type is not supported.',
  invalid_scope: 'The requested scope is invalid, unknown or malformed.',
  server_error: 'The authorization server encountered an unexpected condition.',
  temporarily_unavailable: 'The authorization server is temporarily unable to handle the request.',
  interaction_required: 'The authorization server requires user interaction, but prompt=none was requested.',
  login_required:
    'The authorization server requires user authentication, but the device could not be authenticated silently.',
  account_selection_required: 'The user must select an account.',
  consent_required: 'The authorization server requires user consent.'
} as const satisfies Record<string, string>

export type AuthorizeErrorCode = keyof typeof AUTHORIZE_ERRORS
export const AUTHORIZE_ERROR_CODES = Object.keys(AUTHORIZE_ERRORS) as AuthorizeErrorCode[]
