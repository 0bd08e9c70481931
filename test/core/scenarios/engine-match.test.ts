import t from 'tap'
import type { Scenario } from '../../../src/core/scenarios/scenario-schema.js'
import { buildEngine, facts, latencyScenario, MSISDN, OTHER_MSISDN } from './support.js'

/** Which of `count` header-selected requests the scenario applied to (1-based) */
function appliedRequests (scenario: Scenario, count: number, seed = 42): number[] {
  const { engine } = buildEngine([scenario], { seed })
  const hits: number[] = []
  for (let i = 1; i <= count; i++) {
    if (engine.decide(facts({ headerScenarios: [scenario.name] })).applied.length > 0) hits.push(i)
  }
  return hits
}

t.test('a scenario applies to the operations it lists and no other', async (t) => {
  const { engine } = buildEngine([latencyScenario('token-slow', 100, { operations: ['token', 'jwks'] })])
  for (const operation of ['token', 'jwks'] as const) {
    t.equal(engine.decide(facts({ operation, headerScenarios: ['token-slow'] })).latencyMs, 100, operation)
  }
  for (const operation of ['authorize', 'operator', 'verify', 'share', 'discovery'] as const) {
    const decision = engine.decide(facts({ operation, headerScenarios: ['token-slow'] }))
    t.strictSame(decision.applied, [], operation)
    t.strictSame(decision.skipped, [{ name: 'token-slow', source: 'header', because: 'operation' }])
  }
})

t.test('without an operations list, latency applies to every operation', async (t) => {
  const { engine } = buildEngine([latencyScenario('everywhere', 5)])
  for (const operation of ['authorize', 'operator', 'token', 'verify', 'share', 'discovery', 'jwks'] as const) {
    t.equal(engine.decide(facts({ operation, headerScenarios: ['everywhere'] })).latencyMs, 5, operation)
  }
})

t.test('without an operations list, an error applies only where its surface can render it', async (t) => {
  const { engine } = buildEngine([
    { name: 'api-down', description: 'x', effects: { error: { camara: { status: 503, code: 'UNAVAILABLE' } } } },
    { name: 'token-down', description: 'x', effects: { error: { oauth: { error: 'temporarily_unavailable' } } } },
    { name: 'deny', description: 'x', effects: { error: { authorize: { error: 'access_denied' } } } }
  ])
  const appliedOn = (name: string): string[] =>
    (['authorize', 'operator', 'token', 'verify', 'share', 'discovery', 'jwks'] as const).filter(
      (operation) => engine.decide(facts({ operation, headerScenarios: [name] })).error !== undefined
    )
  t.strictSame(appliedOn('api-down'), ['verify', 'share', 'discovery', 'jwks'])
  t.strictSame(appliedOn('token-down'), ['token'])
  t.strictSame(appliedOn('deny'), ['authorize', 'operator'])
})

t.test('clients, subscribers and operators rules need the request to carry a listed value', async (t) => {
  const { engine } = buildEngine([
    latencyScenario('for-client', 1, { clients: ['demo-app', 'other-app'] }),
    latencyScenario('for-subscriber', 10, { subscribers: [MSISDN] }),
    latencyScenario('for-operator', 100, { operators: ['vodafone-es'] })
  ])
  const all = ['for-client', 'for-subscriber', 'for-operator']
  t.equal(engine.decide(facts({ headerScenarios: all })).latencyMs, 11, 'demo-app, the seed subscriber, movistar')
  t.equal(engine.decide(facts({ headerScenarios: all, operatorId: 'vodafone-es' })).latencyMs, 111)
  t.equal(engine.decide(facts({ headerScenarios: all, clientId: 'stranger', msisdn: OTHER_MSISDN })).latencyMs, 0)
  const unknownFacts = engine.decide(
    facts({ headerScenarios: all, clientId: undefined, msisdn: undefined, operatorId: undefined })
  )
  t.equal(unknownFacts.latencyMs, 0, 'a request whose client, subscriber and operator are not known yet matches none')
  t.strictSame(unknownFacts.skipped.map((s) => s.because), ['client', 'subscriber', 'operator'])
})

t.test('all given match rules must accept the request', async (t) => {
  const { engine } = buildEngine([
    latencyScenario('narrow', 7, { operations: ['verify'], clients: ['demo-app'], subscribers: [MSISDN] })
  ])
  t.equal(engine.decide(facts({ headerScenarios: ['narrow'] })).latencyMs, 7)
  t.equal(engine.decide(facts({ headerScenarios: ['narrow'], operation: 'share' })).latencyMs, 0)
  t.equal(engine.decide(facts({ headerScenarios: ['narrow'], clientId: 'x' })).latencyMs, 0)
  t.equal(engine.decide(facts({ headerScenarios: ['narrow'], msisdn: OTHER_MSISDN })).latencyMs, 0)
})

t.test('firstN applies to the first N matching requests only', async (t) => {
  t.strictSame(appliedRequests(latencyScenario('first-3', 1, { firstN: 3 }), 8), [1, 2, 3])
})

t.test('everyNth applies to the Nth, 2Nth, ... matching request', async (t) => {
  t.strictSame(appliedRequests(latencyScenario('every-3rd', 1, { everyNth: 3 }), 10), [3, 6, 9])
})

t.test('afterN lets N matching requests through, then applies', async (t) => {
  t.strictSame(appliedRequests(latencyScenario('after-2', 1, { afterN: 2 }), 5), [3, 4, 5])
  t.strictSame(appliedRequests(latencyScenario('after-0', 1, { afterN: 0 }), 2), [1, 2])
})

t.test('counter rules combine', async (t) => {
  t.strictSame(appliedRequests(latencyScenario('window', 1, { afterN: 2, firstN: 6, everyNth: 2 }), 10), [4, 6])
})

t.test('counters count only requests that pass the other rules', async (t) => {
  const { engine } = buildEngine([
    latencyScenario('second-verify', 1, { operations: ['verify'], clients: ['demo-app'], everyNth: 2 })
  ])
  const sequence = [
    facts({ operation: 'token' }), // other operation: not counted
    facts({}), // 1st
    facts({ clientId: 'other' }), // other client: not counted
    facts({ operation: 'share' }), // not counted
    facts({}), // 2nd: applies
    facts({}), // 3rd
    facts({}) // 4th: applies
  ]
  const applied = sequence.map((f) => engine.decide({ ...f, headerScenarios: ['second-verify'] }).applied.length)
  t.strictSame(applied, [0, 0, 0, 0, 1, 0, 1])
})

t.test('counters are per scenario', async (t) => {
  const { engine } = buildEngine([latencyScenario('a', 1, { firstN: 1 }), latencyScenario('b', 10, { firstN: 1 })])
  t.equal(engine.decide(facts({ headerScenarios: ['a'] })).latencyMs, 1)
  t.equal(engine.decide(facts({ headerScenarios: ['b'] })).latencyMs, 10, 'b has not been counted by a')
  t.equal(engine.decide(facts({ headerScenarios: ['a', 'b'] })).latencyMs, 0)
})

t.test('a scenario selected by both header and flow is counted once per request', async (t) => {
  const { engine } = buildEngine([latencyScenario('first-2', 1, { firstN: 2 })])
  const both = facts({ headerScenarios: ['first-2'], flowScenarios: ['first-2'] })
  t.strictSame(engine.decide(both).applied, [{ name: 'first-2', source: 'header' }])
  t.strictSame(engine.decide(both).applied, [{ name: 'first-2', source: 'header' }])
  t.strictSame(engine.decide(both).applied, [], 'the third request: two counted, not four')
})

t.test('a scenario the header selection rejected is not evaluated again for the flow selection', async (t) => {
  const { engine } = buildEngine([latencyScenario('after-1', 1, { afterN: 1 })])
  const both = facts({ headerScenarios: ['after-1'], flowScenarios: ['after-1'] })
  const first = engine.decide(both)
  t.strictSame(first.applied, [], 'the first request is let through, not counted twice')
  t.strictSame(first.skipped, [{ name: 'after-1', source: 'header', because: 'count' }])
  t.strictSame(engine.decide(both).applied, [{ name: 'after-1', source: 'header' }])
})

t.test('probability is reproducible with the same seed and different with another', async (t) => {
  const flaky = latencyScenario('coin', 1, { probability: 0.5 })
  const a = appliedRequests(flaky, 200, 42)
  t.strictSame(appliedRequests(flaky, 200, 42), a, 'same seed, same requests')
  t.not(appliedRequests(flaky, 200, 7).join(','), a.join(','), 'another seed')
  t.ok(a.length > 80 && a.length < 120, `${a.length} of 200 at p = 0.5`)
})

t.test('probability applies to about that share of requests', async (t) => {
  const hits = appliedRequests(latencyScenario('rare', 1, { probability: 0.05 }), 4000, 3).length
  t.ok(hits > 140 && hits < 260, `${hits} of 4000 at p = 0.05`)
  t.strictSame(appliedRequests(latencyScenario('never', 1, { probability: 0 }), 50), [])
  t.equal(appliedRequests(latencyScenario('always', 1, { probability: 1 }), 50).length, 50)
})

t.test('requests a scenario cannot match draw nothing, so they do not shift the seeded outcomes', async (t) => {
  const flaky = latencyScenario('coin', 1, { operations: ['verify'], probability: 0.5 })
  const plain = buildEngine([flaky]).engine
  const interleaved = buildEngine([flaky]).engine
  const outcomes: number[][] = [[], []]
  for (let i = 0; i < 100; i++) {
    outcomes[0]!.push(plain.decide(facts({ headerScenarios: ['coin'] })).latencyMs)
    interleaved.decide(facts({ operation: 'token', headerScenarios: ['coin'] }))
    interleaved.decide(facts({}))
    outcomes[1]!.push(interleaved.decide(facts({ headerScenarios: ['coin'] })).latencyMs)
  }
  t.strictSame(outcomes[1], outcomes[0])
})

t.test('a probability miss is reported as skipped for header and flow selections', async (t) => {
  const { engine } = buildEngine([latencyScenario('never', 1, { probability: 0 })])
  t.strictSame(engine.decide(facts({ flowScenarios: ['never'] })).skipped, [
    { name: 'never', source: 'flow', because: 'probability' }
  ])
})

t.test('latency: fixed is exact, uniform stays in range, lognormal is seeded', async (t) => {
  const { engine } = buildEngine([
    { name: 'uniform', description: 'x', effects: { latency: { minMs: 100, maxMs: 200 } } }
  ])
  t.equal(engine.decide(facts({ headerScenarios: ['slow-operator'], operation: 'operator' })).latencyMs, 2000)
  for (let i = 0; i < 200; i++) {
    const { latencyMs } = engine.decide(facts({ headerScenarios: ['uniform'] }))
    if (latencyMs < 100 || latencyMs > 200 || !Number.isInteger(latencyMs)) t.fail(`uniform gave ${latencyMs}`)
  }
  const slow = (seed: number): number[] => {
    const e = buildEngine([], { seed }).engine
    return Array.from(
      { length: 20 },
      () => e.decide(facts({ operation: 'discovery', headerScenarios: ['slow-network'] })).latencyMs
    )
  }
  t.strictSame(slow(1), slow(1))
  t.not(slow(1).join(), slow(2).join())
  t.ok(slow(1).every((ms) => Number.isInteger(ms) && ms > 0))
})
