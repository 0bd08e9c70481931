// Error types that carry their protocol meaning, so each surface can render them in its own format.
// Anything that is not one of these is unexpected and goes out as server_error / INTERNAL.

/** The flow a refused credential belongs to, so the journal can file the refusal under that flow */
export interface RefusedFlow {
  flowId: string
  clientId: string
  msisdn: string | undefined
  operatorId: string | undefined
}

/** An OAuth 2.0 error (RFC 6749 section 5.2) as the token endpoint answers it. */
export class OAuthError extends Error {
  readonly error: string
  readonly description: string
  readonly statusCode: number
  /** Set when the client authenticated with HTTP Basic, so the 401 carries a challenge. */
  readonly wwwAuthenticate: string | undefined
  /** Why the emulator refused, in words for the journal (may say more than the description). */
  readonly reason: string
  readonly flow: RefusedFlow | undefined

  constructor (error: string, description: string, options: { statusCode?: number, wwwAuthenticate?: string, reason?: string, flow?: RefusedFlow } = {}) {
    super(`${error}: ${description}`)
    this.name = 'OAuthError'
    this.error = error
    this.description = description
    this.statusCode = options.statusCode ?? (error === 'invalid_client' ? 401 : 400)
    this.wwwAuthenticate = options.wwwAuthenticate
    this.reason = options.reason ?? description
    this.flow = options.flow
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

  constructor (error: string, description: string, target?: { redirectUri: string, state?: string | undefined }, pageHint = 'Check the client_id and redirect_uri against the fixture file (clients[].clientId, clients[].redirectUris).') {
    super(`${error}: ${description}`)
    this.name = 'AuthorizeError'
    this.error = error
    this.description = description
    this.redirectUri = target?.redirectUri
    this.state = target?.state
    this.pageHint = pageHint
  }

  /** The redirect that reports this error to the client, or undefined when it must not redirect. */
  redirectLocation (): string | undefined {
    if (this.redirectUri === undefined) return undefined
    return appendQuery(this.redirectUri, {
      error: this.error,
      error_description: this.description,
      state: this.state
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

/** A CAMARA ErrorInfo `{ status, code, message }` (CAMARA Commonalities / Number Verification) */
export class CamaraError extends Error {
  readonly status: number
  readonly code: string
  /** Why the emulator refused, for the journal and the x-emulator-reason header */
  readonly reason: string
  /** Seconds, for 429 */
  readonly retryAfter: number | undefined
  readonly flow: RefusedFlow | undefined

  constructor (status: number, code: string, message: string, options: { reason?: string, retryAfter?: number, flow?: RefusedFlow } = {}) {
    super(message)
    this.name = 'CamaraError'
    this.status = status
    this.code = code
    this.reason = options.reason ?? message
    this.retryAfter = options.retryAfter
    this.flow = options.flow
  }

  toJSON (): { status: number, code: string, message: string } {
    return { status: this.status, code: this.code, message: this.message }
  }
}
