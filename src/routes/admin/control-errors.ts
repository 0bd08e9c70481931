// The control surface's error format ({ status, code, message }, like CAMARA's ErrorInfo) and its
// optional bearer-token guard.
import type { FastifyError, FastifyRequest } from 'fastify'
import { surfaceErrorHandler } from '../../plugins/error-handler.js'
import { FixtureError } from '../../core/fixtures.js'
import { secretsEqual } from '../../core/client-authentication.js'
import { CamaraError, OAuthError } from '../../core/errors.js'
import { StoreUnavailableError } from '../../core/store.js'
import { NamespaceRequestError } from '../../core/namespaces.js'
import { ScenarioRegistryError } from '../../core/scenarios/engine.js'
import { ScenarioError } from '../../core/scenarios/scenario-schema.js'
import { bearerChallenge, CONTROL_REALM } from '../bearer-challenge.js'

export const controlErrorHandler = surfaceErrorHandler({
  surface: 'in the control API',
  unavailable: storeUnavailableAnswer,
  translate (error) {
    if (error instanceof FixtureError) {
      return new CamaraError(400, 'INVALID_FIXTURE', `${error.jsonPath}: ${error.rule}`)
    }
    if (error instanceof ScenarioError) {
      return new CamaraError(400, 'INVALID_SCENARIO', `${error.jsonPath}: ${error.rule}`)
    }
    if (error instanceof ScenarioRegistryError) return registryAnswer(error)
    if (error instanceof NamespaceRequestError) {
      return error.kind === 'full'
        ? new CamaraError(429, 'QUOTA_EXCEEDED', error.message)
        : new CamaraError(400, 'INVALID_ARGUMENT', error.message)
    }
    return error
  },
  render (error, { status, expose }, request, reply) {
    const answer = expose
      ? controlAnswer(error, status)
      : new CamaraError(500, 'INTERNAL', 'the emulator failed unexpectedly; the log has the details')
    request.facts.reason = answer.reason
    const challenge = bearerChallenge(answer, request.headers.authorization, CONTROL_REALM)
    if (challenge !== undefined) reply.header('www-authenticate', challenge)
    return reply.code(answer.status).send(answer.toJSON())
  }
})

/** The store's outage in the { status, code, message } shape (the control API, outside the surfaces) */
export function storeUnavailableAnswer (error: StoreUnavailableError): CamaraError {
  return new CamaraError(503, 'UNAVAILABLE', StoreUnavailableError.answer, { reason: error.message })
}

/** The control API's answer to an error the classification lets through */
function controlAnswer (error: FastifyError | Error, status: number): CamaraError {
  if (error instanceof CamaraError) return error
  if (error instanceof OAuthError) return new CamaraError(400, 'INVALID_ARGUMENT', error.description)
  if ((error as FastifyError).validation !== undefined) {
    return new CamaraError(400, 'INVALID_ARGUMENT', describeValidation(error as FastifyError))
  }
  return new CamaraError(status, 'INVALID_ARGUMENT', error.message)
}

function registryAnswer (error: ScenarioRegistryError): CamaraError {
  if (error.kind === 'unknown') return new CamaraError(404, 'NOT_FOUND', error.message)
  // A cap reached: CAMARA's word for a resource quota used up
  if (error.kind === 'full') return new CamaraError(429, 'QUOTA_EXCEEDED', error.message)
  return new CamaraError(409, 'CONFLICT', error.message)
}

/** onRequest guard: when an admin token is configured, the control API needs it as a bearer token */
export function requireAdminToken (token: string | undefined) {
  return async function (request: FastifyRequest): Promise<void> {
    if (token === undefined) return
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')
    if (match === null || !secretsEqual(match[1] ?? '', token)) {
      throw new CamaraError(
        401,
        'UNAUTHENTICATED',
        'the control API requires Authorization: Bearer <admin token> (--admin-token)'
      )
    }
  }
}

function describeValidation (error: FastifyError): string {
  const first = error.validation?.[0]
  if (first === undefined) return error.message
  const where = `${error.validationContext ?? 'body'}${first.instancePath.replace(/\//g, '.')}`
  const extra = (first.params as { additionalProperty?: string }).additionalProperty
  return extra === undefined ? `${where} ${first.message ?? 'is invalid'}` : `${where} has unknown property "${extra}"`
}
