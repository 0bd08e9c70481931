// SIM-based authentication, the device leg: each operator's entitlement server (GSMA TS.43,
// emulated) issues operator tokens ("temporary tokens") to an app on one of its subscribers'
// devices, the SIM authenticating the device (EAP-AKA, taken as done). A token is opaque,
// short-lived, single use, and bound to its operator, its subscriber and the app (client) it was
// requested for; the back-end legs (JWT-bearer, CIBA) redeem it. How a token is obtained is out of
// CAMARA's scope (ICM r4.2, CAMARA-API-access-and-user-consent.md "CIBA flow with Operator Token").
import { nanoid } from 'nanoid'
import type { CoreContext } from './context.js'
import type { OperatorFixture, SubscriberFixture } from './fixture-schema.js'
import { OAuthError } from './errors.js'
import { newLeg, type Leg } from './legs.js'
import { parseAddress } from './network-address.js'
import type { OperatorTokenRecord } from './records.js'

/**
 * The amr of a SIM-based authentication. CAMARA names only network-based authentication's
 * (`nba`, `mnba`); for EAP-AKA with the SIM, RFC 8176 section 2 offers `sc` (smart card: the
 * UICC) and `hwk` (proof of possession of a hardware-secured key: the SIM's K).
 */
export const SIM_AMR = ['sc', 'hwk']

/** How long a spent or expired token stays known, so that its refusal says why (seconds) */
const KEPT_AFTER_EXPIRY_S = 600

/** What names the device asking for a token: its number, its address, or (neither) where it came from */
export interface DeviceTokenRequest {
  clientId: string
  msisdn?: string | undefined
  address?: string | undefined
}

export interface MintOperatorTokenRequest {
  clientId: string
  msisdn: string
  /** Seconds; default the operator's operatorTokens.lifetimeSeconds */
  lifetimeSeconds?: number
}

export interface IssuedOperatorToken {
  operatorToken: string
  /** Seconds */
  expiresIn: number
  /** ISO 8601 (TS.43's TemporaryTokenExpiry) */
  expiresAt: string
  operatorId: string
  flowId: string
}

/** Why an operator token cannot be redeemed: the words for the client and for the journal */
export type OperatorTokenProblem =
  'unknown' | 'expired' | 'used' | 'other-client' | 'foreign-operator' | 'no-sim-support'

export class OperatorTokenRefusal extends Error {
  readonly problem: OperatorTokenProblem
  /** The flow the token belongs to, when it is known */
  readonly flowId: string | undefined
  /** The refusal in words for the journal, which may say more than `message` (the answer's) */
  readonly detail: string

  constructor (problem: OperatorTokenProblem, message: string, flowId?: string, detail = message) {
    super(message)
    this.name = 'OperatorTokenRefusal'
    this.problem = problem
    this.flowId = flowId
    this.detail = detail
  }
}

/** A token that passed every check but its single use, which the caller takes once its scenarios let it go on */
export interface RedeemableOperatorToken {
  token: string
  record: OperatorTokenRecord
  subscriber: SubscriberFixture
}

export class OperatorTokenService {
  private readonly ctx: CoreContext

  constructor (ctx: CoreContext) {
    this.ctx = ctx
  }

  /**
   * The device leg (TS.43 AcquireTemporaryToken, emulated), in the flow sequence: validate the
   * operator, the app and the device, decide the scenarios, wait, then issue. Refusals answer as
   * an entitlement server would: 404 for an unknown operator, 403 for anything it will not do.
   */
  async acquire (
    operatorId: string, request: DeviceTokenRequest, source: string | undefined, leg: Leg = newLeg()
  ): Promise<IssuedOperatorToken> {
    const directory = this.ctx.directory()
    const operator = directory.operator(operatorId)
    leg.flow = { ...leg.flow, operatorId, clientId: request.clientId }
    if (operator === undefined) {
      throw new OAuthError('invalid_request', `no operator "${operatorId}"`, { statusCode: 404 })
    }
    const subscriber = this.device(operator, request, source)
    leg.flow = { ...leg.flow, msisdn: subscriber.msisdn }
    this.refuseUnready(operator, subscriber, request.clientId)
    const decision = await this.ctx.legs.decide(leg, { operation: 'operator-token' })
    await this.ctx.legs.failIfInjected(decision)
    await this.ctx.legs.wait(decision)
    const issued = await this.issue(operator, subscriber, request.clientId, undefined)
    leg.flow = { ...leg.flow, flowId: issued.flowId }
    return issued
  }

  /** Mints a token for a subscriber directly (control API, programmatic API), by the same rules */
  async mint (request: MintOperatorTokenRequest): Promise<IssuedOperatorToken> {
    const directory = this.ctx.directory()
    const subscriber = directory.subscriber(request.msisdn)
    if (subscriber === undefined) throw new OAuthError('invalid_request', `no subscriber ${request.msisdn}`)
    const operator = directory.operator(subscriber.operator)
    if (operator === undefined) {
      throw new OAuthError('invalid_request', `the operator of ${request.msisdn} is not configured`)
    }
    this.refuseUnready(operator, subscriber, request.clientId)
    return await this.issue(operator, subscriber, request.clientId, request.lifetimeSeconds)
  }

  /**
   * Every check of a redemption but the single use: the token is known, issued to this client,
   * unexpired, unspent, and its operator still serves its subscriber with SIM-based
   * authentication. Nothing is spent here: `spend` takes the use. Another app holding the token
   * learns only that it is not its own: not its state, nor whose it is (that goes to the journal).
   */
  async check (token: string, clientId: string): Promise<RedeemableOperatorToken> {
    const record = await this.ctx.store.get('operatorTokens', token)
    if (record === undefined) throw new OperatorTokenRefusal('unknown', 'the operator token is unknown')
    const { flowId } = record
    if (record.clientId !== clientId) {
      throw new OperatorTokenRefusal('other-client', 'the operator token was issued for another app', flowId,
        `the operator token was issued for another app ("${record.clientId}")`)
    }
    if (record.expiresAt <= this.ctx.clock.now()) {
      throw new OperatorTokenRefusal('expired', 'the operator token has expired', flowId)
    }
    if (await this.ctx.store.get('operatorTokenUses', token) === undefined) {
      throw new OperatorTokenRefusal('used', 'the operator token was already used', flowId)
    }
    const directory = this.ctx.directory()
    const subscriber = directory.subscriber(record.msisdn)
    if (subscriber === undefined || subscriber.operator !== record.operatorId) {
      throw new OperatorTokenRefusal('foreign-operator',
        `the operator token is ${record.operatorId}'s, which no longer serves ${record.msisdn}`, flowId)
    }
    const operator = directory.operator(record.operatorId)
    if (operator?.operatorTokens === undefined || !subscriber.authMethods.includes('sim')) {
      throw new OperatorTokenRefusal('no-sim-support',
        `SIM-based authentication is no longer available for ${record.msisdn}`, flowId)
    }
    return { token, record, subscriber }
  }

  /** Takes the token's single use: false when another redemption took it first */
  async spend (token: string): Promise<boolean> {
    return await this.ctx.store.take('operatorTokenUses', token) !== undefined
  }

  /** The subscriber the device request names, or why the entitlement server cannot serve it */
  private device (
    operator: OperatorFixture, request: DeviceTokenRequest, source: string | undefined
  ): SubscriberFixture {
    const directory = this.ctx.directory()
    let subscriber: SubscriberFixture | undefined
    let named: string
    if (request.msisdn !== undefined) {
      named = request.msisdn
      subscriber = directory.subscriber(request.msisdn)
    } else {
      const text = request.address ?? source
      const address = text === undefined ? undefined : parseAddress(text)
      if (request.address !== undefined && address === undefined) {
        throw new OAuthError('invalid_request', `address "${request.address}" is not an IPv4 or IPv6 address`)
      }
      named = `address ${text ?? '(none)'}`
      subscriber = address === undefined ? undefined : directory.subscriberForAddress(address)
    }
    if (subscriber === undefined) {
      throw new OAuthError('access_denied',
        `${operator.name} cannot authenticate the device (${named}): no SIM of its subscribers`, { statusCode: 403 })
    }
    if (subscriber.operator !== operator.id) {
      throw new OAuthError('access_denied',
        `the device ${subscriber.msisdn} has a SIM of another operator ("${subscriber.operator}"): ` +
          'ask that operator\'s entitlement server', { statusCode: 403 })
    }
    return subscriber
  }

  private refuseUnready (operator: OperatorFixture, subscriber: SubscriberFixture, clientId: string): void {
    if (operator.operatorTokens === undefined) {
      throw new OAuthError('access_denied',
        `${operator.name} does not offer SIM-based authentication (no operator tokens)`, { statusCode: 403 })
    }
    if (!subscriber.authMethods.includes('sim')) {
      throw new OAuthError('access_denied',
        `the SIM of ${subscriber.msisdn} cannot do SIM-based authentication (TS.43 is not provisioned for it)`,
        { statusCode: 403 })
    }
    if (this.ctx.directory().client(clientId) === undefined) {
      throw new OAuthError('unauthorized_client',
        `the app "${clientId}" is not registered: operator tokens are issued for a registered client_id`,
        { statusCode: 403 })
    }
  }

  private async issue (
    operator: OperatorFixture, subscriber: SubscriberFixture, clientId: string, lifetime: number | undefined
  ): Promise<IssuedOperatorToken> {
    const format = operator.operatorTokens as NonNullable<OperatorFixture['operatorTokens']>
    const { store, clock, settings } = this.ctx
    // Unauthenticated callers reach this leg: the tokens they can make wait in the store are bounded
    if (await store.size('operatorTokens') >= settings.maxPending) {
      throw new OAuthError('temporarily_unavailable',
        `this emulator keeps at most ${settings.maxPending} operator tokens (--max-pending); ` +
          `a token's place frees ${KEPT_AFTER_EXPIRY_S} s after it expires (kept to answer an expired token)`,
        { statusCode: 503 })
    }
    const seconds = lifetime ?? format.lifetimeSeconds
    const now = clock.now()
    const record: OperatorTokenRecord = {
      operatorId: operator.id,
      msisdn: subscriber.msisdn,
      clientId,
      flowId: await this.ctx.flows.next(),
      issuedAt: now,
      expiresAt: now + seconds * 1000
    }
    const token = `${format.prefix}${nanoid(format.length)}`
    await store.put('operatorTokens', token, record, (seconds + KEPT_AFTER_EXPIRY_S) * 1000)
    await store.put('operatorTokenUses', token, { flowId: record.flowId }, seconds * 1000)
    return {
      operatorToken: token,
      expiresIn: seconds,
      expiresAt: new Date(record.expiresAt).toISOString(),
      operatorId: operator.id,
      flowId: record.flowId
    }
  }
}
