// Every externally visible URL derives from one public base URL, so the emulator works behind
// Docker networks and proxies (--public-url) and on an ephemeral port (set once listening).
export const AUTH_PREFIX = '/camara/api/auth/v1'

/** Where a namespace's surfaces are served */
export function namespacePath (name: string): string {
  return `/ns/${name}`
}

/** A request URL without its query string */
export function pathOf (url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

export class EmulatorUrls {
  private base: string
  /** A world served under a path of another (a namespace): its base follows the parent's */
  private readonly parent: { urls: EmulatorUrls, path: string } | undefined

  constructor (base: string, parent?: { urls: EmulatorUrls, path: string }) {
    this.base = EmulatorUrls.normalise(base)
    this.parent = parent
  }

  static normalise (base: string): string {
    const url = new URL(base)
    return url.toString().replace(/\/+$/, '')
  }

  /** The URLs of a world served under `path` of this one (`/ns/<name>`), following setBase */
  under (path: string): EmulatorUrls {
    return new EmulatorUrls(`${this.publicUrl}${path}`, { urls: this, path })
  }

  setBase (base: string): void {
    if (this.parent !== undefined) throw new Error("a namespace's URLs follow its parent's base")
    this.base = EmulatorUrls.normalise(base)
  }

  get publicUrl (): string {
    return this.parent === undefined ? this.base : `${this.parent.urls.publicUrl}${this.parent.path}`
  }

  get issuer (): string {
    return `${this.publicUrl}${AUTH_PREFIX}`
  }

  get authorizationEndpoint (): string {
    return `${this.issuer}/authorize`
  }

  get tokenEndpoint (): string {
    return `${this.issuer}/token`
  }

  /** CIBA's backchannel authentication endpoint */
  get backchannelAuthenticationEndpoint (): string {
    return `${this.issuer}/bc-authorize`
  }

  get jwksUri (): string {
    return `${this.issuer}/jwks`
  }

  get discovery (): string {
    return `${this.issuer}/.well-known/openid-configuration`
  }

  get verify (): string {
    return `${this.publicUrl}/camara/api/number-verification/v1/verify`
  }

  operatorAuthorization (operatorId: string): string {
    return `${this.publicUrl}/operators/${encodeURIComponent(operatorId)}/authorize`
  }
}
