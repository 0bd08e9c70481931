// The errors a scenario may inject, per surface, with the wording real servers use: CAMARA
// ErrorInfo codes (PROTOCOL.md section 4, messages from CAMARA Commonalities), OAuth token
// endpoint errors (RFC 6749 section 5.2) and authorization redirect errors (RFC 6749 4.1.2.1,
// OpenID Connect Core 3.1.2.6).

/** CAMARA code -> its HTTP status and the Commonalities default message */
export const CAMARA_ERRORS = {
  INVALID_ARGUMENT: { status: 400, message: 'Client specified an invalid argument, request body or query param.' },
  UNAUTHENTICATED: { status: 401, message: 'Request not authenticated due to missing, invalid, or expired credentials. A new authentication is required.' },
  PERMISSION_DENIED: { status: 403, message: 'Client does not have sufficient permissions to perform this action.' },
  'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK': { status: 403, message: 'Client must authenticate via the mobile network to use this service.' },
  INVALID_TOKEN_CONTEXT: { status: 403, message: 'phoneNumber is not consistent with access token.' },
  NOT_FOUND: { status: 404, message: 'The specified resource is not found.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'The requested method is not allowed/supported on the target resource.' },
  NOT_ACCEPTABLE: { status: 406, message: 'The server can\'t produce a response matching the content requested by the client through Accept-* headers.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The server refuses to accept the request because the payload format is in an unsupported format.' },
  TOO_MANY_REQUESTS: { status: 429, message: 'Rate limit reached.' },
  QUOTA_EXCEEDED: { status: 429, message: 'Out of resource quota.' },
  INTERNAL: { status: 500, message: 'Unknown server error. Typically a server bug.' },
  BAD_GATEWAY: { status: 502, message: 'An upstream internal service cannot be reached.' },
  UNAVAILABLE: { status: 503, message: 'Service Unavailable.' },
  TIMEOUT: { status: 504, message: 'Request timeout exceeded.' }
} as const satisfies Record<string, { status: number, message: string }>

export type CamaraErrorCode = keyof typeof CAMARA_ERRORS
export const CAMARA_ERROR_CODES = Object.keys(CAMARA_ERRORS) as CamaraErrorCode[]
export const CAMARA_ERROR_STATUSES = [...new Set(Object.values(CAMARA_ERRORS).map((e) => e.status))].sort((a, b) => a - b)

/** Token endpoint errors; server_error and temporarily_unavailable are borrowed from the authorize list, as many servers do */
export const OAUTH_TOKEN_ERRORS = {
  invalid_request: { status: 400, description: 'The request is missing a required parameter or is otherwise malformed.' },
  invalid_client: { status: 401, description: 'Client authentication failed.' },
  invalid_grant: { status: 400, description: 'The authorization grant is invalid, expired, revoked or was issued to another client.' },
  unauthorized_client: { status: 400, description: 'The client is not authorized to use this grant type.' },
  unsupported_grant_type: { status: 400, description: 'The grant type is not supported.' },
  invalid_scope: { status: 400, description: 'The requested scope is invalid, unknown or exceeds what was granted.' },
  server_error: { status: 500, description: 'The authorization server encountered an unexpected condition.' },
  temporarily_unavailable: { status: 503, description: 'The authorization server is temporarily unable to handle the request.' }
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
  login_required: 'The authorization server requires user authentication, but the device could not be authenticated silently.',
  account_selection_required: 'The user must select an account.',
  consent_required: 'The authorization server requires user consent.'
} as const satisfies Record<string, string>

export type AuthorizeErrorCode = keyof typeof AUTHORIZE_ERRORS
export const AUTHORIZE_ERROR_CODES = Object.keys(AUTHORIZE_ERRORS) as AuthorizeErrorCode[]
