// How each surface renders an injected (scenario) error or a refusal of unknown scenario names.
import { AuthorizeError, CamaraError, OAuthError } from '../core/errors.js'
import type { InjectedError, UnknownScenarios } from '../core/legs.js'
import { versionedMessage, type ApiVersion } from '../core/camara-errors.js'

function unknownNames (problem: UnknownScenarios): string {
  return `unknown scenario ${problem.unknown.map((n) => `"${n}"`).join(', ')}: GET /_emulator/scenarios lists them`
}

export function camaraScenarioError (version: ApiVersion) {
  return ({ problem }: InjectedError): Error => {
    if ('unknown' in problem) return new CamaraError(400, 'INVALID_ARGUMENT', unknownNames(problem))
    if (problem.kind === 'camara') {
      return new CamaraError(problem.status, problem.code, versionedMessage(problem.code, version, problem.message), { reason: `scenario ${problem.scenario}`, retryAfter: problem.retryAfterSeconds })
    }
    return new CamaraError(500, 'INTERNAL', 'Server error', { reason: `scenario ${problem.scenario} gives a ${problem.kind} error here` })
  }
}

export function oauthScenarioError ({ problem }: InjectedError): Error {
  if ('unknown' in problem) return new OAuthError('invalid_request', unknownNames(problem))
  if (problem.kind === 'oauth') return new OAuthError(problem.error, problem.description, { statusCode: problem.status, reason: `scenario ${problem.scenario}` })
  if (problem.kind === 'camara') return new CamaraError(problem.status, problem.code, versionedMessage(problem.code, 'v2', problem.message), { reason: `scenario ${problem.scenario}`, retryAfter: problem.retryAfterSeconds })
  return new OAuthError('server_error', `scenario ${problem.scenario}`, { statusCode: 500 })
}

/** The browser legs: the error goes to the client by redirect when the core knows where */
export function authorizeScenarioError ({ problem, redirect }: InjectedError): Error {
  if ('unknown' in problem) return new AuthorizeError('invalid_request', unknownNames(problem), redirect)
  if (problem.kind === 'authorize') return new AuthorizeError(problem.error, problem.description, redirect)
  return new AuthorizeError('server_error', `scenario ${problem.scenario}`, redirect)
}
