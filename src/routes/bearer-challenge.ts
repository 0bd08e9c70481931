// RFC 6750 section 3: the WWW-Authenticate challenge of the surfaces that take a bearer token
// (the Number Verification API and the control API).
import type { CamaraError } from '../core/errors.js'

/** The realm of the API surfaces' challenges */
export const API_REALM = 'camara-nv-emulator'
/** The control API's (its token is the admin token, not an access token) */
export const CONTROL_REALM = 'camara-nv-emulator control'

/**
 * Every 401 challenges for a Bearer token, with error="invalid_token" when one was sent (and no
 * error code when none was); a 403 for a missing scope says insufficient_scope and which. Injected
 * 401s (scenarios) challenge the same way as real ones.
 */
export function bearerChallenge (
  error: CamaraError,
  authorization: string | undefined,
  realm: string
): string | undefined {
  if (error.status === 401) {
    if (authorization === undefined || !/^Bearer\s/i.test(authorization)) return `Bearer realm="${realm}"`
    return `Bearer realm="${realm}", error="invalid_token", error_description="${challengeSafe(error.message)}"`
  }
  if (error.status === 403 && error.missingScope !== undefined) {
    return `Bearer realm="${realm}", error="insufficient_scope", scope="${challengeSafe(error.missingScope)}"`
  }
  return undefined
}

/** A challenge parameter's value: RFC 6750's characters only (no quote, no backslash) */
export function challengeSafe (text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "'").slice(0, 300)
}
