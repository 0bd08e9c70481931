// Error types that carry their protocol meaning, so each surface can render them in its own format.
// Anything that is not one of these is unexpected and goes out as server_error / INTERNAL.
import { CAMARA_ERRORS, camaraMessage, type CamaraErrorCode, type NvRelease } from './camara-errors.js'

/** An OAuth 2.0 error (RFC 6749 section 5.2) as the token endpoint answers it. */
export class OAuthError extends Error {
  readonly error: string
  readonly description: string
  readonly statusCode: number
  /** Set when the client authenticated with HTTP Basic, so the 401 carries a challenge. */
  readonly wwwAuthenticate: string | undefined
  /** Why the emulator refused, in words for the journal (may say more than the description). */
  readonly reason: string

  constructor (
    error: string,
    description: string,
    options: { statusCode?: number, wwwAuthenticate?: string, reason?: string } = {}
  ) {
    super(`${error}: ${description}`)
    this.name = 'OAuthError'
    this.error = error
    this.description = description
    this.statusCode = options.statusCode ?? (error === 'invalid_client' ? 401 : 400)
    this.wwwAuthenticate = options.wwwAuthenticate
    this.reason = options.reason ?? description
  }
}

/**
 * An authorization endpoint error. `redirectUri` is set only once the client and its
 * redirect_uri are known to be registered; without it the browser gets an error page,
 * never a redirect (RFC 6749 section 4.1.2.1).
 */
export class AuthorizeError extends Error {
  readonly error: string
  readonly description: string
  readonly redirectUri: string | undefined
  readonly state: string | undefined
  /** What the error page tells the person in front of the browser to do */
  readonly pageHint: string
  /** Why the emulator refused, in words for the journal (may say more than the description) */
  readonly reason: string

  constructor (
    error: string,
    description: string,
    target?: { redirectUri: string, state?: string | undefined },
    pageHint = 'Check the client_id and redirect_uri against the fixture file (clients[].clientId, ' +
      'clients[].redirectUris).',
    reason = description
  ) {
    super(`${error}: ${description}`)
    this.name = 'AuthorizeError'
    this.error = error
    this.description = description
    this.redirectUri = target?.redirectUri
    this.state = target?.state
    this.pageHint = pageHint
    this.reason = reason
  }

  /**
   * The redirect that reports this error to the client, or undefined when it must not redirect.
   * `iss` names the authorization server that answers (RFC 9207), as on a code.
   */
  redirectLocation (issuer: string): string | undefined {
    if (this.redirectUri === undefined) return undefined
    return appendQuery(this.redirectUri, {
      error: this.error,
      error_description: this.description,
      state: this.state,
      iss: issuer
    })
  }
}

/** Adds query parameters to a URL, keeping the ones it already has (RFC 6749 section 3.1.2). */
export function appendQuery (target: string, params: Record<string, string | undefined>): string {
  const url = new URL(target)
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.append(key, value)
  }
  return url.toString()
}

/** How a refusal of a DPoP request challenges (RFC 9449 section 7.1) */
export type DpopErrorCode = 'invalid_token' | 'invalid_dpop_proof'

export interface CamaraErrorOptions {
  reason?: string
  retryAfter?: number
  missingScope?: string
  dpopError?: DpopErrorCode
}

/** A CAMARA ErrorInfo `{ status, code, message }` (CAMARA Commonalities / Number Verification) */
export class CamaraError extends Error {
  readonly status: number
  readonly code: string
  /** Why the emulator refused, for the journal and the x-emulator-reason header */
  readonly reason: string
  /** Seconds, for 429 */
  readonly retryAfter: number | undefined
  /** The scope a token lacked (a 403 says so in its Bearer challenge: RFC 6750 section 3.1) */
  readonly missingScope: string | undefined
  /** A DPoP refusal: the 401 challenges with the DPoP scheme and this error (RFC 9449 section 7.1) */
  readonly dpopError: DpopErrorCode | undefined

  constructor (status: number, code: string, message: string, options: CamaraErrorOptions = {}) {
    super(message)
    this.name = 'CamaraError'
    this.status = status
    this.code = code
    this.reason = options.reason ?? message
    this.retryAfter = options.retryAfter
    this.missingScope = options.missingScope
    this.dpopError = options.dpopError
  }

  /** One of CAMARA's codes, with its status and its standard text in the release */
  static standard (code: CamaraErrorCode, release: NvRelease, options: CamaraErrorOptions = {}): CamaraError {
    return new CamaraError(CAMARA_ERRORS[code].status, code, camaraMessage(code, release), options)
  }

  toJSON (): { status: number, code: string, message: string } {
    return { status: this.status, code: this.code, message: this.message }
  }
}

/** What an error means to a client: the status it answers with, and whether its text may be shown */
export interface Classification {
  status: number
  expose: boolean
}

/**
 * The one classification of errors. The emulator's own errors carry their status and may be
 * shown; a framework or library error with a client status (4xx: a body that does not parse, a
 * validation) may be shown too; anything else is unexpected: 500, details for the log only.
 */
export function classify (error: unknown): Classification {
  if (error instanceof OAuthError) return { status: error.statusCode, expose: true }
  if (error instanceof CamaraError) return { status: error.status, expose: true }
  if (error instanceof AuthorizeError) return { status: 400, expose: true }
  const { statusCode, status, code } = error as { statusCode?: unknown, status?: unknown, code?: unknown }
  // The client closed the connection before its body was complete: nobody reads the answer
  if (code === 'ECONNRESET') return { status: 400, expose: true }
  const given = typeof statusCode === 'number' ? statusCode : status
  if (typeof given === 'number' && Number.isInteger(given) && given >= 400 && given < 500) {
    return { status: given, expose: true }
  }
  return { status: 500, expose: false }
}
