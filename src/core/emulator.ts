// The emulator's domain, assembled: one object the HTTP surfaces, the control API and the
// programmatic API all drive. It knows nothing of Fastify.
import { setTimeout as delay } from 'node:timers/promises'
import { FixtureError, mergeFixtures, type Fixtures } from './fixtures.js'
import type { FixtureFile, SubscriberFixture } from './fixture-schema.js'
import { AuthorizationService } from './authorization.js'
import { systemClock, type Clock } from './clock.js'
import { defaultCoreSettings, type CoreContext, type CoreSettings } from './context.js'
import { Directory } from './directory.js'
import type { KeyRing } from './keys.js'
import { Journal, type JournalEntry, type JournalFilter } from './journal.js'
import { SharedJournal } from './shared-journal.js'
import { SeededRandom } from './random.js'
import { Flows } from './flows.js'
import {
  catalogueDefinitions,
  ScenarioEngine,
  type Activation,
  type ActivationOptions,
  type ScenarioDefinition
} from './scenarios/engine.js'
import { SharedRuntime, type RuntimeFixtures } from './shared-runtime.js'
import { LegScenarios, type Sleep } from './legs.js'
import type { StateCollections } from './records.js'
import type { Store } from './store.js'
import { NumberVerificationService } from './number-verification.js'
import { TokenService } from './token-service.js'
import { OperatorTokenService } from './operator-tokens.js'
import { EmulatorUrls, namespacePath } from './urls.js'

export interface EmulatorOptions {
  fixtures: Fixtures
  keys: KeyRing
  publicUrl: string
  settings?: Partial<CoreSettings>
  clock?: Clock
  /** Where the state lives (src/store/: memory by default) */
  store: Store<StateCollections>
  /** How injected latency waits (default: a real timer) */
  sleep?: Sleep
  /** Seed of every random choice (probabilistic scenarios, latency distributions) */
  seed?: number
  /** URLs derived from another world's (a namespace's); otherwise from publicUrl */
  urls?: EmulatorUrls
}

const realSleep: Sleep = async (ms) => { if (ms > 0) await delay(ms) }

function fixtureScenarioDefinitions (fixtures: Fixtures): ScenarioDefinition[] {
  return fixtures.scenarios.map(({ file, scenario }) => ({ scenario, origin: 'fixture', file }))
}

export class Emulator {
  readonly ctx: CoreContext
  readonly keys: KeyRing
  readonly authorization: AuthorizationService
  readonly tokens: TokenService
  /** The emulated entitlement servers' operator tokens (SIM-based authentication) */
  readonly operatorTokens: OperatorTokenService
  readonly numberVerification: NumberVerificationService
  readonly random: SeededRandom
  readonly scenarios: ScenarioEngine
  readonly journal: Journal
  private readonly sharedJournal: SharedJournal | undefined
  private readonly flows: Flows
  /** Set on a shared store: the runtime scenarios and fixture changes every replica sees */
  private readonly shared: SharedRuntime | undefined
  /** What the control API made of the fixtures (undefined: the baseline, unchanged) */
  private changedFixtures: RuntimeFixtures | undefined
  /**
   * Why the last fixtures another replica published were not taken here (the rule they break
   * against this replica's own fixture files), or undefined when they were
   */
  fixturesNotAdopted: string | undefined
  private directoryValue: Directory
  /** What reset() returns to: the fixtures loaded at start (or last reloaded from files) */
  private baseline: Fixtures
  private readonly options: EmulatorOptions

  constructor (options: EmulatorOptions) {
    this.options = options
    const clock = options.clock ?? systemClock
    this.directoryValue = new Directory(options.fixtures)
    this.baseline = options.fixtures
    this.keys = options.keys
    this.random = new SeededRandom(options.seed ?? 1)
    const settings = { ...defaultCoreSettings, ...options.settings }
    this.scenarios = new ScenarioEngine({
      random: this.random,
      clock,
      definitions: [...catalogueDefinitions(), ...fixtureScenarioDefinitions(options.fixtures)],
      limits: settings,
      usesCountedElsewhere: options.store.shared
    })
    // Replicas on a shared store see one set of runtime changes and count activations together
    this.shared = options.store.shared
      ? new SharedRuntime(this.scenarios, options.store, {
        current: () => this.changedFixtures,
        adopt: (fixtures) => {
          this.adoptFixtures(fixtures)
        }
      })
      : undefined
    const shared = this.shared
    // Flow ids and each flow's draws follow the seed and the order of flows, on every replica
    const flows = new Flows(options.store, () => this.random.seed, settings.accessTokenTtl * 1000)
    this.flows = flows
    const directory = (): Directory => this.directoryValue
    this.ctx = {
      clock,
      store: options.store,
      legs: new LegScenarios(this.scenarios, directory, options.sleep ?? realSleep, {
        ...(shared === undefined ? {} : { settle: async (decision, again) => await shared.settle(decision, again) }),
        flowRandom: async (flowId, operation) => await flows.randomFor(flowId, operation)
      }),
      flows,
      settings,
      urls: options.urls ?? new EmulatorUrls(options.publicUrl),
      directory
    }
    this.operatorTokens = new OperatorTokenService(this.ctx)
    this.authorization = new AuthorizationService(this.ctx, this.operatorTokens)
    this.tokens = new TokenService(this.ctx, this.keys, this.operatorTokens)
    this.numberVerification = new NumberVerificationService(this.ctx, this.tokens)
    this.journal = new Journal({ clock, seed: this.random.seed })
    // Replicas on a shared store write their entries there too, and read them from there
    this.sharedJournal = options.store.shared ? new SharedJournal(options.store, this.journal.capacity) : undefined
    const sharedJournal = this.sharedJournal
    if (sharedJournal !== undefined) this.journal.subscribe((entry) => { sharedJournal.record(entry).catch(() => {}) })
  }

  /** The journal's entries: this process's, or on a shared store every replica's */
  async journalEntries (filter: JournalFilter = {}): Promise<Array<Readonly<JournalEntry>>> {
    return this.sharedJournal === undefined ? this.journal.list(filter) : await this.sharedJournal.list(filter)
  }

  async clearJournal (): Promise<void> {
    this.journal.clear()
    await this.sharedJournal?.clear()
  }

  /** Calls the listener with each new entry (of every replica on a shared store); returns how to stop */
  followJournal (listener: (entry: Readonly<JournalEntry>) => void): () => void {
    return this.sharedJournal === undefined ? this.journal.subscribe(listener) : this.sharedJournal.follow(listener)
  }

  /**
   * The services of a namespace's world, served under /ns/<name>: this world's settings, keys,
   * clock and latency; its own store, fixtures (default: this world's baseline) and seed
   */
  inNamespace (name: string, world: { store: Store<StateCollections>, fixtures?: Fixtures, seed?: number }): Emulator {
    return new Emulator({
      ...this.options,
      store: world.store,
      fixtures: world.fixtures ?? this.baseline,
      seed: world.seed ?? this.random.seed,
      urls: this.urls.under(namespacePath(name))
    })
  }

  /**
   * What a request waits for before its route runs: on a shared store, the runtime scenarios
   * another replica changed (one read); undefined (nothing to wait for) in one process
   */
  beforeRequest (): Promise<void> | undefined {
    return this.shared?.refresh()
  }

  /**
   * A change of the runtime scenarios or fixtures (control API): made on the latest state and, on
   * a shared store, seen by every replica once it resolves
   */
  async changeRuntime<T>(apply: (engine: ScenarioEngine) => T): Promise<T> {
    if (this.shared === undefined) return apply(this.scenarios)
    return await this.shared.change(() => apply(this.scenarios))
  }

  async activateScenario (name: string, options: ActivationOptions): Promise<Activation> {
    if (this.shared === undefined) return this.scenarios.activate(name, options)
    return await this.shared.activate(name, options)
  }

  /** Live activations, their uses counted over every replica */
  async liveActivations (): Promise<Activation[]> {
    if (this.shared === undefined) return this.scenarios.activations()
    return await this.shared.activations()
  }

  /**
   * A change the programmatic API made directly (its controls are synchronous): published for
   * the other replicas in the background
   */
  runtimeChanged (): void {
    this.shared?.publish().catch(() => {})
  }

  get directory (): Directory {
    return this.directoryValue
  }

  get urls (): EmulatorUrls {
    return this.ctx.urls
  }

  /** How full the capped collections traffic grows are, against their caps */
  async capacity (): Promise<Record<'pending' | 'grants' | 'dpopProofs', { live: number, max: number }>> {
    const { store, settings } = this.ctx
    return {
      pending: { live: await store.size('pending'), max: settings.maxPending },
      grants: { live: await store.size('grants'), max: settings.maxGrants },
      dpopProofs: { live: await store.size('dpopProofIds'), max: settings.maxDpopProofs }
    }
  }

  /** Swaps the whole emulated world at once (control API changes) */
  replaceFixtures (fixtures: Fixtures): void {
    this.directoryValue = new Directory(fixtures)
  }

  /** Fixture files were (re)loaded: they become the new baseline of reset() */
  loadFixtures (fixtures: Fixtures): void {
    this.scenarios.replaceFixtureDefinitions(fixtureScenarioDefinitions(fixtures))
    this.baseline = fixtures
    this.replaceFixtures(fixtures)
  }

  /** Forgets every code, grant, token, scenario activation and journal entry; back to the baseline fixtures */
  async reset (): Promise<void> {
    await this.ctx.store.clear()
    await this.keys.keepIn(this.ctx.store)
    this.scenarios.reset()
    this.flows.clear()
    this.shared?.forget()
    this.random.restart()
    this.journal.clear()
    this.changedFixtures = undefined
    this.replaceFixtures(this.baseline)
  }

  /**
   * Applies a change to the fixtures, checked by the same rules as fixture files; on a broken
   * rule nothing changes and the FixtureError names the JSON path.
   */
  changeFixtures (source: string, change: (current: Fixtures) => Fixtures): Fixtures {
    const proposed = change(structuredClone(this.directoryValue.fixtures))
    const checked = mergeFixtures(
      [
        {
          file: source,
          content: {
            defaultOperator: proposed.defaultOperator,
            operators: proposed.operators,
            clients: proposed.clients,
            subscribers: proposed.subscribers,
            scenarios: []
          }
        }
      ],
      { scenarios: proposed.scenarios }
    )
    checked.files = this.directoryValue.fixtures.files
    this.replaceFixtures(checked)
    const { defaultOperator, operators, clients, subscribers } = checked
    this.changedFixtures = {
      ...(defaultOperator === undefined ? {} : { defaultOperator }),
      operators,
      clients,
      subscribers
    }
    return checked
  }

  /**
   * Another replica's runtime fixtures (undefined: back to the baseline). A copy that breaks a rule
   * here (the replicas loaded different files) is not taken, and said in fixturesNotAdopted: it
   * must not fail the refresh, or every later request of this replica would fail with it
   */
  private adoptFixtures (fixtures: RuntimeFixtures | undefined): void {
    this.fixturesNotAdopted = undefined
    if (fixtures === undefined) {
      if (this.changedFixtures !== undefined) this.replaceFixtures(this.baseline)
      this.changedFixtures = undefined
      return
    }
    const content = structuredClone({ ...fixtures, scenarios: [] }) as unknown as FixtureFile
    let checked: Fixtures
    try {
      checked = mergeFixtures([{ file: 'the shared store', content }], { scenarios: this.baseline.scenarios })
    } catch (error) {
      if (!(error instanceof FixtureError)) throw error
      this.fixturesNotAdopted = error.message
      return
    }
    checked.files = this.baseline.files
    this.replaceFixtures(checked)
    this.changedFixtures = fixtures
  }

  /** Adds a subscriber, or replaces the one with the same MSISDN */
  upsertSubscriber (subscriber: SubscriberFixture): { created: boolean } {
    const created = this.directoryValue.subscriber(subscriber.msisdn) === undefined
    this.changeFixtures('control API', (current) => ({
      ...current,
      subscribers: [...current.subscribers.filter((s) => s.msisdn !== subscriber.msisdn), subscriber]
    }))
    return { created }
  }

  removeSubscriber (msisdn: string): boolean {
    if (this.directoryValue.subscriber(msisdn) === undefined) return false
    this.changeFixtures('control API', (current) => ({
      ...current,
      subscribers: current.subscribers.filter((s) => s.msisdn !== msisdn)
    }))
    return true
  }

  async close (): Promise<void> {
    await this.ctx.store.close()
  }
}
