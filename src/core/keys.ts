// Signing keys for id_tokens: generated at start unless a key file is given. The kid is the
// RFC 7638 thumbprint, so a stable key always has a stable kid.
import { readFileSync } from 'node:fs'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose'
import type { SigningAlg } from './fixture-schema.js'

export interface SigningKey {
  alg: SigningAlg
  kid: string
  privateKey: CryptoKey
  publicJwk: JWK
}

export class KeyFileError extends Error {}

const KTY_FOR_ALG: Record<SigningAlg, string> = { RS256: 'RSA', PS256: 'RSA', ES256: 'EC', EdDSA: 'OKP' }

const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const

async function fromPrivateJwk (alg: SigningAlg, jwk: JWK): Promise<SigningKey> {
  const privateKey = await importJWK(jwk, alg) as CryptoKey
  // Only public key members reach the JWKS (a key file may carry comments or private parts)
  const publicPart: JWK = Object.fromEntries(PUBLIC_MEMBERS.filter((name) => jwk[name] !== undefined).map((name) => [name, jwk[name]]))
  const kid = jwk.kid ?? await calculateJwkThumbprint(publicPart)
  return { alg, kid, privateKey, publicJwk: { ...publicPart, kid, alg, use: 'sig' } }
}

export async function generateSigningKey (alg: SigningAlg): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) })
  return await fromPrivateJwk(alg, await exportJWK(privateKey))
}

/** Reads a private JWK (or a JWKS with one key) from a file, checking it suits the algorithm. */
export async function loadSigningKey (file: string, alg: SigningAlg): Promise<SigningKey> {
  let document: unknown
  try {
    document = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new KeyFileError(`${file}: cannot be read as JSON (${(error as Error).message})`)
  }
  const set = typeof document === 'object' && document !== null && 'keys' in document && Array.isArray(document.keys) ? document.keys as unknown[] : undefined
  if (set !== undefined && set.length !== 1) throw new KeyFileError(`${file}: $.keys: must hold exactly one private JWK, got ${set.length}`)
  // Errors name where the key is: the document itself, or the one entry of a JWKS
  const at = set === undefined ? '$' : '$.keys[0]'
  const jwk = (set === undefined ? document : set[0]) as JWK
  if (typeof jwk !== 'object' || jwk === null || typeof jwk.d !== 'string') throw new KeyFileError(`${file}: ${at}: must be a private JWK (with "d")`)
  if (jwk.kty !== KTY_FOR_ALG[alg]) throw new KeyFileError(`${file}: ${at}.kty: must be "${KTY_FOR_ALG[alg]}" for ${alg}, got "${String(jwk.kty)}"`)
  try {
    return await fromPrivateJwk(alg, jwk)
  } catch (error) {
    throw new KeyFileError(`${file}: ${at}: is not a usable ${alg} key (${(error as Error).message})`)
  }
}

/**
 * The keys the emulator signs with: one per algorithm in use. RS256 is always present because
 * OIDC requires it among the supported id_token algorithms; the default algorithm is configurable.
 */
export class KeyRing {
  readonly defaultAlg: SigningAlg
  private readonly keys: Map<SigningAlg, SigningKey>

  private constructor (defaultAlg: SigningAlg, keys: Map<SigningAlg, SigningKey>) {
    this.defaultAlg = defaultAlg
    this.keys = keys
  }

  static async create (options: { alg: SigningAlg, keyFile?: string | undefined }): Promise<KeyRing> {
    const keys = new Map<SigningAlg, SigningKey>()
    const primary = options.keyFile === undefined ? await generateSigningKey(options.alg) : await loadSigningKey(options.keyFile, options.alg)
    keys.set(options.alg, primary)
    if (options.alg !== 'RS256') keys.set('RS256', await generateSigningKey('RS256'))
    return new KeyRing(options.alg, keys)
  }

  get algorithms (): SigningAlg[] {
    return [...this.keys.keys()]
  }

  key (alg: SigningAlg = this.defaultAlg): SigningKey {
    return this.keys.get(alg) ?? this.keys.get(this.defaultAlg) as SigningKey
  }

  jwks (): { keys: JWK[] } {
    return { keys: [...this.keys.values()].map((k) => k.publicJwk) }
  }

  async sign (payload: JWTPayload, alg?: SigningAlg): Promise<string> {
    const key = this.key(alg)
    return await new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey)
  }
}
