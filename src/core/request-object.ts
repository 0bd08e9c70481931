// Signed authorization requests (RFC 9101, JAR; CAMARA ICM requires them): a `request` parameter
// carrying a JWT signed by a key of the client's JWKS. Verified with jose as client assertions are
// (src/core/client-authentication.ts), with a bounded lifetime and a jti spent once through the store.
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose'
import {
  CLOCK_TOLERANCE_S,
  clientKeySet,
  describeJoseError,
  jtiLifetimeMs,
  MAX_ASSERTION_LIFETIME_S
} from './client-authentication.js'
import { SIGNING_ALGS, type ClientFixture } from './fixture-schema.js'
import type { CoreContext } from './context.js'
import { AuthorizeError } from './errors.js'
import type { RedirectTarget } from './legs.js'

export const INVALID_REQUEST_OBJECT = 'invalid_request_object'
/** The longest lifetime (exp - iat) accepted, as CAMARA ICM sets it (the same bound as client assertions) */
export const MAX_REQUEST_OBJECT_LIFETIME_S = MAX_ASSERTION_LIFETIME_S
/** Clock difference between client and emulator allowed on the object's times: the client assertions' */
export const REQUEST_OBJECT_CLOCK_TOLERANCE_S = CLOCK_TOLERANCE_S
/**
 * The `typ` values a request object may declare (RFC 9101 section 10.8), also with the
 * `application/` prefix RFC 7515 section 4.1.9 lets senders keep; absent is accepted too
 */
const REQUEST_OBJECT_TYPES = ['oauth-authz-req+jwt', 'jwt', 'application/oauth-authz-req+jwt', 'application/jwt']
/** Claims about the JWT itself, not authorization parameters */
const JWT_CLAIMS = new Set(['iss', 'aud', 'iat', 'exp', 'nbf', 'jti', 'sub'])
/** Parameters OpenID Connect gives a JSON type other than string inside a request object (OIDC Core 6.1) */
const NON_STRING_PARAMETERS: Readonly<Record<string, 'number' | 'object'>> = { max_age: 'number', claims: 'object' }
/**
 * Parameters the client must send in the query as well, with the object's value: client_id
 * (RFC 9101 section 5) and what OpenID Connect needs of a valid OAuth request (OIDC Core 6.1)
 */
export const DUPLICATED_PARAMETERS = ['client_id', 'response_type', 'redirect_uri', 'scope'] as const

/** A request object whose signature and claims passed; its jti is spent separately (`spend`) */
export interface VerifiedRequestObject {
  clientId: string
  jti: string
  /** Seconds since the epoch */
  exp: number
  /** The authorization parameters it carries, each as it would be in a query string */
  parameters: Record<string, string>
}

/** Where a request object is used: at authorize (RFC 9101) or at bc-authorize (CIBA Core 7.1.1) */
export interface RequestObjectUse {
  /** The aud values accepted: the endpoint the object is sent to (ICM r4.2 recommends it), the issuer */
  audiences: string[]
  /** Claims required beyond iss, aud, iat, exp and jti (CIBA Core: nbf) */
  requiredClaims?: string[]
  /** The error a refusal is, in the endpoint's own terms */
  refuse: (description: string) => Error
}

/** At the authorization endpoint: invalid_request_object, redirected to the client */
export function authorizeUse (
  urls: { authorizationEndpoint: string, issuer: string },
  target: RedirectTarget
): RequestObjectUse {
  return {
    audiences: [urls.authorizationEndpoint, urls.issuer],
    refuse: (description) => new AuthorizeError(INVALID_REQUEST_OBJECT, description, target)
  }
}

export class RequestObjects {
  private readonly ctx: CoreContext

  constructor (ctx: CoreContext) {
    this.ctx = ctx
  }

  /**
   * Checks the object's signature against the client's JWKS and its claims: iss the client, aud
   * this server alone (one of `use.audiences`: the endpoint it is sent to, as ICM recommends, or
   * the issuer), iat, exp and jti present (and `use.requiredClaims`), a lifetime of at most 300 s,
   * iat not ahead. Any failure is answered as `use.refuse` says (at authorize a redirect with
   * invalid_request_object, the state the query's, since the object's cannot be trusted yet).
   */
  async verify (jwt: string, client: ClientFixture, use: RequestObjectUse): Promise<VerifiedRequestObject> {
    const fail = (description: string): never => {
      throw use.refuse(description)
    }
    if (client.jwks === undefined) {
      fail(`client "${client.clientId}" has no registered JWKS to verify a request object with; ` +
        'register jwks, or send the parameters in the query')
    }
    let header
    try {
      header = decodeProtectedHeader(jwt)
    } catch {
      return fail('request is not a signed JWT (compact JWS)')
    }
    const parts = jwt.split('.').length
    if (parts === 5) fail('request is not a signed JWT (compact JWS): encrypted request objects are not supported')
    if (parts !== 3) fail('request is not a signed JWT (compact JWS)')
    // jose does not check the header's types: a typ that is no string is refused, not a crash
    const typ: unknown = header.typ
    if (typ !== undefined && (typeof typ !== 'string' || !REQUEST_OBJECT_TYPES.includes(typ.toLowerCase()))) {
      fail(`request object typ ${JSON.stringify(typ)} is not a request object's (use oauth-authz-req+jwt, or none)`)
    }

    let payload: JWTPayload
    try {
      ({ payload } = await jwtVerify(jwt, clientKeySet(client), {
        algorithms: [...SIGNING_ALGS],
        issuer: client.clientId,
        audience: use.audiences,
        requiredClaims: ['iss', 'aud', 'iat', 'exp', 'jti', ...(use.requiredClaims ?? [])],
        currentDate: new Date(this.ctx.clock.now()),
        clockTolerance: REQUEST_OBJECT_CLOCK_TOLERANCE_S
      }))
    } catch (error) {
      return fail(`request object rejected: ${describeVerificationError(error, client, header)}`)
    }
    const exp = payload.exp as number
    const iat = payload.iat as number
    // jose lets any iat through: one far ahead would make the lifetime rule meaningless
    const ahead = iat - Math.floor(this.ctx.clock.now() / 1000)
    if (ahead > REQUEST_OBJECT_CLOCK_TOLERANCE_S) {
      fail(`request object iat lies ${ahead} s in the future; ` +
        `at most ${REQUEST_OBJECT_CLOCK_TOLERANCE_S} s of clock skew is accepted`)
    }
    if (exp - iat > MAX_REQUEST_OBJECT_LIFETIME_S) {
      fail(`request object lifetime (exp - iat) is ${exp - iat} s; ` +
        `at most ${MAX_REQUEST_OBJECT_LIFETIME_S} s is accepted`)
    }
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud]
    if (audiences.length !== 1) {
      fail(
        `request object aud must be this server alone (${use.audiences.join(' or ')}), not ${audiences.length} values`
      )
    }
    if (typeof payload.jti !== 'string' || payload.jti === '') fail('request object jti must be a non-empty string')
    return { clientId: client.clientId, jti: payload.jti as string, exp, parameters: parametersOf(payload, fail) }
  }

  /**
   * Spends the object's jti, recorded and checked in one step (of parallel requests with one jti,
   * one is accepted), until the object could no longer be accepted anyway (exp + tolerance).
   */
  async spend (object: VerifiedRequestObject, use: RequestObjectUse): Promise<void> {
    const key = `${object.clientId}\n${object.jti}`
    if (!await this.ctx.store.add('requestObjectIds', key, true, jtiLifetimeMs(object.exp, this.ctx.clock.now()))) {
      throw use.refuse('request object jti was already used: sign a fresh request object for every request')
    }
  }
}

/**
 * The authorization parameters of a verified object, in query form: strings as they are, max_age
 * and claims (the only other JSON types OpenID Connect allows there) as their JSON text
 */
function parametersOf (payload: JWTPayload, fail: (description: string) => never): Record<string, string> {
  const parameters: Record<string, string> = {}
  for (const [name, value] of Object.entries(payload)) {
    if (JWT_CLAIMS.has(name)) continue
    if (name === 'request' || name === 'request_uri') {
      fail(`a request object must not contain ${name} (RFC 9101 section 4)`)
    }
    const type = NON_STRING_PARAMETERS[name]
    const isObject = typeof value === 'object' && value !== null && !Array.isArray(value)
    if (typeof value === 'string') parameters[name] = value
    else if (type === 'number' && typeof value === 'number') parameters[name] = String(value)
    else if (type === 'object' && isObject) parameters[name] = JSON.stringify(value)
    else {
      const allowed =
        type === undefined ? 'a string' : `a string or ${type === 'number' ? 'a number' : 'a JSON object'}`
      fail(`request object parameter ${name} must be ${allowed}`)
    }
  }
  return parameters
}

/** What jose found wrong, in words naming the claim or the key */
function describeVerificationError (
  error: unknown, client: ClientFixture, header: { kid?: string | undefined, alg?: string | undefined }
): string {
  if (error instanceof joseErrors.JWKSNoMatchingKey) {
    const kid = header.kid === undefined ? 'no kid' : `kid "${header.kid}"`
    return `no key of client "${client.clientId}"'s JWKS matches its ${kid} and alg ${header.alg ?? '(none)'}`
  }
  return describeJoseError(error)
}
