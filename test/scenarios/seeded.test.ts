// Replaying a run: two apps with the same --seed and the same request sequence make the same
// random choices (probabilistic scenarios, uniform and lognormal latencies), another seed makes
// different ones, and the choices are exactly the seeded generator's draws.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { legRandom } from '../../src/core/flows.js'
import type { SeededRandom } from '../../src/core/random.js'
import {
  accessTokenFor,
  buildScenarioApp,
  codeFor,
  define,
  exchangeCode,
  verify,
  type ScenarioTestApp
} from './support.js'

interface Run {
  outcomes: string[]
  sleeps: number[]
  /** The flow of the token the requests used */
  flowId: string
}

/** The draws of the nth verify call of the flow: its own generator (src/core/flows.ts) */
const verifyDraws = (seed: number, flowId: string, n: number): SeededRandom => legRandom(seed, flowId, 'verify', n)

/** A fresh app on `seed`, the same definitions and the same requests every time */
async function run (
  t: Test,
  seed: number,
  requests: (app: FastifyInstance, token: string) => Promise<string[]>
): Promise<Run> {
  const built: ScenarioTestApp = await buildScenarioApp(t, { seed })
  await define(built.app, {
    name: 'coin-flip',
    description: 'verify answers false half of the time',
    match: { operations: ['verify'], probability: 0.5 },
    effects: { verifiedResult: false }
  })
  await define(built.app, {
    name: 'jittery',
    description: 'uniform 100-200 ms',
    effects: { latency: { minMs: 100, maxMs: 200 } }
  })
  const token = await accessTokenFor(built.app)
  built.sleeps.length = 0
  const outcomes = await requests(built.app, token)
  const flowId = built.app.emulator.journal.list({ operation: 'verify' })[0]?.flowId ?? ''
  return { outcomes, sleeps: built.sleeps, flowId }
}

async function repeat (times: number, call: (i: number) => Promise<string>): Promise<string[]> {
  const outcomes: string[] = []
  for (let i = 0; i < times; i++) outcomes.push(await call(i))
  return outcomes
}

const coinFlips = async (app: FastifyInstance, token: string): Promise<string[]> =>
  await repeat(32, async () =>
    String((await verify(app, token, { scenarios: 'coin-flip' })).json().devicePhoneNumberVerified)
  )

t.test(
  "a probability 0.5 scenario: same seed, same outcomes; they are the flow's draws; another seed differs",
  async (t) => {
    const first = await run(t, 42, coinFlips)
    const second = await run(t, 42, coinFlips)
    t.strictSame(second.outcomes, first.outcomes)
    t.strictSame(
      first.outcomes,
      first.outcomes.map((_, i) => String(!verifyDraws(42, first.flowId, i + 1).chance(0.5))),
      "false exactly when the call's draw is below 0.5"
    )
    t.ok(first.outcomes.includes('true') && first.outcomes.includes('false'), 'both outcomes occur')
    const other = await run(t, 43, coinFlips)
    t.notSame(other.outcomes, first.outcomes)
  }
)

t.test('flaky-5-percent: the same seed fails the same calls; another seed fails others', async (t) => {
  const statuses = async (app: FastifyInstance, token: string): Promise<string[]> =>
    await repeat(300, async () => String((await verify(app, token, { scenarios: 'flaky-5-percent' })).statusCode))
  const first = await run(t, 2024, statuses)
  const second = await run(t, 2024, statuses)
  t.strictSame(second.outcomes, first.outcomes)
  t.ok(first.outcomes.includes('503'), 'some calls failed')
  t.notSame((await run(t, 2025, statuses)).outcomes, first.outcomes)
})

t.test(
  'uniform and lognormal latencies: the same milliseconds for the same seed, the draws of the generator',
  async (t) => {
    const latencies = async (app: FastifyInstance, token: string): Promise<string[]> =>
      await repeat(10, async () => String((await verify(app, token, { scenarios: 'jittery,slow-network' })).statusCode))
    const first = await run(t, 99, latencies)
    const second = await run(t, 99, latencies)
    t.strictSame(first.outcomes, Array(10).fill('200'))
    t.strictSame(second.sleeps, first.sleeps)
    const expected = first.outcomes.map((_, i) => {
      const draws = verifyDraws(99, first.flowId, i + 1)
      return Math.round(draws.uniform(100, 200)) + Math.round(draws.lognormal(300, 2000))
    })
    t.strictSame(first.sleeps, expected, 'each call: a uniform draw, then a lognormal one, summed')
    t.notSame((await run(t, 100, latencies)).sleeps, first.sleeps)
  }
)

t.test('a whole flow chosen flow-wide replays: the same delays on every leg for the same seed', async (t) => {
  const flow = async (app: FastifyInstance): Promise<string[]> => {
    const code = await codeFor(app, { extraQuery: { emulator_scenario: 'slow-network,jittery' } })
    const token = (await exchangeCode(app, code)).json().access_token as string
    return [String((await verify(app, token)).statusCode)]
  }
  const first = await run(t, 5, flow)
  const second = await run(t, 5, flow)
  t.equal(first.sleeps.length, 4, 'authorize, operator, token, verify')
  t.ok(first.sleeps.every((ms) => ms > 0))
  t.strictSame(second.sleeps, first.sleeps)
})
