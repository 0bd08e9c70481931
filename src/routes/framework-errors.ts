// Errors Fastify raises before any route runs (a malformed URL, a path parameter over
// maxParamLength), answered in the format of the surface the path belongs to.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { AUTH_PREFIX, pathOf } from '../core/urls.js'
import { renderErrorPage } from '../views/error-page.js'

export function frameworkErrors (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = error.statusCode ?? 400
  const path = pathOf(request.url)
  const description = status === 414 ? 'a path segment is too long' : 'the request URL is malformed'
  if (path.startsWith(`${AUTH_PREFIX}/authorize`) || path.startsWith('/operators/') || path.startsWith('/demo')) {
    return reply.code(status).type('text/html; charset=utf-8')
      .send(renderErrorPage('invalid_request', description, 'Check the URL the app built.'))
  }
  if (path.startsWith(`${AUTH_PREFIX}/`)) {
    return reply.code(status).header('cache-control', 'no-store')
      .send({ error: 'invalid_request', error_description: description })
  }
  return reply.code(status).send({ status, code: 'INVALID_ARGUMENT', message: description })
}
