import t from 'tap'
import {
  BODY_FAULTS, InjectedError, InjectedFault, newLeg, type Leg, type RedirectTarget
} from '../../src/core/legs.js'
import type { Decision, SkipCause } from '../../src/core/scenarios/engine.js'
import {
  buildEmulator, defaultFixtureDocument, fixturesFrom, recordingSleep, REDIRECT_URI, rejected
} from './support.js'

const REDIRECT: RedirectTarget = { redirectUri: REDIRECT_URI, state: 'xyz' }

/** An emulator whose injected latency is recorded instead of waited, with a fixed 40 ms scenario */
async function buildLegs (fixtures = fixturesFrom(defaultFixtureDocument())) {
  const recorded = recordingSleep()
  const { emulator } = await buildEmulator({ fixtures, sleep: recorded.sleep })
  emulator.scenarios.define({
    name: 'slow-40',
    description: '40 ms on every leg',
    effects: { latency: { fixedMs: 40 } }
  })
  return { emulator, legs: emulator.ctx.legs, waits: recorded.waits }
}

function noEffect (overrides: Partial<Decision> = {}): Decision {
  return { applied: [], latencyMs: 0, unknown: [], skipped: [], ...overrides }
}

t.test('newLeg starts with the requested names, an empty flow and no decision', async (t) => {
  t.strictSame(newLeg(), { requested: [], flow: {} })
  t.strictSame(newLeg(['a', 'b']), { requested: ['a', 'b'], flow: {} })
})

t.test('BODY_FAULTS are the faults that change the body, not the connection', async (t) => {
  t.strictSame([...BODY_FAULTS], ['malformed-json', 'truncated-json', 'slow-body'])
})

t.test('decide', async (t) => {
  t.test('records the decision on the leg and returns it', async (t) => {
    const { legs } = await buildLegs()
    const leg = newLeg(['verify-always-true'])
    const decision = await legs.decide(leg, { operation: 'verify' })
    t.strictSame(decision,
      noEffect({ applied: [{ name: 'verify-always-true', source: 'header' }], verifiedResult: true }))
    t.equal(leg.decision, decision, 'the same object')
  })

  t.test('decides nothing for a leg with no scenario anywhere', async (t) => {
    const { legs } = await buildLegs()
    const leg = newLeg()
    t.strictSame(await legs.decide(leg, { operation: 'token' }), noEffect())
    t.strictSame(leg.decision, noEffect())
  })

  t.test('skips header and flow scenarios that do not fit the operation, and says why', async (t) => {
    const { legs } = await buildLegs()
    const leg = newLeg(['operator-unavailable'])
    const decision = await legs.decide(leg, { operation: 'token', flowScenarios: ['verify-always-true', 'slow-40'] })
    t.strictSame(decision, noEffect({
      applied: [{ name: 'slow-40', source: 'flow' }],
      latencyMs: 40,
      skipped: [
        { name: 'operator-unavailable', source: 'header', because: 'operation' },
        { name: 'verify-always-true', source: 'flow', because: 'operation' }
      ]
    }))
  })

  t.test('matches on the leg\'s flow: client, subscriber, operator and the claimed number', async (t) => {
    const { emulator, legs } = await buildLegs()
    emulator.scenarios.define({
      name: 'seed-only',
      description: 'the seed subscriber of demo-app at telco-es, claiming a +34 number',
      match: { clients: ['demo-app'], subscribers: ['+34666666666'], operators: ['telco-es'], claimedNumber: '^\\+34' },
      effects: { verifiedResult: false }
    })
    const decide = async (flow: Leg['flow'], claimedNumber?: string): Promise<Decision> => {
      const leg: Leg = { ...newLeg(['seed-only']), flow }
      return await legs.decide(leg, { operation: 'verify', ...(claimedNumber === undefined ? {} : { claimedNumber }) })
    }
    const seed = { clientId: 'demo-app', msisdn: '+34666666666', operatorId: 'telco-es' }
    t.strictSame(await decide(seed, '+34666666666'),
      noEffect({ applied: [{ name: 'seed-only', source: 'header' }], verifiedResult: false }))
    const skipped = (because: SkipCause): Decision =>
      noEffect({ skipped: [{ name: 'seed-only', source: 'header', because }] })
    t.strictSame(await decide({ ...seed, clientId: 'demo-app-jwt' }, '+34666666666'), skipped('client'))
    t.strictSame(await decide({ ...seed, msisdn: '+34666666667' }, '+34666666666'), skipped('subscriber'))
    t.strictSame(await decide({ ...seed, operatorId: 'telco-in' }, '+34666666666'), skipped('operator'))
    t.strictSame(await decide(seed, '+919036499174'), skipped('claimed-number'))
    t.strictSame(await decide(seed), skipped('claimed-number'), 'a hashed request claims no number')
    t.strictSame(await decide({}, '+34666666666'), skipped('client'), 'an unknown flow matches no rule that names one')
  })

  t.test('adds the scenarios the fixtures attach to the flow\'s client, subscriber and operator', async (t) => {
    const document = defaultFixtureDocument()
    const client = document.clients.find((c) => c.clientId === 'demo-app')
    if (client === undefined) throw new Error('no demo-app')
    client.scenarios = ['verify-always-false']
    const { legs } = await buildLegs(fixturesFrom(document))
    const leg: Leg = { ...newLeg(), flow: { clientId: 'demo-app' } }
    t.strictSame(await legs.decide(leg, { operation: 'verify' }),
      noEffect({ applied: [{ name: 'verify-always-false', source: 'fixture' }], verifiedResult: false }))
    t.strictSame(
      await legs.decide({ ...newLeg(), flow: { clientId: 'demo-app-jwt' } }, { operation: 'verify' }),
      noEffect()
    )
  })

  t.test('applies control activations', async (t) => {
    const { emulator, legs } = await buildLegs()
    const { id } = emulator.scenarios.activate('slow-40', { remaining: 1 })
    t.strictSame(await legs.decide(newLeg(), { operation: 'share' }),
      noEffect({ applied: [{ name: 'slow-40', source: 'control', activationId: id }], latencyMs: 40 }))
    t.strictSame(await legs.decide(newLeg(), { operation: 'share' }), noEffect(), 'used up')
  })

  t.test('throws InjectedError naming the unknown scenarios, after recording the decision', async (t) => {
    const { legs } = await buildLegs()
    const leg = newLeg(['no-such', 'slow-40'])
    const error = await thrownBy(
      async () => await legs.decide(leg, { operation: 'verify', flowScenarios: ['other-unknown', 'no-such'] })
    )
    if (!(error instanceof InjectedError)) throw error
    t.strictSame(error.problem, { unknown: ['no-such', 'other-unknown'] })
    t.equal(error.redirect, undefined)
    t.equal(error.name, 'InjectedError')
    t.equal(error.message, 'unknown scenarios no-such, other-unknown')
    t.strictSame(leg.decision?.unknown, ['no-such', 'other-unknown'])
    t.strictSame(leg.decision?.applied, [{ name: 'slow-40', source: 'header' }])
  })

  t.test('an unknown name on a browser leg carries the redirect', async (t) => {
    const { legs } = await buildLegs()
    const error = await thrownBy(
      async () => await legs.decide(newLeg(['no-such']), { operation: 'operator', redirect: REDIRECT })
    )
    if (!(error instanceof InjectedError)) throw error
    t.strictSame(error.problem, { unknown: ['no-such'] })
    t.strictSame(error.redirect, REDIRECT)
  })
})

async function thrownBy (fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn()
  } catch (error) {
    return error
  }
  throw new Error('expected an error, got none')
}

t.test('failIfInjected', async (t) => {
  for (const type of ['connection-reset', 'hang', 'empty-reply'] as const) {
    const scenario = type
    t.test(`waits the latency, then throws InjectedFault for ${type}`, async (t) => {
      const { legs, waits } = await buildLegs()
      const decision = await legs.decide(newLeg(['slow-40', scenario]), { operation: 'verify' })
      const error = await rejected(legs.failIfInjected(decision))
      if (!(error instanceof InjectedFault)) throw error
      t.strictSame(error.fault, { scenario, type })
      t.equal(error.name, 'InjectedFault')
      t.equal(error.message, `fault ${type} (scenario ${scenario})`)
      t.strictSame(waits, [40])
    })
  }

  t.test('a hang keeps its afterMs', async (t) => {
    const { emulator, legs, waits } = await buildLegs()
    emulator.scenarios.define({
      name: 'short-hang',
      description: 'hangs 250 ms',
      effects: { fault: { type: 'hang', afterMs: 250 } }
    })
    const error = await rejected(legs.failIfInjected(await legs.decide(newLeg(['short-hang']), { operation: 'share' })))
    if (!(error instanceof InjectedFault)) throw error
    t.strictSame(error.fault, { scenario: 'short-hang', type: 'hang', afterMs: 250 })
    t.strictSame(waits, [], 'no latency, no wait')
  })

  t.test('waits the latency, then throws InjectedError for an error, with the redirect given', async (t) => {
    const { legs, waits } = await buildLegs()
    const decision = await legs.decide(newLeg(['slow-40', 'consent-denied']), { operation: 'operator' })
    const error = await rejected(legs.failIfInjected(decision, REDIRECT))
    if (!(error instanceof InjectedError)) throw error
    t.strictSame(error.problem,
      {
        kind: 'authorize',
        scenario: 'consent-denied',
        error: 'access_denied',
        description: 'The subscriber denied consent.'
      })
    t.strictSame(error.redirect, REDIRECT)
    t.equal(error.message, 'scenario consent-denied')
    t.strictSame(waits, [40])
  })

  t.test('an error without a redirect has none', async (t) => {
    const { legs } = await buildLegs()
    const decision = await legs.decide(newLeg(['operator-unavailable']), { operation: 'verify' })
    const error = await rejected(legs.failIfInjected(decision))
    if (!(error instanceof InjectedError)) throw error
    t.strictSame(error.problem, { kind: 'camara', scenario: 'operator-unavailable', status: 503, code: 'UNAVAILABLE' })
    t.equal(error.redirect, undefined)
  })

  t.test('a connection fault wins over an error decided with it', async (t) => {
    const { legs } = await buildLegs()
    const decision = await legs.decide(newLeg(['operator-unavailable', 'empty-reply']), { operation: 'verify' })
    const error = await rejected(legs.failIfInjected(decision))
    if (!(error instanceof InjectedFault)) throw error
    t.equal(error.fault.type, 'empty-reply')
  })

  t.test('a body fault does not fail the leg, but an error decided with it does', async (t) => {
    const { legs, waits } = await buildLegs()
    for (const scenario of ['malformed-body', 'truncated-body', 'slow-body']) {
      const decision = await legs.decide(newLeg(['slow-40', scenario]), { operation: 'verify' })
      t.equal(await legs.failIfInjected(decision), undefined, scenario)
    }
    t.strictSame(waits, [], 'the latency is left for wait()')
    const withError = await legs.decide(newLeg(['malformed-body', 'internal-error']), { operation: 'share' })
    const error = await rejected(legs.failIfInjected(withError))
    if (!(error instanceof InjectedError)) throw error
    t.equal('scenario' in error.problem ? error.problem.scenario : undefined, 'internal-error')
  })

  t.test('latency alone does not fail the leg, nor wait', async (t) => {
    const { legs, waits } = await buildLegs()
    t.equal(await legs.failIfInjected(await legs.decide(newLeg(['slow-40']), { operation: 'token' })), undefined)
    t.equal(await legs.failIfInjected(noEffect()), undefined)
    t.strictSame(waits, [])
  })
})

t.test('wait sleeps exactly the decided latency, and not at all without one', async (t) => {
  const { legs, waits } = await buildLegs()
  await legs.wait(noEffect({ latencyMs: 1234 }))
  await legs.wait(noEffect())
  await legs.wait(await legs.decide(newLeg(['slow-40', 'slow-40']), { operation: 'token' }))
  t.strictSame(waits, [1234, 40], 'a name given twice applies once')
  await legs.sleep(7)
  t.strictSame(waits, [1234, 40, 7], 'the emulator\'s sleep, exposed for slow bodies')
})

t.test('run', async (t) => {
  t.test('decides, waits the latency and returns the decision', async (t) => {
    const { legs, waits } = await buildLegs()
    const leg = newLeg(['slow-40'])
    const decision = await legs.run(leg, { operation: 'authorize' })
    t.strictSame(decision, noEffect({ applied: [{ name: 'slow-40', source: 'header' }], latencyMs: 40 }))
    t.equal(leg.decision, decision)
    t.strictSame(waits, [40])
  })

  t.test('throws an injected error with the input\'s redirect, after its latency only', async (t) => {
    const { legs, waits } = await buildLegs()
    const leg = newLeg(['slow-40', 'auth-temporarily-unavailable'])
    const error = await rejected(legs.run(leg, { operation: 'authorize', redirect: REDIRECT }))
    if (!(error instanceof InjectedError)) throw error
    t.strictSame(error.problem, {
      kind: 'authorize',
      scenario: 'auth-temporarily-unavailable',
      error: 'temporarily_unavailable',
      description: 'The authorization server is temporarily unable to handle the request.'
    })
    t.strictSame(error.redirect, REDIRECT)
    t.strictSame(waits, [40], 'waited once, not again after the failure')
  })

  t.test('throws for unknown names without waiting', async (t) => {
    const { legs, waits } = await buildLegs()
    const error = await rejected(legs.run(newLeg(['slow-40', 'nope']), { operation: 'authorize', redirect: REDIRECT }))
    if (!(error instanceof InjectedError)) throw error
    t.strictSame(error.problem, { unknown: ['nope'] })
    t.strictSame(error.redirect, REDIRECT)
    t.strictSame(waits, [])
  })
})
