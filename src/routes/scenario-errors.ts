// How each surface renders an injected (scenario) error or a refusal of unknown scenario names.
import { AuthorizeError, CamaraError, OAuthError } from '../core/errors.js'
import type { InjectedError, UnknownScenarios } from '../core/legs.js'
import type { FastifyRequest } from 'fastify'
import { releaseCode, versionedMessage, type NvRelease } from '../core/camara-errors.js'

function unknownNames (problem: UnknownScenarios): string {
  return `unknown scenario ${problem.unknown.map((n) => `"${n}"`).join(', ')}: GET /_emulator/scenarios lists them`
}

/** On the API: the injected error in the words (and, for 0.9's minimal set, the code) of the request's release */
export function camaraScenarioError (releaseOf: (request: FastifyRequest) => NvRelease) {
  return ({ problem }: InjectedError, request: FastifyRequest): Error => {
    if ('unknown' in problem) return new CamaraError(400, 'INVALID_ARGUMENT', unknownNames(problem))
    if (problem.kind === 'camara') {
      const release = releaseOf(request)
      const code = releaseCode(problem.code, release)
      const message = code === problem.code
        ? versionedMessage(code, release, problem.message)
        : versionedMessage(code, release, undefined)
      return new CamaraError(problem.status, code, message, {
        reason: `scenario ${problem.scenario}`,
        retryAfter: problem.retryAfterSeconds
      })
    }
    return new CamaraError(500, 'INTERNAL', 'Server error', {
      reason: `scenario ${problem.scenario} gives a ${problem.kind} error here`
    })
  }
}

export function oauthScenarioError ({ problem }: InjectedError): Error {
  if ('unknown' in problem) return new OAuthError('invalid_request', unknownNames(problem))
  if (problem.kind === 'oauth') {
    return new OAuthError(problem.error, problem.description, {
      statusCode: problem.status,
      reason: `scenario ${problem.scenario}`
    })
  }
  if (problem.kind === 'camara') {
    return new CamaraError(problem.status, problem.code, versionedMessage(problem.code, '2.1.0', problem.message), {
      reason: `scenario ${problem.scenario}`,
      retryAfter: problem.retryAfterSeconds
    })
  }
  return new OAuthError('server_error', `scenario ${problem.scenario}`, { statusCode: 500 })
}

/** The browser legs: the error goes to the client by redirect when the core knows where */
export function authorizeScenarioError ({ problem, redirect }: InjectedError): Error {
  if ('unknown' in problem) return new AuthorizeError('invalid_request', unknownNames(problem), redirect)
  if (problem.kind === 'authorize') return new AuthorizeError(problem.error, problem.description, redirect)
  return new AuthorizeError('server_error', `scenario ${problem.scenario}`, redirect)
}
