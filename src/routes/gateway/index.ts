// The aggregator's auth surface under /camara/api/auth/v1. The browser-facing authorize
// endpoint answers errors by redirect or page; the back-channel endpoints answer OAuth JSON.
import type { FastifyError, FastifyInstance } from 'fastify'
import formbody from '@fastify/formbody'
import { AuthorizeError, CamaraError, OAuthError } from '../../core/errors.js'
import { StoreUnavailableError } from '../../core/store.js'
import { surfaceErrorHandler } from '../../plugins/error-handler.js'
import { addSurfaceHooks } from '../../plugins/surface.js'
import { authorizeScenarioError, oauthScenarioError } from '../scenario-errors.js'
import { renderErrorPage } from '../../views/error-page.js'
import { AUTH_PREFIX, pathOf } from '../../core/urls.js'
import authorize from './authorize.js'
import discovery, { authorizationServerMetadata } from './discovery.js'
import jwks from './jwks.js'
import token from './token.js'
import bcAuthorize from './bc-authorize.js'

/** Browser surface: a registered redirect_uri gets the error, anything else gets a page */
export const browserErrorHandler = surfaceErrorHandler({
  surface: 'in the authorization flow',
  injected: authorizeScenarioError,
  // A page, not a redirect: the handler cannot tell whether the client and redirect_uri were checked
  missing: (error) =>
    new AuthorizeError(
      'not_found',
      error.message,
      undefined,
      "Create the namespace first (PUT /_emulator/namespaces/<name>), or point the client at the server's own issuer."
    ),
  unavailable: () =>
    new AuthorizeError(
      'temporarily_unavailable',
      StoreUnavailableError.answer,
      undefined,
      'The shared store (--store) is unreachable; the emulator answers again by itself once it is back.'
    ),
  render (error, { expose }, request, reply) {
    if (expose && error instanceof AuthorizeError) {
      // A scenario already named itself as the reason
      request.facts.reason ??= error.reason
      // No world when the namespace itself was not found: then there is no client to redirect to
      const location = request.emulator === null ? undefined : error.redirectLocation(request.emulator.ctx.urls.issuer)
      if (location !== undefined) return reply.redirect(location, 302)
      const status = error.error === 'temporarily_unavailable' ? 503 : error.error === 'not_found' ? 404 : 400
      return reply
        .code(status)
        .type('text/html; charset=utf-8')
        .send(renderErrorPage(error.error, error.description, error.pageHint))
    }
    return reply
      .code(500)
      .type('text/html; charset=utf-8')
      .send(renderErrorPage('server_error', 'The emulator failed unexpectedly; the log has the details.', ''))
  }
})

/** Back-channel surface: RFC 6749 JSON errors, never a stack */
export const oauthErrorHandler = surfaceErrorHandler({
  surface: 'at the token endpoint',
  injected: oauthScenarioError,
  unavailable: (error) =>
    new OAuthError('temporarily_unavailable', StoreUnavailableError.answer, { statusCode: 503, reason: error.message }),
  missing: (error) => new OAuthError('invalid_request', error.message, { statusCode: 404 }),
  render (error, { status, expose }, request, reply) {
    reply.header('cache-control', 'no-store')
    if (!expose) {
      return reply
        .code(500)
        .send({ error: 'server_error', error_description: 'the emulator failed unexpectedly; the log has the details' })
    }
    if (error instanceof CamaraError) {
      // An injected gateway failure (scenario) on discovery or jwks
      request.facts.reason = error.reason
      if (error.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter))
      return reply.code(error.status).send(error.toJSON())
    }
    if (error instanceof OAuthError) {
      request.facts.reason = error.reason
      if (error.wwwAuthenticate !== undefined) reply.header('www-authenticate', error.wwwAuthenticate)
      return reply.code(error.statusCode).send({ error: error.error, error_description: error.description })
    }
    const validation = (error as FastifyError).validation
    // The route schema decided; in a form body a value that is no string was repeated
    if (validation !== undefined) {
      return reply.code(400).send({ error: 'invalid_request', error_description: describeFormProblem(validation[0]) })
    }
    // Body parsing failures (malformed form, too large, unsupported media type)
    const description =
      status === 415 ? 'the token request must be sent as application/x-www-form-urlencoded' : error.message
    return reply.code(status === 415 ? 400 : status).send({ error: 'invalid_request', error_description: description })
  }
})

/** An Ajv error on a form body, in OAuth's words */
function describeFormProblem (
  problem: { instancePath: string, keyword: string, params: Record<string, unknown>, message?: string } | undefined
): string {
  const name = problem?.instancePath.replace(/^\//, '') ?? ''
  if (problem?.keyword === 'type') return `${name} must not be repeated`
  if (problem?.keyword === 'maxLength') return `${name} must be at most ${String(problem.params.limit)} characters`
  return `the request is malformed: ${name === '' ? '' : `${name} `}${problem?.message ?? 'is invalid'}`
}

/** A stalled body, in OAuth's words */
export function oauthTimeoutError (_request: unknown, text: string): Error {
  return new OAuthError('invalid_request', text, { statusCode: 408 })
}

export default async function gateway (app: FastifyInstance): Promise<void> {
  // Before the not-found handler, whose answers then carry the facts and correlation as well
  addSurfaceHooks(app, { timeoutError: oauthTimeoutError })
  // Errors before any of its routes is found (e.g. a malformed body sent to an unknown path under
  // the prefix) answer OAuth JSON, as the not-found answer does, not the root's CAMARA shape
  app.setErrorHandler(oauthErrorHandler)
  app.setNotFoundHandler(async (request, reply) => {
    return await reply.code(404).send({
      error: 'invalid_request',
      error_description: `no endpoint ${request.method} ${pathOf(request.url)}: see ` +
        `${AUTH_PREFIX}/.well-known/openid-configuration`
    })
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
    await backChannel.register(bcAuthorize)
    await backChannel.register(discovery)
    await backChannel.register(jwks)
  })
}

/**
 * RFC 8414's path of the metadata, outside the issuer (/.well-known/oauth-authorization-server
 * followed by the issuer's path): registered with that prefix, with the gateway's hooks and errors
 */
export async function gatewayMetadata (app: FastifyInstance): Promise<void> {
  addSurfaceHooks(app, { timeoutError: oauthTimeoutError })
  app.setErrorHandler(oauthErrorHandler)
  await app.register(authorizationServerMetadata, { issuerPath: AUTH_PREFIX })
}
