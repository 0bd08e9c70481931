// --no-user-scenarios: for shared demos, the scenarios a caller picks (x-emulator-scenario,
// emulator_scenario or konera_context scenario: at authorize) are ignored; the control API and
// fixtures still select them.
import t from 'tap'
import { accessTokenFor, activate, buildScenarioApp, SEED_KONERA, verified, verify } from './support.js'

t.test('with --no-user-scenarios the header and the authorize parameters select nothing', async (t) => {
  const { app } = await buildScenarioApp(t, { userScenarios: false })
  const token = await accessTokenFor(app)
  t.strictSame(
    (await verify(app, token, { scenarios: 'verify-always-false' })).json(),
    verified(true),
    'header ignored'
  )
  t.strictSame((await verify(app, token, { scenarios: 'no-such-scenario' })).json(), verified(true), 'not even checked')
  const flow = await accessTokenFor(app, { extraQuery: { emulator_scenario: 'verify-always-false' } })
  t.strictSame((await verify(app, flow)).json(), verified(true), 'emulator_scenario ignored')
  const konera = await accessTokenFor(app, { konera: `${SEED_KONERA},scenario:verify-always-false` })
  t.strictSame((await verify(app, konera)).json(), verified(true), 'konera_context scenario: ignored')
  await activate(app, 'verify-always-false', { remaining: 1 })
  t.strictSame((await verify(app, token)).json(), verified(false), 'the control API still selects')
})

t.test('by default the caller picks scenarios', async (t) => {
  const { app } = await buildScenarioApp(t)
  const token = await accessTokenFor(app)
  t.strictSame((await verify(app, token, { scenarios: 'verify-always-false' })).json(), verified(false))
  const flow = await accessTokenFor(app, { extraQuery: { emulator_scenario: 'verify-always-false' } })
  t.strictSame((await verify(app, flow)).json(), verified(false))
})
