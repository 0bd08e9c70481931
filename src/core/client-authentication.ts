// Token endpoint client authentication: client_secret_post (the seed), client_secret_basic and
// private_key_jwt (CAMARA). Secrets are compared in constant time; assertions are verified with
// jose against the client's registered JWKS, with a bounded lifetime and single-use jti.
import { createHash, timingSafeEqual } from 'node:crypto'
import { createLocalJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JSONWebKeySet } from 'jose'
import { SIGNING_ALGS, type ClientFixture, type TokenEndpointAuthMethod } from './fixture-schema.js'
import type { CoreContext } from './context.js'
import { OAuthError } from './errors.js'
import { observe } from './conformance.js'
import { newLeg, type Leg } from './legs.js'

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
export const MAX_ASSERTION_LIFETIME_S = 300
/** Allowed clock difference between client and emulator when checking the times of a client's JWTs */
export const CLOCK_TOLERANCE_S = 5

/** The JWTs a client signs (client assertions, request objects) name a key of this set */
const jwksSets = new WeakMap<object, ReturnType<typeof createLocalJWKSet>>()

/** A client's registered JWKS as jose's key set, built once per fixture's JWKS */
export function clientKeySet (client: ClientFixture): ReturnType<typeof createLocalJWKSet> {
  const registered = client.jwks as JSONWebKeySet
  let set = jwksSets.get(registered)
  if (set === undefined) {
    set = createLocalJWKSet(registered)
    jwksSets.set(registered, set)
  }
  return set
}

export interface AuthenticatedClient {
  client: ClientFixture
  method: TokenEndpointAuthMethod
}

/**
 * The token endpoint's form as its route schema lets it through: every value one string (a
 * repeated parameter is refused there, before the core sees the form)
 */
export type Form = Readonly<Record<string, string | undefined>>

const BASIC_CHALLENGE = 'Basic realm="camara-nv-emulator", charset="UTF-8"'

/** Constant-time comparison for secrets of any length */
export function secretsEqual (given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

interface BasicCredentials {
  /** As RFC 6749 section 2.3.1 wants them: form-urlencoded before base64 */
  decoded?: { clientId: string, secret: string }
  /** As many clients send them (curl -u, most HTTP libraries): not encoded */
  raw: { clientId: string, secret: string }
}

function parseBasic (header: string): BasicCredentials | undefined {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim())
  if (match === null) return undefined
  const text = Buffer.from(match[1] ?? '', 'base64').toString('utf8')
  const colon = text.indexOf(':')
  if (colon < 0) return undefined
  const raw = { clientId: text.slice(0, colon), secret: text.slice(colon + 1) }
  try {
    const decode = (s: string): string => decodeURIComponent(s.replace(/\+/g, ' '))
    return { raw, decoded: { clientId: decode(raw.clientId), secret: decode(raw.secret) } }
  } catch {
    return { raw }
  }
}

/** A parameter's value; an empty one counts as absent (RFC 6749 section 3.1) */
export function field (form: Form, name: string): string | undefined {
  const value = form[name]
  return value === '' ? undefined : value
}

/** `Basic` alone is still an attempt at Basic: it must get the challenge, not 'no credentials' */
function sendsBasic (authorization: string | undefined): authorization is string {
  return authorization !== undefined && /^basic(?:\s|$)/i.test(authorization.trim())
}

/** How many client authentication methods a request sends (Basic, client_secret, client_assertion) */
export function clientAuthenticationsSent (form: Form, authorization: string | undefined): number {
  const assertion = field(form, 'client_assertion') !== undefined || field(form, 'client_assertion_type') !== undefined
  return [sendsBasic(authorization), field(form, 'client_secret') !== undefined, assertion].filter(Boolean).length
}

/**
 * How long a seen-once id (a jti) must be kept: until its JWT could no longer be accepted anyway
 * (exp plus the clock tolerance), at least a second
 */
export function jtiLifetimeMs (exp: number, now: number): number {
  return Math.max((exp + CLOCK_TOLERANCE_S) * 1000 - now, 1000)
}

export class ClientAuthenticator {
  private readonly ctx: CoreContext

  constructor (ctx: CoreContext) {
    this.ctx = ctx
  }

  async authenticate (
    form: Form,
    authorization: string | undefined,
    leg: Leg = newLeg()
  ): Promise<AuthenticatedClient> {
    const assertion = field(form, 'client_assertion')
    const assertionType = field(form, 'client_assertion_type')
    const bodySecret = field(form, 'client_secret')
    const bodyClientId = field(form, 'client_id')
    const basic = sendsBasic(authorization)
    const used = clientAuthenticationsSent(form, authorization)
    if (used > 1) {
      throw new OAuthError(
        'invalid_request',
        'use exactly one client authentication method (Basic header, client_secret in the body, or client_assertion)'
      )
    }

    let result: AuthenticatedClient
    if (basic) result = this.basic(authorization, bodyClientId, leg)
    else if (assertion !== undefined || assertionType !== undefined) {
      result = await this.privateKeyJwt(assertion, assertionType, bodyClientId, leg)
    } else if (bodySecret !== undefined) result = this.secretPost(bodyClientId, bodySecret, leg)
    else {
      throw new OAuthError(
        'invalid_client',
        bodyClientId === undefined
          ? 'client authentication is required (client_secret_post, client_secret_basic or private_key_jwt)'
          : `client "${bodyClientId}" sent no credentials (client_secret, Basic header or client_assertion)`
      )
    }

    observe(leg, {
      rule: 'private-key-jwt',
      ok: result.method === 'private_key_jwt',
      detail: `authenticated with ${result.method}`
    })
    if (this.ctx.settings.profile === 'camara-strict' && result.method !== 'private_key_jwt') {
      throw new OAuthError('invalid_client', 'the camara-strict profile requires private_key_jwt client authentication')
    }
    return result
  }

  /** The registered client, filed on the leg (its refusals are the client's in the journal and the report) */
  private lookup (clientId: string, method: TokenEndpointAuthMethod, leg: Leg, challenge?: string): ClientFixture {
    const client = this.ctx.directory().client(clientId)
    if (client !== undefined) leg.flow = { clientId: client.clientId }
    const options = challenge === undefined ? {} : { wwwAuthenticate: challenge }
    if (client === undefined) {
      throw new OAuthError('invalid_client', 'client authentication failed', {
        ...options,
        reason: `client_id "${clientId}" is not registered`
      })
    }
    if (!client.tokenEndpointAuthMethods.includes(method)) {
      throw new OAuthError(
        'invalid_client',
        `client "${clientId}" is not registered for ${method} (registered: ` +
          `${client.tokenEndpointAuthMethods.join(', ')})`,
        options
      )
    }
    return client
  }

  private basic (authorization: string, bodyClientId: string | undefined, leg: Leg): AuthenticatedClient {
    const parsed = parseBasic(authorization)
    if (parsed === undefined) {
      throw new OAuthError('invalid_client', 'malformed Basic authorization header', {
        wwwAuthenticate: BASIC_CHALLENGE
      })
    }
    // The encoded reading first (the RFC), then the raw one (what many clients send)
    const directory = this.ctx.directory()
    const credentials =
      parsed.decoded !== undefined && directory.client(parsed.decoded.clientId) !== undefined
        ? parsed.decoded
        : directory.client(parsed.raw.clientId) !== undefined
          ? parsed.raw
          : (parsed.decoded ?? parsed.raw)
    if (bodyClientId !== undefined && bodyClientId !== credentials.clientId) {
      throw new OAuthError('invalid_client', 'client_id in the body differs from the Basic credentials', {
        wwwAuthenticate: BASIC_CHALLENGE
      })
    }
    const client = this.lookup(credentials.clientId, 'client_secret_basic', leg, BASIC_CHALLENGE)
    const expected = client.clientSecret ?? ''
    const secretMatches = secretsEqual(credentials.secret, expected) || secretsEqual(parsed.raw.secret, expected)
    if (!secretMatches) {
      throw new OAuthError('invalid_client', 'client authentication failed', {
        wwwAuthenticate: BASIC_CHALLENGE,
        reason: `wrong client secret for "${client.clientId}"`
      })
    }
    return { client, method: 'client_secret_basic' }
  }

  private secretPost (clientId: string | undefined, secret: string, leg: Leg): AuthenticatedClient {
    if (clientId === undefined) throw new OAuthError('invalid_request', 'client_id is required with client_secret')
    const client = this.lookup(clientId, 'client_secret_post', leg)
    if (!secretsEqual(secret, client.clientSecret ?? '')) {
      throw new OAuthError('invalid_client', 'client authentication failed', {
        reason: `wrong client secret for "${clientId}"`
      })
    }
    return { client, method: 'client_secret_post' }
  }

  private async privateKeyJwt (
    assertion: string | undefined,
    assertionType: string | undefined,
    bodyClientId: string | undefined,
    leg: Leg
  ): Promise<AuthenticatedClient> {
    if (assertionType !== JWT_BEARER_ASSERTION) {
      throw new OAuthError('invalid_request', `client_assertion_type must be ${JWT_BEARER_ASSERTION}`)
    }
    if (assertion === undefined) {
      throw new OAuthError('invalid_request', 'client_assertion is required with client_assertion_type')
    }

    let claimedId: string | undefined
    try {
      const claims = decodeJwt(assertion)
      claimedId = typeof claims.iss === 'string' ? claims.iss : undefined
    } catch {
      throw new OAuthError('invalid_client', 'client_assertion is not a JWT')
    }
    const clientId = bodyClientId ?? claimedId
    if (clientId === undefined) {
      throw new OAuthError('invalid_client', 'client_assertion has no iss and no client_id was sent')
    }
    if (bodyClientId !== undefined && claimedId !== bodyClientId) {
      throw new OAuthError('invalid_client', 'client_assertion iss differs from client_id')
    }
    const client = this.lookup(clientId, 'private_key_jwt', leg)

    const urls = this.ctx.urls
    let payload
    try {
      ;({ payload } = await jwtVerify(assertion, clientKeySet(client), {
        algorithms: [...SIGNING_ALGS],
        issuer: clientId,
        subject: clientId,
        // The endpoint the assertion is sent to, or the issuer (ICM r4.2 "Client Authentication")
        audience: [urls.tokenEndpoint, urls.issuer, urls.backchannelAuthenticationEndpoint],
        requiredClaims: ['exp', 'iat', 'jti'],
        currentDate: new Date(this.ctx.clock.now()),
        clockTolerance: CLOCK_TOLERANCE_S
      }))
    } catch (error) {
      if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'iat' && error.reason === 'missing') {
        observe(leg, { rule: 'assertion-lifetime', ok: false, detail: 'client_assertion without iat' })
      }
      throw new OAuthError('invalid_client', `client_assertion rejected: ${describeJoseError(error)}`)
    }
    const exp = payload.exp as number
    const iat = payload.iat as number
    // jose lets any iat through: one a year ahead would make the 300 s rule below meaningless
    const ahead = iat - Math.floor(this.ctx.clock.now() / 1000)
    if (ahead > CLOCK_TOLERANCE_S) {
      throw new OAuthError(
        'invalid_client',
        `client_assertion iat lies ${ahead} s in the future; at most ${CLOCK_TOLERANCE_S} s of clock skew is accepted`
      )
    }
    // jose accepts an aud array with this server among others; RFC 7523 3: this server, only
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud]
    if (audiences.length !== 1) {
      throw new OAuthError(
        'invalid_client',
        `client_assertion aud must be this server alone (${urls.tokenEndpoint} or ${urls.issuer}), not ` +
          `${audiences.length} values`
      )
    }
    observe(leg, {
      rule: 'assertion-lifetime',
      ok: exp - iat <= MAX_ASSERTION_LIFETIME_S,
      detail: `client_assertion lifetime ${exp - iat} s`
    })
    if (exp - iat > MAX_ASSERTION_LIFETIME_S) {
      throw new OAuthError(
        'invalid_client',
        `client_assertion lifetime (exp - iat) is ${exp - iat} s; at most ${MAX_ASSERTION_LIFETIME_S} s is accepted`
      )
    }
    const jtiKey = `${clientId}\n${String(payload.jti)}`
    // Recorded and checked in one step: of two parallel requests with one jti, one is accepted
    const fresh = await this.ctx.store.add('assertionIds', jtiKey, true, jtiLifetimeMs(exp, this.ctx.clock.now()))
    observe(leg, { rule: 'assertion-jti', ok: fresh, detail: 'client_assertion jti already used' })
    if (!fresh) {
      throw new OAuthError(
        'invalid_client',
        'client_assertion jti was already used: sign a fresh assertion for every request'
      )
    }
    return { client, method: 'private_key_jwt' }
  }
}

/** What jose found wrong with a client's JWT, in words naming the claim */
export function describeJoseError (error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'it has expired (exp)'
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return `claim "${error.claim}" ${error.reason === 'missing' ? 'is missing' : `is invalid (${error.message})`}`
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no registered key matches its kid / alg'
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature verification failed'
  if (error instanceof joseErrors.JOSEAlgNotAllowed) {
    return `its alg is not allowed (allowed: ${SIGNING_ALGS.join(', ')})`
  }
  if (error instanceof joseErrors.JOSEError) return error.message
  return 'it could not be verified'
}
