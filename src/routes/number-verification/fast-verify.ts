// The /verify fast path: the plain, successful-token verify call answered straight from the HTTP
// server's request event, ahead of Fastify's router, hooks, request and reply objects. A client's
// load test spends nearly all its calls here, and Fastify's per-request machinery cost more than
// the emulator's own work (README "Performance").
//
// It takes a request only when everything that could make the answer differ from the plain one is
// absent: it looks at the headers, and at the token without using it up; anything else (a bad or
// missing token, a scenario that could apply, an odd media type or Accept, a correlator breaking
// CAMARA's pattern, a request log to write, a closing server) goes to the Fastify route, which
// answers it as before. Once it takes a request it answers it whole, body errors included, with
// the same pieces as the route (parseVerifyBody, verify, verifyAnswer, toCamaraError, the
// correlation headers), the same headers in the same order, and the same journal entry.
// Scenario state is read when the headers arrive: a scenario activated while a taken request's body
// is still coming does not apply to it (the route would decide after the body).
// test/routes/number-verification/fast-verify.test.ts sends every request both ways and compares.
import { channel } from 'node:diagnostics_channel'
import type { IncomingMessage, ServerResponse } from 'node:http'
import fastJson from 'fast-json-stringify'
import { parse as secureJsonParse } from 'secure-json-parse'
import type { Emulator } from '../../core/emulator.js'
import type { CamaraError } from '../../core/errors.js'
import type { AuthorizedCall } from '../../core/number-verification.js'
import { NV_VERIFY_SCOPE } from '../../core/scopes.js'
import { AggregatorVerifyResponseSchema, CamaraVerifyResponseSchema } from '../../schemas/camara.js'
import { correlationOf, correlatorOf } from '../../plugins/correlation.js'
import { recordOf } from '../../plugins/journal-record.js'
import type { RequestFacts } from '../../plugins/request-facts.js'
import { fixtureScenariosOf, SCENARIO_HEADER } from '../../plugins/scenarios.js'
import { acceptsJson, camaraErrorHeaders, PATH_FAMILIES, toCamaraError, type PathFamily } from './family.js'
import { verifyAnswer, type VerifyAnswer } from './verify.js'

/** Handles the request and returns true, or returns false and leaves it untouched for Fastify */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean

export interface FastPathOptions {
  /** Fastify's bodyLimit: a longer body goes to Fastify (413) */
  bodyLimit: number
  /** True once the server is closing: Fastify answers those (Connection: close, 503) */
  closing: () => boolean
  /** Where an unexpected error is reported (the server log), with the request's correlator */
  unexpected: (error: Error, correlator: string) => void
}

/** The media types the route parses as JSON without question; others go to Fastify */
const PLAIN_JSON = /^application\/json\s*(;\s*charset="?utf-8"?\s*)?$/i
const JSON_HEADERS = ['content-type', 'application/json; charset=utf-8']
const FASTIFY_HANDLER = channel('tracing:fastify.request.handler:start')
// Fastify's defaults (onProtoPoisoning, onConstructorPoisoning): such a body is refused
const PARSE_OPTIONS = { protoAction: 'error', constructorAction: 'error' } as const

export function fastVerifyPath (emulator: Emulator, options: FastPathOptions): FastPath {
  // The path kept with its family: the journal entry holds this string, not each request's copy
  // of it (a fresh string per entry outlives the request, and young garbage that survives costs)
  const families = new Map<string, { family: PathFamily, path: string }>()
  for (const family of PATH_FAMILIES) {
    const path = `${family.prefix}/verify`
    families.set(path, { family, path })
  }
  const service = emulator.numberVerification
  // fast-json-stringify from the route's 200 schema, as Fastify builds the route's own (a second
  // compile of that small schema: Fastify gives no way to its serializer outside a request), made on
  // the first answer of each flavour, not at start: the same bytes, at a fraction of JSON.stringify's
  // cost here (README "Performance")
  const serializers: Partial<Record<PathFamily['flavor'], (answer: VerifyAnswer) => string>> = {}
  const serializerOf = (flavor: PathFamily['flavor']): ((answer: VerifyAnswer) => string) =>
    (serializers[flavor] ??= fastJson(flavor === 'aggregator' ? AggregatorVerifyResponseSchema : CamaraVerifyResponseSchema))

  /** The token's call, if the request is one the fast path answers exactly as the route would */
  function plainCall (req: IncomingMessage, family: PathFamily): AuthorizedCall | undefined {
    const headers = req.headers
    const length = headers['content-length']
    if (headers[SCENARIO_HEADER] !== undefined || headers['transfer-encoding'] !== undefined || length === undefined) return undefined
    // Node has checked Content-Length is digits; an empty body is the route's to refuse
    const bytes = Number(length)
    if (bytes === 0 || bytes > options.bodyLimit) return undefined
    const type = headers['content-type']
    if (type === undefined || !PLAIN_JSON.test(type) || !acceptsJson(headers.accept)) return undefined
    if (!emulator.scenarios.idle || options.closing()) return undefined
    let call: AuthorizedCall
    try {
      call = service.authorize(headers.authorization, NV_VERIFY_SCOPE, family.version, false)
    } catch {
      return undefined
    }
    if (call.token.flowScenarios !== undefined && call.token.flowScenarios.length > 0) return undefined
    if (fixtureScenariosOf(emulator.directory, { msisdn: call.msisdn, clientId: call.token.clientId, operatorId: call.token.operatorId }).length > 0) return undefined
    return call
  }

  return (req, res) => {
    // An APM tracer listening to Fastify's handler channel sees every call: the route answers them
    if (req.method !== 'POST' || FASTIFY_HANDLER.hasSubscribers) return false
    const route = families.get(req.url ?? '')
    if (route === undefined) return false
    const { family, path } = route
    const startedAt = emulator.ctx.clock.now()
    const started = performance.now()
    const call = plainCall(req, family)
    if (call === undefined) return false
    const correlator = correlatorOf(req)
    const { echo, problem } = correlationOf(req.headers, correlator)
    if (problem !== undefined) return false
    // Taken: from here on this request is answered here
    service.consume(call)

    // The facts the route would have learnt, for the journal entry
    const facts: RequestFacts = { operation: 'verify', startedAt, flowId: call.token.flowId, clientId: call.token.clientId, msisdn: call.msisdn, operatorId: call.token.operatorId }
    const answer = (status: number, payload: string, error?: CamaraError, close = false): void => {
      const headers: string[] = []
      for (const [name, value] of echo) headers.push(name, value)
      // As Fastify after a body it could not parse: the client may send more of it
      if (close) headers.push('connection', 'close')
      if (error !== undefined) for (const [name, value] of camaraErrorHeaders(error)) headers.push(name, value)
      headers.push(...JSON_HEADERS, 'content-length', String(Buffer.byteLength(payload)))
      res.writeHead(status, headers)
      res.end(payload)
      const durationMs = Math.round((performance.now() - started) * 100) / 100
      emulator.journal.append(recordOf(facts, { method: 'POST', url: path, correlator }, { status, durationMs, reason: error?.reason }))
    }
    /** Anything thrown answers in CAMARA's format, as the route's error handler does */
    const refuse = (thrown: unknown, close: boolean): void => {
      const error = toCamaraError(thrown as Error, (err) => { options.unexpected(err, correlator) })
      answer(error.status, JSON.stringify(error.toJSON()), error, close)
    }

    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => { chunks.push(chunk) })
    req.on('end', () => {
      let body: unknown
      try {
        body = secureJsonParse((chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks)).toString('utf8'), PARSE_OPTIONS)
      } catch (thrown) {
        refuse(thrown, true)
        return
      }
      try {
        const input = service.parseVerifyBody(body)
        answer(200, serializerOf(family.flavor)(verifyAnswer(service.verify(call, input), family.flavor === 'aggregator', emulator.ctx.clock.now())))
      } catch (thrown) {
        refuse(thrown, false)
      }
    })
    // A client gone mid-body: journaled as on the route (the answer goes nowhere)
    req.once('error', (error) => { refuse(error, true) })
    return true
  }
}
