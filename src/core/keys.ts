// Signing keys for id_tokens: generated at start unless a key file is given. The kid is the
// RFC 7638 thumbprint, so a stable key always has a stable kid. A generated key is kept in the
// store, so replicas sharing one (--store redis://...) sign with the same key: the first replica
// to start writes it, the others read it, and any replica's JWKS verifies any replica's id_token.
import { readFileSync } from 'node:fs'
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload
} from 'jose'
import type { SigningAlg } from './fixture-schema.js'
import type { Store } from './store.js'

/** The store's collection of generated signing keys, by algorithm (private JWKs) */
export interface SigningKeyCollections {
  signingKeys: { jwk: JWK }
}

/** How long a generated key stays in the store: as good as for ever (a reset writes it again) */
const KEEP_MS = 10 * 365 * 24 * 3600 * 1000

export interface SigningKey {
  alg: SigningAlg
  kid: string
  privateKey: CryptoKey
  publicJwk: JWK
  /** The private JWK of a generated key (kept in the store); undefined for a key file's */
  generated?: JWK
}

export class KeyFileError extends Error {}

const KTY_FOR_ALG: Record<SigningAlg, string> = { RS256: 'RSA', PS256: 'RSA', ES256: 'EC', EdDSA: 'OKP' }

const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const

async function fromPrivateJwk (alg: SigningAlg, jwk: JWK): Promise<SigningKey> {
  const privateKey = await importJWK(jwk, alg) as CryptoKey
  // Only public key members reach the JWKS (a key file may carry comments or private parts)
  const publicPart: JWK = Object.fromEntries(
    PUBLIC_MEMBERS.filter((name) => jwk[name] !== undefined).map((name) => [name, jwk[name]])
  )
  const kid = jwk.kid ?? await calculateJwkThumbprint(publicPart)
  return { alg, kid, privateKey, publicJwk: { ...publicPart, kid, alg, use: 'sig' } }
}

export async function generateSigningKey (alg: SigningAlg): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {})
  })
  const jwk = await exportJWK(privateKey)
  return { ...await fromPrivateJwk(alg, jwk), generated: jwk }
}

async function keptSigningKey (alg: SigningAlg, jwk: JWK): Promise<SigningKey> {
  return { ...await fromPrivateJwk(alg, { ...jwk }), generated: jwk }
}

/**
 * A generated key for `alg`, the same for every emulator on `store`: the key already kept there,
 * else this one's own, unless another emulator started at the same moment wrote its key first.
 */
async function sharedSigningKey (alg: SigningAlg, store: Store<SigningKeyCollections>): Promise<SigningKey> {
  const kept = await store.get('signingKeys', alg)
  if (kept !== undefined) return await keptSigningKey(alg, kept.jwk)
  const candidate = await generateSigningKey(alg)
  if (await store.add('signingKeys', alg, { jwk: candidate.generated as JWK }, KEEP_MS)) return candidate
  const first = await store.get('signingKeys', alg)
  return first === undefined ? candidate : await keptSigningKey(alg, first.jwk)
}

/** Reads a private JWK (or a JWKS with one key) from a file, checking it suits the algorithm. */
export async function loadSigningKey (file: string, alg: SigningAlg): Promise<SigningKey> {
  let document: unknown
  try {
    document = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new KeyFileError(`${file}: cannot be read as JSON (${(error as Error).message})`)
  }
  const set =
    typeof document === 'object' && document !== null && 'keys' in document && Array.isArray(document.keys)
      ? (document.keys as unknown[])
      : undefined
  if (set !== undefined && set.length !== 1) {
    throw new KeyFileError(`${file}: $.keys: must hold exactly one private JWK, got ${set.length}`)
  }
  // Errors name where the key is: the document itself, or the one entry of a JWKS
  const at = set === undefined ? '$' : '$.keys[0]'
  const jwk = (set === undefined ? document : set[0]) as JWK
  if (typeof jwk !== 'object' || jwk === null || typeof jwk.d !== 'string') {
    throw new KeyFileError(`${file}: ${at}: must be a private JWK (with "d")`)
  }
  if (jwk.kty !== KTY_FOR_ALG[alg]) {
    throw new KeyFileError(`${file}: ${at}.kty: must be "${KTY_FOR_ALG[alg]}" for ${alg}, got "${String(jwk.kty)}"`)
  }
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

  /** `store`: where generated keys are kept and shared (without it each start generates its own) */
  static async create (options: {
    alg: SigningAlg
    keyFile?: string | undefined
    store?: Store<SigningKeyCollections>
  }): Promise<KeyRing> {
    const generate = async (alg: SigningAlg): Promise<SigningKey> =>
      options.store === undefined ? await generateSigningKey(alg) : await sharedSigningKey(alg, options.store)
    const keys = new Map<SigningAlg, SigningKey>()
    const primary =
      options.keyFile === undefined ? await generate(options.alg) : await loadSigningKey(options.keyFile, options.alg)
    keys.set(options.alg, primary)
    if (options.alg !== 'RS256') keys.set('RS256', await generate('RS256'))
    return new KeyRing(options.alg, keys)
  }

  /** Writes the generated keys back to a store that was cleared (a reset), for replicas started later */
  async keepIn (store: Store<SigningKeyCollections>): Promise<void> {
    for (const [alg, key] of this.keys) {
      if (key.generated !== undefined) await store.add('signingKeys', alg, { jwk: key.generated }, KEEP_MS)
    }
  }

  get algorithms (): SigningAlg[] {
    return [...this.keys.keys()]
  }

  key (alg: SigningAlg = this.defaultAlg): SigningKey {
    return this.keys.get(alg) ?? (this.keys.get(this.defaultAlg) as SigningKey)
  }

  jwks (): { keys: JWK[] } {
    return { keys: [...this.keys.values()].map((k) => k.publicJwk) }
  }

  async sign (payload: JWTPayload, alg?: SigningAlg): Promise<string> {
    const key = this.key(alg)
    return await new SignJWT(payload)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .sign(key.privateKey)
  }
}
