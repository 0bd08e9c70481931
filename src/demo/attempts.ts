// The sample app's server-side session: what the presenter chose for each verification attempt,
// keyed by the OAuth state it sent, with the nonce and PKCE verifier the callback needs. Kept in
// the app's store (the port of src/core/store.ts: a time to live, take for the one callback,
// frozen values), in its own collection, so a shared store holds it for every replica.
// Bounded: when it is full a new attempt is refused, never an older one silently dropped.
import { randomBytes } from 'node:crypto'
import type { Store } from '../core/store.js'
import type { DemoFormValues } from './views/demo.js'

/** What the presenter chose on the form */
export type DemoChoices = DemoFormValues

export interface DemoAttempt {
  readonly state: string
  readonly nonce: string
  readonly codeVerifier: string
  /** The redirect_uri sent at authorize, which the token request must repeat */
  readonly redirectUri: string
  readonly choices: Readonly<DemoChoices>
  readonly createdAt: number
  /** Learnt when the gateway answers the browser's authorize request */
  readonly flowId?: string
}

export const ATTEMPT_TTL_MS = 10 * 60 * 1000
export const MAX_ATTEMPTS = 200

/** The store is full: the caller says so instead of starting a flow it could not finish */
export class DemoAttemptsFullError extends Error {
  readonly capacity: number

  constructor (capacity: number) {
    super(`${capacity} verifications are already in progress: finish one, or wait up to ` +
      `${ATTEMPT_TTL_MS / 60_000} minutes for unfinished ones to expire`)
    this.name = 'DemoAttemptsFullError'
    this.capacity = capacity
  }
}

function randomToken (): string {
  return randomBytes(24).toString('base64url')
}

/** A new attempt with fresh secrets (state, nonce, PKCE verifier) */
export function newAttempt (choices: DemoChoices, redirectUri: string, now: number): DemoAttempt {
  return {
    state: randomToken(),
    nonce: randomToken(),
    codeVerifier: randomToken() + randomToken(),
    redirectUri,
    choices,
    createdAt: now
  }
}

/** The demo's collection in the app's store (src/app.ts composes it with the core's) */
export interface DemoCollections {
  demoAttempts: DemoAttempt
}

export const DEMO_COLLECTIONS: ReadonlyArray<keyof DemoCollections> = ['demoAttempts']

export class DemoAttempts {
  private readonly store: Store<DemoCollections>
  readonly capacity: number

  constructor (store: Store<DemoCollections>, options: { capacity?: number } = {}) {
    const capacity = options.capacity ?? MAX_ATTEMPTS
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`)
    }
    this.store = store
    this.capacity = capacity
  }

  /**
   * Stores (or replaces) an attempt for ttlMs; a new id is refused when the store holds
   * `capacity` live attempts (parallel puts may overshoot by the few in flight)
   */
  async put (id: string, attempt: DemoAttempt, ttlMs: number): Promise<void> {
    if (await this.store.get('demoAttempts', id) === undefined) {
      if (await this.store.size('demoAttempts') >= this.capacity) throw new DemoAttemptsFullError(this.capacity)
    }
    // The store keeps a frozen copy: neither the caller's object nor a reader can change it
    await this.store.put('demoAttempts', id, attempt, ttlMs)
  }

  /** A live attempt, left in place (the flow is still under way) */
  async get (id: string): Promise<DemoAttempt | undefined> {
    return await this.store.get('demoAttempts', id)
  }

  /** Reads and removes at once: a state answers one callback only */
  async take (id: string): Promise<DemoAttempt | undefined> {
    return await this.store.take('demoAttempts', id)
  }
}
