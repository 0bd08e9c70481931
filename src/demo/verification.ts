// The sample app's backend at its callback: read the operator's redirect, exchange the code at the
// token endpoint, check the id_token, call verify with the claimed number, and describe the
// outcome both as the user sees it and as the developer needs it.
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import { nanoid } from 'nanoid'
import type { FastifyInstance } from 'fastify'
import { AUTH_PREFIX } from '../core/urls.js'
import { FLOW_SCENARIO_PARAMETER } from '../core/authorization.js'
import type { DemoResultView, IdTokenView } from './views/demo.js'
import type { DemoAttempt } from './attempts.js'
import { callEmulator, type BackChannelResponse } from './back-channel.js'
import type { JournalClient } from './journal-client.js'
import { apiErrorMessage, authorizeErrorMessage, NETWORK_FAILURE, tokenErrorMessage } from './messages.js'

export const DEMO_CLIENT_ID = 'demo-web'
export const DEMO_CALLBACK_PATH = '/demo/callback'
export const DEMO_SCOPE = 'openid dpv:FraudPreventionAndDetection number-verification:verify'
const VERIFY_PATH = '/camara/api/number-verification/v1/verify'

export interface CallbackParameters {
  code?: string
  error?: string
  errorDescription?: string
  state?: string
}

export type VerificationOutcome = Omit<DemoResultView, 'nonce' | 'dashboard' | 'deviceLabel' | 'retryUrl'>

/** The correlators of the back-channel calls made so far, in order: the timeline waits for the last */
type Calls = string[]

/** Shown instead of the credential itself: enough to tell tokens apart, not to use them */
export function redactTokenResponse (response: Record<string, unknown>): Record<string, unknown> {
  const redacted: Record<string, unknown> = { ...response }
  for (const name of ['access_token', 'refresh_token']) {
    const value = redacted[name]
    if (typeof value === 'string') redacted[name] = `${value.slice(0, 4)}… (redacted, ${value.length} characters)`
  }
  if (typeof redacted.id_token === 'string') {
    redacted.id_token = `${redacted.id_token.slice(0, 10)}… ` +
      `(a signed JWT of ${redacted.id_token.length} characters: its claims are shown decoded)`
  }
  return redacted
}

function parseJson (text: string): { value: unknown } | { problem: string } {
  try {
    return { value: JSON.parse(text) as unknown }
  } catch {
    return { problem: `the body is not JSON: ${text.length > 300 ? `${text.slice(0, 300)}…` : text}` }
  }
}

function parseJsonValue (text: string): unknown {
  const parsed = parseJson(text)
  return 'value' in parsed ? parsed.value : undefined
}

/** The Wi-Fi path polls at most this often before it gives up (the interval apart: about a minute) */
const MAX_POLLS = 12

function asRecord (value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : {}
}

export class DemoBackend {
  private readonly app: FastifyInstance
  private readonly journal: JournalClient

  constructor (app: FastifyInstance, journal: JournalClient) {
    this.app = app
    this.journal = journal
  }

  async finish (attempt: DemoAttempt, callback: CallbackParameters): Promise<VerificationOutcome> {
    const calls: Calls = []
    const outcome = await this.outcome(attempt, callback, calls)
    // outcome() names the flow: the attempt's, else the one the token exchange was journaled under
    const flowId = outcome.flowId
    if (flowId === undefined) return outcome
    const timeline = await this.journal.entries({ flowId }, calls.at(-1))
    return 'unavailable' in timeline
      ? { ...outcome, timelineUnavailable: timeline.unavailable }
      : { ...outcome, timeline: timeline.entries }
  }

  private async outcome (
    attempt: DemoAttempt, callback: CallbackParameters, calls: Calls
  ): Promise<VerificationOutcome> {
    const base = {
      claimed: attempt.choices.claimed,
      scenario: attempt.choices.scenario,
      timeline: [],
      flowId: attempt.flowId
    }
    if (callback.error !== undefined) {
      return {
        ...base,
        outcome: 'error',
        message: authorizeErrorMessage(callback.error),
        rawError: {
          where: 'Redirect from the operator back to the app (OAuth error)',
          body: {
            error: callback.error,
            ...(callback.errorDescription === undefined ? {} : { error_description: callback.errorDescription }),
            state: callback.state
          }
        }
      }
    }
    if (callback.code === undefined) {
      return {
        ...base,
        outcome: 'error',
        message: {
          title: 'The verification did not come back',
          text: 'The redirect to the app carried neither a code nor an error. Please start again.'
        },
        rawError: { where: 'Redirect back to the app', body: { state: callback.state } }
      }
    }

    const client = this.app.emulator.directory.client(DEMO_CLIENT_ID)
    const exchange = await this.call(calls, {
      method: 'POST',
      path: `${AUTH_PREFIX}/token`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: callback.code,
        redirect_uri: attempt.redirectUri,
        client_id: DEMO_CLIENT_ID,
        client_secret: client?.clientSecret ?? '',
        code_verifier: attempt.codeVerifier
      }).toString()
    })
    // The token exchange's journal entry names the flow and the number the network identified
    const exchangeJournal = await this.journal.entries({ correlator: exchange.correlator }, exchange.correlator)
    const tokenEntry = 'entries' in exchangeJournal
      ? exchangeJournal.entries.find((e) => e.operation === 'token')
      : undefined
    const flowId = attempt.flowId ?? tokenEntry?.flowId
    const withFlow = { ...base, flowId }
    const where = `POST ${this.app.emulator.urls.tokenEndpoint}`
    if (!exchange.response.ok) {
      return {
        ...withFlow,
        outcome: 'error',
        message: NETWORK_FAILURE,
        rawError: { where, body: { failure: exchange.response.failure } }
      }
    }
    const tokenBody = parseJson(exchange.response.body)
    if ('problem' in tokenBody) {
      return {
        ...withFlow,
        outcome: 'error',
        message: NETWORK_FAILURE,
        rawError: { where, status: exchange.response.status, body: { failure: tokenBody.problem } }
      }
    }
    const tokens = asRecord(tokenBody.value)
    if (exchange.response.status !== 200 || typeof tokens.access_token !== 'string') {
      return {
        ...withFlow,
        outcome: 'error',
        message: tokenErrorMessage(typeof tokens.error === 'string' ? tokens.error : undefined,
          exchange.response.status),
        rawError: { where, status: exchange.response.status, body: tokenBody.value }
      }
    }

    const accessToken = tokens.access_token
    const idToken = typeof tokens.id_token === 'string'
      ? await this.checkIdToken(tokens.id_token, attempt.nonce)
      : undefined
    const networkNumber = tokenEntry?.msisdn
    const withTokens = {
      ...withFlow,
      idToken,
      tokenResponse: redactTokenResponse(tokens),
      ...(networkNumber !== undefined ? { networkNumber } : {}),
      ...('unavailable' in exchangeJournal ? { networkNumberUnknown: exchangeJournal.unavailable } : {})
    }
    return await this.verifyWith(calls, accessToken, attempt.choices.claimed, withTokens,
      'the mobile network confirmed it')
  }

  /**
   * The Wi-Fi path (SIM-based authentication): the device's OS asks its operator's entitlement
   * server for an operator token for this app; the app's backend sends it in a CIBA request
   * (login_hint=operatortoken:), polls the token endpoint as the answer's interval says (slow_down
   * adds 5 s), then calls verify. Every hop is a real HTTP call, journaled in one flow.
   */
  async verifyOverWifi (choices: DemoAttempt['choices']): Promise<VerificationOutcome> {
    const calls: Calls = []
    const outcome = await this.wifiOutcome(choices, calls)
    if (outcome.flowId === undefined) return outcome
    const timeline = await this.journal.entries({ flowId: outcome.flowId }, calls.at(-1))
    return 'unavailable' in timeline
      ? { ...outcome, timelineUnavailable: timeline.unavailable }
      : { ...outcome, timeline: timeline.entries }
  }

  private async wifiOutcome (choices: DemoAttempt['choices'], calls: Calls): Promise<VerificationOutcome> {
    const base = { claimed: choices.claimed, scenario: choices.scenario, timeline: [] }
    const { emulator } = this.app
    const operatorId = emulator.directory.subscriber(choices.device)?.operator ?? ''
    const devicePath = `/operators/${encodeURIComponent(operatorId)}/operator-token`
    const device = await this.call(calls, {
      method: 'POST',
      path: devicePath,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: DEMO_CLIENT_ID, msisdn: choices.device })
    })
    const deviceJournal = await this.journal.entries({ correlator: device.correlator }, device.correlator)
    const flowId = 'entries' in deviceJournal
      ? deviceJournal.entries.find((e) => e.operation === 'operator-token')?.flowId
      : undefined
    const withFlow = { ...base, flowId }
    const refused = this.refusal(device.response,
      `POST ${emulator.urls.publicUrl}${devicePath} (the device's OS, TS.43)`, withFlow, {
        title: 'The phone got no operator token',
        text: 'Its operator would not vouch for this SIM over Wi-Fi. A real app would fall back to another check, ' +
          'such as a code by SMS.'
      })
    if ('refused' in refused) return refused.refused
    const operatorToken = refused.body.operator_token
    const client = emulator.directory.client(DEMO_CLIENT_ID)
    const credentials = { client_id: DEMO_CLIENT_ID, client_secret: client?.clientSecret ?? '' }
    const bcPath = `${AUTH_PREFIX}/bc-authorize`
    const accepted = await this.call(calls, {
      method: 'POST',
      path: bcPath,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ...credentials,
        scope: DEMO_SCOPE,
        login_hint: `operatortoken:${String(operatorToken)}`,
        ...(choices.scenario === '' ? {} : { [FLOW_SCENARIO_PARAMETER]: choices.scenario })
      }).toString()
    })
    const request = this.refusal(accepted.response, `POST ${emulator.urls.publicUrl}${bcPath}`, withFlow)
    if ('refused' in request) return request.refused
    const authReqId = String(request.body.auth_req_id)
    let interval = typeof request.body.interval === 'number' ? request.body.interval : 5
    const where = `POST ${emulator.urls.tokenEndpoint} (grant_type=urn:openid:params:grant-type:ciba)`
    for (let polls = 0; polls < MAX_POLLS; polls++) {
      const poll = await this.call(calls, {
        method: 'POST',
        path: `${AUTH_PREFIX}/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          ...credentials,
          grant_type: 'urn:openid:params:grant-type:ciba',
          auth_req_id: authReqId
        }).toString()
      })
      if (poll.response.ok && poll.response.status === 400) {
        const error = asRecord(parseJsonValue(poll.response.body)).error
        if (error === 'authorization_pending' || error === 'slow_down') {
          if (error === 'slow_down') interval += 5
          await this.pause(interval * 1000)
          continue
        }
      }
      const tokens = this.refusal(poll.response, where, withFlow)
      if ('refused' in tokens) return tokens.refused
      const accessToken = String(tokens.body.access_token)
      const idToken = typeof tokens.body.id_token === 'string'
        ? await this.checkIdToken(tokens.body.id_token, undefined)
        : undefined
      const identified = 'entries' in deviceJournal
        ? deviceJournal.entries.find((e) => e.operation === 'operator-token')?.msisdn
        : undefined
      const withTokens = {
        ...withFlow,
        idToken,
        tokenResponse: redactTokenResponse(tokens.body),
        ...(identified === undefined ? {} : { networkNumber: identified })
      }
      return await this.verifyWith(calls, accessToken, choices.claimed, withTokens,
        'its operator confirmed it through the SIM (an operator token), over Wi-Fi')
    }
    return {
      ...withFlow,
      outcome: 'error',
      message: {
        title: 'The operator did not answer in time',
        text: `No decision after ${MAX_POLLS} polls: the user's phone never answered. Please try again.`
      },
      rawError: { where, body: { error: 'authorization_pending' } }
    }
  }

  /** How long the app waits between polls: the emulator's own way of waiting (tests pass one that does not) */
  private async pause (ms: number): Promise<void> {
    await this.app.emulator.ctx.legs.sleep(ms)
  }

  /** The JSON body of a successful call, or the outcome that tells the user why it failed */
  private refusal (
    response: BackChannelResponse, where: string, withFlow: Omit<VerificationOutcome, 'outcome' | 'message'>,
    message?: { title: string, text: string }
  ): { body: Record<string, unknown> } | { refused: VerificationOutcome } {
    if (!response.ok) {
      return {
        refused: {
          ...withFlow,
          outcome: 'error',
          message: NETWORK_FAILURE,
          rawError: { where, body: { failure: response.failure } }
        }
      }
    }
    const parsed = parseJson(response.body)
    if ('problem' in parsed) {
      return {
        refused: {
          ...withFlow,
          outcome: 'error',
          message: NETWORK_FAILURE,
          rawError: { where, status: response.status, body: { failure: parsed.problem } }
        }
      }
    }
    const body = asRecord(parsed.value)
    if (response.status === 200) return { body }
    return {
      refused: {
        ...withFlow,
        outcome: 'error',
        message: message ?? tokenErrorMessage(typeof body.error === 'string' ? body.error : undefined, response.status),
        rawError: { where, status: response.status, body: parsed.value }
      }
    }
  }

  /** verify with the claimed number, and the verdict as the user reads it */
  private async verifyWith (
    calls: Calls, accessToken: string, claimed: string, withTokens: Omit<VerificationOutcome, 'outcome' | 'message'>,
    how: string
  ): Promise<VerificationOutcome> {
    const payload = { phoneNumber: claimed }
    const call = await this.call(calls, {
      method: 'POST',
      path: VERIFY_PATH,
      headers: {
        authorization: `Bearer ${accessToken}`,
        'content-type': 'application/json',
        accept: 'application/json'
      },
      body: JSON.stringify(payload)
    })
    const request = {
      method: 'POST',
      url: `${this.app.emulator.urls.publicUrl}${VERIFY_PATH}`,
      headers: {
        authorization: 'Bearer (the access token)',
        'content-type': 'application/json',
        'x-correlator': call.correlator
      },
      body: payload
    }
    const verifyWhere = `POST ${request.url}`
    if (!call.response.ok) {
      return {
        ...withTokens,
        outcome: 'error',
        message: NETWORK_FAILURE,
        rawError: { where: verifyWhere, body: { failure: call.response.failure } }
      }
    }
    const verifyBody = parseJson(call.response.body)
    if ('problem' in verifyBody) {
      return {
        ...withTokens,
        outcome: 'error',
        message: {
          title: 'The verification service answered gibberish',
          text: 'The answer could not be read. Please try again.'
        },
        rawError: { where: verifyWhere, status: call.response.status, body: { failure: verifyBody.problem } }
      }
    }
    const verifyExchange = { request, status: call.response.status, body: verifyBody.value }
    const answer = asRecord(verifyBody.value)
    if (call.response.status !== 200 || typeof answer.devicePhoneNumberVerified !== 'boolean') {
      return {
        ...withTokens,
        verifyExchange,
        outcome: 'error',
        message: apiErrorMessage(typeof answer.code === 'string' ? answer.code : undefined),
        rawError: { where: verifyWhere, status: call.response.status, body: verifyBody.value }
      }
    }
    return answer.devicePhoneNumberVerified
      ? {
          ...withTokens,
          verifyExchange,
          outcome: 'verified',
          message: {
            title: 'Number verified',
            text: `${claimed} is the number of this device: ${how}, no code needed.`
          }
        }
      : {
          ...withTokens,
          verifyExchange,
          outcome: 'not-verified',
          message: {
            title: 'Number not verified',
            text: `The mobile network says this device is not ${claimed}. ` +
              'A real app would now fall back to another check, such as a code by SMS.'
          }
        }
  }

  /** A back-channel call with its own correlator, so its journal entry can be found */
  private async call (
    calls: Calls, request: { method: 'POST', path: string, headers: Record<string, string>, body: string }
  ): Promise<{ response: BackChannelResponse, correlator: string }> {
    const correlator = `demo-${nanoid(12)}`
    calls.push(correlator)
    const response = await callEmulator(this.app, {
      ...request,
      headers: { ...request.headers, 'x-correlator': correlator }
    })
    return { response, correlator }
  }

  /** What a careful client checks: signature against the JWKS, issuer, audience, expiry, nonce */
  private async checkIdToken (token: string, nonce: string | undefined): Promise<IdTokenView> {
    const { emulator } = this.app
    try {
      const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(emulator.keys.jwks()), {
        issuer: emulator.urls.issuer,
        audience: DEMO_CLIENT_ID,
        currentDate: new Date(emulator.ctx.clock.now())
      })
      // A CIBA id_token carries no nonce: the app sent none
      const problem = nonce === undefined || payload.nonce === nonce
        ? undefined
        : 'the nonce is not the one the app sent'
      return {
        claims: payload as Record<string, unknown>,
        header: protectedHeader as Record<string, unknown>,
        ...(problem === undefined ? {} : { problem })
      }
    } catch (error) {
      try {
        return {
          claims: decodeJwt(token) as Record<string, unknown>,
          header: decodeProtectedHeader(token) as Record<string, unknown>,
          problem: (error as Error).message
        }
      } catch {
        return { claims: {}, header: {}, problem: 'the id_token is not a JWT' }
      }
    }
  }
}
