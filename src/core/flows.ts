// Flow ids and each flow's own randomness. A flow's id is the world's seed and the flow's number
// (the nth flow of the world, counted on the store, so replicas count together); the draws of each
// call come from a generator seeded by the flow's id, the operation and which call of that
// operation in the flow it is (the 3rd verify of the flow). So the same seed and the same requests
// in the same order give the same ids and the same draws, however the legs of each flow spread over
// replicas. Replicas count a flow's calls on the store (each count lives an access token's lifetime
// after the flow's last call); one process counts them in a bounded map.
import { createHash } from 'node:crypto'
import { SeededRandom } from './random.js'
import type { Store } from './store.js'

const FLOWS = 'flows'
const legsOf = (flowId: string, operation: string): string => `flow-legs:${flowId}:${operation}`

function digest (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

/** The id of the world's nth flow: 12 URL-safe characters */
export function flowIdOf (seed: number, n: number): string {
  return digest(`flow:${seed}:${n}`).toString('base64url').slice(0, 12)
}

/** The generator of the nth call of an operation in a flow (counting the calls that select scenarios) */
export function legRandom (seed: number, flowId: string, operation: string, n: number): SeededRandom {
  return new SeededRandom(digest(`leg:${seed}:${flowId}:${operation}:${n}`).readUInt32BE(0))
}

/** Flows whose call counts one process keeps (the memory store): past it the oldest are forgotten */
export const MAX_COUNTED_FLOWS = 100_000

export class Flows {
  private readonly store: Store<object>
  private readonly seed: () => number
  private readonly countTtlMs: number
  /**
   * One process: the calls of each flow, by operation, in a bounded map (insertion order is age),
   * not store counters, which would live on for every flow under sustained load
   */
  private readonly local = new Map<string, number>()

  /** `countTtlMs`: how long a flow's call count lives on a shared store after its last call */
  constructor (store: Store<object>, seed: () => number, countTtlMs: number) {
    this.store = store
    this.seed = seed
    this.countTtlMs = countTtlMs
  }

  /** A new flow's id */
  async next (): Promise<string> {
    return flowIdOf(this.seed(), await this.store.increment(FLOWS))
  }

  /** The generator of the flow's next call of the operation */
  async randomFor (flowId: string, operation: string): Promise<SeededRandom> {
    const key = legsOf(flowId, operation)
    const n = this.store.shared ? await this.store.increment(key, this.countTtlMs) : this.countHere(key)
    return legRandom(this.seed(), flowId, operation, n)
  }

  private countHere (key: string): number {
    const n = (this.local.get(key) ?? 0) + 1
    this.local.delete(key)
    this.local.set(key, n)
    if (this.local.size > MAX_COUNTED_FLOWS) {
      const oldest = this.local.keys().next().value
      if (oldest !== undefined) this.local.delete(oldest)
    }
    return n
  }

  /** A reset: every flow's count starts again */
  clear (): void {
    this.local.clear()
  }
}
