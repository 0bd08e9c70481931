// The token endpoint's grants (authorization_code with PKCE, refresh_token with rotation,
// client_credentials), the id_token, and the access-token records the resource API checks.
import { createHash, timingSafeEqual } from 'node:crypto'
import { nanoid } from 'nanoid'
import { NETWORK_AMR, pairwiseSubject } from './authorization.js'
import { ClientAuthenticator, field, type AuthenticatedClient, type Form } from './client-authentication.js'
import type { CoreContext } from './context.js'
import { DpopProofError, DpopVerifier, INVALID_DPOP_PROOF, requiresDpop, type VerifiedProof } from './dpop.js'
import { OAuthError } from './errors.js'
import { observe } from './conformance.js'
import type { KeyRing } from './keys.js'
import type { OperatorTokenService } from './operator-tokens.js'
import { JWT_BEARER_GRANT, JwtBearerGrant } from './jwt-bearer.js'
import { ALREADY_REDEEMED, BackchannelAuthentication, CIBA_GRANT } from './ciba.js'
import { newLeg, type Leg } from './legs.js'
import { flowRefOf, type AccessTokenRecord, type Grant } from './records.js'
import { NUMBER_VERIFICATION_SCOPES, parseScope, PROTOCOL_SCOPES } from './scopes.js'

export type { AccessTokenRecord } from './records.js'

const PKCE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/
/** CAMARA's work-in-progress limit on Number Verification access tokens (camara-strict) */
export const STRICT_NV_TOKEN_TTL = 300

export interface TokenResponse {
  access_token: string
  /** DPoP when the request carried a valid proof (RFC 9449 section 5) */
  token_type: 'Bearer' | 'DPoP'
  expires_in: number
  scope: string
  refresh_token?: string
  id_token?: string
}

export interface TokenOutcome {
  response: TokenResponse
  client: AuthenticatedClient
  grant: Grant
}

/** A grant found by a code or refresh token, and the single use to take before issuing */
interface Redeemed {
  grant: Grant
  /** The credential's entry in a uses collection: taken once the scenarios let the leg go on */
  use?: { collection: 'codeUses' | 'refreshTokenUses', key: string, replayed: string, description: string }
}

export interface MintRequest {
  clientId: string
  /** Omit for a token that identifies no subscriber */
  msisdn?: string
  scope: string
  /** Defaults to network authentication; ['sms', 'otp'] mints a token the API refuses with 403 */
  amr?: string[]
  /** Scenarios for every API call made with these tokens */
  scenarios?: string[]
}

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', JWT_BEARER_GRANT, CIBA_GRANT]

/** RFC 7636 S256: BASE64URL(SHA256(code_verifier)) */
export function pkceS256 (verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url')
}

/** S256(verifier) === challenge, compared in constant time */
export function pkceMatches (verifier: string, challenge: string): boolean {
  const computed = Buffer.from(pkceS256(verifier))
  const expected = Buffer.from(challenge)
  return computed.length === expected.length && timingSafeEqual(computed, expected)
}

function required (form: Form, name: string): string {
  const value = field(form, name)
  if (value === undefined) throw new OAuthError('invalid_request', `${name} is required`)
  return value
}

export class TokenService {
  private readonly ctx: CoreContext
  private readonly keys: KeyRing
  readonly clients: ClientAuthenticator
  readonly dpop: DpopVerifier
  /** The operator tokens the JWT-bearer grant redeems */
  private readonly operatorTokens: OperatorTokenService
  private readonly jwtBearerGrant: JwtBearerGrant
  /** CIBA's bc-authorize, and the requests the ciba grant redeems */
  readonly backchannel: BackchannelAuthentication

  constructor (ctx: CoreContext, keys: KeyRing, operatorTokens: OperatorTokenService) {
    this.ctx = ctx
    this.keys = keys
    this.operatorTokens = operatorTokens
    this.clients = new ClientAuthenticator(ctx)
    this.jwtBearerGrant = new JwtBearerGrant(ctx, this.clients, operatorTokens)
    this.backchannel = new BackchannelAuthentication(ctx, this.clients, operatorTokens)
    this.dpop = new DpopVerifier(ctx)
  }

  /**
   * The token endpoint, in the flow sequence: validate the form and the client, find the grant,
   * decide the scenarios (an injected error leaves the code or refresh token usable), take the
   * credential's single use (of N parallel redemptions one wins; the others are replays and
   * revoke the grant), wait the injected latency, then issue. A DPoP proof (the `dpop` header) is
   * checked with the client, before any credential is looked at: a bad proof leaves the code usable.
   */
  async token (
    form: Form,
    authorization: string | undefined,
    leg: Leg = newLeg(),
    dpop?: string | string[]
  ): Promise<TokenOutcome> {
    const grantType = required(form, 'grant_type')
    if (!GRANT_TYPES.includes(grantType)) {
      throw new OAuthError(
        'unsupported_grant_type',
        `grant_type "${grantType}" is not supported; use ${GRANT_TYPES.join(', ')}`
      )
    }
    if (grantType === JWT_BEARER_GRANT) return await this.jwtBearer(form, authorization, leg, dpop)
    const client = await this.clients.authenticate(form, authorization, leg)
    leg.flow = { clientId: client.client.clientId }
    const proof = await this.tokenRequestProof(dpop, client)
    if (grantType === CIBA_GRANT) return await this.cibaGrant(form, client, leg, proof)
    let redeemed: Redeemed
    if (grantType === 'authorization_code') redeemed = await this.redeemCode(form, client, leg)
    else if (grantType === 'refresh_token') redeemed = await this.redeemRefreshToken(form, client, leg)
    else redeemed = { grant: this.clientCredentialsGrant(form, client, await this.ctx.flows.next()) }
    const { grant, use } = redeemed
    const narrowed = grantType === 'refresh_token' ? this.narrowScope(form, grant) : grant.scopes
    leg.flow = flowRefOf(grant)
    const decision = await this.ctx.legs.decide(leg, { operation: 'token', flowScenarios: grant.flowScenarios })
    await this.ctx.legs.failIfInjected(decision)
    if (use !== undefined && await this.ctx.store.take(use.collection, use.key) === undefined) {
      // Another request took it first: this one is the replay
      if (use.collection === 'codeUses') {
        observe(leg, { rule: 'code-once', ok: false, detail: 'the authorization code was redeemed twice at once' })
      }
      await this.revoke(grant, use.replayed)
      throw new OAuthError('invalid_grant', use.description)
    }
    await this.ctx.legs.wait(decision)
    let issuedFor = grant
    if (grantType === 'client_credentials') {
      await this.refuseAtGrantCap()
      await this.ctx.store.put('grants', grant.id, grant, grant.expiresAt - this.ctx.clock.now())
    } else if (grantType === 'authorization_code') {
      issuedFor = await this.keepForTokens(grant)
    }
    const response = await this.issue(issuedFor, narrowed, client, grantType, proof?.jkt)
    return { response, client, grant: issuedFor }
  }

  /**
   * The JWT-bearer grant (RFC 7523) in the flow sequence: the client and the assertion validated
   * (an operator token's checks too, without spending it), the scenarios decided (an injected
   * error leaves the operator token usable), the operator token taken (of N parallel redemptions
   * one wins), the latency, then the grant and its access token: no refresh token, no id_token.
   */
  private async jwtBearer (
    form: Form,
    authorization: string | undefined,
    leg: Leg,
    dpop: string | string[] | undefined
  ): Promise<TokenOutcome> {
    const { client, grant, operatorToken } = await this.jwtBearerGrant.validate(form, authorization, leg)
    const proof = await this.tokenRequestProof(dpop, client)
    leg.flow = flowRefOf(grant)
    await this.refuseAtGrantCap()
    const decision = await this.ctx.legs.decide(leg, { operation: 'token' })
    await this.ctx.legs.failIfInjected(decision)
    if (operatorToken !== undefined) {
      const won = await this.operatorTokens.spend(operatorToken.token)
      observe(leg, { rule: 'operator-token-once', ok: won, detail: 'the operator token was redeemed twice at once' })
      if (!won) throw new OAuthError('invalid_grant', 'assertion sub: the operator token was already used')
    }
    await this.ctx.legs.wait(decision)
    await this.ctx.store.put('grants', grant.id, grant, grant.expiresAt - this.ctx.clock.now())
    const response = await this.issue(grant, grant.scopes, client, JWT_BEARER_GRANT, proof?.jkt)
    return { response, client, grant }
  }

  /**
   * The ciba grant (CIBA Core section 10.1) in the flow sequence: the request found for this
   * client and unexpired, the scenarios decided (an injected error is no poll), the poll answered
   * (slow_down, authorization_pending, access_denied) until the operator approved, the request's
   * single redemption taken (of N parallel polls one wins; a later one is invalid_grant), the
   * latency, then the grant and its tokens (an id_token with the amr, a refresh token with
   * offline_access).
   */
  private async cibaGrant (
    form: Form,
    client: AuthenticatedClient,
    leg: Leg,
    proof: VerifiedProof | undefined
  ): Promise<TokenOutcome> {
    const request = await this.backchannel.find(form, client, leg)
    const decision = await this.ctx.legs.decide(leg, { operation: 'token', flowScenarios: request.flowScenarios })
    await this.ctx.legs.failIfInjected(decision)
    await this.backchannel.poll(request)
    await this.refuseAtGrantCap()
    if (!await this.backchannel.spend(request)) throw new OAuthError('invalid_grant', ALREADY_REDEEMED)
    await this.ctx.legs.wait(decision)
    const grant = this.backchannel.grantOf(request)
    await this.ctx.store.put('grants', grant.id, grant, grant.expiresAt - this.ctx.clock.now())
    const response = await this.issue(grant, grant.scopes, client, CIBA_GRANT, proof?.jkt)
    return { response, client, grant }
  }

  /**
   * The token request's DPoP proof (htm POST, htu the token endpoint, no ath), or undefined when
   * none was sent. A client the fixtures mark requireDpop must send one: RFC 9449 section 5.2 says
   * such a request MUST be rejected without naming the error; CAMARA ICM r4.2 names it:
   * 400 invalid_dpop_proof.
   */
  private async tokenRequestProof (
    header: string | string[] | undefined,
    { client }: AuthenticatedClient
  ): Promise<VerifiedProof | undefined> {
    if (header === undefined) {
      if (requiresDpop(client)) {
        throw new OAuthError(
          INVALID_DPOP_PROOF,
          `client "${client.clientId}" must send a DPoP proof with every token request (RFC 9449)`
        )
      }
      return undefined
    }
    try {
      return await this.dpop.verify({
        header,
        method: 'POST',
        url: this.ctx.urls.tokenEndpoint,
        replayWindowMs: this.ctx.settings.accessTokenTtl * 1000
      })
    } catch (error) {
      if (error instanceof DpopProofError && error.full) {
        throw new OAuthError('temporarily_unavailable', error.description, { statusCode: 503 })
      }
      if (error instanceof DpopProofError) throw new OAuthError(INVALID_DPOP_PROOF, error.description)
      throw error
    }
  }

  private async redeemCode (form: Form, { client }: AuthenticatedClient, leg: Leg): Promise<Redeemed> {
    const code = required(form, 'code')
    const redirectUri = required(form, 'redirect_uri')
    const verifier = field(form, 'code_verifier')
    const record = await this.ctx.store.get('codes', code)
    if (record === undefined) throw new OAuthError('invalid_grant', 'authorization code is unknown or expired')
    const grant = await this.ctx.store.get('grants', record.grantId)
    if (grant !== undefined) leg.flow = flowRefOf(grant)
    const replayed = 'authorization code was already used; the tokens issued with it are revoked'
    // A code already spent is a replay whoever sends it: RFC 6749 section 4.1.2 revokes the grant
    if (await this.ctx.store.get('codeUses', code) === undefined) {
      // Another client's replay is not this client's doing (the entry is filed under the code's flow)
      if (record.clientId === client.clientId) {
        observe(leg, { rule: 'code-once', ok: false, detail: 'the authorization code was redeemed again' })
      }
      if (grant !== undefined) await this.revoke(grant, 'authorization code replayed')
      throw new OAuthError('invalid_grant', replayed)
    }
    if (record.clientId !== client.clientId) {
      throw new OAuthError('invalid_grant', 'authorization code was issued to another client')
    }
    observe(leg, {
      rule: 'redirect-uri',
      ok: record.redirectUri === redirectUri,
      detail: 'the token request\'s redirect_uri differs from the authorization request\'s'
    })
    if (record.redirectUri !== redirectUri) {
      throw new OAuthError('invalid_grant', 'redirect_uri does not match the one of the authorization request')
    }
    if (record.codeChallenge !== undefined) {
      if (verifier === undefined) {
        throw new OAuthError(
          'invalid_grant',
          'code_verifier is required: the authorization request had a code_challenge'
        )
      }
      if (!PKCE_VERIFIER.test(verifier)) {
        throw new OAuthError('invalid_request', 'code_verifier must be 43-128 characters of [A-Za-z0-9-._~]')
      }
      if (!pkceMatches(verifier, record.codeChallenge)) {
        throw new OAuthError('invalid_grant', 'PKCE verification failed: code_verifier does not match code_challenge')
      }
    } else if (verifier !== undefined) {
      throw new OAuthError('invalid_grant', 'code_verifier sent but the authorization request had no code_challenge')
    }
    if (grant === undefined || await this.revocationOf(grant) !== undefined) {
      throw new OAuthError('invalid_grant', 'the grant behind this code is no longer valid')
    }
    observe(leg, { rule: 'code-once', ok: true })
    return {
      grant,
      use: { collection: 'codeUses', key: code, replayed: 'authorization code replayed', description: replayed }
    }
  }

  private async redeemRefreshToken (form: Form, { client }: AuthenticatedClient, leg: Leg): Promise<Redeemed> {
    const token = required(form, 'refresh_token')
    const record = await this.ctx.store.get('refreshTokens', token)
    if (record === undefined) throw new OAuthError('invalid_grant', 'refresh token is unknown, expired or revoked')
    if (record.clientId !== client.clientId) {
      throw new OAuthError('invalid_grant', 'refresh token was issued to another client')
    }
    // Not bound to a DPoP key: every client here authenticates, and RFC 9449 section 5 leaves a
    // confidential client's refresh token unbound (a proof, if sent, binds the new access token)
    const grant = await this.ctx.store.get('grants', record.grantId)
    if (grant === undefined || await this.revocationOf(grant) !== undefined) {
      throw new OAuthError('invalid_grant', 'refresh token is unknown, expired or revoked')
    }
    leg.flow = flowRefOf(grant)
    const nvScopes = grant.scopes.filter((scope) => NUMBER_VERIFICATION_SCOPES.includes(scope))
    observe(leg, { rule: 'no-refresh', ok: nvScopes.length === 0, detail: `a refresh grant for ${nvScopes.join(' ')}` })
    const reused = 'refresh token was already used (rotation): every token of this grant is revoked'
    if (await this.ctx.store.get('refreshTokenUses', token) === undefined) {
      await this.revoke(grant, 'refresh token reused')
      throw new OAuthError('invalid_grant', reused)
    }
    // A refused scope must not spend the token, or the client's retry would count as reuse and revoke the grant
    this.narrowScope(form, grant)
    return {
      grant,
      use: { collection: 'refreshTokenUses', key: token, replayed: 'refresh token reused', description: reused }
    }
  }

  private narrowScope (form: Form, grant: Grant): string[] {
    const requested = field(form, 'scope')
    if (requested === undefined) return grant.scopes
    const scopes = parseScope(requested).scopes
    const extra = scopes.filter((s) => !grant.scopes.includes(s))
    if (extra.length > 0) throw new OAuthError('invalid_scope', `scope exceeds the original grant: ${extra.join(' ')}`)
    return scopes
  }

  private clientCredentialsGrant (form: Form, { client }: AuthenticatedClient, flowId: string): Grant {
    const scope = parseScope(field(form, 'scope') ?? '')
    const refused = scope.scopes.filter((s) =>
      PROTOCOL_SCOPES.includes(s) || (!client.scopes.includes(s) && !s.startsWith('dpv:'))
    )
    if (refused.length > 0) {
      throw new OAuthError(
        'invalid_scope',
        `scope not available with client_credentials for this client: ${refused.join(' ')}`
      )
    }
    const grant: Grant = {
      id: nanoid(16),
      flowId,
      clientId: client.clientId,
      msisdn: undefined,
      operatorId: undefined,
      sub: client.clientId,
      scopes: scope.scopes,
      amr: [],
      authTime: Math.floor(this.ctx.clock.now() / 1000),
      nonce: undefined,
      openid: false,
      offlineAccess: false,
      flowScenarios: [],
      expiresAt: this.ctx.clock.now() + this.ctx.settings.accessTokenTtl * 1000,
      revoked: false
    }
    // Written once the scenarios let the leg go on (token())
    return grant
  }

  /**
   * Mints tokens for a subscriber directly, as if the whole flow had run (control API and
   * programmatic API: backend tests that skip the browser leg).
   */
  async mint (request: MintRequest): Promise<TokenResponse & { flowId: string }> {
    const client = this.ctx.directory().client(request.clientId)
    if (client === undefined) {
      throw new OAuthError('invalid_client', `client_id "${request.clientId}" is not registered`)
    }
    const scope = parseScope(request.scope)
    const { settings } = this.ctx
    const ttlMs = Math.max(settings.refreshTokenTtl, settings.accessTokenTtl) * 1000
    await this.refuseAtGrantCap()
    const grant: Grant = {
      id: nanoid(16),
      flowId: await this.ctx.flows.next(),
      clientId: client.clientId,
      msisdn: request.msisdn,
      operatorId: request.msisdn === undefined ? undefined : this.ctx.directory().subscriber(request.msisdn)?.operator,
      sub: request.msisdn === undefined
        ? client.clientId
        : pairwiseSubject(this.ctx.settings.pairwiseSalt, client.clientId, request.msisdn),
      scopes: scope.scopes,
      amr: request.amr ?? (request.msisdn === undefined ? [] : NETWORK_AMR),
      authTime: Math.floor(this.ctx.clock.now() / 1000),
      nonce: undefined,
      openid: scope.openid,
      offlineAccess: scope.offlineAccess,
      flowScenarios: request.scenarios ?? [],
      expiresAt: this.ctx.clock.now() + ttlMs,
      revoked: false
    }
    await this.ctx.store.put('grants', grant.id, grant, ttlMs)
    const response = await this.issue(grant, grant.scopes, { client, method: 'client_secret_post' }, 'mint')
    return { ...response, flowId: grant.flowId }
  }

  /**
   * A redeemed code's grant, written anew for the lifetime of its tokens (until then it lived
   * only as long as its code): only a grant that may get refresh tokens keeps the refresh lifetime
   */
  private async keepForTokens (grant: Grant): Promise<Grant> {
    const { settings, clock } = this.ctx
    const ttlMs = (
      grant.offlineAccess ? Math.max(settings.refreshTokenTtl, settings.accessTokenTtl) : settings.accessTokenTtl
    ) * 1000
    const kept: Grant = { ...grant, expiresAt: clock.now() + ttlMs }
    await this.ctx.store.put('grants', kept.id, kept, ttlMs)
    return kept
  }

  /** 503 temporarily_unavailable once --max-grants grants are live */
  private async refuseAtGrantCap (): Promise<void> {
    const cap = this.ctx.settings.maxGrants
    if (await this.ctx.store.size('grants') < cap) return
    throw new OAuthError(
      'temporarily_unavailable',
      `this emulator keeps at most ${cap} live grants (--max-grants); try again once some have expired`,
      { statusCode: 503 }
    )
  }

  /**
   * Every token of the grant stops working: a revocation entry for as long as the grant could
   * live (its code's winner may still write it anew for its tokens), and the grant written anew,
   * revoked, for the rest of the life it has
   */
  private async revoke (grant: Grant, reason: string): Promise<void> {
    const { settings, clock } = this.ctx
    const longest = (
      settings.codeTtl +
      (grant.offlineAccess ? Math.max(settings.refreshTokenTtl, settings.accessTokenTtl) : settings.accessTokenTtl)
    ) * 1000
    await this.ctx.store.put('revocations', grant.id, { reason }, longest)
    const left = grant.expiresAt - clock.now()
    if (left > 0) await this.ctx.store.put('grants', grant.id, { ...grant, revoked: true, revokedReason: reason }, left)
  }

  /** Why the grant was revoked, or undefined while it stands */
  private async revocationOf (grant: Grant): Promise<string | undefined> {
    if (grant.revoked) return grant.revokedReason ?? 'revoked'
    return (await this.ctx.store.get('revocations', grant.id))?.reason
  }

  /** Whether camara-strict's Number Verification token rules apply to these scopes */
  private strictFor (scopes: string[]): boolean {
    return this.ctx.settings.profile === 'camara-strict' && scopes.some((s) => NUMBER_VERIFICATION_SCOPES.includes(s))
  }

  private async issue (
    grant: Grant,
    scopes: string[],
    { client }: AuthenticatedClient,
    grantType: string,
    jkt?: string
  ): Promise<TokenResponse> {
    const { clock, store, settings } = this.ctx
    const strict = this.strictFor(scopes)
    const ttl = strict ? Math.min(settings.accessTokenTtl, STRICT_NV_TOKEN_TTL) : settings.accessTokenTtl
    const now = clock.now()
    const accessToken = nanoid(43)
    const record: AccessTokenRecord = {
      grantId: grant.id,
      flowId: grant.flowId,
      clientId: grant.clientId,
      msisdn: grant.msisdn,
      operatorId: grant.operatorId,
      scopes,
      amr: grant.amr,
      expiresAt: now + ttl * 1000,
      issuedAt: now,
      singleUse: strict,
      flowScenarios: grant.flowScenarios,
      ...(jkt === undefined ? {} : { cnf: { jkt } })
    }
    await store.put('accessTokens', accessToken, record, ttl * 1000)
    if (strict) await store.put('accessTokenUses', accessToken, { grantId: grant.id }, ttl * 1000)
    const response: TokenResponse = {
      access_token: accessToken,
      token_type: jkt === undefined ? 'Bearer' : 'DPoP',
      expires_in: ttl,
      scope: scopes.join(' ')
    }

    // A refresh that narrows the scope away from offline_access / openid gets no refresh token / id_token
    if (grant.offlineAccess && scopes.includes('offline_access') && !strict) {
      const refreshToken = nanoid(43)
      // Bound to the proof's key: the next refresh must prove it (the emulator's clients are all
      // confidential, for which RFC 9449 section 5 leaves this to the server; binding is stricter)
      await store.put(
        'refreshTokens',
        refreshToken,
        { grantId: grant.id, clientId: grant.clientId },
        settings.refreshTokenTtl * 1000
      )
      await store.put('refreshTokenUses', refreshToken, { grantId: grant.id }, settings.refreshTokenTtl * 1000)
      response.refresh_token = refreshToken
    }
    if (grant.openid && scopes.includes('openid') && grant.msisdn !== undefined) {
      const iat = Math.floor(now / 1000)
      response.id_token = await this.keys.sign({
        iss: this.ctx.urls.issuer,
        sub: grant.sub,
        aud: grant.clientId,
        azp: grant.clientId,
        exp: iat + ttl,
        iat,
        auth_time: grant.authTime,
        amr: grant.amr,
        ...(grant.nonce !== undefined && grantType === 'authorization_code' ? { nonce: grant.nonce } : {})
      }, client.idTokenSigningAlg)
    }
    return response
  }

  /**
   * Resolves a bearer token for the resource API, without spending it. Always the same generic
   * failure to the caller (401 UNAUTHENTICATED); the reason is for the journal.
   */
  /**
   * The token's record, or why it serves no call: `noLongerValid` for a token that was good and
   * is not any more (revoked, spent), as against one unknown or expired
   */
  async resolveAccessToken (
    token: string | undefined,
    leg: Leg = newLeg(),
    options: { oneCall?: (record: AccessTokenRecord) => boolean } = {}
  ): Promise<{ record: AccessTokenRecord } | { failure: string, noLongerValid?: true }> {
    if (token === undefined || token === '') return { failure: 'no access token' }
    const record = await this.ctx.store.get('accessTokens', token)
    if (record === undefined) return { failure: 'access token is unknown or expired' }
    leg.flow = flowRefOf(record)
    const grant = await this.ctx.store.get('grants', record.grantId)
    if (grant === undefined) return { failure: 'access token was revoked', noLongerValid: true }
    const revoked = await this.revocationOf(grant)
    if (revoked !== undefined) {
      return { failure: `access token was revoked${revoked === 'revoked' ? '' : ` (${revoked})`}`, noLongerValid: true }
    }
    if (record.singleUse && await this.ctx.store.get('accessTokenUses', token) === undefined) {
      return { failure: ALREADY_USED, noLongerValid: true }
    }
    if (!record.singleUse && options.oneCall?.(record) === true &&
      await this.ctx.store.get('accessTokenCalls', token) !== undefined) {
      return { failure: ALREADY_CALLED, noLongerValid: true }
    }
    return { record }
  }

  /**
   * Spends a token's one call: a single-use token's (camara-strict) is taken; with `oneCall` (NV's
   * token rules on /vwip) any other token's call is added once. False when another call won.
   */
  async spendAccessToken (token: string, record: AccessTokenRecord, oneCall = false): Promise<boolean> {
    if (record.singleUse) return await this.ctx.store.take('accessTokenUses', token) !== undefined
    if (!oneCall) return true
    return await this.ctx.store.add(
      'accessTokenCalls',
      token,
      { grantId: record.grantId },
      Math.max(record.expiresAt - this.ctx.clock.now(), 1000)
    )
  }
}

export const ALREADY_USED = 'access token was already used (camara-strict: one API call per token)'
export const ALREADY_CALLED = 'access token was already used (NV after r3.2, /vwip: one API call per token)'
