// DPoP proofs (RFC 9449) with CAMARA ICM r4.2's profile: a JWT with typ dpop+jwt, signed by the
// public key its header carries, naming the request (htm, htu), fresh (iat within 300 s) and seen
// once (jti, through the store). At the API, it also names the access token (ath) and, where the
// client must send them, the raw query (camara:qh) and body (camara:bh). Framework-free: callers
// pass the request's facts and turn a DpopProofError into their surface's answer.
import { createHash } from 'node:crypto'
import {
  calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, errors as joseErrors, jwtVerify, type JWK, type JWTPayload
} from 'jose'
import { CLOCK_TOLERANCE_S } from './client-authentication.js'
import type { CoreContext } from './context.js'
import { SIGNING_ALGS, type ClientFixture } from './fixture-schema.js'

/** RFC 9449 section 12.2 */
export const INVALID_DPOP_PROOF = 'invalid_dpop_proof'
/** CAMARA ICM r4.2: iat within this window of the server's time */
export const DPOP_IAT_WINDOW_S = 300
/** The algorithms a proof may be signed with: the project's, all asymmetric */
export const DPOP_ALGS: readonly string[] = SIGNING_ALGS
/** ICM r4.2's request-binding claims, as camara_dpop_claims_required advertises them */
export const CAMARA_DPOP_CLAIMS = ['camara:bh', 'camara:qh'] as const
/** JWK members that only a private (or symmetric) key has */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']
/** A proof is a few hundred bytes; one far larger is refused before any parsing */
const MAX_PROOF_LENGTH = 8192

/** A refused proof: the description names what is wrong (each surface renders it its own way) */
export class DpopProofError extends Error {
  readonly description: string
  /** The proof's jti was seen before (a resource server answers that one 400: ICM r4.2) */
  readonly replayed: boolean
  /** Not the proof's fault: --max-dpop-proofs ids are kept already (each surface answers "try again later") */
  readonly full: boolean

  constructor (description: string, options: { replayed?: boolean, full?: boolean } = {}) {
    super(`${INVALID_DPOP_PROOF}: ${description}`)
    this.name = 'DpopProofError'
    this.description = description
    this.replayed = options.replayed === true
    this.full = options.full === true
  }
}

/** What a request is, as the proof must name it */
export interface ProofTarget {
  /** The DPoP header(s) as received */
  header: string | string[] | undefined
  /** The request method (htm) */
  method: string
  /** The request URL without query and fragment, as the emulator's public URL gives it (htu) */
  url: string
  /** At a protected resource: the access token the proof must name (ath) */
  accessToken?: string
  /** At a protected resource: the thumbprint of the key the token is bound to (cnf.jkt) */
  boundJkt?: string
  /** Whether the proof must carry camara:qh and camara:bh (the client's dpopCamaraClaims) */
  camaraClaims?: boolean
  /** The raw query string as received, without the '?' (undefined: no query) */
  query?: string | undefined
  /** How long, at least, the jti stays in the replay cache (ms): the token's lifetime */
  replayWindowMs?: number
}

/** A proof that passed: its key's thumbprint, and the body hash to check once the body is read */
export interface VerifiedProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's public key */
  jkt: string
  jti: string
  /** camara:bh, when the client must send it: compared with the body's hash (checkBodyHash) */
  bodyHash?: string
}

/** base64url(SHA-256(input)), as ath, camara:qh and camara:bh are computed */
export function sha256Base64url (input: string | Uint8Array): string {
  return createHash('sha256').update(input).digest('base64url')
}

/** The URL without query and fragment, normalised (RFC 3986 syntax and scheme based) for comparison */
function comparableUrl (url: string): string | undefined {
  try {
    const parsed = new URL(url)
    parsed.search = ''
    parsed.hash = ''
    return parsed.href
  } catch {
    return undefined
  }
}

/** Whether the client's fixture requires DPoP at the token endpoint */
export function requiresDpop (client: ClientFixture): boolean {
  return client.requireDpop === true
}

export class DpopVerifier {
  private readonly ctx: CoreContext

  constructor (ctx: CoreContext) {
    this.ctx = ctx
  }

  /**
   * RFC 9449 section 4.3's checks in its order, then ath (section 7.1), CAMARA's claims, and the
   * jti recorded once (of N parallel requests with one proof, one passes). Throws DpopProofError.
   */
  async verify (target: ProofTarget): Promise<VerifiedProof> {
    const { header } = target
    if (header === undefined || header === '') throw new DpopProofError('no DPoP header: send a DPoP proof (RFC 9449)')
    if (Array.isArray(header) || header.includes(',')) {
      throw new DpopProofError('more than one DPoP header: send exactly one proof')
    }
    if (header.length > MAX_PROOF_LENGTH) {
      throw new DpopProofError(`the DPoP proof is longer than ${MAX_PROOF_LENGTH} characters`)
    }
    if (header.split('.').length !== 3) throw new DpopProofError('the DPoP proof is not a signed JWT (compact JWS)')
    let protectedHeader
    try {
      protectedHeader = decodeProtectedHeader(header)
    } catch {
      throw new DpopProofError('the DPoP proof is not a signed JWT (compact JWS)')
    }
    if (protectedHeader.typ !== 'dpop+jwt') {
      throw new DpopProofError('the DPoP proof typ must be "dpop+jwt"' +
        `${protectedHeader.typ === undefined ? ' (it has none)' : ` (got "${protectedHeader.typ}")`}`)
    }
    const alg = protectedHeader.alg
    if (alg === undefined || !DPOP_ALGS.includes(alg)) {
      throw new DpopProofError(`the DPoP proof alg ${alg === undefined ? 'is missing' : `"${alg}" is not accepted`}; ` +
        `use an asymmetric one of ${DPOP_ALGS.join(', ')}`)
    }
    const jwk = protectedHeader.jwk
    if (jwk === undefined || typeof jwk !== 'object' || Array.isArray(jwk)) {
      throw new DpopProofError('the DPoP proof header has no jwk: put the public key in it')
    }
    const secret = PRIVATE_MEMBERS.filter((member) => member in jwk)
    if (secret.length > 0) {
      throw new DpopProofError(`the DPoP proof jwk must be a public key: remove ${secret.join(', ')}`)
    }

    let payload: JWTPayload
    try {
      ({ payload } = await jwtVerify(header, EmbeddedJWK, {
        algorithms: [...DPOP_ALGS],
        currentDate: new Date(this.ctx.clock.now()),
        clockTolerance: CLOCK_TOLERANCE_S
      }))
    } catch (error) {
      throw new DpopProofError(`the DPoP proof ${describeJoseError(error)}`)
    }

    const { jti, htm, htu, iat } = payload
    for (const [name, value, numeric] of [
      ['jti', jti, false], ['htm', htm, false], ['htu', htu, false], ['iat', iat, true]
    ] as const) {
      if (value === undefined) throw new DpopProofError(`the DPoP proof has no ${name} claim`)
      const wellTyped = numeric ? typeof value === 'number' : typeof value === 'string' && value !== ''
      if (!wellTyped) {
        throw new DpopProofError(`the DPoP proof ${name} claim must be a ${numeric ? 'number' : 'non-empty string'}`)
      }
    }
    if (htm !== target.method) {
      throw new DpopProofError(`the DPoP proof htm "${String(htm)}" is not this request's method ${target.method}`)
    }
    const claimed = comparableUrl(htu as string)
    if (claimed === undefined || claimed !== comparableUrl(target.url)) {
      throw new DpopProofError(`the DPoP proof htu "${String(htu)}" is not this request's URL ${target.url}`)
    }
    const nowS = Math.floor(this.ctx.clock.now() / 1000)
    const age = nowS - (iat as number)
    if (age > DPOP_IAT_WINDOW_S + CLOCK_TOLERANCE_S) {
      throw new DpopProofError(`the DPoP proof iat is ${age} s old; at most ${DPOP_IAT_WINDOW_S} s is accepted`)
    }
    if (-age > CLOCK_TOLERANCE_S) {
      throw new DpopProofError(`the DPoP proof iat lies ${-age} s in the future; ` +
        `at most ${CLOCK_TOLERANCE_S} s of clock skew is accepted`)
    }

    if (target.accessToken === undefined) {
      if (payload.ath !== undefined) {
        throw new DpopProofError('the DPoP proof has an ath claim, which a token request must not carry')
      }
    } else {
      if (payload.ath === undefined) {
        throw new DpopProofError('the DPoP proof has no ath claim: base64url(SHA-256(access token))')
      }
      if (payload.ath !== sha256Base64url(target.accessToken)) {
        throw new DpopProofError('the DPoP proof ath does not match the access token')
      }
    }

    let bodyHash: string | undefined
    if (target.camaraClaims === true) {
      const qh = payload['camara:qh']
      if (target.query !== undefined && qh === undefined) {
        throw new DpopProofError('the DPoP proof has no camara:qh claim: base64url(SHA-256(raw query string))')
      }
      if (qh !== undefined && qh !== sha256Base64url(target.query ?? '')) {
        throw new DpopProofError('the DPoP proof camara:qh does not match the query string')
      }
      const bh = payload['camara:bh']
      if (bh === undefined) {
        throw new DpopProofError('the DPoP proof has no camara:bh claim: base64url(SHA-256(request body))')
      }
      if (typeof bh !== 'string') throw new DpopProofError('the DPoP proof camara:bh claim must be a string')
      bodyHash = bh
    }

    const jkt = await calculateJwkThumbprint(jwk as JWK, 'sha256')
    // Checked before the jti is kept: a proof by another key takes no place in the replay cache
    if (target.boundJkt !== undefined && jkt !== target.boundJkt) {
      throw new DpopProofError('the DPoP proof key is not the one the access token is bound to (cnf.jkt)')
    }
    const proofId = `${jkt}\n${jti as string}`
    const replayed = (): DpopProofError => new DpopProofError(
      'the DPoP proof jti was already used: sign a fresh proof for every request',
      { replayed: true }
    )
    // A replay is answered as one even when the cache is full. The cap is checked, then the id
    // added: parallel proofs may pass it by the few in flight (as the other caps)
    if (await this.ctx.store.get('dpopProofIds', proofId) !== undefined) throw replayed()
    const cap = this.ctx.settings.maxDpopProofs
    if (await this.ctx.store.size('dpopProofIds') >= cap) {
      throw new DpopProofError(`this emulator remembers at most ${cap} DPoP proof ids (--max-dpop-proofs); ` +
        'try again once some tokens have expired', { full: true })
    }
    // Past the iat window the proof is refused anyway; ICM asks for the token's lifetime at least
    const windowMs = ((iat as number) + DPOP_IAT_WINDOW_S + CLOCK_TOLERANCE_S) * 1000 - this.ctx.clock.now()
    const ttl = Math.max(windowMs, target.replayWindowMs ?? 0, 1000)
    if (!await this.ctx.store.add('dpopProofIds', proofId, true, ttl)) throw replayed()
    return { jkt, jti: jti as string, ...(bodyHash === undefined ? {} : { bodyHash }) }
  }
}

/** The body check camara:bh asks for, once the body is read: the hash of its bytes as received */
export function checkBodyHash (proof: VerifiedProof, body: Uint8Array | undefined): void {
  if (proof.bodyHash === undefined) return
  if (proof.bodyHash !== sha256Base64url(body ?? new Uint8Array())) {
    throw new DpopProofError('the DPoP proof camara:bh does not match the request body')
  }
}

function describeJoseError (error: unknown): string {
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature does not verify with its jwk'
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return `alg is not accepted (use ${DPOP_ALGS.join(', ')})`
  if (error instanceof joseErrors.JWTExpired) return 'has expired (exp)'
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return `claim "${error.claim}" is invalid (${error.message})`
  }
  if (error instanceof joseErrors.JWTInvalid) return `is not a valid JWT (${error.message})`
  if (error instanceof joseErrors.JOSEError) return `could not be verified (${error.message})`
  return 'could not be verified'
}
