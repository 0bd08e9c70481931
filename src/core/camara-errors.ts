// CAMARA's error codes, one table: each code's HTTP status and its message in each Number
// Verification API version (Commonalities' defaults, and NV's own texts where v1 and v2 differ).
// The API's refusals, injected scenario errors and the other surfaces' CAMARA-style answers all
// take their status and wording from here, so conformance tests that compare texts see one set.

export type ApiVersion = 'v1' | 'v2'
export const API_VERSIONS: readonly ApiVersion[] = ['v1', 'v2']

type Messages = Readonly<Record<ApiVersion, string>>

function same (message: string): Messages {
  return { v1: message, v2: message }
}

export const CAMARA_ERRORS = {
  INVALID_ARGUMENT: { status: 400, messages: same('Client specified an invalid argument, request body or query param.') },
  UNAUTHENTICATED: {
    status: 401,
    messages: {
      v1: 'Request not authenticated due to missing, invalid, or expired credentials.',
      v2: 'Request not authenticated due to missing, invalid, or expired credentials. A new authentication is required.'
    }
  },
  PERMISSION_DENIED: { status: 403, messages: same('Client does not have sufficient permissions to perform this action.') },
  'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK': {
    status: 403,
    messages: {
      v1: 'The subscription must be identified via the mobile network to use this service.',
      v2: 'Client must authenticate via the mobile network to use this service'
    }
  },
  INVALID_TOKEN_CONTEXT: { status: 403, messages: same('Phone number cannot be deducted from access token context.') },
  NOT_FOUND: { status: 404, messages: same('The specified resource is not found.') },
  METHOD_NOT_ALLOWED: { status: 405, messages: same('The requested method is not allowed/supported on the target resource.') },
  NOT_ACCEPTABLE: { status: 406, messages: same('The server can\'t produce a response matching the content requested by the client through Accept-* headers.') },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, messages: same('The server refuses to accept the request because the payload format is in an unsupported format.') },
  TOO_MANY_REQUESTS: { status: 429, messages: same('Rate limit reached.') },
  QUOTA_EXCEEDED: { status: 429, messages: same('Out of resource quota.') },
  INTERNAL: { status: 500, messages: same('Unknown server error. Typically a server bug.') },
  BAD_GATEWAY: { status: 502, messages: same('An upstream internal service cannot be reached.') },
  UNAVAILABLE: { status: 503, messages: same('Service Unavailable.') },
  TIMEOUT: { status: 504, messages: same('Request timeout exceeded.') }
} as const satisfies Record<string, { status: number, messages: Messages }>

export type CamaraErrorCode = keyof typeof CAMARA_ERRORS
export const CAMARA_ERROR_CODES = Object.keys(CAMARA_ERRORS) as CamaraErrorCode[]
export const CAMARA_ERROR_STATUSES = [...new Set(Object.values(CAMARA_ERRORS).map((e) => e.status))].sort((a, b) => a - b)

/** The code's standard text in an API version */
export function camaraMessage (code: CamaraErrorCode, version: ApiVersion): string {
  return CAMARA_ERRORS[code].messages[version]
}

function withoutFinalStop (text: string): string {
  return text.replace(/\.$/, '')
}

/**
 * The text an error of this code carries in an API version: the standard one when none is given,
 * and also when the one given is the standard text of another version (an injected error then
 * reads exactly like the real refusal, v1 and v2 differ); any other text as given.
 */
export function versionedMessage (code: CamaraErrorCode, version: ApiVersion, message: string | undefined): string {
  if (message === undefined) return camaraMessage(code, version)
  const standard = API_VERSIONS.map((v) => withoutFinalStop(camaraMessage(code, v)))
  return standard.includes(withoutFinalStop(message)) ? camaraMessage(code, version) : message
}
