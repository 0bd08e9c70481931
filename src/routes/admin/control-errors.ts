// The control surface's error format ({ status, code, message }, like CAMARA's ErrorInfo) and its
// optional bearer-token guard.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { FixtureError } from '../../config/fixtures.js'
import { secretsEqual } from '../../core/client-authentication.js'
import { CamaraError, OAuthError } from '../../core/errors.js'
import { ScenarioRegistryError } from '../../core/scenarios/engine.js'
import { ScenarioError } from '../../core/scenarios/scenario-schema.js'

export function controlErrorHandler (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  let answer: CamaraError
  if (error instanceof CamaraError) answer = error
  else if (error instanceof FixtureError) answer = new CamaraError(400, 'INVALID_FIXTURE', `${error.jsonPath}: ${error.rule}`)
  else if (error instanceof ScenarioError) answer = new CamaraError(400, 'INVALID_SCENARIO', `${error.jsonPath}: ${error.rule}`)
  else if (error instanceof ScenarioRegistryError) answer = registryAnswer(error)
  else if (error instanceof OAuthError) answer = new CamaraError(400, 'INVALID_ARGUMENT', error.description)
  else if ((error as FastifyError).validation !== undefined) answer = new CamaraError(400, 'INVALID_ARGUMENT', describeValidation(error as FastifyError))
  else if (((error as FastifyError).statusCode ?? 500) < 500) answer = new CamaraError((error as FastifyError).statusCode as number, 'INVALID_ARGUMENT', error.message)
  else {
    request.log.error({ err: error }, 'unexpected error in the control API')
    answer = new CamaraError(500, 'INTERNAL', 'the emulator failed unexpectedly; the log has the details')
  }
  request.facts.reason = answer.reason
  return reply.code(answer.status).send(answer.toJSON())
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
      throw new CamaraError(401, 'UNAUTHENTICATED', 'the control API requires Authorization: Bearer <admin token> (--admin-token)')
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
