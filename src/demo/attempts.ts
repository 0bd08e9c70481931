// The sample app's server-side session: what the presenter chose for each verification attempt,
// keyed by the OAuth state it sent, with the nonce and PKCE verifier the callback needs. Bounded
// and short-lived, so an open demo cannot grow memory; each state is redeemed once.
import { randomBytes } from 'node:crypto'
import type { Clock } from '../core/clock.js'
import type { DemoFormValues } from './views/demo.js'

/** What the presenter chose on the form */
export type DemoChoices = DemoFormValues

export interface DemoAttempt {
  state: string
  nonce: string
  codeVerifier: string
  /** The redirect_uri sent at authorize, which the token request must repeat */
  redirectUri: string
  choices: DemoChoices
  createdAt: number
  /** Learnt when the gateway answers the browser's authorize request */
  flowId?: string
}

export const ATTEMPT_TTL_MS = 10 * 60 * 1000
export const MAX_ATTEMPTS = 200

function randomToken (): string {
  return randomBytes(24).toString('base64url')
}

export class DemoAttempts {
  /** Insertion order is age order, so the oldest go first */
  private readonly attempts = new Map<string, DemoAttempt>()
  private readonly clock: Clock
  private readonly ttlMs: number
  private readonly capacity: number

  constructor (clock: Clock, options: { ttlMs?: number, capacity?: number } = {}) {
    this.clock = clock
    this.ttlMs = options.ttlMs ?? ATTEMPT_TTL_MS
    this.capacity = options.capacity ?? MAX_ATTEMPTS
  }

  get size (): number {
    return this.attempts.size
  }

  begin (choices: DemoChoices, redirectUri: string): DemoAttempt {
    this.dropExpired()
    while (this.attempts.size >= this.capacity) {
      const oldest = this.attempts.keys().next().value
      if (oldest === undefined) break
      this.attempts.delete(oldest)
    }
    const attempt: DemoAttempt = { state: randomToken(), nonce: randomToken(), codeVerifier: randomToken() + randomToken(), redirectUri, choices, createdAt: this.clock.now() }
    this.attempts.set(attempt.state, attempt)
    return attempt
  }

  /** A live attempt, left in place (the flow is still under way) */
  peek (state: string | undefined): DemoAttempt | undefined {
    if (state === undefined) return undefined
    const attempt = this.attempts.get(state)
    if (attempt === undefined) return undefined
    if (this.expired(attempt)) {
      this.attempts.delete(state)
      return undefined
    }
    return attempt
  }

  /** Redeems an attempt: a state answers one callback only */
  take (state: string | undefined): DemoAttempt | undefined {
    const attempt = this.peek(state)
    if (attempt !== undefined) this.attempts.delete(attempt.state)
    return attempt
  }

  private expired (attempt: DemoAttempt): boolean {
    return this.clock.now() - attempt.createdAt >= this.ttlMs
  }

  private dropExpired (): void {
    for (const attempt of this.attempts.values()) {
      if (!this.expired(attempt)) break
      this.attempts.delete(attempt.state)
    }
  }
}
