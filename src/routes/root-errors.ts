// Errors raised outside the emulator's surfaces (Swagger UI and its static files, /openapi.*, the
// health and dashboard pages, bodies sent to unknown paths) answered in the same CAMARA-style
// { status, code, message } as the root not-found handler, never in Fastify's default shape.
// Each surface sets its own handler in its own scope, so this one never sees their errors.
import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyRequest } from 'fastify'
import { CamaraError, type Classification } from '../core/errors.js'
import { surfaceErrorHandler } from '../plugins/error-handler.js'
import { pathOf } from '../core/urls.js'
import { storeUnavailableAnswer } from './admin/control-errors.js'

/** CAMARA's code for each client-error status (Commonalities); any other 4xx is INVALID_ARGUMENT */
const CODES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  409: 'CONFLICT',
  412: 'FAILED_PRECONDITION',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  416: 'OUT_OF_RANGE',
  422: 'UNPROCESSABLE_CONTENT',
  429: 'TOO_MANY_REQUESTS'
}

/** Words for the refusals @fastify/static makes under /docs, whose own messages are bare status phrases */
const STATIC_REFUSALS: Record<number, (request: string) => string> = {
  // a NUL byte, or an escape that does not decode
  400: (request) => `the request URL is malformed: ${request}`,
  // a path that climbs out of the directory it serves (.., %2f, %5c)
  403: (request) => `${request} is refused: the path leads outside the files served here`,
  // If-Match / If-Unmodified-Since
  412: (request) => `${request}: a precondition in the request headers does not hold`,
  416: (request) => `${request}: the Range header asks for bytes the file does not have`
}

type RootError = FastifyError & { status?: number, headers?: Record<string, unknown> }

export const rootErrorHandler = surfaceErrorHandler({
  surface: 'outside the emulator surfaces',
  unavailable: storeUnavailableAnswer,
  render (error, classification, request, reply) {
    const answer = camaraAnswer(error as RootError, classification, request)
    if (answer.status < 500) {
      // What the client needs to ask again correctly, e.g. Content-Range on a 416
      for (const [name, value] of Object.entries((error as RootError).headers ?? {})) {
        if (typeof value === 'string') reply.header(name, value)
      }
    }
    request.facts.reason = answer.reason
    return reply.code(answer.status).send(answer.toJSON())
  }
})

function camaraAnswer (error: RootError, { status, expose }: Classification, request: FastifyRequest): CamaraError {
  if (!expose) {
    return new CamaraError(500, 'INTERNAL', 'the emulator failed unexpectedly; the log has the details', {
      reason: 'unexpected error (see the log)'
    })
  }
  if (error instanceof CamaraError) return error
  const code = CODES[status] ?? 'INVALID_ARGUMENT'
  // Fastify's own errors (body parsing, validation) describe the input; other libraries' messages
  // are bare status phrases ('Forbidden'), so the answer says what was refused
  if (error.code?.startsWith('FST_ERR_') === true) return new CamaraError(status, code, error.message)
  const target = `${request.method} ${pathOf(request.url)}`
  const words = STATIC_REFUSALS[status]
  return new CamaraError(
    status,
    code,
    words === undefined ? `${target} is refused: ${STATUS_CODES[status] ?? 'client error'}` : words(target)
  )
}
