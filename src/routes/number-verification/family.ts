// One Number Verification path family (prefix + API version + response flavour), the hook that
// authorizes a call, and the CAMARA ErrorInfo error format every family speaks.
import type { FastifyError, FastifyRequest } from 'fastify'
import { CamaraError } from '../../core/errors.js'
import { observe } from '../../core/conformance.js'
import { surfaceErrorHandler, type ErrorHandler } from '../../plugins/error-handler.js'
import { ErrorInfoSchema } from '../../schemas/camara.js'
import type { ApiRequest, ApiVersion, AuthenticatedCall, NvRelease } from '../../core/number-verification.js'
import { DPOP_ALGS } from '../../core/dpop.js'
import { pathOf } from '../../core/urls.js'
import { DEFAULT_V2_RELEASE, RELEASE_RULES, releaseOf } from '../../core/camara-errors.js'
import { camaraScenarioError } from '../scenario-errors.js'
import { API_REALM, bearerChallenge, challengeSafe } from '../bearer-challenge.js'

export interface PathFamily {
  id: string
  prefix: string
  version: ApiVersion
  /** aggregator paths answer verify with assessedAt */
  flavor: 'aggregator' | 'camara'
  label: string
  tag: string
}

export const PATH_FAMILIES: PathFamily[] = [
  {
    id: 'seed_v1',
    prefix: '/camara/api/number-verification/v1',
    version: 'v1',
    flavor: 'aggregator',
    label: 'aggregator, the seed',
    tag: 'number-verification (aggregator)'
  },
  {
    id: 'aggregator_v1',
    prefix: '/camara/number-verification/v1',
    version: 'v1',
    flavor: 'aggregator',
    label: 'aggregator v1',
    tag: 'number-verification (aggregator)'
  },
  {
    id: 'aggregator_v2',
    prefix: '/camara/number-verification/v2',
    version: 'v2',
    flavor: 'aggregator',
    label: 'aggregator v2',
    tag: 'number-verification (aggregator)'
  },
  {
    id: 'camara_v1',
    prefix: '/number-verification/v1',
    version: 'v1',
    flavor: 'camara',
    label: 'CAMARA v1',
    tag: 'number-verification (CAMARA)'
  },
  {
    id: 'camara_v2',
    prefix: '/number-verification/v2',
    version: 'v2',
    flavor: 'camara',
    label: 'CAMARA v2',
    tag: 'number-verification (CAMARA)'
  },
  {
    id: 'camara_vwip',
    prefix: '/number-verification/vwip',
    version: 'vwip',
    flavor: 'camara',
    label: 'CAMARA vwip, the work in progress after r3.2',
    tag: 'number-verification (CAMARA)'
  }
]

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by authorizeCall once the token is accepted (what it identifies is checked after the body) */
    call: AuthenticatedCall
    /** The JSON body's bytes as received (a DPoP proof's camara:bh names them) */
    rawBody: Buffer | undefined
  }
}

/** Every error status an NV operation can answer (scenarios included), all as ErrorInfo */
export const NV_ERROR_RESPONSES = Object.fromEntries(
  [400, 401, 403, 406, 415, 429, 500, 502, 503, 504].map((status) => [status, ErrorInfoSchema])
) as Record<400 | 401 | 403 | 406 | 415 | 429 | 500 | 502 | 503 | 504, typeof ErrorInfoSchema>

const JSON_TYPE = /^application\/json\s*(;|$)/i

export function acceptsJson (accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true
  return accept.split(',').some((part) => /^\s*(\*\/\*|application\/\*|application\/json)\s*(;|$)/i.test(part))
}

/**
 * Checks, in CAMARA's order, everything that does not need the body: the correlator, the Accept
 * header, the bearer token and its scope; then the request media type. The body's schema comes
 * next, and only then what the token identifies (the route's handler). A route's config
 * checkRequest (request-facts runs it in its onRequest hook, so no hook of its own).
 */
export function authorizeCall (scope: string, family: PathFamily): (request: FastifyRequest) => Promise<void> {
  return (request) => checkCall(request, scope, family)
}

async function checkCall (request: FastifyRequest, scope: string, family: PathFamily): Promise<void> {
  if (request.correlatorProblem !== undefined) {
    observe(request.facts.leg, { rule: 'x-correlator', ok: false, detail: request.correlatorProblem })
    await request.emulator.numberVerification.attribute(request.headers.authorization, request.facts.leg)
    throw new CamaraError(400, 'INVALID_ARGUMENT', `Invalid header: ${request.correlatorProblem}`)
  }
  const service = request.emulator.numberVerification
  // The headers are checked in the release the call is answered in: the token's client's (a /v2
  // client may speak 2.0.0, whose correlator pattern is narrower), or without a usable token the
  // release the family speaks to any client. Resolving the token first spends nothing.
  let call: AuthenticatedCall
  try {
    call = await service.authenticate(request.headers.authorization, scope, family.version,
      request.facts.leg, apiRequest(request))
  } catch (error) {
    // The token may have named its client before it was refused (a missing scope, a bad proof)
    checkHeaders(request, service.releaseFor(family.version, request.facts.leg.flow.clientId))
    throw error
  }
  request.call = call
  checkHeaders(request, call.release)
  const contentType = request.headers['content-type']
  if (request.method === 'POST' && contentType !== undefined && !JSON_TYPE.test(contentType)) {
    throw new CamaraError(415, 'UNSUPPORTED_MEDIA_TYPE',
      `The request media type "${contentType}" is not supported: send application/json`)
  }
}

/** What a DPoP proof must name of the request: method, path as routed, the raw query */
function apiRequest (request: FastifyRequest): ApiRequest {
  const mark = request.url.indexOf('?')
  const query = mark === -1 ? '' : request.url.slice(mark + 1)
  return {
    dpop: request.headers.dpop,
    method: request.method,
    path: pathOf(request.url),
    query: query === '' ? undefined : query
  }
}

/**
 * A preValidation hook: once the body is read, a DPoP proof's camara:bh must name its bytes
 * (before the schema judges the body, as the proof authenticates the request)
 */
export async function checkBodyBinding (request: FastifyRequest): Promise<void> {
  const call = request.call as AuthenticatedCall | null
  if (call !== null) request.emulator.numberVerification.checkBody(call, request.rawBody)
}

/** 400 for a correlation header the release's pattern refuses, then 406 for an Accept without JSON */
function checkHeaders (request: FastifyRequest, release: NvRelease): void {
  const pattern = RELEASE_RULES[release].correlatorPattern
  const value = request.headers['x-correlator']
  // Optional in every release: graded only when sent
  if (typeof value === 'string') {
    observe(request.facts.leg, {
      rule: 'x-correlator',
      ok: pattern.test(value),
      detail: `x-correlator must match ${pattern.source}`
    })
  }
  if (typeof value === 'string' && !pattern.test(value)) {
    // Echoed all the same: it keeps Commonalities' pattern, which chose it before the release was known
    throw new CamaraError(400, 'INVALID_ARGUMENT',
      `Invalid header: x-correlator must match ${pattern.source} (Number Verification ${release})`)
  }
  if (!acceptsJson(request.headers.accept)) {
    throw new CamaraError(406, 'NOT_ACCEPTABLE',
      'The server cannot produce a response matching the Accept header: this API answers application/json')
  }
}

/** The release an answer of the family is in: the call's once its token named the client */
export function requestRelease (request: FastifyRequest, version: ApiVersion): NvRelease {
  const call = request.call as AuthenticatedCall | null
  if (call !== null) return call.release
  return request.emulator === null
    ? releaseOf(version, DEFAULT_V2_RELEASE)
    : request.emulator.numberVerification.releaseFor(version)
}

const FRAMEWORK_ERRORS: Record<string, [number, string, string]> = {
  FST_ERR_CTP_EMPTY_JSON_BODY: [
    400,
    'INVALID_ARGUMENT',
    'the request body is empty: send { "phoneNumber": "+E.164" } or { "hashedPhoneNumber": "<sha256 hex>" }'
  ],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    'the request media type is not supported: send application/json'
  ],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'INVALID_ARGUMENT', 'the request body is too large'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'INVALID_ARGUMENT', 'the Content-Length header does not match the body']
}

/**
 * The CAMARA error for an error the classification lets through: its own, or a framework error
 * (body parsing, schema validation) in CAMARA's words. Anything else is the 500 the handler gives.
 */
export function toCamaraError (error: FastifyError | Error, status: number): CamaraError {
  if (error instanceof CamaraError) return error
  const validation = (error as FastifyError).validation
  if (validation !== undefined) {
    // The route schema decided; the message says what is wrong in the API's own words
    const context = (error as FastifyError).validationContext
    return new CamaraError(400, 'INVALID_ARGUMENT', `Invalid ${context ?? 'request'}: ${error.message}`)
  }
  const known = FRAMEWORK_ERRORS[(error as FastifyError).code ?? '']
  if (known !== undefined) return new CamaraError(known[0], known[1], known[2])
  // The client closed the connection before its body was complete: nobody reads the answer, but
  // the journal tells why the call ended
  if ((error as NodeJS.ErrnoException).code === 'ECONNRESET') {
    return new CamaraError(400, 'INVALID_ARGUMENT', 'the request body was cut off', {
      reason: 'the client closed the connection before the body was complete'
    })
  }
  if (
    error instanceof SyntaxError ||
    (status === 400 && (error as FastifyError).code?.startsWith('FST_ERR_CTP') === true)
  ) {
    return new CamaraError(400, 'INVALID_ARGUMENT', 'the request body is not valid JSON')
  }
  return new CamaraError(status, 'INVALID_ARGUMENT', error.message)
}

/** The headers an error answer carries besides the correlator and the content headers */
export function camaraErrorHeaders (camara: CamaraError): Array<[string, string]> {
  const headers: Array<[string, string]> = []
  if (camara.retryAfter !== undefined) headers.push(['retry-after', String(camara.retryAfter)])
  // The reason says more than CAMARA's fixed texts (e.g. 'access token was already used')
  if (camara.reason !== camara.message) headers.push(['x-emulator-reason', headerSafe(camara.reason)])
  return headers
}

/** The error handler of one path family: CAMARA ErrorInfo in the release the request is answered in */
export function camaraErrorHandler (version: ApiVersion): ErrorHandler {
  return surfaceErrorHandler({
    surface: 'in the Number Verification API',
    injected: camaraScenarioError((request) => requestRelease(request, version)),
    unavailable: (error) => CamaraError.standard('UNAVAILABLE', '2.1.0', { reason: error.message }),
    render (error, { status, expose }, request, reply) {
      const camara = expose
        ? toCamaraError(error, status)
        : new CamaraError(500, 'INTERNAL', 'Server error', { reason: 'unexpected error (see the log)' })
      request.facts.reason = camara.reason
      for (const [name, value] of camaraErrorHeaders(camara)) reply.header(name, value)
      const challenge = apiChallenge(camara, request.headers.authorization)
      if (challenge !== undefined) reply.header('www-authenticate', challenge)
      return reply.code(camara.status).send(camara.toJSON())
    }
  })
}

/**
 * RFC 9449 section 7.1: a refusal of a DPoP request (or of a DPoP-bound token sent as Bearer)
 * challenges with the DPoP scheme, the accepted algs and what is wrong; anything else as RFC 6750
 */
export function apiChallenge (error: CamaraError, authorization: string | undefined): string | undefined {
  const dpop = error.dpopError !== undefined || (authorization !== undefined && /^DPoP\s/i.test(authorization))
  if (!dpop) return bearerChallenge(error, authorization, API_REALM)
  const base = `DPoP realm="${API_REALM}", algs="${DPOP_ALGS.join(' ')}"`
  // A 401, or the 400 of a replayed proof (ICM r4.2), names what is wrong with the proof
  if (error.status === 401 || (error.status === 400 && error.dpopError !== undefined)) {
    return `${base}, error="${error.dpopError ?? 'invalid_token'}", error_description="${challengeSafe(error.reason)}"`
  }
  if (error.status === 403 && error.missingScope !== undefined) {
    return `${base}, error="insufficient_scope", scope="${challengeSafe(error.missingScope)}"`
  }
  return undefined
}

/** Header values must stay on one line of visible ASCII */
export function headerSafe (text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 300)
}
