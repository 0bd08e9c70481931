// The browser leg of the flow: the gateway validates the authorization request and routes it to
// an operator (telco finder); the operator identifies the device from its network address and
// the gateway's store hands out the authorization code the app redeems at the token endpoint.
import { createHmac } from 'node:crypto'
import { nanoid } from 'nanoid'
import type { ClientFixture, OperatorFixture, SubscriberFixture } from './fixture-schema.js'
import type { CoreContext } from './context.js'
import { AuthorizeError, appendQuery } from './errors.js'
import { HintError, parseKoneraContext, parseLoginHint, type KoneraContext, type LoginHint } from './login-hint.js'
import { parseAddress, type NetworkAddress } from './network-address.js'
import { NUMBER_VERIFICATION_SCOPES, parseScope, scopeProblem } from './scopes.js'
import { fingerprint, observe } from './conformance.js'
import { parseScenarioList } from './scenarios/engine.js'
import { newLeg, type Leg } from './legs.js'
import type { AuthorizationCode, Grant, PendingAuthorization } from './records.js'
import { OperatorTokenRefusal, SIM_AMR, type OperatorTokenService } from './operator-tokens.js'
import {
  authorizeUse, DUPLICATED_PARAMETERS, INVALID_REQUEST_OBJECT, RequestObjects, type VerifiedRequestObject
} from './request-object.js'

export type { AuthorizationCode, Grant, PendingAuthorization } from './records.js'

export type QueryValue = string | string[] | undefined
export type Query = Record<string, QueryValue>

const PROMPTS = ['none', 'login', 'consent', 'select_account']
const PKCE_CHALLENGE = /^[A-Za-z0-9\-._~]{43,128}$/
/** Parameters that must not repeat (RFC 6749 section 3.1) */
/**
 * The longest value of each parameter the emulator keeps for a pending request: far above what
 * real clients send (a 43-character state, a 22-character nonce), far below what fills memory
 */
export const PARAMETER_LIMITS: ReadonlyArray<readonly [string, number]> = [
  ['state', 2048], ['nonce', 512], ['scope', 1024], ['login_hint', 512], ['konera_context', 512],
  ['acr_values', 256], ['prompt', 64], ['emulator_scenario', 512]
]

const SINGLE_VALUED = [
  'response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'nonce', 'prompt', 'login_hint', 'konera_context',
  'code_challenge', 'code_challenge_method', 'acr_values', 'emulator_scenario'
]
/** Query parameter choosing scenarios for the whole flow (the emulator's own, not OAuth's) */
export const FLOW_SCENARIO_PARAMETER = 'emulator_scenario'

/** How the operator placed (or failed to place) the device */
export type Identification =
  | { outcome: 'network', subscriber: SubscriberFixture | undefined, msisdn: string, via: string }
  | { outcome: 'fallback', subscriber: SubscriberFixture, msisdn: string, method: 'sms-otp' }
  /** --operator-token-login-hint: the device named by login_hint=operatortoken:, taken once the leg goes on */
  | { outcome: 'sim', subscriber: SubscriberFixture, msisdn: string, operatorToken: string }
  /** `detail`: the reason in words for the journal, when it says more than the answer may */
  | { outcome: 'failed', reason: string, detail?: string }

export const NETWORK_AMR = ['nba', 'mnba']
export const SMS_OTP_AMR = ['sms', 'otp']

function single (query: Query, name: string): string | undefined {
  const value = query[name]
  return Array.isArray(value) ? value[0] : value
}

function nonEmpty (value: string | undefined): string | undefined {
  return value === '' ? undefined : value
}

const STATE_LIMIT = PARAMETER_LIMITS.find(([name]) => name === 'state')?.[1] ?? 0

/** A state an error may carry back: one over its limit is not echoed */
function echoableState (state: string | undefined): string | undefined {
  return state !== undefined && state.length <= STATE_LIMIT ? state : undefined
}

/** The device an authorization request names, as a fingerprint: what tells a retry from another user's request */
function deviceKey (
  konera: KoneraContext | undefined, hint: LoginHint | undefined, source: string | undefined
): string {
  return fingerprint(JSON.stringify([konera ?? null, hint ?? null, source ?? null]))
}

/** The pairwise subject identifier: stable per (client, subscriber), unlinkable across clients */
export function pairwiseSubject (salt: string, clientId: string, msisdn: string): string {
  return createHmac('sha256', salt).update(`${clientId}\n${msisdn}`).digest('base64url')
}

/** Told of every flow the gateway starts (the demo app learns its flows' ids this way) */
export type FlowStartListener = (pending: Readonly<PendingAuthorization>) => void

/** The parameters a request is processed with, and the request object they came from (if any) */
export interface ResolvedRequest {
  query: Query
  requestObject: VerifiedRequestObject | undefined
}

export class AuthorizationService {
  private readonly ctx: CoreContext
  private readonly requestObjects: RequestObjects
  private readonly startListeners = new Set<FlowStartListener>()
  private readonly operatorTokens: OperatorTokenService | undefined

  constructor (ctx: CoreContext, operatorTokens?: OperatorTokenService) {
    this.ctx = ctx
    this.operatorTokens = operatorTokens
    this.requestObjects = new RequestObjects(ctx)
  }

  /** Calls the listener with each flow started from now on; returns the function that stops it */
  onFlowStart (listener: FlowStartListener): () => void {
    const subscription: FlowStartListener = (pending) => listener(pending)
    this.startListeners.add(subscription)
    return () => { this.startListeners.delete(subscription) }
  }

  /**
   * Validates the authorization request in the order RFC 6749 demands: first whether the client
   * and redirect_uri can be trusted (else no redirect), then everything else (errors redirect).
   */
  validate (query: Query): Omit<
    PendingAuthorization, 'id' | 'flowId' | 'operatorId' | 'gatewaySource' | 'createdAt'
  > & { client: ClientFixture } {
    const { client, clientId, redirectUri } = this.trustedClient(query)

    // From here on the client can be told by redirect; a state over its limit is not echoed
    const tooLong = PARAMETER_LIMITS.find(([name, limit]) => (single(query, name)?.length ?? 0) > limit)
    if (tooLong !== undefined) {
      const [name, limit] = tooLong
      throw new AuthorizeError('invalid_request', `${name} must be at most ${limit} characters`,
        { redirectUri, state: name === 'state' ? undefined : single(query, 'state') })
    }
    const state = single(query, 'state')
    // Annotated so that TypeScript narrows after a call (it only does for declared never-returning functions)
    const fail: (error: string, description: string) => never = (error, description) => {
      throw new AuthorizeError(error, description, { redirectUri, state })
    }
    const repeated = SINGLE_VALUED.find((name) => Array.isArray(query[name]))
    if (repeated !== undefined) fail('invalid_request', `${repeated} must not be repeated`)

    const responseType = nonEmpty(single(query, 'response_type'))
    if (responseType === undefined) fail('invalid_request', 'response_type is required')
    if (responseType !== 'code') {
      fail('unsupported_response_type', `response_type "${responseType ?? ''}" is not supported; use code`)
    }

    const scopeText = nonEmpty(single(query, 'scope'))
    if (scopeText === undefined) fail('invalid_request', 'scope is required')
    const scope = parseScope(scopeText)
    const problem = scopeProblem(scope, client.scopes, { requirePurpose: this.ctx.settings.requirePurpose })
    if (problem !== undefined) fail('invalid_scope', problem)

    const prompt = (nonEmpty(single(query, 'prompt')) ?? '').split(' ').filter((p) => p !== '')
    const unknownPrompt = prompt.find((p) => !PROMPTS.includes(p))
    if (unknownPrompt !== undefined) fail('invalid_request', `prompt value "${unknownPrompt}" is not supported`)
    if (prompt.includes('none') && prompt.length > 1) {
      fail('invalid_request', 'prompt=none cannot be combined with other values')
    }

    const codeChallenge = nonEmpty(single(query, 'code_challenge'))
    const method = nonEmpty(single(query, 'code_challenge_method'))
    if (codeChallenge === undefined) {
      if (client.requirePkce) {
        fail('invalid_request', 'PKCE is required for this client: send code_challenge and code_challenge_method=S256')
      }
      if (method !== undefined) fail('invalid_request', 'code_challenge_method was sent without code_challenge')
    } else {
      if (method !== 'S256') {
        fail('invalid_request', `code_challenge_method "${method ?? 'plain'}" is not supported; use S256`)
      }
      if (!PKCE_CHALLENGE.test(codeChallenge)) {
        fail('invalid_request', 'code_challenge must be 43-128 characters of [A-Za-z0-9-._~]')
      }
    }

    let loginHint: LoginHint | undefined
    let konera: KoneraContext | undefined
    try {
      const hint = nonEmpty(single(query, 'login_hint'))
      if (hint !== undefined) loginHint = parseLoginHint(hint)
      const context = nonEmpty(single(query, 'konera_context'))
      if (context !== undefined) konera = parseKoneraContext(context)
    } catch (error) {
      if (error instanceof HintError) fail('invalid_request', error.message)
      throw error
    }

    const flowScenarios = [
      ...parseScenarioList(single(query, FLOW_SCENARIO_PARAMETER)),
      ...(konera?.scenarios ?? [])
      // --no-user-scenarios: a shared demo's visitors cannot pick scenarios for their flows
    ].filter(() => this.ctx.settings.userScenarios)

    return {
      client,
      clientId,
      redirectUri,
      state,
      flowScenarios: [...new Set(flowScenarios)],
      nonce: nonEmpty(single(query, 'nonce')),
      scope,
      prompt,
      loginHint,
      konera,
      codeChallenge
    }
  }

  /**
   * RFC 9101: the parameters the request is processed with. Without request or request_uri, the
   * query's. With a request object, its own only (section 6.3), once its signature and claims pass
   * and the parameters the query must repeat (client_id, response_type, redirect_uri, scope) equal
   * its values; the emulator's emulator_scenario, no OAuth parameter, may still come from the
   * query. request_uri is not supported. Until the object is trusted, errors carry the query's
   * state; after, the object's.
   */
  async resolveRequest (query: Query): Promise<ResolvedRequest> {
    if (query.request === undefined && query.request_uri === undefined) return { query, requestObject: undefined }
    const { client, redirectUri } = this.trustedClient(query)
    const queryState = single(query, 'state')
    const untrusted = { redirectUri, state: echoableState(queryState) }
    for (const name of ['request', 'request_uri']) {
      if (Array.isArray(query[name])) {
        throw new AuthorizeError('invalid_request', `${name} must not be repeated`, untrusted)
      }
    }
    const jwt = nonEmpty(single(query, 'request'))
    const uri = nonEmpty(single(query, 'request_uri'))
    if (jwt !== undefined && uri !== undefined) {
      throw new AuthorizeError('invalid_request', 'request and request_uri must not both be sent (RFC 9101 section 5)',
        untrusted)
    }
    if (uri !== undefined) {
      throw new AuthorizeError('request_uri_not_supported',
        'request_uri is not supported: send the request object by value in the request parameter', untrusted)
    }
    // An empty value counts as absent (RFC 6749 section 3.1)
    if (jwt === undefined) return { query, requestObject: undefined }

    const requestObject = await this.requestObjects.verify(jwt, client, authorizeUse(this.ctx.urls, untrusted))
    const { parameters } = requestObject
    const trusted = { redirectUri, state: echoableState(parameters.state) }
    for (const name of DUPLICATED_PARAMETERS) {
      const inObject = parameters[name]
      if (inObject === undefined) {
        throw new AuthorizeError(INVALID_REQUEST_OBJECT,
          `request object lacks ${name}: it must carry every authorization parameter (RFC 9101 section 4)`, trusted)
      }
      if (Array.isArray(query[name])) {
        throw new AuthorizeError('invalid_request', `${name} must not be repeated`, trusted)
      }
      if (nonEmpty(single(query, name)) === undefined) {
        throw new AuthorizeError('invalid_request',
          `${name} is required in the query too, with the request object's value (OpenID Connect Core 6.1)`, trusted)
      }
      if (single(query, name) !== inObject) {
        throw new AuthorizeError(INVALID_REQUEST_OBJECT,
          `${name} in the query differs from the request object's ${name}`, trusted)
      }
    }
    const scenarios = parameters[FLOW_SCENARIO_PARAMETER] ?? query[FLOW_SCENARIO_PARAMETER]
    const chosen = scenarios === undefined ? {} : { [FLOW_SCENARIO_PARAMETER]: scenarios }
    return { query: { ...parameters, ...chosen }, requestObject }
  }

  /**
   * What the request shows of the client against the conformance rules, valid or not: one
   * purpose, prompt=none for Number Verification, PKCE with S256, a fresh state and nonce, an
   * exactly registered redirect_uri
   */
  private observeRequest (leg: Leg, client: ClientFixture, query: Query): void {
    const value = (name: string): string | undefined => nonEmpty(single(query, name))
    const redirectUri = value('redirect_uri')
    const registered = redirectUri !== undefined && this.registersRedirect(client, redirectUri)
    observe(leg, {
      rule: 'redirect-uri',
      ok: registered,
      detail: `redirect_uri ${redirectUri === undefined ? 'missing' : `"${redirectUri}" is not registered`}`
    })
    const scope = parseScope(value('scope') ?? '')
    observe(leg, {
      rule: 'purpose',
      ok: scope.purposes.length === 1,
      detail: `${scope.purposes.length} dpv: purposes in the scope`
    })
    if (scope.apiScopes.some((s) => NUMBER_VERIFICATION_SCOPES.includes(s))) {
      const prompt = value('prompt')
      observe(leg, {
        rule: 'prompt-none',
        ok: prompt === 'none',
        detail: prompt === undefined ? 'no prompt' : `prompt=${prompt}`
      })
    }
    const challenge = value('code_challenge')
    const method = value('code_challenge_method')
    observe(leg, {
      rule: 'pkce',
      ok: challenge !== undefined && method === 'S256',
      detail: challenge === undefined ? 'no code_challenge' : `code_challenge_method ${method ?? '(none: plain)'}`
    })
    // PKCE protects against CSRF on its own: then state and nonce are the client's choice, and
    // graded only for being fresh when sent (ICM r4.2 "Cross-Site Request Forgery Protection")
    const pkce = challenge !== undefined && method === 'S256'
    const state = value('state')
    if (state !== undefined) {
      observe(leg, { rule: 'state', ok: true, detail: 'the same state', fresh: fingerprint(state) })
    } else if (!pkce) {
      observe(leg, { rule: 'state', ok: false, detail: 'no state, and no PKCE' })
    }
    if (scope.openid) {
      const nonce = value('nonce')
      if (nonce !== undefined) {
        observe(leg, { rule: 'nonce', ok: true, detail: 'the same nonce', fresh: fingerprint(nonce) })
      } else if (!pkce) {
        observe(leg, { rule: 'nonce', ok: false, detail: 'no nonce, and no PKCE' })
      }
    }
  }

  /** Whether the redirect_uri is exactly one the client registered (a relative one follows the public URL) */
  private registersRedirect (client: ClientFixture, redirectUri: string): boolean {
    return client.redirectUris.some((registered) =>
      resolveRedirectUri(registered, this.ctx.urls.publicUrl) === redirectUri)
  }

  /** The client and its redirect_uri, checked before anything else: only once both are known can errors redirect */
  private trustedClient (query: Query): { client: ClientFixture, clientId: string, redirectUri: string } {
    const directory = this.ctx.directory()
    const clientId = nonEmpty(single(query, 'client_id'))
    if (Array.isArray(query.client_id)) throw new AuthorizeError('invalid_request', 'client_id must not be repeated')
    if (clientId === undefined) throw new AuthorizeError('invalid_request', 'client_id is required')
    const client = directory.client(clientId)
    if (client === undefined) {
      throw new AuthorizeError('unauthorized_client', `client_id "${clientId}" is not registered`)
    }
    if (Array.isArray(query.redirect_uri)) {
      throw new AuthorizeError('invalid_request', 'redirect_uri must not be repeated')
    }
    const redirectUri = nonEmpty(single(query, 'redirect_uri'))
    if (redirectUri === undefined) throw new AuthorizeError('invalid_request', 'redirect_uri is required')
    if (!this.registersRedirect(client, redirectUri)) {
      throw new AuthorizeError('invalid_request',
        `redirect_uri "${redirectUri}" is not registered for client "${clientId}"`)
    }
    return { client, clientId, redirectUri }
  }

  /**
   * The gateway leg: validate (a request object first: resolveRequest), route to an operator,
   * decide the scenarios (their errors redirect), spend the request object's jti, wait, then
   * remember the request for the operator leg.
   */
  async start (
    query: Query, gatewaySource: string | undefined, leg: Leg = newLeg()
  ): Promise<{ location: string, pending: PendingAuthorization }> {
    // A refusal of a registered client's request is filed under the client (journal, report)
    const registered = this.ctx.directory().client(single(query, 'client_id') ?? '')
    if (registered !== undefined) leg.flow = { clientId: registered.clientId }
    let resolved: ResolvedRequest
    try {
      resolved = await this.resolveRequest(query)
    } catch (error) {
      if (registered !== undefined) this.observeRequest(leg, registered, query)
      throw error
    }
    const { query: parameters, requestObject } = resolved
    if (registered !== undefined) this.observeRequest(leg, registered, parameters)
    const { client: _client, ...request } = this.validate(parameters)
    const redirect = { redirectUri: request.redirectUri, state: request.state }
    leg.flow = { clientId: request.clientId }
    const device = deviceKey(request.konera, request.loginHint, gatewaySource)
    observe(leg, { rule: 'no-retry-loop', ok: true, retry: { kind: 'attempt', device } })
    const operator = this.routeToOperator(request.konera, request.loginHint, gatewaySource)
    if (operator === undefined) {
      observe(leg, { rule: 'no-retry-loop', ok: true, retry: { kind: 'refusal', device } })
      throw new AuthorizeError(request.prompt.includes('none') ? 'login_required' : 'access_denied',
        'no operator could be found for this device (no address in an operator range, ' +
          'no tel: hint with a known prefix, no default operator)',
        redirect)
    }
    const pending: PendingAuthorization = {
      ...request,
      id: nanoid(24),
      flowId: await this.ctx.flows.next(),
      operatorId: operator.id,
      gatewaySource,
      createdAt: this.ctx.clock.now()
    }
    leg.flow = { flowId: pending.flowId, clientId: pending.clientId, operatorId: pending.operatorId }
    await this.refuseAtCap('pending', this.ctx.settings.maxPending, '--max-pending', redirect)
    const decision = await this.ctx.legs.decide(leg,
      { operation: 'authorize', flowScenarios: pending.flowScenarios, redirect })
    await this.ctx.legs.failIfInjected(decision, redirect)
    // The object's single use: an injected error (decided before) leaves it usable for a retry
    if (requestObject !== undefined) {
      await this.requestObjects.spend(requestObject, authorizeUse(this.ctx.urls, redirect))
    }
    await this.ctx.legs.wait(decision)
    await this.ctx.store.put('pending', pending.id, pending, this.ctx.settings.pendingTtl * 1000)
    for (const listener of this.startListeners) listener(pending)
    const location = appendQuery(this.ctx.urls.operatorAuthorization(operator.id), { request_id: pending.id })
    return { location, pending }
  }

  /**
   * Telco finder: the first hinted or observed address inside an operator's ranges, then the
   * operator of a tel: hint (its subscriber record, else the longest number prefix), then the
   * fixtures' default operator.
   */
  routeToOperator (
    konera: KoneraContext | undefined, hint: LoginHint | undefined, source: string | undefined
  ): OperatorFixture | undefined {
    const directory = this.ctx.directory()
    for (const address of candidateAddresses(konera, hint, source)) {
      const operator = directory.operatorForAddress(address)
      if (operator !== undefined) return operator
    }
    if (hint?.kind === 'tel') {
      const subscriber = directory.subscriber(hint.msisdn)
      const operator = subscriber !== undefined
        ? directory.operator(subscriber.operator)
        : directory.operatorForNumber(hint.msisdn)
      if (operator !== undefined) return operator
    }
    const fallback = directory.fixtures.defaultOperator
    return fallback === undefined ? undefined : directory.operator(fallback)
  }

  /** Looks up the pending request the operator endpoint was sent (without spending it) */
  async pending (
    operatorId: string, requestId: string | undefined, leg: Leg = newLeg()
  ): Promise<PendingAuthorization> {
    if (requestId === undefined || requestId === '') {
      throw new AuthorizeError('invalid_request',
        'request_id is required: start the flow at the gateway authorize endpoint', undefined, RESTART)
    }
    const pending = await this.ctx.store.get('pending', requestId)
    if (pending === undefined) throw unknownRequest()
    leg.flow = { flowId: pending.flowId, clientId: pending.clientId, operatorId: pending.operatorId }
    if (pending.operatorId !== operatorId) {
      throw new AuthorizeError('invalid_request',
        `this authorization request was routed to operator "${pending.operatorId}", not "${operatorId}"`,
        undefined, RESTART)
    }
    return pending
  }

  /**
   * The operator leg: identify the device, record the grant and redirect to the app with a code,
   * or with the OAuth error the operator would give.
   */
  async completeAtOperator (
    operatorId: string, requestId: string | undefined, operatorSource: string | undefined, leg: Leg = newLeg()
  ): Promise<OperatorOutcome> {
    const pending = await this.pending(operatorId, requestId, leg)
    const operator = this.ctx.directory().operator(operatorId)
    if (operator === undefined) {
      throw new AuthorizeError('temporarily_unavailable', `operator "${operatorId}" is no longer configured`,
        { redirectUri: pending.redirectUri, state: pending.state })
    }
    let identification = this.identifyDevice(operator, pending, operatorSource)
    if (identification.outcome === 'failed') {
      identification = await this.identifyByOperatorToken(operator, pending) ?? identification
    }
    return await this.concludeAtOperator(pending, identification, leg)
  }

  /**
   * Behind --operator-token-login-hint (CAMARA contests it: ICM#232): a device the network cannot
   * place, named by login_hint=operatortoken:, is authenticated by that token when it is this
   * operator's, issued for this client, unexpired and unspent. Undefined when the option is off or
   * the hint is no operator token.
   */
  private async identifyByOperatorToken (
    operator: OperatorFixture, pending: PendingAuthorization
  ): Promise<Identification | undefined> {
    const hint = pending.loginHint
    if (!this.ctx.settings.operatorTokenLoginHint || hint?.kind !== 'operatortoken' ||
      this.operatorTokens === undefined) return undefined
    try {
      const { record, subscriber } = await this.operatorTokens.check(hint.token, pending.clientId)
      if (record.operatorId !== operator.id) {
        return {
          outcome: 'failed',
          reason: `${operator.name} cannot redeem the operator token: it is ${record.operatorId}'s`
        }
      }
      return { outcome: 'sim', subscriber, msisdn: record.msisdn, operatorToken: hint.token }
    } catch (error) {
      if (error instanceof OperatorTokenRefusal) {
        const failed = `${operator.name} cannot authenticate the device: `
        return { outcome: 'failed', reason: failed + error.message, detail: failed + error.detail }
      }
      throw error
    }
  }

  /**
   * The simulated operator network (operators with `simPicker`): when the operator cannot place
   * the device at all and the request allows interaction, it may ask which of its SIMs the
   * browser is on instead of failing. Returns the SIMs to offer, or undefined when the normal
   * operator leg applies. The request stays pending for completeWithChosenSim.
   */
  async offerSimPicker (
    operatorId: string, requestId: string | undefined, operatorSource: string | undefined, leg: Leg = newLeg()
  ): Promise<SimPickerOffer | undefined> {
    const pending = await this.pending(operatorId, requestId, leg)
    const directory = this.ctx.directory()
    const operator = directory.operator(operatorId)
    if (operator?.simPicker !== true || pending.prompt.includes('none')) return undefined
    // An operator token names the device (when the option takes it): the picker has nothing to ask
    if (this.ctx.settings.operatorTokenLoginHint && pending.loginHint?.kind === 'operatortoken') return undefined
    if (this.identifyDevice(operator, pending, operatorSource).outcome !== 'failed') return undefined
    if (this.placesDevice(operator, pending, operatorSource)) return undefined
    const sims = directory.fixtures.subscribers.filter((s) => s.operator === operator.id)
    if (sims.length === 0) return undefined
    if (pending.simPickerOffered === true) return { pending, operator, sims }
    // Written anew (stored values are never changed in place), for the time the request has left
    const offered: PendingAuthorization = { ...pending, simPickerOffered: true }
    const left = pending.createdAt + this.ctx.settings.pendingTtl * 1000 - this.ctx.clock.now()
    await this.ctx.store.put('pending', pending.id, offered, Math.max(left, 1))
    return { pending: offered, operator, sims }
  }

  /**
   * The SIM picker's answer: the browser is on the chosen SIM (undefined: on none of them). The
   * device is then identified as the fixtures describe that SIM: a SIM on mobile data with
   * network authentication is a network authentication. Single use, like the operator leg.
   */
  async completeWithChosenSim (
    operatorId: string, requestId: string | undefined, msisdn: string | undefined, leg: Leg = newLeg()
  ): Promise<OperatorOutcome> {
    const pending = await this.pending(operatorId, requestId, leg)
    if (pending.simPickerOffered !== true) {
      throw new AuthorizeError('invalid_request', 'no SIM choice was offered for this authorization request', undefined,
        'Start again from the app: the operator asks which SIM the browser is on only when it cannot place ' +
          'the device itself.')
    }
    const operator = this.ctx.directory().operator(operatorId)
    if (operator === undefined) {
      throw new AuthorizeError('temporarily_unavailable', `operator "${operatorId}" is no longer configured`,
        { redirectUri: pending.redirectUri, state: pending.state })
    }
    const chosen = msisdn === undefined ? undefined : this.ctx.directory().subscriber(msisdn)
    let identification: Identification
    if (msisdn === undefined) {
      identification = {
        outcome: 'failed',
        reason: `${operator.name} cannot identify the device: the browser is on none of its SIMs ` +
          '(simulated operator network)'
      }
    } else if (chosen === undefined || chosen.operator !== operator.id) {
      identification = {
        outcome: 'failed',
        reason: `${operator.name} has no SIM ${msisdn} (simulated operator network)`
      }
    } else {
      identification = identifyChosenSim(operator, chosen)
    }
    return await this.concludeAtOperator(pending, identification, leg)
  }

  /**
   * The end of the operator leg, in the flow sequence: scenarios decided (their errors redirect as
   * the operator's own and leave the request pending), the request taken (one completion wins),
   * the injected latency, then the code or the error the operator gives.
   */
  private async concludeAtOperator (
    pending: PendingAuthorization, identification: Identification, leg: Leg
  ): Promise<OperatorOutcome> {
    const redirect = { redirectUri: pending.redirectUri, state: pending.state }
    if (identification.outcome !== 'failed') leg.flow = { ...leg.flow, msisdn: identification.msisdn }
    const decision = await this.ctx.legs.decide(leg, {
      operation: 'operator',
      flowScenarios: pending.flowScenarios,
      redirect
    })
    await this.ctx.legs.failIfInjected(decision, redirect)
    if (await this.ctx.store.take('pending', pending.id) === undefined) throw unknownRequest()
    if (identification.outcome === 'sim' && await this.operatorTokens?.spend(identification.operatorToken) !== true) {
      identification = { outcome: 'failed', reason: 'the operator token was already used' }
    }
    await this.ctx.legs.wait(decision)
    if (identification.outcome === 'failed') {
      observe(leg, {
        rule: 'no-retry-loop',
        ok: true,
        retry: { kind: 'refusal', device: deviceKey(pending.konera, pending.loginHint, pending.gatewaySource) }
      })
      throw new AuthorizeError(pending.prompt.includes('none') ? 'login_required' : 'access_denied',
        identification.reason, redirect, undefined, identification.detail)
    }
    const grant = await this.recordGrant(pending, identification)
    const code = await this.issueCode(pending, grant)
    // RFC 9207: iss names the authorization server the code is from (mix-up defence; the
    // gateway and each operator are authorization servers here, and the code is the gateway's)
    const location = appendQuery(pending.redirectUri, { code, state: pending.state, iss: this.ctx.urls.issuer })
    return { location, pending, grant, identification }
  }

  /**
   * temporarily_unavailable (a redirect: the client is known) once a collection holds its cap, so
   * unauthenticated traffic cannot grow memory without bound. Parallel requests may pass the
   * check together and overshoot by the few in flight.
   */
  private async refuseAtCap (
    collection: 'pending' | 'grants',
    cap: number,
    flag: string,
    redirect: { redirectUri: string, state: string | undefined }
  ): Promise<void> {
    if (await this.ctx.store.size(collection) < cap) return
    const what = collection === 'pending' ? 'authorization requests in progress' : 'live grants'
    throw new AuthorizeError('temporarily_unavailable',
      `this emulator keeps at most ${cap} ${what} (${flag}); try again once some have completed or expired`, redirect)
  }

  /** Whether the request names (by address or tel: hint) any subscriber of this operator */
  private placesDevice (
    operator: OperatorFixture, pending: PendingAuthorization, operatorSource: string | undefined
  ): boolean {
    const directory = this.ctx.directory()
    const hint = pending.loginHint
    if (hint?.kind === 'tel' && directory.subscriber(hint.msisdn)?.operator === operator.id) return true
    return candidateAddresses(pending.konera, hint, operatorSource ?? pending.gatewaySource)
      .some((address) => directory.subscriberForAddress(address)?.operator === operator.id)
  }

  /**
   * Network-based authentication as an operator does it: the device's address on the mobile
   * network names the subscriber. A tel: hint never overrides that, unless the operator trusts
   * hints (as public sandboxes do). Without a network identification, an interactive fallback
   * (SMS OTP, emulated as completed) may apply when the request allows interaction.
   */
  identifyDevice (
    operator: OperatorFixture, pending: PendingAuthorization, operatorSource: string | undefined
  ): Identification {
    const directory = this.ctx.directory()
    const hint = pending.loginHint
    if (operator.trustsLoginHint && hint?.kind === 'tel') {
      const hinted = directory.subscriber(hint.msisdn)
      if (hinted === undefined || hinted.operator === operator.id) {
        return {
          outcome: 'network',
          subscriber: hinted,
          msisdn: hint.msisdn,
          via: 'login_hint (operator trusts hints)'
        }
      }
    }

    let offNetwork: SubscriberFixture | undefined
    const seen: string[] = []
    for (const address of candidateAddresses(pending.konera, hint, operatorSource ?? pending.gatewaySource)) {
      seen.push(address.text)
      const subscriber = directory.subscriberForAddress(address)
      if (subscriber === undefined || subscriber.operator !== operator.id) continue
      if (subscriber.connection === 'mobile-data' && subscriber.authMethods.includes('network')) {
        return { outcome: 'network', subscriber, msisdn: subscriber.msisdn, via: address.text }
      }
      offNetwork ??= subscriber
    }

    const hinted = hint?.kind === 'tel' ? directory.subscriber(hint.msisdn) : undefined
    const candidate = hinted?.operator === operator.id ? hinted : offNetwork
    const where = seen.length === 0 ? 'no device address was available' : `address ${seen.join(', ')}`
    if (candidate !== undefined && candidate.authMethods.includes('sms-otp')) {
      if (pending.prompt.includes('none')) {
        return {
          outcome: 'failed',
          reason: `${operator.name} cannot authenticate ${candidate.msisdn} by network ` +
            `(${describeConnection(candidate, seen)}) and its SMS OTP fallback needs interaction, ` +
            'which prompt=none forbids'
        }
      }
      return { outcome: 'fallback', subscriber: candidate, msisdn: candidate.msisdn, method: 'sms-otp' }
    }
    if (candidate !== undefined) {
      return {
        outcome: 'failed',
        reason: `${operator.name} cannot authenticate ${candidate.msisdn}: ${describeConnection(candidate, seen)} ` +
          'and no fallback method'
      }
    }
    return {
      outcome: 'failed',
      reason: `${operator.name} cannot identify the device: ${where} is not a subscriber on its mobile network`
    }
  }

  private async recordGrant (
    pending: PendingAuthorization, identification: Exclude<Identification, { outcome: 'failed' }>
  ): Promise<Grant> {
    const settings = this.ctx.settings
    // As long as its code: a code never redeemed takes its grant with it (the token endpoint
    // writes the grant anew, for the lifetime of its tokens, when the code is redeemed)
    const ttlMs = settings.codeTtl * 1000
    await this.refuseAtCap('grants', settings.maxGrants, '--max-grants',
      { redirectUri: pending.redirectUri, state: pending.state })
    const grant: Grant = {
      id: nanoid(16),
      flowId: pending.flowId,
      clientId: pending.clientId,
      msisdn: identification.msisdn,
      operatorId: pending.operatorId,
      sub: pairwiseSubject(settings.pairwiseSalt, pending.clientId, identification.msisdn),
      scopes: pending.scope.scopes,
      amr: identification.outcome === 'network'
        ? NETWORK_AMR
        : identification.outcome === 'sim' ? SIM_AMR : SMS_OTP_AMR,
      authTime: Math.floor(this.ctx.clock.now() / 1000),
      nonce: pending.nonce,
      openid: pending.scope.openid,
      offlineAccess: pending.scope.offlineAccess,
      flowScenarios: pending.flowScenarios,
      expiresAt: this.ctx.clock.now() + ttlMs,
      revoked: false
    }
    await this.ctx.store.put('grants', grant.id, grant, ttlMs)
    return grant
  }

  /** The code's bindings, and its single use beside them (taken at the token endpoint) */
  private async issueCode (pending: PendingAuthorization, grant: Grant): Promise<string> {
    const record: AuthorizationCode = {
      code: nanoid(32),
      grantId: grant.id,
      clientId: pending.clientId,
      redirectUri: pending.redirectUri,
      codeChallenge: pending.codeChallenge
    }
    const ttlMs = this.ctx.settings.codeTtl * 1000
    await this.ctx.store.put('codes', record.code, record, ttlMs)
    await this.ctx.store.put('codeUses', record.code, { grantId: grant.id }, ttlMs)
    return record.code
  }
}

const RESTART = 'Start again from the app: the gateway authorize endpoint issues a fresh request_id, ' +
  'valid for one use within a few minutes.'

function unknownRequest (): AuthorizeError {
  return new AuthorizeError('invalid_request',
    'this authorization request is unknown, expired or already completed: start again at the gateway',
    undefined, RESTART)
}

export interface OperatorOutcome {
  location: string
  pending: PendingAuthorization
  grant: Grant
  identification: Identification
}

export interface SimPickerOffer {
  pending: PendingAuthorization
  operator: OperatorFixture
  sims: SubscriberFixture[]
}

/** A SIM the presenter chose on the simulated operator network, identified as its fixture says */
function identifyChosenSim (operator: OperatorFixture, sim: SubscriberFixture): Identification {
  if (sim.connection === 'mobile-data' && sim.authMethods.includes('network')) {
    return {
      outcome: 'network',
      subscriber: sim,
      msisdn: sim.msisdn,
      via: 'SIM chosen on the simulated operator network'
    }
  }
  // The picker is only offered without prompt=none, so an interactive fallback may apply
  if (sim.authMethods.includes('sms-otp')) {
    return { outcome: 'fallback', subscriber: sim, msisdn: sim.msisdn, method: 'sms-otp' }
  }
  return {
    outcome: 'failed',
    reason: `${operator.name} cannot authenticate ${sim.msisdn}: ${describeConnection(sim, ['the chosen SIM'])} ` +
      'and no fallback method'
  }
}

/**
 * A registered redirect URI that starts with `/` is relative to the emulator's public URL, so a
 * client served by the emulator itself (the demo app) follows --public-url and the real port.
 */
export function resolveRedirectUri (registered: string, publicUrl: string): string {
  return registered.startsWith('/') ? `${publicUrl}${registered}` : registered
}

/** `seen`: the addresses the device came from, which matter for a subscriber named by a tel: hint */
function describeConnection (subscriber: SubscriberFixture, seen: string[]): string {
  if (subscriber.connection !== 'mobile-data') return `the device is on ${subscriber.connection}, not mobile data`
  if (!subscriber.authMethods.includes('network')) return 'network authentication is not enabled for this subscriber'
  if (seen.length === 0) return 'the device was not seen on the mobile network'
  return `address ${seen.join(', ')} is not its address on the mobile network`
}

/** Addresses to try, most explicit first: konera_context, then ipport: hint, then the source */
export function candidateAddresses (
  konera: KoneraContext | undefined, hint: LoginHint | undefined, source: string | undefined
): NetworkAddress[] {
  const addresses: NetworkAddress[] = []
  if (konera?.ipv4 !== undefined) addresses.push(konera.ipv4)
  if (konera?.ipv6 !== undefined) addresses.push(konera.ipv6)
  if (hint?.kind === 'ipport') addresses.push(hint.address)
  const observed = source === undefined ? undefined : parseAddress(source)
  if (observed !== undefined) addresses.push(observed)
  return addresses
}
