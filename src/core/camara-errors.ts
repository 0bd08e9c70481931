// CAMARA's error codes, one table: each code's HTTP status and its message in each Number
// Verification release (Commonalities' defaults, and NV's own texts where releases differ), and
// the rules in which the releases differ.
// The API's refusals, injected scenario errors and the other surfaces' CAMARA-style answers all
// take their status and wording from here, so conformance tests that compare texts see one set.

/** The version in a family's path */
export type ApiVersion = 'v1' | 'v2' | 'vwip'

/**
 * The Number Verification releases the emulator speaks. /v1 is 1.0.0 (r1.x); /v2 is 2.0.0 (r2.4)
 * or 2.1.0 (r3.2), which share the path but differ (--nv-v2-release, or a client's
 * numberVerificationRelease); /vwip is the work in progress after r3.2 (2.1.1-rc, Sync26).
 */
export type NvRelease = '1.0.0' | '2.0.0' | '2.1.0' | 'wip'
export const NV_RELEASES: readonly NvRelease[] = ['1.0.0', '2.0.0', '2.1.0', 'wip']
export type V2Release = '2.0.0' | '2.1.0'
export const V2_RELEASES: readonly V2Release[] = ['2.0.0', '2.1.0']
export const DEFAULT_V2_RELEASE: V2Release = '2.1.0'

/** The release a family's path version speaks */
export function releaseOf (version: ApiVersion, v2Release: V2Release): NvRelease {
  return version === 'v1' ? '1.0.0' : version === 'v2' ? v2Release : 'wip'
}

export interface ReleaseRules {
  /** The x-correlator header's pattern in the release's YAML */
  correlatorPattern: RegExp
  /** The Commonalities release it follows */
  commonalities: string
  /**
   * A token that no longer serves (revoked, spent): 2.0.0's 401 set has AUTHENTICATION_REQUIRED
   * for "authentication is no longer valid"; later releases have UNAUTHENTICATED only
   */
  noLongerValid: 'UNAUTHENTICATED' | 'AUTHENTICATION_REQUIRED'
  /** What a token that names no subscriber gets: v1's INVALID_TOKEN_CONTEXT, else PERMISSION_DENIED */
  noSubscriber: 'INVALID_TOKEN_CONTEXT' | 'PERMISSION_DENIED'
  /**
   * The token rules of NV after r3.2, checked when the token is used: one API call per token, at
   * most 300 s after it was issued (no refresh token is the token endpoint's: --profile camara-strict)
   */
  tokenRules: boolean
  /** Commonalities 0.9's minimal error set: 429 is TOO_MANY_REQUESTS only */
  minimalErrors: boolean
}

/** CAMARA's x-correlator pattern since Commonalities 0.6 */
export const CORRELATOR_256 = /^[a-zA-Z0-9-_:;./<>{}]{0,256}$/

export const RELEASE_RULES: Readonly<Record<NvRelease, ReleaseRules>> = {
  '1.0.0': {
    correlatorPattern: CORRELATOR_256,
    commonalities: '0.4',
    noLongerValid: 'UNAUTHENTICATED',
    noSubscriber: 'INVALID_TOKEN_CONTEXT',
    tokenRules: false,
    minimalErrors: false
  },
  '2.0.0': {
    correlatorPattern: /^[a-zA-Z0-9-]{0,55}$/,
    commonalities: '0.5',
    noLongerValid: 'AUTHENTICATION_REQUIRED',
    noSubscriber: 'PERMISSION_DENIED',
    tokenRules: false,
    minimalErrors: false
  },
  '2.1.0': {
    correlatorPattern: CORRELATOR_256,
    commonalities: '0.6',
    noLongerValid: 'UNAUTHENTICATED',
    noSubscriber: 'PERMISSION_DENIED',
    tokenRules: false,
    minimalErrors: false
  },
  wip: {
    correlatorPattern: CORRELATOR_256,
    commonalities: '0.9',
    noLongerValid: 'UNAUTHENTICATED',
    noSubscriber: 'PERMISSION_DENIED',
    tokenRules: true,
    minimalErrors: true
  }
}

type Messages = Readonly<Record<NvRelease, string>>

function same (message: string): Messages {
  return { '1.0.0': message, '2.0.0': message, '2.1.0': message, wip: message }
}

export const CAMARA_ERRORS = {
  INVALID_ARGUMENT: {
    status: 400,
    messages: same('Client specified an invalid argument, request body or query param.')
  },
  UNAUTHENTICATED: {
    status: 401,
    messages: {
      '1.0.0': 'Request not authenticated due to missing, invalid, or expired credentials.',
      '2.0.0': 'Request not authenticated due to missing, invalid, or expired credentials.',
      '2.1.0': 'Request not authenticated due to missing, invalid, or expired credentials. ' +
        'A new authentication is required.',
      wip: 'Request not authenticated due to missing, invalid, or expired credentials. ' +
        'A new authentication is required.'
    }
  },
  /** 2.0.0 only (Commonalities 0.5): the token was good and is no longer */
  AUTHENTICATION_REQUIRED: { status: 401, messages: same('New authentication is required.') },
  PERMISSION_DENIED: {
    status: 403,
    messages: same('Client does not have sufficient permissions to perform this action.')
  },
  'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK': {
    status: 403,
    messages: {
      '1.0.0': 'The subscription must be identified via the mobile network to use this service.',
      // r2.4's test definitions; its YAML's example has 2.1.0's text
      '2.0.0': 'The subscription must be identified using either Network-based authentication or SIM-based ' +
        'authentication to access this service.',
      '2.1.0': 'Client must authenticate via the mobile network to use this service',
      wip: 'Client must authenticate via the mobile network to use this service'
    }
  },
  INVALID_TOKEN_CONTEXT: { status: 403, messages: same('Phone number cannot be deducted from access token context.') },
  NOT_FOUND: { status: 404, messages: same('The specified resource is not found.') },
  METHOD_NOT_ALLOWED: {
    status: 405,
    messages: same('The requested method is not allowed/supported on the target resource.')
  },
  NOT_ACCEPTABLE: {
    status: 406,
    messages: same('The server can\'t produce a response matching the content requested by the client through ' +
      'Accept-* headers.')
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    messages: same('The server refuses to accept the request because the payload format is in an unsupported format.')
  },
  TOO_MANY_REQUESTS: { status: 429, messages: same('Rate limit reached.') },
  QUOTA_EXCEEDED: { status: 429, messages: same('Out of resource quota.') },
  INTERNAL: { status: 500, messages: same('Unknown server error. Typically a server bug.') },
  BAD_GATEWAY: { status: 502, messages: same('An upstream internal service cannot be reached.') },
  UNAVAILABLE: { status: 503, messages: same('Service Unavailable.') },
  TIMEOUT: { status: 504, messages: same('Request timeout exceeded.') }
} as const satisfies Record<string, { status: number, messages: Messages }>

export type CamaraErrorCode = keyof typeof CAMARA_ERRORS
export const CAMARA_ERROR_CODES = Object.keys(CAMARA_ERRORS) as CamaraErrorCode[]
export const CAMARA_ERROR_STATUSES = [...new Set(Object.values(CAMARA_ERRORS).map((e) => e.status))]
  .sort((a, b) => a - b)

/** The code's standard text in a release */
export function camaraMessage (code: CamaraErrorCode, release: NvRelease): string {
  return CAMARA_ERRORS[code].messages[release]
}

function withoutFinalStop (text: string): string {
  return text.replace(/\.$/, '')
}

/**
 * The text an error of this code carries in a release: the standard one when none is given, and
 * also when the one given is the standard text of another release (an injected error then reads
 * exactly like the real refusal, whose text differs between releases); any other text as given.
 */
export function versionedMessage (code: CamaraErrorCode, release: NvRelease, message: string | undefined): string {
  if (message === undefined) return camaraMessage(code, release)
  const standard = NV_RELEASES.map((r) => withoutFinalStop(camaraMessage(code, r)))
  return standard.includes(withoutFinalStop(message)) ? camaraMessage(code, release) : message
}

/** The code a release answers for an injected one: Commonalities 0.9 has no QUOTA_EXCEEDED */
export function releaseCode (code: CamaraErrorCode, release: NvRelease): CamaraErrorCode {
  return RELEASE_RULES[release].minimalErrors && code === 'QUOTA_EXCEEDED' ? 'TOO_MANY_REQUESTS' : code
}
