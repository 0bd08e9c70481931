// Scope vocabulary of Number Verification and CAMARA's purpose convention.
export const NV_VERIFY_SCOPE = 'number-verification:verify'
export const NV_SHARE_SCOPE = 'number-verification:device-phone-number:read'
export const NUMBER_VERIFICATION_SCOPES = [NV_VERIFY_SCOPE, NV_SHARE_SCOPE]
/** Scopes every client may ask for: they shape the response, they grant no API */
export const PROTOCOL_SCOPES = ['openid', 'offline_access']
const PURPOSE = /^dpv:[A-Za-z][A-Za-z0-9]*$/

export interface ParsedScope {
  scopes: string[]
  apiScopes: string[]
  purposes: string[]
  openid: boolean
  offlineAccess: boolean
}

export function parseScope (scope: string): ParsedScope {
  const scopes = [...new Set(scope.split(' ').filter((s) => s !== ''))]
  return {
    scopes,
    apiScopes: scopes.filter((s) => !PROTOCOL_SCOPES.includes(s) && !PURPOSE.test(s)),
    purposes: scopes.filter((s) => PURPOSE.test(s)),
    openid: scopes.includes('openid'),
    offlineAccess: scopes.includes('offline_access')
  }
}

/** Why this scope cannot be granted to a client allowed `allowed`, or undefined when it can. */
export function scopeProblem (
  parsed: ParsedScope, allowed: string[], options: { requirePurpose: boolean }
): string | undefined {
  if (parsed.scopes.length === 0) return 'scope is empty'
  const refused = parsed.apiScopes.filter((s) => !allowed.includes(s))
  if (refused.length > 0) return `scope not allowed for this client: ${refused.join(' ')}`
  if (parsed.purposes.length > 1) return `exactly one dpv: purpose is allowed, got ${parsed.purposes.join(' ')}`
  if (options.requirePurpose && parsed.purposes.length === 0) {
    return 'a dpv: purpose is required, e.g. dpv:FraudPreventionAndDetection'
  }
  return undefined
}
