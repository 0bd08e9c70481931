// The Number Verification API's rules, per API version: who may call (token, scope, how the
// user was authenticated), what a valid request is, and the answers. The result compares the
// claimed number with the one the network bound to the token, never with anything else.
import type { AccessTokenRecord, TokenService } from './token-service.js'
import { CamaraError } from './errors.js'
import { E164_PATTERN, HASHED_PHONE_NUMBER, hashPhoneNumber, isE164 } from './phone-number.js'
import { NETWORK_AMR } from './authorization.js'

export type ApiVersion = 'v1' | 'v2'

/** CAMARA's fixed texts: conformance tests compare some of them exactly */
const MESSAGES = {
  v1: {
    unauthenticated: 'Request not authenticated due to missing, invalid, or expired credentials.',
    notNetworkAuthenticated: 'The subscription must be identified via the mobile network to use this service.'
  },
  v2: {
    unauthenticated: 'Request not authenticated due to missing, invalid, or expired credentials. A new authentication is required.',
    notNetworkAuthenticated: 'Client must authenticate via the mobile network to use this service'
  }
} as const
const PERMISSION_DENIED = 'Client does not have sufficient permissions to perform this action.'
const INVALID_TOKEN_CONTEXT = 'Phone number cannot be deducted from access token context.'

const VERSIONED_CODES: Record<string, keyof typeof MESSAGES.v1> = {
  UNAUTHENTICATED: 'unauthenticated',
  'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK': 'notNetworkAuthenticated'
}

/**
 * An injected error carrying one of CAMARA's standard texts gets the API version's own wording
 * (v1 and v2 differ), so a client cannot tell it from the real refusal. Custom texts stay.
 */
export function versionedMessage (version: ApiVersion, code: string, message: string): string {
  const key = VERSIONED_CODES[code]
  if (key === undefined) return message
  const standard = [MESSAGES.v1[key], MESSAGES.v2[key]].map((text) => text.replace(/\.$/, ''))
  return standard.includes(message.replace(/\.$/, '')) ? MESSAGES[version][key] : message
}

export type VerifyInput = { phoneNumber: string } | { hashedPhoneNumber: string }

export interface AuthorizedCall {
  token: AccessTokenRecord
  msisdn: string
}

/** Property names as the client sent them, bounded so a hostile body cannot bloat the answer */
function describeKeys (keys: string[]): string {
  const shown = keys.slice(0, 5).map((key) => JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}...` : key))
  return keys.length > 5 ? `${shown.join(', ')} and ${keys.length - 5} more` : shown.join(', ')
}

export class NumberVerificationService {
  private readonly tokens: TokenService

  constructor (tokens: TokenService) {
    this.tokens = tokens
  }

  /**
   * Checks the bearer token for an operation: 401 for any token problem (one generic answer),
   * 403 for a missing scope, for a token not obtained by network authentication, and for a
   * token that names no phone number. `consume: false` leaves a single-use token unused (see
   * `consume`).
   */
  authorize (authorization: string | undefined, scope: string, version: ApiVersion, consume = true): AuthorizedCall {
    const match = authorization === undefined ? null : /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(authorization)
    const resolved = this.tokens.resolveAccessToken(match?.[1], consume)
    if ('failure' in resolved) {
      const reason = authorization === undefined ? 'no Authorization header' : match === null ? 'Authorization header is not "Bearer <token>"' : resolved.failure
      throw new CamaraError(401, 'UNAUTHENTICATED', MESSAGES[version].unauthenticated, { reason, flow: resolved.flow })
    }
    const token = resolved.record
    if (!token.scopes.includes(scope)) {
      throw new CamaraError(403, 'PERMISSION_DENIED', PERMISSION_DENIED, { reason: `access token scopes "${token.scopes.join(' ')}" lack ${scope}` })
    }
    if (token.msisdn === undefined) {
      if (version === 'v1') throw new CamaraError(403, 'INVALID_TOKEN_CONTEXT', INVALID_TOKEN_CONTEXT, { reason: 'the access token identifies no subscriber (client_credentials?)' })
      throw new CamaraError(403, 'PERMISSION_DENIED', PERMISSION_DENIED, { reason: 'the access token identifies no subscriber: a three-legged token (authorization code flow) is required' })
    }
    if (!token.amr.some((method) => NETWORK_AMR.includes(method))) {
      throw new CamaraError(403, 'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK', MESSAGES[version].notNetworkAuthenticated, {
        reason: `the user was authenticated by ${token.amr.join('+') || 'no method'}, not by the mobile network`
      })
    }
    return { token, msisdn: token.msisdn }
  }

  /** Uses up the call's token, as authorize() does unless told not to (camara-strict: one call per token) */
  consume (call: AuthorizedCall): void {
    call.token.used = true
  }

  /** Exactly one of phoneNumber / hashedPhoneNumber, each in its pattern */
  parseVerifyBody (body: unknown): VerifyInput {
    const invalid = (message: string): CamaraError => new CamaraError(400, 'INVALID_ARGUMENT', message)
    if (body === undefined || body === null) throw invalid('the request body is required: { "phoneNumber": "+34666666666" } or { "hashedPhoneNumber": "<sha256 hex>" }')
    if (typeof body !== 'object' || Array.isArray(body)) throw invalid('the request body must be a JSON object')
    const fields = body as Record<string, unknown>
    const hasPlain = 'phoneNumber' in fields
    const hasHashed = 'hashedPhoneNumber' in fields
    if (hasPlain && hasHashed) throw invalid('send exactly one of phoneNumber or hashedPhoneNumber, not both')
    if (!hasPlain && !hasHashed) {
      const keys = Object.keys(fields)
      throw invalid(`phoneNumber or hashedPhoneNumber is required${keys.length > 0 ? ` (unknown properties: ${describeKeys(keys)})` : ''}`)
    }
    // CAMARA's request body has maxProperties: 1
    const extra = Object.keys(fields).filter((key) => key !== 'phoneNumber' && key !== 'hashedPhoneNumber')
    if (extra.length > 0) throw invalid(`only phoneNumber or hashedPhoneNumber may be sent (unknown properties: ${describeKeys(extra)})`)
    if (hasPlain) {
      const value = fields.phoneNumber
      if (typeof value !== 'string' || !isE164(value)) throw invalid(`phoneNumber must be E.164 with a leading + (pattern ${E164_PATTERN})`)
      return { phoneNumber: value }
    }
    const value = fields.hashedPhoneNumber
    if (typeof value !== 'string' || !HASHED_PHONE_NUMBER.test(value)) throw invalid('hashedPhoneNumber must be the SHA-256 hex (64 characters) of the E.164 number including its +')
    return { hashedPhoneNumber: value }
  }

  /** True exactly when the claimed number is the one bound to the token */
  verify (call: AuthorizedCall, input: VerifyInput): boolean {
    if ('phoneNumber' in input) return input.phoneNumber === call.msisdn
    return input.hashedPhoneNumber.toLowerCase() === hashPhoneNumber(call.msisdn)
  }
}
