// CIBA in poll mode (OpenID CIBA Core 1.0, as CAMARA ICM r4.2 profiles it: login_hint only, poll
// only): POST {issuer}/bc-authorize accepts an authentication request for the user a login_hint
// names (operatortoken:, tel:, ipport:) and answers an auth_req_id; the emulated operator's
// decision is fixed at once, by the scenarios (when it comes, approved or denied, or never); the
// token endpoint's ciba grant then answers authorization_pending, slow_down, expired_token or
// access_denied until it can issue the tokens, once.
import { nanoid } from 'nanoid'
import { FLOW_SCENARIO_PARAMETER, NETWORK_AMR, pairwiseSubject } from './authorization.js'
import { field, type AuthenticatedClient, type ClientAuthenticator, type Form } from './client-authentication.js'
import { observe } from './conformance.js'
import type { CoreContext } from './context.js'
import { OAuthError } from './errors.js'
import { BODY_FAULTS, newLeg, type Leg } from './legs.js'
import { HintError, parseLoginHint, type LoginHint } from './login-hint.js'
import { OperatorTokenRefusal, SIM_AMR, type OperatorTokenService } from './operator-tokens.js'
import type { CibaRequest, Grant, SubjectKind } from './records.js'
import { parseScenarioList, type Decision } from './scenarios/engine.js'
import { parseScope, scopeProblem } from './scopes.js'
import { RequestObjects, type RequestObjectUse, type VerifiedRequestObject } from './request-object.js'

export const CIBA_GRANT = 'urn:openid:params:grant-type:ciba'
export const ALREADY_REDEEMED = 'auth_req_id was already used: its tokens were issued'
/** CIBA Core section 11: slow_down grows the interval by at least 5 s */
export const SLOW_DOWN_STEP_S = 5
/** How long an expired request stays known, so that a late poll is told expired_token (seconds) */
const KEPT_AFTER_EXPIRY_S = 600
/** What may come beside a signed authentication request: the request and the client's authentication */
const SIGNED_REQUEST_COMPANIONS = new Set([
  'request', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type', FLOW_SCENARIO_PARAMETER
])

function pick (form: Form, name: string): Form {
  return form[name] === undefined ? {} : { [name]: form[name] }
}

/** Parameters CAMARA replaces with login_hint (ICM r4.2 "Authentication Request") */
const OTHER_HINTS = ['login_hint_token', 'id_token_hint']

export interface BackchannelResponse {
  auth_req_id: string
  expires_in: number
  interval: number
}

/** Who the login_hint names, and how that user counts as authenticated */
interface Subject {
  kind: SubjectKind
  msisdn: string
  operatorId: string
  amr: string[]
  /** The flow an operator token started, which the CIBA request continues */
  flowId: string | undefined
  /** An operator token, taken once the scenarios let the request go on */
  operatorToken: string | undefined
}

export class BackchannelAuthentication {
  private readonly ctx: CoreContext
  private readonly clients: ClientAuthenticator
  private readonly operatorTokens: OperatorTokenService
  private readonly requestObjects: RequestObjects

  constructor (ctx: CoreContext, clients: ClientAuthenticator, operatorTokens: OperatorTokenService) {
    this.ctx = ctx
    this.clients = clients
    this.operatorTokens = operatorTokens
    this.requestObjects = new RequestObjects(ctx)
  }

  /**
   * The authentication request, in the flow sequence: validate the client, the scope and the hint
   * (an operator token checked, not spent), decide the request's scenarios and the operator's
   * decision, take the operator token (of N parallel requests with one token, one is accepted),
   * wait, then record the request. Errors as ICM r4.2 Appendix A lists them.
   */
  async authorize (form: Form, authorization: string | undefined, leg: Leg = newLeg()): Promise<BackchannelResponse> {
    const client = await this.clients.authenticate(form, authorization, leg)
    const { clientId } = client.client
    leg.flow = { clientId }
    if (!(client.client.backendGrants ?? []).includes('ciba')) {
      throw new OAuthError('unauthorized_client', `client "${clientId}" is not allowed to use CIBA`)
    }
    // A signed authentication request (CIBA Core 7.1.1; ICM r4.2: the server MUST support it)
    // carries every parameter; its jti is spent once the scenarios let the request go on
    const jwt = field(form, 'request')
    const signed = jwt === undefined ? undefined : await this.signedRequest(jwt, form, client)
    if (signed !== undefined) form = { ...signed.parameters, ...pick(form, FLOW_SCENARIO_PARAMETER) }
    const otherHint = OTHER_HINTS.find((name) => field(form, name) !== undefined)
    if (otherHint !== undefined) {
      throw new OAuthError('invalid_request',
        `${otherHint} is not used in CAMARA: send login_hint only (ICM r4.2 "Authentication Request")`)
    }
    const scopes = this.scopes(form, client, leg)
    const hintText = field(form, 'login_hint')
    if (hintText === undefined) {
      throw new OAuthError('invalid_request',
        'login_hint is required (tel:+E164, ipport:IP[:port] or operatortoken:<token>)')
    }
    const subject = await this.subject(hintText, client, leg)
    leg.flow = {
      clientId,
      msisdn: subject.msisdn,
      operatorId: subject.operatorId,
      ...(subject.flowId === undefined ? {} : { flowId: subject.flowId })
    }
    const { store, settings, clock } = this.ctx
    if (await store.size('cibaRequests') >= settings.maxPending) {
      throw new OAuthError('temporarily_unavailable',
        `this emulator keeps at most ${settings.maxPending} CIBA requests (--max-pending); ` +
          `a request's place frees ${KEPT_AFTER_EXPIRY_S} s after it expires (kept to answer expired_token)`,
        { statusCode: 503 })
    }
    const flowScenarios = this.ctx.settings.userScenarios ? parseScenarioList(field(form, FLOW_SCENARIO_PARAMETER)) : []
    const flowId = subject.flowId ?? await this.ctx.flows.next()
    leg.flow = { ...leg.flow, flowId }
    const decision = await this.ctx.legs.decide(leg, { operation: 'bc-authorize', flowScenarios })
    await this.ctx.legs.failIfInjected(decision)
    // The operator's decision, on a leg of its own: the request's leg keeps the request's scenarios
    const operatorDecision = await this.ctx.legs.decide({ requested: leg.requested, flow: { ...leg.flow } },
      { operation: 'ciba-decision', flowScenarios })
    if (signed !== undefined) await this.requestObjects.spend(signed, this.signedUse())
    if (subject.operatorToken !== undefined) {
      const won = await this.operatorTokens.spend(subject.operatorToken)
      observe(leg, { rule: 'operator-token-once', ok: won, detail: 'the operator token was redeemed twice at once' })
      if (!won) throw new OAuthError('unknown_user_id', 'login_hint: the operator token was already used')
    }
    await this.ctx.legs.wait(decision)
    const now = clock.now()
    const parsed = parseScope(scopes.join(' '))
    const request: CibaRequest = {
      id: nanoid(32),
      flowId,
      clientId,
      msisdn: subject.msisdn,
      operatorId: subject.operatorId,
      subjectKind: subject.kind,
      scopes,
      amr: subject.amr,
      openid: parsed.openid,
      offlineAccess: parsed.offlineAccess,
      flowScenarios,
      expiresAt: now + settings.cibaExpiresIn * 1000,
      decidesAt: now + operatorDecision.latencyMs,
      decision: decisionOf(operatorDecision),
      decidedBy: operatorDecision.applied.map((applied) => applied.name),
      createdAt: now
    }
    await store.put('cibaRequests', request.id, request, (settings.cibaExpiresIn + KEPT_AFTER_EXPIRY_S) * 1000)
    await store.put('cibaUses', request.id, { flowId }, settings.cibaExpiresIn * 1000)
    return { auth_req_id: request.id, expires_in: settings.cibaExpiresIn, interval: settings.cibaInterval }
  }

  /**
   * A signed authentication request: the object verified as request objects are (the client's
   * JWKS, iss, aud the bc-authorize endpoint or the issuer, iat, exp, nbf and jti, at most 300 s),
   * and no authentication request parameter outside it but the client's authentication
   * (CIBA Core section 7.1.1). Refusals are invalid_request (ICM r4.2 Appendix A).
   */
  private async signedRequest (
    jwt: string, form: Form, { client }: AuthenticatedClient
  ): Promise<VerifiedRequestObject> {
    const outside = Object.keys(form).filter((name) => form[name] !== undefined && !SIGNED_REQUEST_COMPANIONS.has(name))
    if (outside.length > 0) {
      throw new OAuthError('invalid_request', 'a signed authentication request carries every parameter: ' +
        `send ${outside.join(', ')} inside the request object only (CIBA Core section 7.1.1)`)
    }
    return await this.requestObjects.verify(jwt, client, this.signedUse())
  }

  private signedUse (): RequestObjectUse {
    return {
      audiences: [this.ctx.urls.backchannelAuthenticationEndpoint, this.ctx.urls.issuer],
      requiredClaims: ['nbf'],
      refuse: (description) => new OAuthError('invalid_request', description)
    }
  }

  /** The request an auth_req_id names, for this client, not yet expired (CIBA Core section 11) */
  async find (form: Form, { client }: AuthenticatedClient, leg: Leg): Promise<CibaRequest> {
    const id = field(form, 'auth_req_id')
    if (id === undefined) throw new OAuthError('invalid_request', 'auth_req_id is required with the ciba grant')
    const request = await this.ctx.store.get('cibaRequests', id)
    if (request === undefined) throw new OAuthError('invalid_grant', 'auth_req_id is unknown')
    if (request.clientId !== client.clientId) {
      throw new OAuthError('invalid_grant', 'auth_req_id was issued to another client')
    }
    leg.flow = {
      flowId: request.flowId,
      clientId: request.clientId,
      msisdn: request.msisdn,
      operatorId: request.operatorId
    }
    if (request.expiresAt <= this.ctx.clock.now()) {
      throw new OAuthError('expired_token', 'auth_req_id has expired: make a new authentication request')
    }
    if (await this.ctx.store.get('cibaUses', id) === undefined) throw new OAuthError('invalid_grant', ALREADY_REDEEMED)
    return request
  }

  /**
   * The poll's answer while no tokens can be issued: slow_down for a poll sooner than the interval
   * after the last one (the interval then grows by 5 s, for this and every later poll),
   * authorization_pending until the operator decides, access_denied once it refused
   */
  async poll (request: CibaRequest): Promise<void> {
    const { store, clock, settings } = this.ctx
    const now = clock.now()
    const last = await store.get('cibaPolls', request.id)
    const ttl = Math.max(request.expiresAt - now, 1000)
    const interval = last?.interval ?? settings.cibaInterval
    // The slot for this interval, added atomically: of polls sent together one is on time, the
    // rest are too soon (reading the last poll, then writing it, let them all through)
    if (!await store.add('cibaPollSlots', request.id, true, interval * 1000)) {
      const grown = interval + SLOW_DOWN_STEP_S
      // The slow_down counts as the last poll: the next one is due a whole grown interval later
      await store.put('cibaPolls', request.id, { lastPolledAt: now, interval: grown }, ttl)
      await store.put('cibaPollSlots', request.id, true, grown * 1000)
      const since = last === undefined
        ? ''
        : ` ${Math.round((now - last.lastPolledAt) / 100) / 10} s after the last poll`
      throw new OAuthError('slow_down', `polled${since}; wait at least ${grown} s between polls`)
    }
    await store.put('cibaPolls', request.id, { lastPolledAt: now, interval }, ttl)
    const { decision } = request
    if (decision.outcome === 'never' || now < request.decidesAt) {
      const reason = decision.outcome === 'never'
        ? `the user's device never answers (scenario ${request.decidedBy.join(', ')})`
        : `the operator decides in ${Math.ceil((request.decidesAt - now) / 1000)} s`
      throw new OAuthError('authorization_pending', 'the user has not been authenticated yet', { reason })
    }
    if (decision.outcome === 'denied') {
      throw new OAuthError(decision.error, decision.description, {
        statusCode: decision.status,
        reason: `the operator refused (scenario ${request.decidedBy.join(', ')})`
      })
    }
  }

  /** Takes the request's single redemption: false when another poll took it first */
  async spend (request: CibaRequest): Promise<boolean> {
    return await this.ctx.store.take('cibaUses', request.id) !== undefined
  }

  /** The grant an approved request gives: as long as its tokens (a refresh token's when offline_access) */
  grantOf (request: CibaRequest): Grant {
    const { settings, clock } = this.ctx
    const ttl = request.offlineAccess
      ? Math.max(settings.refreshTokenTtl, settings.accessTokenTtl)
      : settings.accessTokenTtl
    return {
      id: nanoid(16),
      flowId: request.flowId,
      clientId: request.clientId,
      msisdn: request.msisdn,
      operatorId: request.operatorId,
      sub: pairwiseSubject(settings.pairwiseSalt, request.clientId, request.msisdn),
      scopes: request.scopes,
      amr: request.amr,
      authTime: Math.floor(request.decidesAt / 1000),
      nonce: undefined,
      openid: request.openid,
      offlineAccess: request.offlineAccess,
      flowScenarios: request.flowScenarios,
      expiresAt: clock.now() + ttl * 1000,
      revoked: false
    }
  }

  private scopes (form: Form, { client }: AuthenticatedClient, leg: Leg): string[] {
    const text = field(form, 'scope')
    if (text === undefined) {
      throw new OAuthError('invalid_request', 'scope is required (openid, a dpv: purpose and the API scopes)')
    }
    const scope = parseScope(text)
    observe(leg, {
      rule: 'purpose',
      ok: scope.purposes.length === 1,
      detail: `${scope.purposes.length} dpv: purposes in the scope`
    })
    if (!scope.openid) {
      throw new OAuthError('invalid_scope', 'a CIBA request\'s scope must contain openid (CIBA Core section 7.1)')
    }
    const problem = scopeProblem(scope, client.scopes, { requirePurpose: this.ctx.settings.requirePurpose })
    if (problem !== undefined) throw new OAuthError('invalid_scope', problem)
    return scope.scopes
  }

  /** The user the login_hint names, or unknown_user_id (access_denied for a token this client may not use) */
  private async subject (text: string, { client }: AuthenticatedClient, leg: Leg): Promise<Subject> {
    let hint: LoginHint
    try {
      hint = parseLoginHint(text)
    } catch (error) {
      if (error instanceof HintError) throw new OAuthError('invalid_request', error.message)
      throw error
    }
    const directory = this.ctx.directory()
    if (hint.kind === 'operatortoken') {
      try {
        const { record } = await this.operatorTokens.check(hint.token, client.clientId)
        return {
          kind: 'operatortoken',
          msisdn: record.msisdn,
          operatorId: record.operatorId,
          amr: SIM_AMR,
          flowId: record.flowId,
          operatorToken: hint.token
        }
      } catch (error) {
        if (!(error instanceof OperatorTokenRefusal)) throw error
        leg.flow = { ...leg.flow, flowId: error.flowId }
        if (error.problem === 'used') {
          observe(leg, { rule: 'operator-token-once', ok: false, detail: 'the operator token was redeemed again' })
        }
        const denied = error.problem === 'other-client' || error.problem === 'no-sim-support'
        throw new OAuthError(denied ? 'access_denied' : 'unknown_user_id', `login_hint: ${error.message}`,
          { ...(denied ? { statusCode: 403 } : {}), reason: `login_hint: ${error.detail}` })
      }
    }
    if (hint.kind === 'tel') {
      const subscriber = directory.subscriber(hint.msisdn)
      if (subscriber === undefined) {
        throw new OAuthError('unknown_user_id',
          `login_hint: ${hint.msisdn} is not a subscriber of this gateway's operators`)
      }
      // The client asserted the number: the operator's decision authenticates no SIM and no network attachment
      return {
        kind: 'tel',
        msisdn: hint.msisdn,
        operatorId: subscriber.operator,
        amr: [],
        flowId: undefined,
        operatorToken: undefined
      }
    }
    if (hint.kind === 'ipport') {
      const subscriber = directory.subscriberForAddress(hint.address)
      if (subscriber === undefined || subscriber.connection !== 'mobile-data' ||
        !subscriber.authMethods.includes('network')) {
        throw new OAuthError('unknown_user_id',
          `login_hint: no subscriber is on an operator's mobile network at ${hint.address.text}`)
      }
      return {
        kind: 'ipport',
        msisdn: subscriber.msisdn,
        operatorId: subscriber.operator,
        amr: NETWORK_AMR,
        flowId: undefined,
        operatorToken: undefined
      }
    }
    throw new OAuthError('unknown_user_id',
      `login_hint "${text}" is none of tel:, ipport:, operatortoken: (ICM r4.2 "Format of login_hint")`)
  }
}

/** The operator's decision as the scenarios shaped it: an error is its refusal, a fault no answer at all */
function decisionOf (decision: Decision): CibaRequest['decision'] {
  if (decision.error !== undefined) {
    const { error } = decision
    if (error.kind === 'oauth') {
      return { outcome: 'denied', error: error.error, description: error.description, status: error.status }
    }
    return {
      outcome: 'denied',
      error: 'access_denied',
      description: 'The user denied the authorization request.',
      status: 400
    }
  }
  if (decision.fault !== undefined && !BODY_FAULTS.has(decision.fault.type)) return { outcome: 'never' }
  return { outcome: 'approved' }
}
