// Decides, for one request, which scenarios apply and what they do to it. Scenarios are selected
// by the request header, by the flow (chosen at authorize), by the control API and by fixtures,
// all at once; this module knows nothing of HTTP and only returns a Decision for the surface to
// carry out. Randomness and time are injected, so a seed replays the same decisions.
import { nanoid } from 'nanoid'
import type { Clock } from '../clock.js'
import type { SeededRandom } from '../random.js'
import { CATALOGUE } from './catalogue.js'
import { claimedNumberMatches, claimedNumberProblem } from './claimed-number.js'
import { deepFreeze } from './freeze.js'
import {
  AUTHORIZE_ERRORS,
  OAUTH_TOKEN_ERRORS,
  type AuthorizeErrorCode,
  type CamaraErrorCode,
  type OAuthTokenErrorCode
} from './protocol-errors.js'
import {
  checkOperationsFit,
  DEFAULT_CHUNK_DELAY_MS,
  firstSchemaProblem,
  fittingOperations,
  ScenarioError,
  ScenarioMatchSchema,
  validateScenario,
  type ErrorEffect,
  type FaultType,
  type Latency,
  type Scenario,
  type ScenarioMatch,
  type ScenarioOperation
} from './scenario-schema.js'

/** How a scenario was chosen, highest precedence first */
export type SelectionSource = 'header' | 'flow' | 'control' | 'fixture'
export const SELECTION_PRECEDENCE: readonly SelectionSource[] = ['header', 'flow', 'control', 'fixture']

/** Where a definition came from */
export type ScenarioOrigin = 'catalogue' | 'fixture' | 'control'

export interface ScenarioDefinition {
  scenario: Scenario
  origin: ScenarioOrigin
  /** The fixture file, for origin 'fixture' */
  file?: string
}

export function catalogueDefinitions (): ScenarioDefinition[] {
  return CATALOGUE.map((scenario) => ({ scenario, origin: 'catalogue' }))
}

export function fixtureDefinitions (file: string, scenarios: readonly Scenario[]): ScenarioDefinition[] {
  return scenarios.map((scenario) => ({ scenario, origin: 'fixture', file }))
}

export interface ScenarioListing {
  name: string
  description: string
  origin: ScenarioOrigin
  file?: string
  /** At least one live control activation */
  active: boolean
  scenario: Scenario
}

/**
 * The longest activation lifetime. Far beyond any test run, and it keeps the expiry a time a Date
 * can hold, so the control API can always show it as an ISO time.
 */
export const MAX_EXPIRES_IN_SECONDS = 1_000_000_000

export interface ActivationOptions {
  /** Apply to the next N matching requests only */
  remaining?: number
  /** The activation vanishes this long after it starts, on the engine's clock; absent = never */
  expiresInSeconds?: number
  /** Replaces the scenario's match rules of the same name for this activation */
  match?: Partial<ScenarioMatch>
}

export interface Activation {
  id: string
  name: string
  activatedAt: number
  remaining?: number
  /** Ms since the epoch */
  expiresAt?: number
  match?: Partial<ScenarioMatch>
  /** Requests it applied to so far */
  appliedCount: number
}

/**
 * What the control API changed in the engine, as plain data: replicas on a shared store exchange
 * it (src/core/scenarios/shared.ts). Counts of use are not in it: they are the store's counters.
 */
export interface RuntimeScenarios {
  definitions: Scenario[]
  activations: Array<Omit<Activation, 'appliedCount'>>
}

export interface RequestFacts {
  operation: ScenarioOperation
  clientId?: string
  msisdn?: string
  operatorId?: string
  /** verify: the phoneNumber the client claims (absent for hashed requests) */
  claimedNumber?: string
  /** Parsed `x-emulator-scenario` header, in the order given */
  headerScenarios: readonly string[]
  /** Chosen at authorize and carried by the flow */
  flowScenarios: readonly string[]
  /** Named by the subscriber's, client's and operator's fixtures */
  fixtureScenarios: readonly string[]
}

export type DecidedError =
  | {
    kind: 'camara',
    scenario: string,
    status: number,
    code: CamaraErrorCode,
    message?: string,
    retryAfterSeconds?: number
  }
  | { kind: 'oauth', scenario: string, status: number, error: OAuthTokenErrorCode, description: string }
  | { kind: 'authorize', scenario: string, error: AuthorizeErrorCode, description: string }

export interface DecidedFault {
  scenario: string
  type: FaultType
  /** hang: destroy the connection after this long; absent = until the client leaves */
  afterMs?: number
  /** slow-body: pause between chunks */
  chunkDelayMs?: number
}

export interface AppliedScenario {
  name: string
  source: SelectionSource
  activationId?: string
}

export type SkipCause = 'operation' | 'client' | 'subscriber' | 'operator' | 'claimed-number' | 'count' | 'probability'

/** A scenario named by the header or the flow that did not apply to this request, and why */
export interface SkippedScenario {
  name: string
  source: 'header' | 'flow'
  because: SkipCause
}

export interface Decision {
  applied: AppliedScenario[]
  /** Sum of the applied scenarios' latencies, whole ms */
  latencyMs: number
  /** From the highest-precedence applied scenario that gives one */
  error?: DecidedError
  verifiedResult?: boolean
  fault?: DecidedFault
  /** Header or flow names that no definition has: the surface answers 400 */
  unknown: string[]
  skipped: SkippedScenario[]
}

export type RegistryErrorKind = 'unknown' | 'duplicate' | 'read-only' | 'full'

export class ScenarioRegistryError extends Error {
  /**
   * unknown: no such scenario (404); duplicate: name taken (409); read-only: not defined at runtime
   * (409); full: a cap on runtime definitions or live activations is reached (429)
   */
  readonly kind: RegistryErrorKind

  constructor (kind: RegistryErrorKind, message: string) {
    super(message)
    this.name = 'ScenarioRegistryError'
    this.kind = kind
  }
}

/** What the control API can make the engine hold: every request it answers could add one */
export interface ScenarioLimits {
  /** Live activations at once */
  maxActivations: number
  /** Scenarios defined at runtime (the catalogue and fixture ones do not count) */
  maxRuntimeScenarios: number
}

export const DEFAULT_SCENARIO_LIMITS: ScenarioLimits = { maxActivations: 1000, maxRuntimeScenarios: 1000 }

export interface ScenarioEngineOptions {
  random: SeededRandom
  clock: Clock
  /** Defaults to the built-in catalogue; pass it along with fixture definitions */
  definitions?: readonly ScenarioDefinition[]
  limits?: Partial<ScenarioLimits>
  /** Replicas on a shared store: the store counts an activation's uses, not this engine */
  usesCountedElsewhere?: boolean
}

interface Selection {
  name: string
  source: SelectionSource
  activation?: Activation
}

export class ScenarioEngine {
  private readonly random: SeededRandom
  private readonly clock: Clock
  private readonly limits: ScenarioLimits
  private definitions = new Map<string, ScenarioDefinition>()
  /** Oldest first; decide() walks them newest first */
  private activationList: Activation[] = []
  private nextActivation = 1
  /** Requests counted for firstN / everyNth / afterN: per scenario name, or per control activation */
  private readonly counters = new Map<string, number>()

  /** Set on a shared store: `remaining` stays what it was given, the store counts the uses */
  private readonly usesCountedElsewhere: boolean

  constructor (options: ScenarioEngineOptions) {
    this.usesCountedElsewhere = options.usesCountedElsewhere ?? false
    this.random = options.random
    this.clock = options.clock
    this.limits = { ...DEFAULT_SCENARIO_LIMITS, ...options.limits }
    for (const definition of options.definitions ?? catalogueDefinitions()) this.add(this.definitions, definition)
  }

  /** Defines a scenario at runtime (control API). Replaces an earlier runtime definition of the same name. */
  define (scenario: Scenario): ScenarioListing {
    const existing = this.definitions.get(scenario.name)
    if (existing !== undefined && existing.origin !== 'control') {
      throw new ScenarioRegistryError(
        'duplicate',
        `scenario "${scenario.name}" is already defined in ${describeOrigin(existing)}`
      )
    }
    const definition = checkedDefinition({ scenario, origin: 'control' })
    if (existing === undefined && this.runtimeCount() >= this.limits.maxRuntimeScenarios) {
      const max = this.limits.maxRuntimeScenarios
      throw new ScenarioRegistryError('full', `at most ${max} scenarios can be defined at runtime ` +
        '(--max-runtime-scenarios): remove one (DELETE /_emulator/scenarios/{name}) or reset')
    }
    this.definitions.set(scenario.name, definition)
    // New match rules start counting afresh; activations stay and follow the new definition
    this.counters.delete(`scenario:${scenario.name}`)
    return this.listing(definition)
  }

  /** Removes a runtime-defined scenario and its activations; false when no scenario has that name */
  remove (name: string): boolean {
    const existing = this.definitions.get(name)
    if (existing === undefined) return false
    if (existing.origin !== 'control') {
      throw new ScenarioRegistryError(
        'read-only',
        `scenario "${name}" is defined in ${describeOrigin(existing)} and cannot be removed at runtime`
      )
    }
    this.forget(name)
    return true
  }

  /**
   * Swaps every fixture-defined scenario at once (fixture reload). Checks everything first and
   * throws without changing anything, so a bad reload keeps the last good set.
   */
  replaceFixtureDefinitions (definitions: readonly ScenarioDefinition[]): void {
    const next = new Map<string, ScenarioDefinition>()
    for (const [name, definition] of this.definitions) {
      if (definition.origin !== 'fixture') next.set(name, definition)
    }
    for (const definition of definitions) this.add(next, { ...definition, origin: 'fixture' })
    const gone = [...this.definitions.keys()].filter((name) => !next.has(name))
    this.definitions = next
    for (const name of gone) this.forget(name)
  }

  list (): ScenarioListing[] {
    this.dropExpired()
    return [...this.definitions.values()].map((definition) => this.listing(definition))
  }

  get (name: string): Scenario | undefined {
    return this.definitions.get(name)?.scenario
  }

  /** The names no definition has, in the order given, once each */
  validateNames (names: readonly string[]): string[] {
    return [...new Set(names.filter((name) => !this.definitions.has(name)))]
  }

  /**
   * Activates a scenario from the control API: for every matching request, or the next
   * `remaining` ones, for `expiresInSeconds`. Returns (a copy of) the activation.
   */
  activate (name: string, options: ActivationOptions = {}, id?: string): Activation {
    const definition = this.definitions.get(name)
    if (definition === undefined) throw new ScenarioRegistryError('unknown', `unknown scenario "${name}"`)
    const now = this.clock.now()
    if (options.remaining !== undefined && !(Number.isSafeInteger(options.remaining) && options.remaining >= 1)) {
      throw new ScenarioError('$.remaining', 'must be an integer of at least 1')
    }
    const { expiresInSeconds } = options
    if (expiresInSeconds !== undefined &&
      !(typeof expiresInSeconds === 'number' && expiresInSeconds > 0 && expiresInSeconds <= MAX_EXPIRES_IN_SECONDS)) {
      throw new ScenarioError(
        '$.expiresInSeconds',
        `must be a number of seconds above 0 and at most ${MAX_EXPIRES_IN_SECONDS}`
      )
    }
    if (options.match !== undefined) {
      const claimed = options.match.claimedNumber
      const problem = firstSchemaProblem(ScenarioMatchSchema, options.match, '$.match') ??
        (typeof claimed === 'string' ? claimedProblemAt(claimed) : undefined) ??
        checkOperationsFit(
          { ...definition.scenario.match, ...options.match },
          definition.scenario.effects,
          '$.match.operations'
        )
      if (problem !== undefined) throw new ScenarioError(problem.jsonPath, problem.rule)
    }
    this.dropExpired()
    if (this.activationList.length >= this.limits.maxActivations) {
      throw new ScenarioRegistryError('full', `at most ${this.limits.maxActivations} activations can be live at once ` +
        '(--max-activations): end some (DELETE /_emulator/activations) or let them expire')
    }
    const activation: Activation = {
      // On a shared store ids must not clash with another replica's: random ones
      id: id ?? (this.usesCountedElsewhere ? `activation-${nanoid(10)}` : `activation-${this.nextActivation++}`),
      name,
      activatedAt: now,
      appliedCount: 0,
      ...(options.remaining === undefined ? {} : { remaining: options.remaining }),
      // Whole ms, rounded up: a lifetime above 0 never ends the moment it starts
      ...(expiresInSeconds === undefined ? {} : { expiresAt: now + Math.ceil(expiresInSeconds * 1000) }),
      ...(options.match === undefined ? {} : { match: deepFreeze(structuredClone(options.match)) })
    }
    this.activationList.push(activation)
    return { ...activation }
  }

  /** Ends one activation by id, or every activation of a scenario by name; returns how many ended */
  deactivate (idOrName: string): number {
    const before = this.activationList.length
    this.keepActivations((activation) => activation.id !== idOrName && activation.name !== idOrName)
    return before - this.activationList.length
  }

  /** Live activations, oldest first (copies) */
  activations (): Activation[] {
    this.dropExpired()
    return this.activationList.map((activation) => ({ ...activation }))
  }

  /**
   * Back to how the engine started: drops the definitions made at runtime, the activations and the
   * counters; the catalogue and fixture definitions stay. Activation ids go on counting, so a stale
   * id cannot end a new activation.
   */
  reset (): void {
    for (const [name, definition] of this.definitions) {
      if (definition.origin === 'control') this.definitions.delete(name)
    }
    this.activationList = []
    this.counters.clear()
  }

  /** The definitions and activations made through the control API, as plain data */
  runtimeState (): RuntimeScenarios {
    this.dropExpired()
    return {
      definitions: [...this.definitions.values()].filter((d) => d.origin === 'control').map((d) => d.scenario),
      activations: this.activationList.map(({ appliedCount: _, ...activation }) => activation)
    }
  }

  /**
   * Takes another replica's runtime definitions and activations in place of this one's (the
   * catalogue and fixture definitions stay). An activation this engine already had keeps its
   * counters; a definition that clashes with a fixture one here is skipped.
   */
  adoptRuntime (state: RuntimeScenarios): void {
    for (const [name, definition] of this.definitions) {
      if (definition.origin === 'control') this.definitions.delete(name)
    }
    for (const scenario of state.definitions) {
      if (!this.definitions.has(scenario.name)) {
        this.definitions.set(
          scenario.name,
          checkedDefinition({ scenario: structuredClone(scenario), origin: 'control' })
        )
      }
    }
    const known = new Map(this.activationList.map((activation) => [activation.id, activation]))
    const adopted = state.activations
      .filter((activation) => this.definitions.has(activation.name))
      .map((activation): Activation => ({ ...activation, appliedCount: known.get(activation.id)?.appliedCount ?? 0 }))
    const ids = new Set(adopted.map((activation) => activation.id))
    for (const id of known.keys()) if (!ids.has(id)) this.counters.delete(`activation:${id}`)
    this.activationList = adopted
  }

  /** No control activation is live or waiting to expire: only header, flow or fixture scenarios can apply */
  get idle (): boolean {
    return this.activationList.length === 0
  }

  /** Whether anything is selected for the request at all (otherwise decide() draws nothing) */
  selects (facts: RequestFacts): boolean {
    return this.activationList.length > 0 || facts.headerScenarios.length > 0 || facts.flowScenarios.length > 0 ||
      facts.fixtureScenarios.length > 0
  }

  /** `random`: where this decision draws (a flow's own generator); default the engine's sequence */
  decide (facts: RequestFacts, random: SeededRandom = this.random): Decision {
    // The common case under load: nothing selected at all
    if (!this.selects(facts)) return { applied: [], latencyMs: 0, unknown: [], skipped: [] }
    this.dropExpired()
    const unknown = this.validateNames([...facts.headerScenarios, ...facts.flowScenarios])
    const decision: Decision = { applied: [], latencyMs: 0, unknown, skipped: [] }
    const appliedNames = new Set<string>()
    const evaluated = new Set<string>()

    for (const selection of this.selections(facts)) {
      const definition = this.definitions.get(selection.name)
      if (definition === undefined || appliedNames.has(selection.name)) continue
      const counterKey = selection.activation === undefined
        ? `scenario:${selection.name}`
        : `activation:${selection.activation.id}`
      // One evaluation per counter a request: a name in both header and flow counts and draws once
      if (evaluated.has(counterKey)) continue
      evaluated.add(counterKey)

      const { scenario } = definition
      const match: Partial<ScenarioMatch> = { ...scenario.match, ...selection.activation?.match }
      const skip = this.rejection(match, scenario, facts, counterKey, random)
      if (skip !== undefined) {
        if (selection.source === 'header' || selection.source === 'flow') {
          decision.skipped.push({ name: selection.name, source: selection.source, because: skip })
        }
        continue
      }

      appliedNames.add(selection.name)
      decision.applied.push({
        name: selection.name,
        source: selection.source,
        ...(selection.activation === undefined ? {} : { activationId: selection.activation.id })
      })
      this.applyEffects(decision, scenario, random)
      if (selection.activation !== undefined) this.countDown(selection.activation)
    }
    return decision
  }

  /** Every selection in precedence order: header, flow, control (newest first), fixture */
  private selections (facts: RequestFacts): Selection[] {
    return [
      ...facts.headerScenarios.map((name): Selection => ({ name, source: 'header' })),
      ...facts.flowScenarios.map((name): Selection => ({ name, source: 'flow' })),
      ...[...this.activationList].reverse().map((activation): Selection => ({
        name: activation.name,
        source: 'control',
        activation
      })),
      ...facts.fixtureScenarios.map((name): Selection => ({ name, source: 'fixture' }))
    ]
  }

  /** Why the scenario does not apply, or undefined when it does. Counts and draws only as far as needed. */
  private rejection (
    match: Partial<ScenarioMatch>,
    scenario: Scenario,
    facts: RequestFacts,
    counterKey: string,
    random: SeededRandom
  ): SkipCause | undefined {
    // Effects only apply where the surface can render them, even if an activation's match (or a
    // later redefinition) names more operations
    const fitting = fittingOperations(scenario.effects)
    if (!fitting.includes(facts.operation) ||
      (match.operations !== undefined && !match.operations.includes(facts.operation))) return 'operation'
    if (!accepts(match.clients, facts.clientId)) return 'client'
    if (!accepts(match.subscribers, facts.msisdn)) return 'subscriber'
    if (!accepts(match.operators, facts.operatorId)) return 'operator'
    const { claimedNumber } = match
    const claimed = facts.claimedNumber
    if (claimedNumber !== undefined && (claimed === undefined || !claimedNumberMatches(claimedNumber, claimed))) {
      return 'claimed-number'
    }
    if (match.firstN !== undefined || match.everyNth !== undefined || match.afterN !== undefined) {
      const n = (this.counters.get(counterKey) ?? 0) + 1
      this.counters.set(counterKey, n)
      if (match.firstN !== undefined && n > match.firstN) return 'count'
      if (match.everyNth !== undefined && n % match.everyNth !== 0) return 'count'
      if (match.afterN !== undefined && n <= match.afterN) return 'count'
    }
    if (match.probability !== undefined && !random.chance(match.probability)) return 'probability'
    return undefined
  }

  private applyEffects (decision: Decision, scenario: Scenario, random: SeededRandom): void {
    const { effects, name } = scenario
    if (effects.latency !== undefined) decision.latencyMs += sampleLatency(effects.latency, random)
    // Selections come in precedence order, so the first error, fault or result seen wins
    if (effects.error !== undefined && decision.error === undefined) decision.error = resolveError(name, effects.error)
    if (effects.verifiedResult !== undefined && decision.verifiedResult === undefined) {
      decision.verifiedResult = effects.verifiedResult
    }
    if (effects.fault !== undefined && decision.fault === undefined) {
      const { type, afterMs, chunkDelayMs } = effects.fault
      decision.fault = {
        scenario: name,
        type,
        ...(afterMs === undefined ? {} : { afterMs }),
        ...(type === 'slow-body' ? { chunkDelayMs: chunkDelayMs ?? DEFAULT_CHUNK_DELAY_MS } : {})
      }
    }
  }

  private countDown (activation: Activation): void {
    activation.appliedCount++
    // On a shared store the store counts the uses of all replicas (scenarios/shared.ts)
    if (activation.remaining === undefined || this.usesCountedElsewhere) return
    activation.remaining--
    if (activation.remaining <= 0) this.keepActivations((a) => a !== activation)
  }

  private dropExpired (): void {
    const now = this.clock.now()
    if (this.activationList.some((a) => a.expiresAt !== undefined && a.expiresAt <= now)) {
      this.keepActivations((a) => a.expiresAt === undefined || a.expiresAt > now)
    }
  }

  /** Keeps the activations `keep` accepts; an ended one's counter goes with it, so churn grows nothing */
  private keepActivations (keep: (activation: Activation) => boolean): void {
    const kept: Activation[] = []
    for (const activation of this.activationList) {
      if (keep(activation)) kept.push(activation)
      else this.counters.delete(`activation:${activation.id}`)
    }
    this.activationList = kept
  }

  private runtimeCount (): number {
    let count = 0
    for (const definition of this.definitions.values()) if (definition.origin === 'control') count++
    return count
  }

  private forget (name: string): void {
    this.definitions.delete(name)
    this.keepActivations((activation) => activation.name !== name)
    this.counters.delete(`scenario:${name}`)
  }

  private add (target: Map<string, ScenarioDefinition>, definition: ScenarioDefinition): void {
    const checked = checkedDefinition(definition)
    const existing = target.get(checked.scenario.name)
    if (existing !== undefined) {
      throw new ScenarioRegistryError(
        'duplicate',
        `scenario "${checked.scenario.name}" is defined twice: ` +
          `in ${describeOrigin(existing)} and in ${describeOrigin(checked)}`
      )
    }
    target.set(checked.scenario.name, checked)
  }

  private listing (definition: ScenarioDefinition): ScenarioListing {
    const { scenario } = definition
    return {
      name: scenario.name,
      description: scenario.description,
      origin: definition.origin,
      ...(definition.file === undefined ? {} : { file: definition.file }),
      active: this.activationList.some((activation) => activation.name === scenario.name),
      scenario
    }
  }
}

/** Validates (schema and cross-field rules) and freezes a private copy */
function sampleLatency (latency: Latency, random: SeededRandom): number {
  if ('fixedMs' in latency) return Math.round(latency.fixedMs)
  if ('minMs' in latency) return Math.round(random.uniform(latency.minMs, latency.maxMs))
  return Math.round(random.lognormal(latency.medianMs, latency.p99Ms))
}

function checkedDefinition (definition: ScenarioDefinition): ScenarioDefinition {
  const scenario = deepFreeze(structuredClone(validateScenario(definition.scenario, describeOrigin(definition))))
  return { scenario, origin: definition.origin, ...(definition.file === undefined ? {} : { file: definition.file }) }
}

/** An activation's own claimedNumber must compile too: decide() would meet it on every verify */
function claimedProblemAt (source: string): { jsonPath: string, rule: string } | undefined {
  const rule = claimedNumberProblem(source)
  return rule === undefined ? undefined : { jsonPath: '$.match.claimedNumber', rule }
}

function describeOrigin (definition: ScenarioDefinition): string {
  if (definition.origin === 'catalogue') return 'the built-in catalogue'
  if (definition.origin === 'control') return 'the control API'
  return definition.file ?? 'a fixture file'
}

/** A rule that is not given accepts everything; one that is given needs the fact */
function accepts (allowed: readonly string[] | undefined, fact: string | undefined): boolean {
  return allowed === undefined || (fact !== undefined && allowed.includes(fact))
}

function resolveError (scenario: string, effect: ErrorEffect): DecidedError {
  if ('camara' in effect) {
    const { status, code, message, retryAfterSeconds } = effect.camara
    return {
      kind: 'camara',
      scenario,
      status,
      code,
      ...(message === undefined ? {} : { message }),
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds })
    }
  }
  if ('oauth' in effect) {
    const { error, description, status } = effect.oauth
    return {
      kind: 'oauth',
      scenario,
      error,
      status: status ?? OAUTH_TOKEN_ERRORS[error].status,
      description: description ?? OAUTH_TOKEN_ERRORS[error].description
    }
  }
  const { error, description } = effect.authorize
  return { kind: 'authorize', scenario, error, description: description ?? AUTHORIZE_ERRORS[error] }
}

/** `x-emulator-scenario: a, b` (or a repeated header) -> ['a', 'b'] */
export function parseScenarioList (value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return []
  const parts = typeof value === 'string' ? [value] : value
  return parts.flatMap((part) => part.split(',')).map((name) => name.trim()).filter((name) => name !== '')
}
