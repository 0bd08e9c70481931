// The control API's runtime state is capped: live activations (--max-activations) and scenarios
// defined at runtime (--max-runtime-scenarios). A cap reached is 429 QUOTA_EXCEEDED ErrorInfo and
// changes nothing; ending an activation or removing a definition makes room again.
import t from 'tap'
import { buildScenarioApp, control } from '../../scenarios/support.js'

function scenario (name: string): Record<string, unknown> {
  return { name, description: name, match: { operations: ['verify'] }, effects: { latency: { fixedMs: 1 } } }
}

t.test('activations past --max-activations are refused with 429 QUOTA_EXCEEDED until one ends', async (t) => {
  const { app } = await buildScenarioApp(t, { maxActivations: 3 })
  for (let i = 1; i <= 3; i++) {
    t.equal((await control(app, 'POST', '/scenarios/rate-limited/activate', { remaining: 5 })).statusCode, 201)
  }
  const refused = await control(app, 'POST', '/scenarios/hang/activate')
  t.equal(refused.statusCode, 429)
  t.strictSame(refused.json(), {
    status: 429,
    code: 'QUOTA_EXCEEDED',
    message:
      'at most 3 activations can be live at once (--max-activations): end some (DELETE /_emulator/activations) or ' +
        'let them expire'
  })
  t.equal(app.emulator.scenarios.activations().length, 3, 'nothing was activated')
  t.equal((await control(app, 'DELETE', '/activations/activation-2')).statusCode, 204)
  t.equal((await control(app, 'POST', '/scenarios/hang/activate')).statusCode, 201, 'room again')
})

t.test('an expired activation does not count against the cap', async (t) => {
  const { app, clock } = await buildScenarioApp(t, { maxActivations: 1 })
  t.equal((await control(app, 'POST', '/scenarios/hang/activate', { expiresInSeconds: 1 })).statusCode, 201)
  t.equal((await control(app, 'POST', '/scenarios/hang/activate')).statusCode, 429)
  clock.advance(1000)
  t.equal((await control(app, 'POST', '/scenarios/hang/activate')).statusCode, 201)
})

t.test('runtime definitions past --max-runtime-scenarios are refused; replacing one is not adding one', async (t) => {
  const { app } = await buildScenarioApp(t, { maxRuntimeScenarios: 2 })
  const before = app.emulator.scenarios.list().length
  t.equal((await control(app, 'POST', '/scenarios', scenario('one'))).statusCode, 201)
  t.equal((await control(app, 'POST', '/scenarios', scenario('two'))).statusCode, 201)
  t.equal((await control(app, 'POST', '/scenarios', { ...scenario('two'), description: 'replaced' })).statusCode, 201)
  const refused = await control(app, 'POST', '/scenarios', scenario('three'))
  t.equal(refused.statusCode, 429)
  t.strictSame(refused.json(), {
    status: 429,
    code: 'QUOTA_EXCEEDED',
    message:
      'at most 2 scenarios can be defined at runtime (--max-runtime-scenarios): remove one (DELETE ' +
        '/_emulator/scenarios/{name}) or reset'
  })
  t.equal(app.emulator.scenarios.list().length, before + 2, 'the catalogue and fixture scenarios do not count')
  t.equal((await control(app, 'DELETE', '/scenarios/one')).statusCode, 204)
  t.equal((await control(app, 'POST', '/scenarios', scenario('three'))).statusCode, 201, 'room again')
})

t.test('the caps default to 1,000 each', async (t) => {
  const { app } = await buildScenarioApp(t)
  const { scenarios } = app.emulator
  for (let i = 0; i < 1000; i++) scenarios.activate('hang')
  t.throws(() => scenarios.activate('hang'), { name: 'ScenarioRegistryError', kind: 'full' })
  for (let i = 0; i < 1000; i++) {
    scenarios.define({ name: `s${i}`, description: 'd', effects: { verifiedResult: true } })
  }
  t.throws(() => scenarios.define({ name: 'one-more', description: 'd', effects: { verifiedResult: true } }), {
    name: 'ScenarioRegistryError',
    kind: 'full'
  })
})
