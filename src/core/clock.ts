// Injectable time, so code and token expiry can be tested without waiting.
export interface Clock {
  /** Milliseconds since the epoch */
  now: () => number
}

export const systemClock: Clock = { now: () => Date.now() }

/** A clock that only moves when told to: for tests. */
export class ManualClock implements Clock {
  private current: number
  constructor (start = Date.UTC(2026, 0, 1)) {
    this.current = start
  }

  now (): number {
    return this.current
  }

  advance (ms: number): void {
    this.current += ms
  }
}

let isoMs = Number.NaN
let isoText = ''

/**
 * `new Date(ms).toISOString()`, remembered for the last millisecond asked: every aggregator /verify
 * answer carries one, and under load dozens of answers share a millisecond. Alone, this raised
 * /verify throughput ~8% in the bench (README "Performance").
 */
export function isoTime (ms: number): string {
  if (ms !== isoMs) {
    isoText = new Date(ms).toISOString()
    isoMs = ms
  }
  return isoText
}

export function epochSeconds (clock: Clock): number {
  return Math.floor(clock.now() / 1000)
}
