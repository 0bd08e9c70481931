// The DPoP proof verifier (RFC 9449 section 4.3, CAMARA ICM r4.2's profile): the happy paths at
// the token endpoint and at the API, and every refusal with its exact description.
import t from 'tap'
import { base64url, generateSecret, SignJWT } from 'jose'
import { checkBodyHash, DpopProofError, DpopVerifier, type ProofTarget } from '../../src/core/dpop.js'
import { dpopKey, dpopProof, sha256Url, type DpopKey, type ProofOptions } from '../helpers/dpop.js'
import { buildEmulator, PUBLIC_URL, rejected, START_S, TOKEN_ENDPOINT } from './support.js'

const VERIFY_URL = `${PUBLIC_URL}/number-verification/v2/verify`
const ACCESS_TOKEN = 'an-access-token-of-43-characters-0123456789'

async function setup (): Promise<{ verifier: DpopVerifier, key: DpopKey, advance: (ms: number) => void }> {
  const { emulator, clock } = await buildEmulator()
  return { verifier: new DpopVerifier(emulator.ctx), key: await dpopKey(), advance: (ms) => { clock.advance(ms) } }
}

/** The description of the proof error a verification ends in */
async function refusal (promise: Promise<unknown>): Promise<string> {
  const error = await rejected(promise)
  if (!(error instanceof DpopProofError)) throw error
  return error.description
}

function tokenTarget (header: string | string[] | undefined): ProofTarget {
  return { header, method: 'POST', url: TOKEN_ENDPOINT }
}

t.test('a token request proof gives the key thumbprint and spends its jti', async (t) => {
  const { verifier, key } = await setup()
  const proof = await dpopProof(key, { htu: TOKEN_ENDPOINT, iat: START_S, claims: { jti: 'jti-1' } })
  t.strictSame(await verifier.verify(tokenTarget(proof)), { jkt: key.jkt, jti: 'jti-1' })
  t.equal(
    await refusal(verifier.verify(tokenTarget(proof))),
    'the DPoP proof jti was already used: sign a fresh proof for every request'
  )
  // The same jti under another key is another proof
  const other = await dpopKey('RS256')
  const otherProof = await dpopProof(other, { htu: TOKEN_ENDPOINT, iat: START_S, claims: { jti: 'jti-1' } })
  t.strictSame(await verifier.verify(tokenTarget(otherProof)), { jkt: other.jkt, jti: 'jti-1' })
})

t.test('every asymmetric algorithm of the project is accepted', async (t) => {
  const { verifier } = await setup()
  for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA']) {
    const key = await dpopKey(alg)
    const result = await verifier.verify(tokenTarget(await dpopProof(key, { htu: TOKEN_ENDPOINT, iat: START_S })))
    t.equal(result.jkt, key.jkt, alg)
  }
})

t.test('htu is compared without query and fragment, normalised', async (t) => {
  const { verifier, key } = await setup()
  const proof = await dpopProof(key, { htu: 'HTTP://Emulator.test:80/camara/api/auth/v1/token?x=1#f', iat: START_S })
  t.equal((await verifier.verify(tokenTarget(proof))).jkt, key.jkt)
})

t.test('iat: 305 s old (300 s and the clock tolerance) or 5 s ahead is accepted, beyond is refused', async (t) => {
  const { verifier, key } = await setup()
  const at = async (iat: number): Promise<unknown> =>
    await verifier.verify(tokenTarget(await dpopProof(key, { htu: TOKEN_ENDPOINT, iat })))
  t.ok(await at(START_S - 305))
  t.ok(await at(START_S + 5))
  t.equal(await refusal(at(START_S - 306)), 'the DPoP proof iat is 306 s old; at most 300 s is accepted')
  t.equal(
    await refusal(at(START_S + 6)),
    'the DPoP proof iat lies 6 s in the future; at most 5 s of clock skew is accepted'
  )
})

t.test('a jti stays spent for the token lifetime asked for, and at least the iat window', async (t) => {
  const { verifier, key, advance } = await setup()
  const proof = await dpopProof(key, { htu: TOKEN_ENDPOINT, iat: START_S, claims: { jti: 'kept' } })
  await verifier.verify({ ...tokenTarget(proof), replayWindowMs: 3600_000 })
  advance(1000_000)
  const again = await dpopProof(key, { htu: TOKEN_ENDPOINT, iat: START_S + 1000, claims: { jti: 'kept' } })
  t.equal(
    await refusal(verifier.verify(tokenTarget(again))),
    'the DPoP proof jti was already used: sign a fresh proof for every request'
  )
})

t.test('the token request proofs that are refused, and why', async (t) => {
  const { verifier, key } = await setup()
  const build = async (options: Partial<ProofOptions> = {}): Promise<string> =>
    await dpopProof(key, { htu: TOKEN_ENDPOINT, iat: START_S, ...options })
  const proof = await build()
  const [encodedHeader, encodedPayload] = proof.split('.') as [string, string]
  const header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8')) as Record<string, unknown>
  const unsigned = `${base64url.encode(JSON.stringify({ ...header, alg: 'none' }))}.${encodedPayload}.`
  const hmac = await new SignJWT({ jti: 'x', htm: 'POST', htu: TOKEN_ENDPOINT, iat: START_S })
    .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: key.publicJwk }).sign(await generateSecret('HS256'))
  const stranger = await dpopKey()
  const privateJwk = { ...key.publicJwk, d: 'c2VjcmV0' }

  const cases: Array<[string, () => Promise<string | string[] | undefined>, string]> = [
    ['no header', async () => undefined, 'no DPoP header: send a DPoP proof (RFC 9449)'],
    ['an empty header', async () => '', 'no DPoP header: send a DPoP proof (RFC 9449)'],
    ['two headers', async () => [proof, proof], 'more than one DPoP header: send exactly one proof'],
    ['two proofs in one header', async () => `${proof}, ${proof}`, 'more than one DPoP header: send exactly one proof'],
    ['not a JWT', async () => 'not-a-jwt', 'the DPoP proof is not a signed JWT (compact JWS)'],
    [
      'a header that is not JSON',
      async () => `e30x.${encodedPayload}.c2ln`,
      'the DPoP proof is not a signed JWT (compact JWS)'
    ],
    [
      'no typ',
      async () => await build({ header: { typ: undefined } }),
      'the DPoP proof typ must be "dpop+jwt" (it has none)'
    ],
    [
      'typ jwt',
      async () => await build({ header: { typ: 'JWT' } }),
      'the DPoP proof typ must be "dpop+jwt" (got "JWT")'
    ],
    [
      'alg none',
      async () => unsigned,
      'the DPoP proof alg "none" is not accepted; use an asymmetric one of RS256, PS256, ES256, EdDSA'
    ],
    [
      'a symmetric alg',
      async () => hmac,
      'the DPoP proof alg "HS256" is not accepted; use an asymmetric one of RS256, PS256, ES256, EdDSA'
    ],
    [
      'no jwk',
      async () => await build({ header: { jwk: undefined } }),
      'the DPoP proof header has no jwk: put the public key in it'
    ],
    [
      'a private jwk',
      async () => await build({ header: { jwk: privateJwk } }),
      'the DPoP proof jwk must be a public key: remove d'
    ],
    [
      'signed by another key',
      async () => await build({ signWith: stranger.privateKey }),
      'the DPoP proof signature does not verify with its jwk'
    ],
    ['no jti', async () => await build({ claims: { jti: undefined } }), 'the DPoP proof has no jti claim'],
    [
      'an empty jti',
      async () => await build({ claims: { jti: '' } }),
      'the DPoP proof jti claim must be a non-empty string'
    ],
    ['no htm', async () => await build({ claims: { htm: undefined } }), 'the DPoP proof has no htm claim'],
    ['no htu', async () => await build({ claims: { htu: undefined } }), 'the DPoP proof has no htu claim'],
    ['no iat', async () => await build({ claims: { iat: undefined } }), 'the DPoP proof has no iat claim'],
    [
      'another method',
      async () => await build({ htm: 'GET' }),
      'the DPoP proof htm "GET" is not this request\'s method POST'
    ],
    [
      'a lower-case method',
      async () => await build({ htm: 'post' }),
      'the DPoP proof htm "post" is not this request\'s method POST'
    ],
    [
      'another URL',
      async () => await build({ htu: `${PUBLIC_URL}/token` }),
      `the DPoP proof htu "${PUBLIC_URL}/token" is not this request's URL ${TOKEN_ENDPOINT}`
    ],
    [
      'not a URL',
      async () => await build({ htu: 'token' }),
      `the DPoP proof htu "token" is not this request's URL ${TOKEN_ENDPOINT}`
    ],
    [
      'an ath at the token endpoint',
      async () => await build({ accessToken: ACCESS_TOKEN }),
      'the DPoP proof has an ath claim, which a token request must not carry'
    ]
  ]
  for (const [name, header, description] of cases) {
    t.equal(await refusal(verifier.verify(tokenTarget(await header()))), description, name)
  }
})

t.test('a proof by another key than the bound one, or past --max-dpop-proofs, is refused and not kept', async (t) => {
  const { emulator } = await buildEmulator({ settings: { maxDpopProofs: 1 } })
  const verifier = new DpopVerifier(emulator.ctx)
  const key = await dpopKey()
  const apiTarget = async (signer: DpopKey, jti: string): Promise<ProofTarget> => ({
    header: await dpopProof(signer, { htu: VERIFY_URL, iat: START_S, accessToken: ACCESS_TOKEN, claims: { jti } }),
    method: 'POST',
    url: VERIFY_URL,
    accessToken: ACCESS_TOKEN,
    boundJkt: key.jkt
  })
  t.equal(await refusal(verifier.verify(await apiTarget(await dpopKey(), 'stranger'))),
    'the DPoP proof key is not the one the access token is bound to (cnf.jkt)')
  t.equal(await emulator.ctx.store.size('dpopProofIds'), 0, 'the stranger\'s proof is not kept')
  t.strictSame(await verifier.verify(await apiTarget(key, 'first')), { jkt: key.jkt, jti: 'first' })
  const error = await rejected(verifier.verify(await apiTarget(key, 'second')))
  t.ok(error instanceof DpopProofError && error.full && !error.replayed, 'full, not a replay')
  t.equal((error as DpopProofError).description, 'this emulator remembers at most 1 DPoP proof ids ' +
    '(--max-dpop-proofs); try again once some tokens have expired')
  t.equal(await emulator.ctx.store.size('dpopProofIds'), 1)
})

t.test('at the API: ath names the token; the camara claims name the query and the body', async (t) => {
  const { verifier, key } = await setup()
  const body = Buffer.from('{"phoneNumber":"+34666666666"}')
  const target = (header: string, extra: Partial<ProofTarget> = {}): ProofTarget => ({
    header,
    method: 'POST',
    url: VERIFY_URL,
    accessToken: ACCESS_TOKEN,
    camaraClaims: true,
    query: 'a=1&b=2',
    ...extra
  })
  const build = async (options: Partial<ProofOptions> = {}): Promise<string> =>
    await dpopProof(key, {
      htu: VERIFY_URL,
      iat: START_S,
      accessToken: ACCESS_TOKEN,
      ...options,
      claims: { 'camara:qh': sha256Url('a=1&b=2'), 'camara:bh': sha256Url(body), ...options.claims }
    })

  const result = await verifier.verify(target(await build({ claims: { jti: 'api-1' } })))
  t.strictSame(result, { jkt: key.jkt, jti: 'api-1', bodyHash: sha256Url(body) })
  t.doesNotThrow(() => { checkBodyHash(result, body) })
  t.throws(() => {
    checkBodyHash(result, Buffer.from('{"phoneNumber":"+34666666667"}'))
  }, new DpopProofError('the DPoP proof camara:bh does not match the request body'))

  // Without a query, camara:qh may be left out; a GET without a body hashes the empty byte stream
  const share = await verifier.verify(
    target(await build({ htm: 'GET', claims: { 'camara:qh': undefined, 'camara:bh': sha256Url('') } }), {
      method: 'GET',
      query: undefined
    })
  )
  t.doesNotThrow(() => { checkBodyHash(share, undefined) })
  // Without the camara claims asked for, they are not needed (and the body is not checked)
  const plain = await verifier.verify(
    target(await build({ claims: { 'camara:qh': undefined, 'camara:bh': undefined } }), { camaraClaims: false })
  )
  t.strictSame(Object.keys(plain), ['jkt', 'jti'])
  t.doesNotThrow(() => { checkBodyHash(plain, Buffer.from('anything')) })

  const cases: Array<[string, Partial<ProofOptions>, string]> = [
    ['no ath', { claims: { ath: undefined } }, 'the DPoP proof has no ath claim: base64url(SHA-256(access token))'],
    ['ath of another token', { accessToken: 'another-token' }, 'the DPoP proof ath does not match the access token'],
    [
      'no camara:qh with a query',
      { claims: { 'camara:qh': undefined } },
      'the DPoP proof has no camara:qh claim: base64url(SHA-256(raw query string))'
    ],
    [
      'camara:qh of another query',
      { claims: { 'camara:qh': sha256Url('a=1') } },
      'the DPoP proof camara:qh does not match the query string'
    ],
    [
      'no camara:bh',
      { claims: { 'camara:bh': undefined } },
      'the DPoP proof has no camara:bh claim: base64url(SHA-256(request body))'
    ],
    ['camara:bh not a string', { claims: { 'camara:bh': 42 } }, 'the DPoP proof camara:bh claim must be a string']
  ]
  for (const [name, options, description] of cases) {
    t.equal(await refusal(verifier.verify(target(await build(options)))), description, name)
  }
})
