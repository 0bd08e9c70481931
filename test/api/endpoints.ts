// The URLs startEmulator() reports for an emulator at `base`, written out independently of
// src/core/urls.ts so the tests that compare with them can fail.
export function expectedEndpoints (base: string): Record<string, string> {
  const issuer = `${base}/camara/api/auth/v1`
  return {
    base,
    issuer,
    discovery: `${issuer}/.well-known/openid-configuration`,
    authorize: `${issuer}/authorize`,
    token: `${issuer}/token`,
    jwks: `${issuer}/jwks`,
    verify: `${base}/camara/api/number-verification/v1/verify`,
    health: `${base}/_emulator/health`
  }
}
