// Shared set-up for the scenario engine tests: an engine on a manual clock and a fixed seed, and
// request facts with nothing selected unless a test says so.
import { ManualClock } from '../../../src/core/clock.js'
import { SeededRandom } from '../../../src/core/random.js'
import {
  catalogueDefinitions,
  ScenarioEngine,
  type Decision,
  type RequestFacts,
  type ScenarioDefinition
} from '../../../src/core/scenarios/engine.js'
import type { Scenario } from '../../../src/core/scenarios/scenario-schema.js'

export const START = Date.UTC(2026, 10, 25, 12, 0, 0)
export const MSISDN = '+34666666666'
export const OTHER_MSISDN = '+34600000002'

export interface TestEngine {
  engine: ScenarioEngine
  clock: ManualClock
}

/** An engine with the catalogue plus the given scenarios (as if from fixtures/test.json) */
export function buildEngine (
  scenarios: Scenario[] = [],
  options: { seed?: number, catalogue?: boolean } = {}
): TestEngine {
  const clock = new ManualClock(START)
  const definitions: ScenarioDefinition[] = [
    ...(options.catalogue === false ? [] : catalogueDefinitions()),
    ...scenarios.map((scenario): ScenarioDefinition => ({ scenario, origin: 'fixture', file: 'fixtures/test.json' }))
  ]
  const engine = new ScenarioEngine({ random: new SeededRandom(options.seed ?? 42), clock, definitions })
  return { engine, clock }
}

export function facts (overrides: Partial<RequestFacts> = {}): RequestFacts {
  return {
    operation: 'verify',
    clientId: 'demo-app',
    msisdn: MSISDN,
    operatorId: 'movistar-es',
    headerScenarios: [],
    flowScenarios: [],
    fixtureScenarios: [],
    ...overrides
  }
}

/** A scenario with only a fixed latency, so its application is visible in latencyMs */
export function latencyScenario (name: string, fixedMs: number, match?: Scenario['match']): Scenario {
  return {
    name,
    description: `${fixedMs} ms`,
    ...(match === undefined ? {} : { match }),
    effects: { latency: { fixedMs } }
  }
}

/** The CAMARA code of a decision's error, undefined when there is none or it is another kind */
export function camaraCode (decision: Decision): string | undefined {
  return decision.error?.kind === 'camara' ? decision.error.code : undefined
}
