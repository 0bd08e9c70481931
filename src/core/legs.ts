// The scenario step of the one sequence every leg of a flow follows:
//   validate -> decide scenarios (synchronous) -> take what is single-use -> wait -> commit -> answer.
// An injected error or fault is decided before the take, so it leaves the code or token usable;
// once taken, a credential is spent whatever happens next. The request's Leg is plain data the
// core fills in (the flow, the decision) and the HTTP layer reads once, in one place: the core
// never calls back into route code.
import type { Directory } from './directory.js'
import type { FlowRef } from './records.js'
import type {
  DecidedError,
  DecidedFault,
  Decision,
  RequestFacts as EngineFacts,
  ScenarioEngine
} from './scenarios/engine.js'
import type { SeededRandom } from './random.js'
import type { ScenarioOperation } from './scenarios/scenario-schema.js'
import type { Check } from './conformance.js'

/** How injected latency waits (tests pass one that records and returns at once) */
export type Sleep = (ms: number) => Promise<void>

/** What one request to a leg carries through the core, and what the core found out about it */
export interface Leg {
  /** Scenarios the caller chose for this request (the x-emulator-scenario header), in order */
  readonly requested: readonly string[]
  /** The flow the request belongs to, as far as it is known (also for refusals) */
  flow: FlowRef
  /** The scenario decision, once made */
  decision?: Decision
  /** What the leg saw of the client, against the conformance rules (conformance.ts) */
  checks?: Check[]
}

export function newLeg (requested: readonly string[] = []): Leg {
  return { requested, flow: {} }
}

/** Where an authorization leg sends the browser with an error */
export interface RedirectTarget {
  redirectUri: string
  state?: string | undefined
}

/** Scenario names that no definition has */
export interface UnknownScenarios {
  unknown: string[]
}

/** An error decided by scenarios (or a request naming unknown ones); each surface renders it */
export class InjectedError extends Error {
  readonly problem: DecidedError | UnknownScenarios
  /** Set on the browser legs: the error goes to the client by redirect */
  readonly redirect: RedirectTarget | undefined

  constructor (problem: DecidedError | UnknownScenarios, redirect?: RedirectTarget) {
    super('unknown' in problem ? `unknown scenarios ${problem.unknown.join(', ')}` : `scenario ${problem.scenario}`)
    this.name = 'InjectedError'
    this.problem = problem
    this.redirect = redirect
  }
}

/** A fault that takes the connection over (reset, hang, empty reply): no answer is sent */
export class InjectedFault extends Error {
  readonly fault: DecidedFault

  constructor (fault: DecidedFault) {
    super(`fault ${fault.type} (scenario ${fault.scenario})`)
    this.name = 'InjectedFault'
    this.fault = fault
  }
}

/** Faults that change the body sent, success or error, instead of breaking the connection */
export const BODY_FAULTS: ReadonlySet<DecidedFault['type']> = new Set(['malformed-json', 'truncated-json', 'slow-body'])

export interface LegInput {
  operation: ScenarioOperation
  /** Scenarios the flow carries (chosen at authorize) */
  flowScenarios?: readonly string[]
  /** verify: the phoneNumber the client claims */
  claimedNumber?: string
  /** The browser legs: errors go back by redirect */
  redirect?: RedirectTarget
}

/**
 * Replicas on a shared store: counts the decision's activation uses over every replica, deciding
 * again without those other replicas used up (src/core/scenarios/shared.ts)
 */
export type SettleDecision = (decision: Decision, decideAgain: () => Decision) => Promise<Decision>

export interface LegOptions {
  settle?: SettleDecision
  /** The generator of a flow's next leg that draws (src/core/flows.ts); without it, the engine's sequence */
  flowRandom?: (flowId: string, operation: string) => Promise<SeededRandom>
}

export class LegScenarios {
  private readonly engine: ScenarioEngine
  private readonly directory: () => Directory
  private readonly options: LegOptions
  /** Also how a slow-body fault waits between its chunks */
  readonly sleep: Sleep

  constructor (engine: ScenarioEngine, directory: () => Directory, sleep: Sleep, options: LegOptions = {}) {
    this.engine = engine
    this.directory = directory
    this.sleep = sleep
    this.options = options
  }

  /**
   * Decides the scenarios for the leg (synchronously: counts and draws happen now, in request
   * order) and records the decision on the leg. Unknown names fail the request at once. On a
   * shared store the activations' uses are then counted on the store.
   */
  async decide (leg: Leg, input: LegInput): Promise<Decision> {
    const facts = this.factsOf(leg, input)
    const { settle, flowRandom } = this.options
    // A leg of a flow draws from the flow's own generator: the same whichever replica serves it
    const flowId = leg.flow.flowId
    const random = flowRandom !== undefined && flowId !== undefined && this.engine.selects(facts)
      ? await flowRandom(flowId, input.operation)
      : undefined
    const decideNow = (): Decision => this.engine.decide(facts, random)
    let decision = decideNow()
    if (settle !== undefined && decision.applied.some((applied) => applied.activationId !== undefined)) {
      decision = await settle(decision, decideNow)
    }
    leg.decision = decision
    if (decision.unknown.length > 0) throw new InjectedError({ unknown: decision.unknown }, input.redirect)
    return decision
  }

  private factsOf (leg: Leg, input: LegInput): EngineFacts {
    const { flow } = leg
    return {
      operation: input.operation,
      clientId: flow.clientId,
      msisdn: flow.msisdn,
      operatorId: flow.operatorId,
      claimedNumber: input.claimedNumber,
      headerScenarios: leg.requested,
      flowScenarios: input.flowScenarios ?? [],
      fixtureScenarios: this.directory().scenariosFor(flow)
    }
  }

  /**
   * Before anything single-use is taken: an injected fault or error waits its latency, then fails
   * the leg, leaving every credential as it was for the client's retry.
   */
  async failIfInjected (decision: Decision, redirect?: RedirectTarget): Promise<void> {
    const fault = decision.fault !== undefined && !BODY_FAULTS.has(decision.fault.type) ? decision.fault : undefined
    if (fault === undefined && decision.error === undefined) return
    await this.wait(decision)
    if (fault !== undefined) throw new InjectedFault(fault)
    if (decision.error !== undefined) throw new InjectedError(decision.error, redirect)
  }

  /** The injected latency, after the take */
  async wait (decision: Decision): Promise<void> {
    if (decision.latencyMs > 0) await this.sleep(decision.latencyMs)
  }

  /** decide + failIfInjected + wait, for legs with nothing single-use */
  async run (leg: Leg, input: LegInput): Promise<Decision> {
    const decision = await this.decide(leg, input)
    await this.failIfInjected(decision, input.redirect)
    await this.wait(decision)
    return decision
  }
}
