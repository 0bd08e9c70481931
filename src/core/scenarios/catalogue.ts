// Built-in scenarios, ready to select by name: the ways production fails, on the leg where it
// fails. Faults and API errors target the resource API (verify, share) so that a flow-wide choice
// still lets the flow reach its API call; define your own in a fixture file for other legs.
import type { Scenario } from './scenario-schema.js'
import { deepFreeze } from './freeze.js'

const API: Array<'verify' | 'share'> = ['verify', 'share']

/** Frozen: the engine and the control API hand these objects out as they are */
export const CATALOGUE: readonly Scenario[] = deepFreeze([
  {
    name: 'operator-unavailable',
    description: 'verify / share answer 503 UNAVAILABLE: the operator behind the gateway is down',
    match: { operations: API },
    effects: { error: { camara: { status: 503, code: 'UNAVAILABLE' } } }
  },
  {
    name: 'upstream-bad-gateway',
    description: 'verify / share answer 502 BAD_GATEWAY: the gateway cannot reach the operator',
    match: { operations: API },
    effects: { error: { camara: { status: 502, code: 'BAD_GATEWAY' } } }
  },
  {
    name: 'gateway-timeout',
    description: 'verify / share answer 504 TIMEOUT: the operator did not answer the gateway in time',
    match: { operations: API },
    effects: { error: { camara: { status: 504, code: 'TIMEOUT' } } }
  },
  {
    name: 'rate-limited',
    description: 'verify / share answer 429 TOO_MANY_REQUESTS with Retry-After: 30',
    match: { operations: API },
    effects: { error: { camara: { status: 429, code: 'TOO_MANY_REQUESTS', retryAfterSeconds: 30 } } }
  },
  {
    name: 'quota-exceeded',
    description: 'verify / share answer 429 QUOTA_EXCEEDED: the client used up its quota',
    match: { operations: API },
    effects: { error: { camara: { status: 429, code: 'QUOTA_EXCEEDED' } } }
  },
  {
    name: 'internal-error',
    description: 'verify / share answer 500 INTERNAL',
    match: { operations: API },
    effects: { error: { camara: { status: 500, code: 'INTERNAL' } } }
  },
  {
    name: 'token-expired-on-api',
    description: 'verify / share answer 401 UNAUTHENTICATED as if the access token had expired',
    match: { operations: API },
    effects: { error: { camara: { status: 401, code: 'UNAUTHENTICATED' } } }
  },
  {
    name: 'permission-denied',
    description: 'verify / share answer 403 PERMISSION_DENIED as if the token lacked the scope',
    match: { operations: API },
    effects: { error: { camara: { status: 403, code: 'PERMISSION_DENIED' } } }
  },
  {
    name: 'not-authenticated-by-network',
    description: 'verify / share answer 403 NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK',
    match: { operations: API },
    effects: {
      error: { camara: { status: 403, code: 'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK' } }
    }
  },
  {
    name: 'flaky-5-percent',
    description: 'verify answers 503 UNAVAILABLE on 5% of calls, drawn from the seeded generator',
    match: { operations: ['verify'], probability: 0.05 },
    effects: { error: { camara: { status: 503, code: 'UNAVAILABLE' } } }
  },
  {
    name: 'slow-network',
    description: 'every request is delayed: lognormal latency, median 300 ms, p99 2 s',
    effects: { latency: { medianMs: 300, p99Ms: 2000 } }
  },
  {
    name: 'slow-operator',
    description: 'the operator leg of authorize takes 2 s before it redirects',
    match: { operations: ['operator'] },
    effects: { latency: { fixedMs: 2000 } }
  },
  {
    name: 'consent-denied',
    description: 'the operator redirects to the client with error=access_denied',
    match: { operations: ['operator'] },
    effects: { error: { authorize: { error: 'access_denied', description: 'The subscriber denied consent.' } } }
  },
  {
    name: 'consent-required',
    description: 'the operator redirects to the client with error=consent_required (prompt=none cannot ask)',
    match: { operations: ['operator'] },
    effects: { error: { authorize: { error: 'consent_required' } } }
  },
  {
    name: 'login-required',
    description: 'the operator redirects to the client with error=login_required: ' +
      'the device could not be authenticated silently',
    match: { operations: ['operator'] },
    effects: { error: { authorize: { error: 'login_required' } } }
  },
  {
    name: 'operator-auth-server-error',
    description: 'the operator redirects to the client with error=server_error',
    match: { operations: ['operator'] },
    effects: { error: { authorize: { error: 'server_error' } } }
  },
  {
    name: 'auth-temporarily-unavailable',
    description: 'the gateway authorize redirects to the client with error=temporarily_unavailable',
    match: { operations: ['authorize'] },
    effects: { error: { authorize: { error: 'temporarily_unavailable' } } }
  },
  {
    name: 'token-server-error',
    description: 'the token endpoint answers 500 {"error":"server_error"}',
    match: { operations: ['token'] },
    effects: { error: { oauth: { error: 'server_error', status: 500 } } }
  },
  {
    name: 'token-invalid-grant',
    description: 'the token endpoint answers 400 {"error":"invalid_grant"} as if the code had expired',
    match: { operations: ['token'] },
    effects: {
      error: { oauth: { error: 'invalid_grant', description: 'The authorization code is invalid or expired.' } }
    }
  },
  {
    name: 'entitlement-server-unavailable',
    description: 'the operator\'s entitlement server (TS.43, emulated) answers 503 temporarily_unavailable: ' +
      'no operator token',
    match: { operations: ['operator-token'] },
    effects: {
      error: {
        oauth: { error: 'temporarily_unavailable', description: 'The operator\'s entitlement server is unavailable.' }
      }
    }
  },
  {
    name: 'ciba-slow-operator',
    description: 'the operator takes 3 s to decide a CIBA request: ' +
      'the token endpoint answers authorization_pending until then',
    match: { operations: ['ciba-decision'] },
    effects: { latency: { fixedMs: 3000 } }
  },
  {
    name: 'ciba-device-never-answers',
    description: 'the user\'s device never answers a CIBA request: authorization_pending until expired_token',
    match: { operations: ['ciba-decision'] },
    effects: { fault: { type: 'hang' } }
  },
  {
    name: 'ciba-consent-denied',
    description: 'the user denies a CIBA request: the token endpoint answers access_denied',
    match: { operations: ['ciba-decision'] },
    effects: { error: { oauth: { error: 'access_denied', description: 'The user denied consent.' } } }
  },
  {
    name: 'ciba-unknown-user',
    description: 'bc-authorize answers 400 unknown_user_id as if the operator could not identify the login_hint',
    match: { operations: ['bc-authorize'] },
    effects: { error: { oauth: { error: 'unknown_user_id' } } }
  },
  {
    name: 'connection-reset',
    description: 'verify / share: the connection is reset (ECONNRESET) without any answer',
    match: { operations: API },
    effects: { fault: { type: 'connection-reset' } }
  },
  {
    name: 'hang',
    description: 'verify / share: the request is accepted and never answered, until the client gives up',
    match: { operations: API },
    effects: { fault: { type: 'hang' } }
  },
  {
    name: 'empty-reply',
    description: 'verify / share: the connection is closed without a byte of response',
    match: { operations: API },
    effects: { fault: { type: 'empty-reply' } }
  },
  {
    name: 'malformed-body',
    description: 'verify / share: 200 with a body that is not JSON',
    match: { operations: API },
    effects: { fault: { type: 'malformed-json' } }
  },
  {
    name: 'truncated-body',
    description: 'verify / share: 200 with the JSON body cut in the middle',
    match: { operations: API },
    effects: { fault: { type: 'truncated-json' } }
  },
  {
    name: 'slow-body',
    description: 'verify / share: headers at once, then the body dribbled a few bytes every 500 ms',
    match: { operations: API },
    effects: { fault: { type: 'slow-body', chunkDelayMs: 500 } }
  },
  {
    name: 'verify-always-true',
    description: 'verify answers devicePhoneNumberVerified: true whatever the numbers',
    match: { operations: ['verify'] },
    effects: { verifiedResult: true }
  },
  {
    name: 'verify-always-false',
    description: 'verify answers devicePhoneNumberVerified: false whatever the numbers',
    match: { operations: ['verify'] },
    effects: { verifiedResult: false }
  }
])
