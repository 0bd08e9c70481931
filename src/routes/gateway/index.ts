// The aggregator's auth surface under /camara/api/auth/v1. The browser-facing authorize
// endpoint answers errors by redirect or page; the back-channel endpoints answer OAuth JSON.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import formbody from '@fastify/formbody'
import { AuthorizeError, CamaraError, OAuthError } from '../../core/errors.js'
import { linkRefusedFlow } from '../../plugins/request-facts.js'
import { takingOverFaults } from '../../plugins/scenarios.js'
import { renderErrorPage } from '../../views/error-page.js'
import { AUTH_PREFIX, pathOf } from '../../core/urls.js'
import authorize from './authorize.js'
import discovery from './discovery.js'
import jwks from './jwks.js'
import token from './token.js'

/** Browser surface: a registered redirect_uri gets the error, anything else gets a page */
export const browserErrorHandler = takingOverFaults(function (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof AuthorizeError) {
    // A scenario already named itself as the reason
    request.facts.reason ??= error.description
    const location = error.redirectLocation()
    if (location !== undefined) return reply.redirect(location, 302)
    return reply.code(400).type('text/html; charset=utf-8').send(renderErrorPage(error.error, error.description, error.pageHint))
  }
  request.log.error({ err: error }, 'unexpected error in the authorization flow')
  return reply.code(500).type('text/html; charset=utf-8').send(renderErrorPage('server_error', 'The emulator failed unexpectedly; the log has the details.', ''))
})

/** Back-channel surface: RFC 6749 JSON errors, never a stack */
export const oauthErrorHandler = takingOverFaults(function (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.header('cache-control', 'no-store')
  if (error instanceof CamaraError) {
    // An injected gateway failure (scenario) on discovery or jwks
    request.facts.reason = error.reason
    if (error.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter))
    return reply.code(error.status).send(error.toJSON())
  }
  if (error instanceof OAuthError) {
    request.facts.reason = error.reason
    linkRefusedFlow(request.facts, error.flow)
    if (error.wwwAuthenticate !== undefined) reply.header('www-authenticate', error.wwwAuthenticate)
    return reply.code(error.statusCode).send({ error: error.error, error_description: error.description })
  }
  const status = (error as FastifyError).statusCode
  if (status !== undefined && status >= 400 && status < 500) {
    // Body parsing failures (malformed form, too large, unsupported media type)
    const description = status === 415 ? 'the token request must be sent as application/x-www-form-urlencoded' : error.message
    return reply.code(status === 415 ? 400 : status).send({ error: 'invalid_request', error_description: description })
  }
  request.log.error({ err: error }, 'unexpected error at the token endpoint')
  return reply.code(500).send({ error: 'server_error', error_description: 'the emulator failed unexpectedly; the log has the details' })
})

export default async function gateway (app: FastifyInstance): Promise<void> {
  // Errors before any of its routes is found (e.g. a malformed body sent to an unknown path under
  // the prefix) answer OAuth JSON, as the not-found answer does, not the root's CAMARA shape
  app.setErrorHandler(oauthErrorHandler)
  app.setNotFoundHandler(async (request, reply) => {
    return await reply.code(404).send({ error: 'invalid_request', error_description: `no endpoint ${request.method} ${pathOf(request.url)}: see ${AUTH_PREFIX}/.well-known/openid-configuration` })
  })
  await app.register(async (browser) => {
    browser.setErrorHandler(browserErrorHandler)
    await browser.register(authorize)
  })
  await app.register(async (backChannel) => {
    backChannel.setErrorHandler(oauthErrorHandler)
    // OAuth's form bodies are parsed here only, not by every surface
    await backChannel.register(formbody)
    await backChannel.register(token)
    await backChannel.register(discovery)
    await backChannel.register(jwks)
  })
}
