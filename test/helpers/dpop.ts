// DPoP proofs (RFC 9449) as a client builds them, with jose: a key pair per test, its public JWK in
// the header, and claims a test can replace or (undefined) drop, to build every refusal.
import { createHash, randomUUID } from 'node:crypto'
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload
} from 'jose'

export interface DpopKey {
  privateKey: CryptoKey
  publicJwk: JWK
  /** RFC 7638 SHA-256 thumbprint: what a bound token's cnf.jkt holds */
  jkt: string
  alg: string
}

export async function dpopKey (alg = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk = await exportJWK(publicKey)
  return { privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, 'sha256'), alg }
}

export function sha256Url (input: string | Uint8Array): string {
  return createHash('sha256').update(input).digest('base64url')
}

export interface ProofOptions {
  htm?: string
  htu: string
  /** Seconds since the epoch */
  iat: number
  accessToken?: string
  /** Replace or (undefined) drop claims */
  claims?: JWTPayload
  /** Replace or (undefined) drop header parameters */
  header?: Record<string, unknown>
  /** Sign with this key instead of the one whose JWK the header carries */
  signWith?: CryptoKey
}

export async function dpopProof (key: DpopKey, options: ProofOptions): Promise<string> {
  const payload: JWTPayload = {
    jti: randomUUID(),
    htm: options.htm ?? 'POST',
    htu: options.htu,
    iat: options.iat,
    ...(options.accessToken === undefined ? {} : { ath: sha256Url(options.accessToken) }),
    ...options.claims
  }
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name]
  const header: Record<string, unknown> = { alg: key.alg, typ: 'dpop+jwt', jwk: key.publicJwk, ...options.header }
  for (const [name, value] of Object.entries(header)) if (value === undefined) delete header[name]
  return await new SignJWT(payload)
    .setProtectedHeader(header as { alg: string })
    .sign(options.signWith ?? key.privateKey)
}
