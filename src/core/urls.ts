// Every externally visible URL derives from one public base URL, so the emulator works behind
// Docker networks and proxies (--public-url) and on an ephemeral port (set once listening).
export const AUTH_PREFIX = '/camara/api/auth/v1'

/** A request URL without its query string */
export function pathOf (url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

export class EmulatorUrls {
  private base: string

  constructor (base: string) {
    this.base = EmulatorUrls.normalise(base)
  }

  static normalise (base: string): string {
    const url = new URL(base)
    return url.toString().replace(/\/+$/, '')
  }

  setBase (base: string): void {
    this.base = EmulatorUrls.normalise(base)
  }

  get publicUrl (): string { return this.base }
  get issuer (): string { return `${this.base}${AUTH_PREFIX}` }
  get authorizationEndpoint (): string { return `${this.issuer}/authorize` }
  get tokenEndpoint (): string { return `${this.issuer}/token` }
  get jwksUri (): string { return `${this.issuer}/jwks` }
  get discovery (): string { return `${this.issuer}/.well-known/openid-configuration` }
  get verify (): string { return `${this.base}/camara/api/number-verification/v1/verify` }
  operatorAuthorization (operatorId: string): string { return `${this.base}/operators/${encodeURIComponent(operatorId)}/authorize` }
}
