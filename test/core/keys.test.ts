import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type JWK
} from 'jose'
import type { SigningAlg } from '../../src/core/fixture-schema.js'
import { SIGNING_ALGS } from '../../src/core/fixture-schema.js'
import {
  generateSigningKey,
  KeyFileError,
  KeyRing,
  loadSigningKey,
  type SigningKeyCollections
} from '../../src/core/keys.js'
import { ManualClock } from '../../src/core/clock.js'
import { MemoryStore } from '../../src/store/memory.js'
import { DEMO_JWT_KEY_FILE, testKeys } from './support.js'

const DEMO_KEY_FILE = fileURLToPath(DEMO_JWT_KEY_FILE)
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi']
const KTY: Record<SigningAlg, string> = { RS256: 'RSA', PS256: 'RSA', ES256: 'EC', EdDSA: 'OKP' }

async function keyFileError (promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    if (error instanceof KeyFileError) return error.message
    throw error
  }
  throw new Error('expected a KeyFileError')
}

async function privateJwk (alg: 'ES256' | 'RS256'): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true })
  return await exportJWK(privateKey)
}

t.test('the supported algorithms', async (t) => {
  t.strictSame(SIGNING_ALGS, ['RS256', 'PS256', 'ES256', 'EdDSA'])
})

t.test('generateSigningKey makes a key per algorithm whose kid is its JWK thumbprint', async (t) => {
  for (const alg of SIGNING_ALGS) {
    t.test(alg, async (t) => {
      const key = await generateSigningKey(alg)
      const { kid, alg: jwkAlg, use, ...publicPart } = key.publicJwk
      t.equal(key.alg, alg)
      t.equal(jwkAlg, alg)
      t.equal(use, 'sig')
      t.equal(publicPart.kty, KTY[alg])
      if (alg === 'EdDSA') t.equal(publicPart.crv, 'Ed25519')
      if (alg === 'ES256') t.equal(publicPart.crv, 'P-256')
      t.strictSame(PRIVATE_MEMBERS.filter((m) => m in key.publicJwk), [], 'no private member is published')
      t.equal(kid, key.kid)
      t.equal(key.kid, await calculateJwkThumbprint(publicPart))
    })
  }
})

t.test('a key ring signs id_tokens its JWKS verifies', async (t) => {
  const keys = await testKeys()
  t.equal(keys.defaultAlg, 'RS256')
  t.strictSame(keys.algorithms, ['RS256'])
  t.strictSame(keys.jwks(), { keys: [keys.key().publicJwk] })
  const token = await keys.sign({ sub: 'abc', aud: 'demo-app' })
  t.strictSame(decodeProtectedHeader(token), { alg: 'RS256', kid: keys.key().kid, typ: 'JWT' })
  const { payload } = await jwtVerify(token, createLocalJWKSet(keys.jwks()))
  t.strictSame(payload, { sub: 'abc', aud: 'demo-app' })
  t.equal(keys.key('ES256'), keys.key('RS256'), 'an algorithm the ring lacks falls back to the default key')
})

t.test('a ring with another default algorithm keeps an RS256 key, as OIDC requires', async (t) => {
  const keys = await KeyRing.create({ alg: 'ES256' })
  t.equal(keys.defaultAlg, 'ES256')
  t.strictSame(keys.algorithms, ['ES256', 'RS256'])
  t.strictSame(keys.jwks().keys.map((k) => [k.kty, k.alg]), [['EC', 'ES256'], ['RSA', 'RS256']])
  const jwks = createLocalJWKSet(keys.jwks())
  const byDefault = await keys.sign({ sub: 'a' })
  t.strictSame(decodeProtectedHeader(byDefault), { alg: 'ES256', kid: keys.key('ES256').kid, typ: 'JWT' })
  t.equal((await jwtVerify(byDefault, jwks)).payload.sub, 'a')
  const rs256 = await keys.sign({ sub: 'b' }, 'RS256')
  t.strictSame(decodeProtectedHeader(rs256), { alg: 'RS256', kid: keys.key('RS256').kid, typ: 'JWT' })
  t.equal((await jwtVerify(rs256, jwks)).payload.sub, 'b')
  t.equal(keys.key('PS256').alg, 'ES256', 'an algorithm the ring lacks falls back to the default key')
})

t.test('a key file round-trips to a stable kid: its thumbprint', async (t) => {
  const dir = t.testdir({})
  const jwk = await privateJwk('ES256')
  const file = join(dir, 'signing.jwk.json')
  writeFileSync(file, JSON.stringify(jwk))
  const first = await loadSigningKey(file, 'ES256')
  const second = await loadSigningKey(file, 'ES256')
  t.equal(first.kid, second.kid)
  t.equal(first.kid, await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }))
  t.strictSame(first.publicJwk, {
    kty: 'EC',
    crv: 'P-256',
    x: jwk.x,
    y: jwk.y,
    kid: first.kid,
    alg: 'ES256',
    use: 'sig'
  })

  const ringA = await KeyRing.create({ alg: 'ES256', keyFile: file })
  const ringB = await KeyRing.create({ alg: 'ES256', keyFile: file })
  t.equal(ringA.key().kid, first.kid)
  t.equal(ringB.key().kid, first.kid, 'a restart with the same file publishes the same kid')
  const token = await ringA.sign({ sub: 'x' })
  t.equal(
    (await jwtVerify(token, createLocalJWKSet(ringB.jwks()))).payload.sub,
    'x',
    'tokens signed before a restart still verify after it'
  )
})

t.test('a key file may be a JWKS with one key, and a kid it gives is kept', async (t) => {
  const dir = t.testdir({})
  const jwk = await privateJwk('RS256')
  const file = join(dir, 'signing.jwks.json')
  writeFileSync(file, JSON.stringify({ keys: [{ ...jwk, kid: 'my-key-2026' }] }))
  const key = await loadSigningKey(file, 'RS256')
  t.equal(key.kid, 'my-key-2026')
  t.equal(key.publicJwk.kid, 'my-key-2026')
  t.strictSame(PRIVATE_MEMBERS.filter((m) => m in key.publicJwk), [])
  const demo = await loadSigningKey(DEMO_KEY_FILE, 'ES256')
  t.equal(demo.kid, 'demo-app-jwt-es256')
  const signed = await new SignJWT({ sub: 'y' }).setProtectedHeader({ alg: 'ES256' }).sign(demo.privateKey)
  t.equal((await jwtVerify(signed, await importJWK(demo.publicJwk, 'ES256'))).payload.sub, 'y')
})

t.test('loadSigningKey errors name the file, the JSON path and the rule', async (t) => {
  const dir = t.testdir({
    'bad.json': '{ "kty": "EC", ',
    'array.json': '[]',
    'public.json': JSON.stringify({
      kty: 'EC',
      crv: 'P-256',
      x: 'M0MPPnMm-GEE9a1RQr0APimlRnjx7QHUK2gs8TrsLPs',
      y: 'fopTAkg6nlwAkncFXMI9nIVSlh4_eS59Ow7UPUgU7VM'
    }),
    'public-set.json': JSON.stringify({
      keys: [
        {
          kty: 'EC',
          crv: 'P-256',
          x: 'M0MPPnMm-GEE9a1RQr0APimlRnjx7QHUK2gs8TrsLPs',
          y: 'fopTAkg6nlwAkncFXMI9nIVSlh4_eS59Ow7UPUgU7VM'
        }
      ]
    }),
    'empty-set.json': JSON.stringify({ keys: [] }),
    'two-keys.json': JSON.stringify({
      keys: [
        { kty: 'EC', d: 'a' },
        { kty: 'EC', d: 'b' }
      ]
    }),
    'set-wrong-kty.json': JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', d: 'a', x: 'b' }] }),
    'garbage.json': JSON.stringify({ kty: 'EC', crv: 'P-256', d: 'not-a-key', x: 'x', y: 'y' })
  })
  const path = (name: string): string => join(dir, name)

  const missing = await keyFileError(loadSigningKey(path('missing.json'), 'RS256'))
  t.ok(missing.startsWith(`${path('missing.json')}: cannot be read as JSON (ENOENT`), missing)
  const bad = await keyFileError(loadSigningKey(path('bad.json'), 'RS256'))
  t.ok(bad.startsWith(`${path('bad.json')}: cannot be read as JSON (`), bad)

  t.equal(
    await keyFileError(loadSigningKey(path('array.json'), 'ES256')),
    `${path('array.json')}: $: must be a private JWK (with "d")`
  )
  t.equal(
    await keyFileError(loadSigningKey(path('public.json'), 'ES256')),
    `${path('public.json')}: $: must be a private JWK (with "d")`
  )
  t.equal(
    await keyFileError(loadSigningKey(path('public-set.json'), 'ES256')),
    `${path('public-set.json')}: $.keys[0]: must be a private JWK (with "d")`
  )
  t.equal(
    await keyFileError(loadSigningKey(path('empty-set.json'), 'ES256')),
    `${path('empty-set.json')}: $.keys: must hold exactly one private JWK, got 0`
  )
  t.equal(
    await keyFileError(loadSigningKey(path('two-keys.json'), 'ES256')),
    `${path('two-keys.json')}: $.keys: must hold exactly one private JWK, got 2`
  )
  t.equal(
    await keyFileError(loadSigningKey(DEMO_KEY_FILE, 'RS256')),
    `${DEMO_KEY_FILE}: $.kty: must be "RSA" for RS256, got "EC"`
  )
  t.equal(
    await keyFileError(loadSigningKey(DEMO_KEY_FILE, 'EdDSA')),
    `${DEMO_KEY_FILE}: $.kty: must be "OKP" for EdDSA, got "EC"`
  )
  t.equal(
    await keyFileError(loadSigningKey(path('set-wrong-kty.json'), 'PS256')),
    `${path('set-wrong-kty.json')}: $.keys[0].kty: must be "RSA" for PS256, got "OKP"`
  )
  const garbage = await keyFileError(loadSigningKey(path('garbage.json'), 'ES256'))
  t.ok(garbage.startsWith(`${path('garbage.json')}: $: is not a usable ES256 key (`), garbage)
  t.equal(
    await keyFileError(KeyRing.create({ alg: 'RS256', keyFile: DEMO_KEY_FILE })),
    `${DEMO_KEY_FILE}: $.kty: must be "RSA" for RS256, got "EC"`,
    'KeyRing.create passes them on'
  )
})

t.test('rings on one store share their generated keys: the first to start writes, the others read', async (t) => {
  const store = new MemoryStore<SigningKeyCollections>(new ManualClock(), { sweepIntervalMs: 0 })
  const [a, b] = await Promise.all([KeyRing.create({ alg: 'ES256', store }), KeyRing.create({ alg: 'ES256', store })])
  t.strictSame(b.jwks(), a.jwks(), 'the same ES256 key and the same RS256 key, started at the same moment')
  const later = await KeyRing.create({ alg: 'ES256', store })
  t.strictSame(later.jwks(), a.jwks(), 'and for one started later')
  const token = await b.sign({ sub: 'from b' })
  t.equal((await jwtVerify(token, createLocalJWKSet(a.jwks()))).payload.sub, 'from b', "a's JWKS verifies b's token")
  const alone = await KeyRing.create({ alg: 'ES256' })
  t.not(alone.key().kid, a.key().kid, 'without a store each ring generates its own')
})

t.test('a key file is never written to the store; the RS256 key a ring adds beside it is shared', async (t) => {
  const store = new MemoryStore<SigningKeyCollections>(new ManualClock(), { sweepIntervalMs: 0 })
  const dir = t.testdir({})
  const file = join(dir, 'signing.jwk.json')
  writeFileSync(file, JSON.stringify(await privateJwk('ES256')))
  const a = await KeyRing.create({ alg: 'ES256', keyFile: file, store })
  const b = await KeyRing.create({ alg: 'ES256', keyFile: file, store })
  t.equal(await store.get('signingKeys', 'ES256'), undefined)
  t.equal(b.key('RS256').kid, a.key('RS256').kid)
})

t.test('after the store is cleared a ring writes its keys back, so a ring started then gets them', async (t) => {
  const store = new MemoryStore<SigningKeyCollections>(new ManualClock(), { sweepIntervalMs: 0 })
  const a = await KeyRing.create({ alg: 'RS256', store })
  await store.clear()
  await a.keepIn(store)
  const b = await KeyRing.create({ alg: 'RS256', store })
  t.equal(b.key().kid, a.key().kid)
})
