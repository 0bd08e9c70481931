// The sample app's server-side session: what the presenter chose for each verification attempt,
// keyed by the OAuth state it sent, with the nonce and PKCE verifier the callback needs. A small
// store with the shape of the store port's collections (put with a time to live, get, take; async;
// stored values frozen, so a change is a new put), so it can move behind that port unchanged.
// Bounded: when it is full a new attempt is refused, never an older one silently dropped.
import { randomBytes } from 'node:crypto'
import type { Clock } from '../core/clock.js'
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

interface Stored {
  attempt: DemoAttempt
  expiresAt: number
}

export class DemoAttempts {
  private readonly attempts = new Map<string, Stored>()
  private readonly clock: Clock
  readonly capacity: number

  constructor (clock: Clock, options: { capacity?: number } = {}) {
    const capacity = options.capacity ?? MAX_ATTEMPTS
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`)
    this.clock = clock
    this.capacity = capacity
  }

  /** Stores (or replaces) an attempt for ttlMs; a new id is refused when the store is full */
  async put (id: string, attempt: DemoAttempt, ttlMs: number): Promise<void> {
    if (!this.attempts.has(id) && this.attempts.size >= this.capacity) {
      this.dropExpired()
      if (this.attempts.size >= this.capacity) throw new DemoAttemptsFullError(this.capacity)
    }
    // A frozen copy: neither the caller's object nor a reader can change what is stored
    const stored = Object.freeze({ ...attempt, choices: Object.freeze({ ...attempt.choices }) })
    this.attempts.set(id, { attempt: stored, expiresAt: this.clock.now() + ttlMs })
  }

  /** A live attempt, left in place (the flow is still under way) */
  async get (id: string): Promise<DemoAttempt | undefined> {
    return this.live(id)?.attempt
  }

  /** Reads and removes at once: a state answers one callback only */
  async take (id: string): Promise<DemoAttempt | undefined> {
    const stored = this.live(id)
    this.attempts.delete(id)
    return stored?.attempt
  }

  private live (id: string): Stored | undefined {
    const stored = this.attempts.get(id)
    if (stored === undefined) return undefined
    if (this.clock.now() >= stored.expiresAt) {
      this.attempts.delete(id)
      return undefined
    }
    return stored
  }

  /** Only when full: at most `capacity` entries to look at, and most puts never get here */
  private dropExpired (): void {
    const now = this.clock.now()
    for (const [id, stored] of this.attempts) if (now >= stored.expiresAt) this.attempts.delete(id)
  }
}
