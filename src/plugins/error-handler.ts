// The one error model of the HTTP layer. Every surface's error handler is made here: a fault takes
// the connection over, an injected (scenario) error becomes the surface's own error, and every
// error is classified once (core/errors.ts classify: its status, whether its text may be shown).
// An error whose text may not be shown is unexpected: logged here, once, with the surface's name,
// and the surface's renderer answers a 500 in its own format. No renderer decides that by itself.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { classify, type Classification } from '../core/errors.js'
import { InjectedError, InjectedFault } from '../core/legs.js'
import { StoreUnavailableError } from '../core/store.js'
import { NamespaceNotFoundError } from '../core/namespaces.js'
import { CamaraError } from '../core/errors.js'

export type ErrorHandler = (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => FastifyReply

/** Renders a classified error in one format; `classification.expose` false means a 500 with no details */
export type ErrorRenderer = (
  error: FastifyError | Error,
  classification: Classification,
  request: FastifyRequest,
  reply: FastifyReply
) => FastifyReply

export interface SurfaceErrors {
  /** Where, in the log line of an unexpected error ('in the control API', 'outside the emulator surfaces') */
  surface: string
  /** How an injected error reads on this surface (omit where no scenario runs) */
  injected?: (error: InjectedError, request: FastifyRequest) => Error
  /** The store's outage (a shared store unreachable) as the surface's own "try again later" */
  unavailable: (error: StoreUnavailableError, request: FastifyRequest) => Error
  /**
   * A request under /ns/<name> for a namespace that does not exist, in the surface's own words
   * (default: 404 { status, code: NOT_FOUND, message })
   */
  missing?: (error: NamespaceNotFoundError, request: FastifyRequest) => Error
  /** The surface's own domain errors as errors the classification knows (before classifying) */
  translate?: (error: FastifyError | Error) => FastifyError | Error
  render: ErrorRenderer
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Words a body the route schema refused in the surface's own terms (the schema decides; this
     * only says what is wrong): returns the error to answer with. It may note what the body
     * shows of the client on the request's leg (conformance checks).
     */
    describeInvalidBody?: (body: unknown, request: FastifyRequest) => Error
  }
}

function namespaceNotFound (error: NamespaceNotFoundError): Error {
  return new CamaraError(404, 'NOT_FOUND', error.message)
}

export function surfaceErrorHandler ({
  surface,
  injected,
  unavailable,
  missing = namespaceNotFound,
  translate,
  render
}: SurfaceErrors): ErrorHandler {
  return (thrown, request, reply) => {
    if (thrown instanceof InjectedFault) {
      request.server.breakConnection(request, reply, thrown.fault)
      return reply
    }
    let error = thrown
    if (thrown instanceof InjectedError) {
      if (!('unknown' in thrown.problem)) request.facts.reason = `scenario ${thrown.problem.scenario}`
      error = injected === undefined ? thrown : injected(thrown, request)
    }
    const describe = request.routeOptions.config.describeInvalidBody
    if (
      describe !== undefined &&
      (error as FastifyError).validation !== undefined &&
      (error as FastifyError).validationContext === 'body'
    ) {
      error = describe(request.body, request)
    }
    if (error instanceof StoreUnavailableError) {
      request.facts.reason = error.message
      error = unavailable(error, request)
    }
    if (error instanceof NamespaceNotFoundError) {
      request.facts.reason = error.message
      error = missing(error, request)
    }
    if (translate !== undefined) error = translate(error)
    const classification = classify(error)
    if (!classification.expose) {
      request.log.error({ err: error }, `unexpected error ${surface}`)
      request.facts.reason = 'unexpected error (see the log)'
    }
    return render(error, classification, request, reply)
  }
}
