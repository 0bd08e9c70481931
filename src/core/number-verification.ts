// The Number Verification API's rules, per API version: who may call (token, scope, how the
// user was authenticated), what a valid request is, and the answers. The result compares the
// claimed number with the one the network bound to the token, never with anything else.
import { ALREADY_CALLED, ALREADY_USED, type TokenService } from './token-service.js'
import type { CoreContext } from './context.js'
import { RELEASE_RULES, releaseOf, type ApiVersion, type NvRelease } from './camara-errors.js'
import { checkBodyHash, DpopProofError, type VerifiedProof } from './dpop.js'
import { CamaraError, type DpopErrorCode } from './errors.js'
import { fingerprint, observe } from './conformance.js'
import { newLeg, type Leg } from './legs.js'
import type { AccessTokenRecord } from './records.js'
import { E164_PATTERN, hashPhoneNumber } from './phone-number.js'
import { NETWORK_AMR } from './authorization.js'
import { SIM_AMR } from './operator-tokens.js'
import type { Decision } from './scenarios/engine.js'

export type { ApiVersion, NvRelease } from './camara-errors.js'

/** NV after r3.2: a token serves its API call within 300 s of being issued */
export const WIP_TOKEN_AGE_LIMIT_S = 300

export type VerifyInput = { phoneNumber: string } | { hashedPhoneNumber: string }

/** What a DPoP proof must name of an API request (RFC 9449 section 7; ICM r4.2's camara:qh) */
export interface ApiRequest {
  /** The DPoP header(s) as received */
  dpop: string | string[] | undefined
  method: string
  /** The path as routed (without a namespace's /ns/<name>, which the world's public URL has) */
  path: string
  /** The raw query string, without '?' (undefined: none) */
  query: string | undefined
}

/** The token as the Authorization header carries it: RFC 6750's Bearer, or RFC 9449's DPoP */
const AUTHORIZATION = /^(Bearer|DPoP)[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i

/** A call whose token is valid and carries the operation's scope: what it identifies is checked next */
export interface AuthenticatedCall {
  /** The bearer token as sent */
  accessToken: string
  token: AccessTokenRecord
  /** The release the call is answered in (the client's, for /v2) */
  release: NvRelease
  /** A DPoP-bound token's proof, whose camara:bh is checked once the body is read (checkBody) */
  proof?: VerifiedProof
}

/** A call whose token names the subscriber the network authenticated */
export interface AuthorizedCall extends AuthenticatedCall {
  msisdn: string
}

/** Property names as the client sent them, bounded so a hostile body cannot bloat the answer */
function describeKeys (keys: string[]): string {
  const shown = keys.slice(0, 5).map((key) => JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}...` : key))
  return keys.length > 5 ? `${shown.join(', ')} and ${keys.length - 5} more` : shown.join(', ')
}

export class NumberVerificationService {
  private readonly ctx: CoreContext
  private readonly tokens: TokenService

  constructor (ctx: CoreContext, tokens: TokenService) {
    this.ctx = ctx
    this.tokens = tokens
  }

  /** Both checks at once: authenticate, then identify */
  async authorize (
    authorization: string | undefined,
    scope: string,
    version: ApiVersion,
    leg: Leg = newLeg(),
    request?: ApiRequest
  ): Promise<AuthorizedCall> {
    return this.identify(await this.authenticate(authorization, scope, version, leg, request))
  }

  /**
   * Files a call refused before its token was checked (a malformed header) under the token's flow
   * and client, as far as the token names them: nothing is checked or spent
   */
  async attribute (authorization: string | undefined, leg: Leg): Promise<void> {
    const token = authorization === undefined ? undefined : AUTHORIZATION.exec(authorization)?.[2]
    await this.tokens.resolveAccessToken(token, leg)
  }

  /**
   * The release a family speaks for a client: /v1 and /vwip have one; /v2 the client's
   * numberVerificationRelease, else --nv-v2-release. Without a client (no token yet), the latter.
   */
  releaseFor (version: ApiVersion, clientId?: string): NvRelease {
    const client = clientId === undefined ? undefined : this.ctx.directory().client(clientId)
    return releaseOf(version, client?.numberVerificationRelease ?? this.ctx.settings.nvV2Release)
  }

  /**
   * Checks the bearer token for an operation, without spending it: 401 for any token problem
   * (one generic answer), 403 for a missing scope. What the token identifies is identify()'s
   * question, asked after the body is validated (CAMARA's C02.01: a malformed number with a token
   * that identifies no subscriber is 400 INVALID_ARGUMENT, not 403). A DPoP-bound token needs
   * the DPoP scheme and a proof of its key for this request (`request`); the proof is checked
   * here, before anything is spent.
   */
  async authenticate (
    authorization: string | undefined,
    scope: string,
    version: ApiVersion,
    leg: Leg = newLeg(),
    request?: ApiRequest
  ): Promise<AuthenticatedCall> {
    const match = authorization === undefined ? null : AUTHORIZATION.exec(authorization)
    const dpopScheme = match?.[1]?.toLowerCase() === 'dpop'
    const accessToken = match?.[2]
    const oneCall = (record: AccessTokenRecord): boolean =>
      RELEASE_RULES[this.releaseFor(version, record.clientId)].tokenRules
    const resolved = await this.tokens.resolveAccessToken(accessToken, leg, { oneCall })
    if ('failure' in resolved) {
      if (resolved.failure === ALREADY_USED || resolved.failure === ALREADY_CALLED) {
        observe(leg, { rule: 'token-single-use', ok: false, detail: 'the access token was used again' })
      }
      const reason = authorization === undefined
        ? 'no Authorization header'
        : match === null ? 'Authorization header is not "Bearer <token>"' : resolved.failure
      // A token the emulator knows, now revoked or spent: the client's release says how
      const release = this.releaseFor(version, leg.flow.clientId)
      const code = resolved.noLongerValid === true ? RELEASE_RULES[release].noLongerValid : 'UNAUTHENTICATED'
      throw CamaraError.standard(code, release, {
        reason,
        ...(dpopScheme ? { dpopError: 'invalid_token' as const } : {})
      })
    }
    const token = resolved.record
    const release = this.releaseFor(version, token.clientId)
    // A token that is not DPoP-bound comes as Bearer; a bound one with a proof of its key
    if (token.cnf === undefined && dpopScheme) {
      throw CamaraError.standard('UNAUTHENTICATED', release, {
        reason: 'the access token is not DPoP-bound: send it as "Authorization: Bearer <token>"',
        dpopError: 'invalid_token'
      })
    }
    const proof = token.cnf === undefined
      ? undefined
      : await this.proveToken(accessToken as string, token, token.cnf.jkt, dpopScheme, release, request)
    if (token.issuedAt !== undefined) {
      const age = Math.round((this.ctx.clock.now() - token.issuedAt) / 1000)
      observe(leg, { rule: 'token-age', ok: age <= WIP_TOKEN_AGE_LIMIT_S, detail: `the access token was ${age} s old` })
    }
    observe(leg, {
      rule: 'operation-scope',
      ok: token.scopes.includes(scope),
      detail: `the access token lacks ${scope}`
    })
    if (
      RELEASE_RULES[release].tokenRules &&
      token.issuedAt !== undefined &&
      this.ctx.clock.now() - token.issuedAt > WIP_TOKEN_AGE_LIMIT_S * 1000
    ) {
      throw CamaraError.standard('UNAUTHENTICATED', release, {
        reason: `access token was issued more than ${WIP_TOKEN_AGE_LIMIT_S} s ago ` +
          `(NV ${release}: at most ${WIP_TOKEN_AGE_LIMIT_S} s)`
      })
    }
    if (!token.scopes.includes(scope)) {
      throw CamaraError.standard('PERMISSION_DENIED', release, {
        reason: `access token scopes "${token.scopes.join(' ')}" lack ${scope}`,
        missingScope: scope
      })
    }
    return { accessToken: accessToken as string, token, release, ...(proof === undefined ? {} : { proof }) }
  }

  /**
   * RFC 9449 section 7: a DPoP-bound token comes with the DPoP scheme and a proof of its key for
   * this request (ath, htm, htu; camara:qh where the client must send it). Every refusal is 401
   * UNAUTHENTICATED, challenging with DPoP.
   */
  private async proveToken (
    accessToken: string,
    token: AccessTokenRecord,
    jkt: string,
    dpopScheme: boolean,
    release: NvRelease,
    request: ApiRequest | undefined
  ): Promise<VerifiedProof> {
    const refuse = (reason: string, dpopError: DpopErrorCode): never => {
      throw CamaraError.standard('UNAUTHENTICATED', release, { reason, dpopError })
    }
    if (!dpopScheme) {
      refuse(
        'the access token is DPoP-bound: send it as "Authorization: DPoP <token>" with a DPoP proof',
        'invalid_token'
      )
    }
    const client = this.ctx.directory().client(token.clientId)
    let proof: VerifiedProof
    try {
      proof = await this.tokens.dpop.verify({
        header: request?.dpop,
        method: request?.method ?? 'POST',
        url: `${this.ctx.urls.publicUrl}${request?.path ?? ''}`,
        accessToken,
        boundJkt: jkt,
        camaraClaims: client?.dpopCamaraClaims === true,
        query: request?.query,
        replayWindowMs: token.expiresAt - this.ctx.clock.now()
      })
    } catch (error) {
      // A replayed proof is 400 (ICM r4.2 "Replay Protection Requirements"); any other bad proof 401
      // (RFC 9449 section 7.1)
      if (error instanceof DpopProofError && error.full) {
        throw CamaraError.standard('UNAVAILABLE', release, { reason: error.description })
      }
      if (error instanceof DpopProofError && error.replayed) {
        throw CamaraError.standard('INVALID_ARGUMENT', release, {
          reason: error.description,
          dpopError: 'invalid_dpop_proof'
        })
      }
      if (error instanceof DpopProofError) return refuse(error.description, 'invalid_dpop_proof')
      throw error
    }
    return proof
  }

  /** camara:bh, once the body is read: the proof must name the body's bytes as received */
  checkBody (call: AuthenticatedCall, body: Uint8Array | undefined): void {
    if (call.proof === undefined) return
    try {
      checkBodyHash(call.proof, body)
    } catch (error) {
      if (error instanceof DpopProofError) {
        throw CamaraError.standard('UNAUTHENTICATED', call.release, {
          reason: error.description,
          dpopError: 'invalid_dpop_proof'
        })
      }
      throw error
    }
  }

  /**
   * The subscriber an authenticated call is about: 403 for a token that names no phone number and
   * for one not obtained by network authentication
   */
  identify (call: AuthenticatedCall): AuthorizedCall {
    const { token, release } = call
    if (token.msisdn === undefined) {
      if (RELEASE_RULES[release].noSubscriber === 'INVALID_TOKEN_CONTEXT') {
        throw CamaraError.standard('INVALID_TOKEN_CONTEXT', release, {
          reason: 'the access token identifies no subscriber (client_credentials?)'
        })
      }
      throw CamaraError.standard('PERMISSION_DENIED', release, {
        reason: 'the access token identifies no subscriber: ' +
          'a three-legged token (authorization code flow) is required'
      })
    }
    // Network-based or SIM-based authentication (NV 2.1.0 info.description); a number a client
    // only asserted (a tel: subject or hint of a back-end flow) was authenticated by neither
    if (!token.amr.some((method) => NETWORK_AMR.includes(method) || SIM_AMR.includes(method))) {
      throw CamaraError.standard('NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK', release, {
        reason: token.amr.length === 0
          ? 'the number was asserted by the client (tel:), not authenticated by the mobile network nor by the SIM'
          : `the user was authenticated by ${token.amr.join('+')}, not by the mobile network nor by the SIM`
      })
    }
    return { ...call, msisdn: token.msisdn }
  }

  /**
   * verify, in the flow sequence: scenarios decided (an injected error leaves a single-use token
   * usable), the token spent (of N parallel calls with one camara-strict token, one wins), the
   * injected latency, then the answer: a forced result, or the comparison.
   */
  async verifyNumber (call: AuthorizedCall, input: VerifyInput, leg: Leg = newLeg()): Promise<boolean> {
    if ('hashedPhoneNumber' in input) {
      const hash = input.hashedPhoneNumber
      observe(leg, {
        rule: 'hashed-case',
        ok: hash === hash.toLowerCase() || hash === hash.toUpperCase(),
        detail: 'hashedPhoneNumber mixes upper and lower case'
      })
    }
    const decision = await this.callSequence(call, leg, 'verify',
      'phoneNumber' in input ? input.phoneNumber : undefined)
    return decision.verifiedResult ?? this.verify(call, input)
  }

  /** device-phone-number, in the same sequence: the number the network bound to the token */
  async shareNumber (call: AuthorizedCall, leg: Leg = newLeg()): Promise<string> {
    await this.callSequence(call, leg, 'share')
    return call.msisdn
  }

  private async callSequence (
    call: AuthorizedCall,
    leg: Leg,
    operation: 'verify' | 'share',
    claimedNumber?: string
  ): Promise<Decision> {
    const decision = await this.ctx.legs.decide(leg, {
      operation,
      flowScenarios: call.token.flowScenarios,
      ...(claimedNumber === undefined ? {} : { claimedNumber })
    })
    await this.ctx.legs.failIfInjected(decision)
    const oneCall = RELEASE_RULES[call.release].tokenRules
    if (!await this.tokens.spendAccessToken(call.accessToken, call.token, oneCall)) {
      const reason = call.token.singleUse ? ALREADY_USED : ALREADY_CALLED
      observe(leg, { rule: 'token-single-use', ok: false, detail: 'the access token was used again' })
      throw CamaraError.standard(RELEASE_RULES[call.release].noLongerValid, call.release, { reason })
    }
    // A served call: the same token in another served call breaks the rule (an injected error
    // served none)
    observe(leg, {
      rule: 'token-single-use',
      ok: true,
      detail: 'the same access token',
      fresh: fingerprint(call.accessToken)
    })
    await this.ctx.legs.wait(decision)
    return decision
  }

  /** True exactly when the claimed number is the one bound to the token */
  verify (call: AuthorizedCall, input: VerifyInput): boolean {
    if ('phoneNumber' in input) return input.phoneNumber === call.msisdn
    return input.hashedPhoneNumber.toLowerCase() === hashPhoneNumber(call.msisdn)
  }
}

/**
 * What is wrong with a verify body that the route schema refused, in the API's words (the schema
 * decides; this only names the problem): exactly one of phoneNumber / hashedPhoneNumber, each in
 * its pattern.
 */
/** The properties of a verify body that its schema does not declare (none for a body that is no object) */
export function undeclaredProperties (body: unknown): string[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return []
  return Object.keys(body).filter((key) => key !== 'phoneNumber' && key !== 'hashedPhoneNumber')
}

export function describeVerifyBody (body: unknown): string {
  if (body === undefined || body === null) {
    return 'the request body is required: { "phoneNumber": "+34666666666" } ' +
      'or { "hashedPhoneNumber": "<sha256 hex>" }'
  }
  if (typeof body !== 'object' || Array.isArray(body)) return 'the request body must be a JSON object'
  const fields = body as Record<string, unknown>
  const hasPlain = 'phoneNumber' in fields
  const hasHashed = 'hashedPhoneNumber' in fields
  if (hasPlain && hasHashed) return 'send exactly one of phoneNumber or hashedPhoneNumber, not both'
  if (!hasPlain && !hasHashed) {
    const keys = Object.keys(fields)
    return 'phoneNumber or hashedPhoneNumber is required' +
      `${keys.length > 0 ? ` (unknown properties: ${describeKeys(keys)})` : ''}`
  }
  // CAMARA's request body has maxProperties: 1
  const extra = undeclaredProperties(fields)
  if (extra.length > 0) {
    return `only phoneNumber or hashedPhoneNumber may be sent (unknown properties: ${describeKeys(extra)})`
  }
  if (hasPlain) return `phoneNumber must be E.164 with a leading + (pattern ${E164_PATTERN})`
  return 'hashedPhoneNumber must be the SHA-256 hex (64 characters) of the E.164 number including its +'
}
