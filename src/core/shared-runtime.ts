// What the control API changes, on a shared store: replicas behind a load balancer act as one
// emulator, so a scenario defined or activated, or a subscriber added, through one applies on
// every other at its next request. Each replica keeps its own engine and directory (decide() stays
// synchronous); the runtime changes live in the store as one record with a revision, which each
// leg compares (one read) and adopts when it changed. The uses of an activation are the store's
// atomic counter, so "the next N" means N over all replicas. With the memory store (one process)
// none of this runs: the engine and the directory are the state.
import { nanoid } from 'nanoid'
import type { Store } from './store.js'
import type { Activation, ActivationOptions, Decision, RuntimeScenarios, ScenarioEngine } from './scenarios/engine.js'

/** The world's entities as the control API left them (absent: the fixtures loaded at start) */
export interface RuntimeFixtures {
  defaultOperator?: string
  operators: unknown[]
  clients: unknown[]
  subscribers: unknown[]
}

export interface SharedRuntimeRecord {
  revision: string
  scenarios: RuntimeScenarios
  fixtures?: RuntimeFixtures
}

export interface SharedRuntimeCollections {
  runtimeState: SharedRuntimeRecord
}

/** How the world's fixtures take part: what they are now, and taking another replica's */
export interface SharedFixtures {
  /** undefined while nothing changed them at runtime */
  current: () => RuntimeFixtures | undefined
  adopt: (fixtures: RuntimeFixtures | undefined) => void
}

/** The record never expires on its own: a reset (or a flush of the store) removes it */
const KEEP_MS = 10 * 365 * 24 * 3600 * 1000
const KEY = 'runtime'
/** Decisions made again at most this often in one request when other replicas used activations up */
const MAX_REDECISIONS = 8

const usesOf = (id: string): string => `activation-uses:${id}`

export class SharedRuntime {
  private readonly engine: ScenarioEngine
  private readonly store: Store<SharedRuntimeCollections>
  private readonly fixtures: SharedFixtures
  /** The revision this replica holds (undefined: nothing changed at runtime) */
  private revision: string | undefined

  constructor (engine: ScenarioEngine, store: Store<SharedRuntimeCollections>, fixtures: SharedFixtures) {
    this.engine = engine
    this.store = store
    this.fixtures = fixtures
  }

  /** Adopts what another replica changed since this one last looked */
  async refresh (): Promise<void> {
    const record = await this.store.get('runtimeState', KEY)
    if (record?.revision === this.revision) return
    this.fixtures.adopt(record?.fixtures)
    this.engine.adoptRuntime(record?.scenarios ?? { definitions: [], activations: [] })
    this.revision = record?.revision
  }

  /** A control API change: made on the latest state, then published for every replica */
  async change<T>(apply: () => T): Promise<T> {
    await this.refresh()
    const result = apply()
    await this.publish()
    return result
  }

  /** Activates (the engine gives ids no other replica gives) */
  async activate (name: string, options: ActivationOptions): Promise<Activation> {
    return await this.change(() => this.engine.activate(name, options))
  }

  /** Writes this replica's runtime state as the one every replica adopts */
  async publish (): Promise<void> {
    const revision = nanoid(12)
    const fixtures = this.fixtures.current()
    await this.store.put(
      'runtimeState',
      KEY,
      { revision, scenarios: this.engine.runtimeState(), ...(fixtures === undefined ? {} : { fixtures }) },
      KEEP_MS
    )
    this.revision = revision
  }

  /** After a reset: nothing changed at runtime, on any replica */
  forget (): void {
    this.revision = undefined
  }

  /**
   * Counts each use of an applied activation on the store. An activation counted past its
   * `remaining` was used up by other replicas: it ends here, and the request is decided again
   * without it. The use that reaches `remaining` ends it on every replica.
   */
  async settle (decision: Decision, decideAgain: () => Decision): Promise<Decision> {
    // A use counted once per request, however often it is decided again
    const counted = new Set<string>()
    for (let attempt = 0; attempt < MAX_REDECISIONS; attempt++) {
      const limited = new Map(this.engine.activations().map((a) => [a.id, a.remaining]))
      const spent: string[] = []
      const last: string[] = []
      for (const { activationId } of decision.applied) {
        if (activationId === undefined || counted.has(activationId)) continue
        counted.add(activationId)
        const uses = await this.store.increment(usesOf(activationId))
        const remaining = limited.get(activationId)
        if (remaining === undefined) continue
        if (uses > remaining) spent.push(activationId)
        else if (uses === remaining) last.push(activationId)
      }
      if (last.length > 0) await this.change(() => { for (const id of last) this.engine.deactivate(id) })
      if (spent.length === 0) return decision
      for (const id of spent) this.engine.deactivate(id)
      decision = decideAgain()
    }
    return decision
  }

  /**
   * Live activations with their uses over every replica (`remaining` what is left of them). The
   * request already adopted the latest state (the facts hook reads it for the control API)
   */
  async activations (): Promise<Activation[]> {
    return await Promise.all(this.engine.activations().map(async (activation) => {
      const uses = await this.store.count(usesOf(activation.id))
      return {
        ...activation,
        appliedCount: uses,
        ...(activation.remaining === undefined ? {} : { remaining: Math.max(0, activation.remaining - uses) })
      }
    }))
  }
}
