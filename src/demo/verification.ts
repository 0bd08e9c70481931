// The sample app's backend at its callback: read the operator's redirect, exchange the code at the
// token endpoint, check the id_token, call verify with the claimed number, and describe the
// outcome both as the user sees it and as the developer needs it.
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import { nanoid } from 'nanoid'
import type { FastifyInstance } from 'fastify'
import { AUTH_PREFIX } from '../core/urls.js'
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
  if (typeof redacted.id_token === 'string') redacted.id_token = `${redacted.id_token.slice(0, 10)}… (a signed JWT of ${redacted.id_token.length} characters: its claims are shown decoded)`
  return redacted
}

function parseJson (text: string): { value: unknown } | { problem: string } {
  try {
    return { value: JSON.parse(text) as unknown }
  } catch {
    return { problem: `the body is not JSON: ${text.length > 300 ? `${text.slice(0, 300)}…` : text}` }
  }
}

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
    return 'unavailable' in timeline ? { ...outcome, timelineUnavailable: timeline.unavailable } : { ...outcome, timeline: timeline.entries }
  }

  private async outcome (attempt: DemoAttempt, callback: CallbackParameters, calls: Calls): Promise<VerificationOutcome> {
    const base = { claimed: attempt.choices.claimed, scenario: attempt.choices.scenario, timeline: [], flowId: attempt.flowId }
    if (callback.error !== undefined) {
      return {
        ...base,
        outcome: 'error',
        message: authorizeErrorMessage(callback.error),
        rawError: {
          where: 'Redirect from the operator back to the app (OAuth error)',
          body: { error: callback.error, ...(callback.errorDescription === undefined ? {} : { error_description: callback.errorDescription }), state: callback.state }
        }
      }
    }
    if (callback.code === undefined) {
      return {
        ...base,
        outcome: 'error',
        message: { title: 'The verification did not come back', text: 'The redirect to the app carried neither a code nor an error. Please start again.' },
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
    const tokenEntry = 'entries' in exchangeJournal ? exchangeJournal.entries.find((e) => e.operation === 'token') : undefined
    const flowId = attempt.flowId ?? tokenEntry?.flowId
    const withFlow = { ...base, flowId }
    const where = `POST ${this.app.emulator.urls.tokenEndpoint}`
    if (!exchange.response.ok) {
      return { ...withFlow, outcome: 'error', message: NETWORK_FAILURE, rawError: { where, body: { failure: exchange.response.failure } } }
    }
    const tokenBody = parseJson(exchange.response.body)
    if ('problem' in tokenBody) {
      return { ...withFlow, outcome: 'error', message: NETWORK_FAILURE, rawError: { where, status: exchange.response.status, body: { failure: tokenBody.problem } } }
    }
    const tokens = asRecord(tokenBody.value)
    if (exchange.response.status !== 200 || typeof tokens.access_token !== 'string') {
      return {
        ...withFlow,
        outcome: 'error',
        message: tokenErrorMessage(typeof tokens.error === 'string' ? tokens.error : undefined, exchange.response.status),
        rawError: { where, status: exchange.response.status, body: tokenBody.value }
      }
    }

    const accessToken = tokens.access_token
    const idToken = typeof tokens.id_token === 'string' ? await this.checkIdToken(tokens.id_token, attempt.nonce) : undefined
    const networkNumber = tokenEntry?.msisdn
    const withTokens = {
      ...withFlow,
      idToken,
      tokenResponse: redactTokenResponse(tokens),
      ...(networkNumber !== undefined ? { networkNumber } : {}),
      ...('unavailable' in exchangeJournal ? { networkNumberUnknown: exchangeJournal.unavailable } : {})
    }

    const payload = { phoneNumber: attempt.choices.claimed }
    const call = await this.call(calls, {
      method: 'POST',
      path: VERIFY_PATH,
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(payload)
    })
    const request = {
      method: 'POST',
      url: `${this.app.emulator.urls.publicUrl}${VERIFY_PATH}`,
      headers: { authorization: 'Bearer (the access token)', 'content-type': 'application/json', 'x-correlator': call.correlator },
      body: payload
    }
    const verifyWhere = `POST ${request.url}`
    if (!call.response.ok) {
      return { ...withTokens, outcome: 'error', message: NETWORK_FAILURE, rawError: { where: verifyWhere, body: { failure: call.response.failure } } }
    }
    const verifyBody = parseJson(call.response.body)
    if ('problem' in verifyBody) {
      return {
        ...withTokens,
        outcome: 'error',
        message: { title: 'The verification service answered gibberish', text: 'The answer could not be read. Please try again.' },
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
    const claimed = attempt.choices.claimed
    return answer.devicePhoneNumberVerified
      ? {
          ...withTokens,
          verifyExchange,
          outcome: 'verified',
          message: { title: 'Number verified', text: `${claimed} is the number of this device: the mobile network confirmed it, no code needed.` }
        }
      : {
          ...withTokens,
          verifyExchange,
          outcome: 'not-verified',
          message: { title: 'Number not verified', text: `The mobile network says this device is not ${claimed}. A real app would now fall back to another check, such as a code by SMS.` }
        }
  }

  /** A back-channel call with its own correlator, so its journal entry can be found */
  private async call (calls: Calls, request: { method: 'POST', path: string, headers: Record<string, string>, body: string }): Promise<{ response: BackChannelResponse, correlator: string }> {
    const correlator = `demo-${nanoid(12)}`
    calls.push(correlator)
    const response = await callEmulator(this.app, { ...request, headers: { ...request.headers, 'x-correlator': correlator } })
    return { response, correlator }
  }

  /** What a careful client checks: signature against the JWKS, issuer, audience, expiry, nonce */
  private async checkIdToken (token: string, nonce: string): Promise<IdTokenView> {
    const { emulator } = this.app
    try {
      const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(emulator.keys.jwks()), {
        issuer: emulator.urls.issuer,
        audience: DEMO_CLIENT_ID,
        currentDate: new Date(emulator.ctx.clock.now())
      })
      const problem = payload.nonce === nonce ? undefined : 'the nonce is not the one the app sent'
      return { claims: payload as Record<string, unknown>, header: protectedHeader as Record<string, unknown>, ...(problem === undefined ? {} : { problem }) }
    } catch (error) {
      try {
        return { claims: decodeJwt(token) as Record<string, unknown>, header: decodeProtectedHeader(token) as Record<string, unknown>, problem: (error as Error).message }
      } catch {
        return { claims: {}, header: {}, problem: 'the id_token is not a JWT' }
      }
    }
  }
}
