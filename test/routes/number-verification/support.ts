// Shared by the Number Verification tests: CAMARA's fixed texts per API version (written out here,
// not imported, so a changed text in src fails the tests), request builders and the assertions
// every CAMARA ErrorInfo answer must satisfy.
import { createHash } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import type { NvRelease } from '../../../src/core/number-verification.js'
import { PATH_FAMILIES, type PathFamily } from '../../../src/routes/number-verification/family.js'

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
export const JSON_UTF8 = 'application/json; charset=utf-8'

/** The seed device on telco-es and its neighbour on the same operator */
export const SEED_MSISDN = '+34666666666'
export const SEED_KONERA = 'ipv4:142.115.147.143'
export const OTHER_MSISDN = '+34666666667'
/** The seed's verify example on the second operator */
export const INDIA_MSISDN = '+919036499174'
export const INDIA_KONERA = 'ipv4:49.36.10.20'
/** Authenticated by SMS OTP only, never by the network */
export const SMS_OTP_KONERA = 'ipv4:142.115.147.150'

export const SHARE_ONLY_SCOPE = 'openid dpv:FraudPreventionAndDetection number-verification:device-phone-number:read'
export const VERIFY_ONLY_SCOPE = 'openid dpv:FraudPreventionAndDetection number-verification:verify'

export const RELEASE_MESSAGES: Record<NvRelease, { unauthenticated: string, notNetworkAuthenticated: string }> = {
  '1.0.0': {
    unauthenticated: 'Request not authenticated due to missing, invalid, or expired credentials.',
    notNetworkAuthenticated: 'The subscription must be identified via the mobile network to use this service.'
  },
  // r2.4's test definitions (number-verification-verify.feature)
  '2.0.0': {
    unauthenticated: 'Request not authenticated due to missing, invalid, or expired credentials.',
    notNetworkAuthenticated: 'The subscription must be identified using either Network-based authentication ' +
      'or SIM-based authentication to access this service.'
  },
  '2.1.0': {
    unauthenticated: 'Request not authenticated due to missing, invalid, or expired credentials. ' +
      'A new authentication is required.',
    notNetworkAuthenticated: 'Client must authenticate via the mobile network to use this service'
  },
  wip: {
    unauthenticated: 'Request not authenticated due to missing, invalid, or expired credentials. ' +
      'A new authentication is required.',
    notNetworkAuthenticated: 'Client must authenticate via the mobile network to use this service'
  }
}

/** The release a family speaks by default (/v2: 2.1.0) */
export function defaultRelease (family: Pick<PathFamily, 'version'>): NvRelease {
  return family.version === 'v1' ? '1.0.0' : family.version === 'v2' ? '2.1.0' : 'wip'
}

/** The texts a family answers in by default */
export function messagesOf (
  family: Pick<PathFamily, 'version'>
): { unauthenticated: string, notNetworkAuthenticated: string } {
  return RELEASE_MESSAGES[defaultRelease(family)]
}
/**
 * The families where one token serves many calls: all but /vwip, whose release allows one call per
 * token (releases.test.ts covers it)
 */
export const REUSABLE_TOKEN_FAMILIES: PathFamily[] = PATH_FAMILIES.filter((family) => family.version !== 'vwip')

export const PERMISSION_DENIED = 'Client does not have sufficient permissions to perform this action.'
export const INVALID_TOKEN_CONTEXT = 'Phone number cannot be deducted from access token context.'
export const NOT_NETWORK_AUTHENTICATED = 'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK'

export function sha256Hex (text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

export interface CallOptions {
  token?: string
  /** Replaces the Authorization header built from token (undefined: none) */
  authorization?: string
  headers?: Record<string, string>
  /** An object is sent as JSON; a string as is */
  payload?: unknown
  contentType?: string
}

function headersFor (options: CallOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  if ('authorization' in options) {
    if (options.authorization !== undefined) headers.authorization = options.authorization
  } else if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  if (options.contentType !== undefined) headers['content-type'] = options.contentType
  return { ...headers, ...options.headers }
}

export async function postVerify (
  app: FastifyInstance, family: PathFamily, options: CallOptions = {}
): Promise<LightMyRequestResponse> {
  const headers = headersFor(options)
  let payload: string | undefined
  if (typeof options.payload === 'string') payload = options.payload
  else if (options.payload !== undefined) {
    payload = JSON.stringify(options.payload)
    headers['content-type'] ??= 'application/json'
  }
  return await app.inject({
    method: 'POST',
    url: `${family.prefix}/verify`,
    headers,
    ...(payload === undefined ? {} : { payload })
  })
}

export async function getShare (
  app: FastifyInstance, family: PathFamily, options: CallOptions = {}
): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'GET', url: `${family.prefix}/device-phone-number`, headers: headersFor(options) })
}

/** Nothing that looks like a stack frame or a source path */
export function assertNoStack (t: Test, res: LightMyRequestResponse): void {
  t.notMatch(res.body, /\bat [^\n]*[/\\][^\n]*:\d+/, 'no stack frame in the body')
  t.notMatch(res.body, /\.(ts|js|mjs):\d+/, 'no source position in the body')
  t.notMatch(res.body, /node_modules|\/src\//, 'no source path in the body')
  t.notMatch(res.body, /"stack"/, 'no stack property in the body')
}

export interface ExpectedError {
  status: number
  code: string
  message: string
  /** x-emulator-reason: a string for an exact value, undefined when it must be absent, omitted to skip */
  reason?: string | RegExp | undefined
  /** The x-correlator sent with the request; a generated UUID is expected otherwise */
  correlator?: string
}

/** Exact status, exact ErrorInfo body, JSON content type, the correlator, the reason header, no stack */
export function assertCamaraError (t: Test, res: LightMyRequestResponse, expected: ExpectedError): void {
  t.equal(res.statusCode, expected.status, 'status')
  t.strictSame(JSON.parse(res.body), { status: expected.status, code: expected.code, message: expected.message },
    'ErrorInfo body')
  t.equal(res.headers['content-type'], JSON_UTF8, 'content type')
  if (expected.correlator === undefined) t.match(res.headers['x-correlator'], UUID, 'generated x-correlator')
  else t.equal(res.headers['x-correlator'], expected.correlator, 'x-correlator echoed')
  if ('reason' in expected) {
    if (expected.reason instanceof RegExp) {
      t.match(res.headers['x-emulator-reason'], expected.reason, 'x-emulator-reason')
    } else {
      t.equal(res.headers['x-emulator-reason'], expected.reason, 'x-emulator-reason')
    }
  }
  assertNoStack(t, res)
}
