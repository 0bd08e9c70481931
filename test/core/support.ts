// Shared set-up for the core tests: an Emulator on the default fixtures (or given ones) with a
// manual clock and no sweep timer, one RS256 key ring per test file, and helpers that drive the
// browser leg of the flow by plain calls and catch the domain errors it throws.
import { readFileSync } from 'node:fs'
import { createHash, randomUUID } from 'node:crypto'
import { importJWK, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose'
import { DEFAULT_FIXTURES } from '../../src/config/config.js'
import type { FixtureFile } from '../../src/core/fixture-schema.js'
import { mergeFixtures, validateFixtureDocument, type Fixtures } from '../../src/core/fixtures.js'
import { loadFixtures } from '../../src/config/fixtures.js'
import type { Query } from '../../src/core/authorization.js'
import { ManualClock } from '../../src/core/clock.js'
import type { CoreSettings } from '../../src/core/context.js'
import { Emulator } from '../../src/core/emulator.js'
import { KeyRing } from '../../src/core/keys.js'
import type { Sleep } from '../../src/core/legs.js'
import { STATE_COLLECTIONS, type StateCollections } from '../../src/core/records.js'
import { StoreUnavailableError, type CollectionMap, type Store } from '../../src/core/store.js'
import { MemoryStore } from '../../src/store/memory.js'

export const PUBLIC_URL = 'http://emulator.test'
export const ISSUER = `${PUBLIC_URL}/camara/api/auth/v1`
export const TOKEN_ENDPOINT = `${ISSUER}/token`
export const REDIRECT_URI = 'http://localhost:3000/callback'
export const SCOPE = 'openid dpv:FraudPreventionAndDetection number-verification:verify'
export const START = Date.UTC(2026, 10, 25, 12, 0, 0)
export const START_S = START / 1000

/** The seed's example subscriber and the address its operator sees it at */
export const SEED_MSISDN = '+34666666666'
export const SEED_IPV4 = '142.115.147.143'

export const DEMO_JWT_KEY_FILE = new URL('../../fixtures/keys/demo-app-jwt.private.jwk.json', import.meta.url)

let sharedKeys: Promise<KeyRing> | undefined

/** One RS256 key ring per test file: key generation is slow */
export function testKeys (): Promise<KeyRing> {
  sharedKeys ??= KeyRing.create({ alg: 'RS256' })
  return sharedKeys
}

export function defaultFixtures (): Fixtures {
  return loadFixtures([DEFAULT_FIXTURES])
}

/** The default fixture document, to be changed by a test and merged again */
export function defaultFixtureDocument (): FixtureFile {
  return validateFixtureDocument(DEFAULT_FIXTURES, JSON.parse(readFileSync(DEFAULT_FIXTURES, 'utf8')))
}

export function fixturesFrom (...documents: unknown[]): Fixtures {
  return mergeFixtures(documents.map((content, i) => ({
    file: `test-${i}.json`,
    content: validateFixtureDocument(`test-${i}.json`, content)
  })))
}

export interface TestEmulator {
  emulator: Emulator
  clock: ManualClock
  keys: KeyRing
}

export interface EmulatorChoices {
  fixtures?: Fixtures
  settings?: Partial<CoreSettings>
  /** How injected latency waits (default: a real timer) */
  sleep?: Sleep
  /** Replicas: emulators given one (shared) store and one clock */
  store?: Store<StateCollections>
  clock?: ManualClock
}

export async function buildEmulator (options: EmulatorChoices = {}): Promise<TestEmulator> {
  const clock = options.clock ?? new ManualClock(START)
  const keys = await testKeys()
  const emulator = new Emulator({
    fixtures: options.fixtures ?? defaultFixtures(),
    keys,
    publicUrl: PUBLIC_URL,
    clock,
    store:
      options.store ?? new MemoryStore<StateCollections>(clock, { sweepIntervalMs: 0, collections: STATE_COLLECTIONS }),
    ...(options.settings === undefined ? {} : { settings: options.settings }),
    ...(options.sleep === undefined ? {} : { sleep: options.sleep })
  })
  return { emulator, clock, keys }
}

export interface SharedTestStore<M extends CollectionMap> {
  store: Store<M>
  /** Every call fails with StoreUnavailableError while down, as when a shared store's server is unreachable */
  unavailable: (down: boolean) => void
}

/**
 * A memory store that says it is shared: replicas in one process (emulators given the same one)
 * take the shared-store code paths without a Valkey or Redis server
 */
export function sharedMemoryStore<M extends CollectionMap> (clock: ManualClock): SharedTestStore<M> {
  const memory = new MemoryStore<M>(clock, { sweepIntervalMs: 0 })
  let down = false
  const store = new Proxy(memory, {
    get (target, property, receiver) {
      if (property === 'shared') return true
      const value: unknown = Reflect.get(target, property, receiver)
      if (!down || typeof value !== 'function') return value
      return async () => { throw new StoreUnavailableError('the test store is down') }
    }
  })
  return { store, unavailable: (value) => { down = value } }
}

/** A sleep that returns at once and records each wait, in order */
export function recordingSleep (): { sleep: Sleep, waits: number[] } {
  const waits: number[] = []
  return { sleep: async (ms) => { waits.push(ms) }, waits }
}

/** A sleep that really yields to the timers for a few ms, whatever it is asked, so parallel requests interleave */
export const interleavingSleep: Sleep = async () => await new Promise((resolve) => setTimeout(resolve, 5))

/** Runs a function expected to throw and returns what it threw (or fails with the value it returned) */
export function thrown (fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected an error, got none')
}

export async function rejected (promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection, got none')
}

export function authorizeQuery (overrides: Query = {}): Query {
  return {
    response_type: 'code',
    client_id: 'demo-app',
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    state: 'af0ifjsldkj',
    nonce: 'n-0S6_WzA2Mj',
    ...overrides
  }
}

export const PKCE_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
export const PKCE_CHALLENGE = createHash('sha256').update(PKCE_VERIFIER).digest('base64url')

/**
 * Runs the browser leg (gateway then operator) and returns the code. The device is seen at
 * `source` by both the gateway and the operator.
 */
export async function authorize (
  emulator: Emulator, overrides: Query = {}, source: string | undefined = SEED_IPV4
): Promise<{ code: string, grantId: string, state: string | undefined }> {
  const { pending } = await emulator.authorization.start(authorizeQuery(overrides), source)
  const { location, grant } = await emulator.authorization.completeAtOperator(pending.operatorId, pending.id, source)
  const url = new URL(location)
  const state = url.searchParams.get('state') ?? undefined
  return { code: url.searchParams.get('code') ?? '', grantId: grant.id, state }
}

let demoKey: Promise<CryptoKey> | undefined

/** The demo-app-jwt private key shipped with the fixtures (ES256, public on purpose) */
export function demoJwtKey (): Promise<CryptoKey> {
  demoKey ??= importJWK(JSON.parse(readFileSync(DEMO_JWT_KEY_FILE, 'utf8')) as JWK, 'ES256') as Promise<CryptoKey>
  return demoKey
}

/** A private_key_jwt client assertion for demo-app-jwt, valid at `now` unless claims say otherwise */
export async function clientAssertion (
  nowMs: number, claims: JWTPayload = {}, options: { key?: CryptoKey, kid?: string, alg?: string } = {}
): Promise<string> {
  const iat = Math.floor(nowMs / 1000)
  const payload: JWTPayload = {
    iss: 'demo-app-jwt',
    sub: 'demo-app-jwt',
    aud: TOKEN_ENDPOINT,
    iat,
    exp: iat + 60,
    jti: randomUUID(),
    ...claims
  }
  for (const [name, value] of Object.entries(payload)) {
    if (value === undefined) delete payload[name]
  }
  return await new SignJWT(payload)
    .setProtectedHeader({ alg: options.alg ?? 'ES256', kid: options.kid ?? 'demo-app-jwt-es256' })
    .sign(options.key ?? await demoJwtKey())
}
