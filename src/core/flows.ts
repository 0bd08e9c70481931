// Flow ids and each flow's own randomness. A flow's id is the world's seed and the flow's number
// (the nth flow of the world, counted on the store, so replicas count together); the draws of each
// leg come from a generator seeded by the flow's id, the operation and which call of that
// operation in the flow it is (the 3rd verify of the flow). So the
// same seed and the same requests in the same order give the same ids and the same draws, however
// the legs of each flow spread over replicas.
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

export class Flows {
  private readonly store: Store<object>
  private readonly seed: () => number
  private readonly legTtlMs: number

  /** `legTtlMs`: how long a flow's leg count lives after its last leg (its tokens' lifetime) */
  constructor (store: Store<object>, seed: () => number, legTtlMs: number) {
    this.store = store
    this.seed = seed
    this.legTtlMs = legTtlMs
  }

  /** A new flow's id */
  async next (): Promise<string> {
    return flowIdOf(this.seed(), await this.store.increment(FLOWS))
  }

  /** The generator of the flow's next call of the operation */
  async randomFor (flowId: string, operation: string): Promise<SeededRandom> {
    return legRandom(this.seed(), flowId, operation, await this.store.increment(legsOf(flowId, operation), this.legTtlMs))
  }
}
