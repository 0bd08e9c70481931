// POST /_emulator/tokens as its README documents it: the `scenarios` field rides with the tokens
// like a flow-wide choice, and only the scopes the client is registered for are minted.
import t from 'tap'
import { assertErrorInfo, buildScenarioApp, control, SEED_MSISDN, verified, verify } from '../../scenarios/support.js'

const SCOPE = 'number-verification:verify'

t.test('the documented scenarios field applies to every API call made with the tokens', async (t) => {
  const { app } = await buildScenarioApp(t)
  const res = await control(app, 'POST', '/tokens', {
    clientId: 'demo-app',
    msisdn: SEED_MSISDN,
    scope: SCOPE,
    scenarios: ['verify-always-false']
  })
  t.equal(res.statusCode, 201)
  const token = (res.json() as { access_token: string }).access_token
  t.strictSame((await verify(app, token)).json(), verified(false), 'the seed number, forced false')
  t.strictSame((await verify(app, token)).json(), verified(false), 'and on the next call')
})

t.test('an unknown scenario name is refused and nothing is minted', async (t) => {
  const { app } = await buildScenarioApp(t)
  const res = await control(app, 'POST', '/tokens', {
    clientId: 'demo-app',
    msisdn: SEED_MSISDN,
    scope: SCOPE,
    scenarios: ['hang', 'no-such', 'nor-this']
  })
  assertErrorInfo(t, res, {
    status: 400,
    code: 'INVALID_ARGUMENT',
    message: 'body.scenarios: unknown scenario "no-such", "nor-this"; GET /_emulator/scenarios lists them'
  })
})

t.test('a scope the client is not registered for is refused, as at authorize', async (t) => {
  const { app } = await buildScenarioApp(t)
  const res = await control(app, 'POST', '/tokens', {
    clientId: 'demo-app',
    msisdn: SEED_MSISDN,
    scope: `${SCOPE} quality-on-demand:sessions:create`
  })
  assertErrorInfo(t, res, {
    status: 400,
    code: 'INVALID_ARGUMENT',
    message: 'body.scope: scope not allowed for this client: quality-on-demand:sessions:create (client "demo-app")'
  })
  const purposes = await control(app, 'POST', '/tokens', {
    clientId: 'demo-app',
    scope: `${SCOPE} dpv:FraudPreventionAndDetection dpv:Marketing`
  })
  t.equal(purposes.statusCode, 400)
  const plain = await control(app, 'POST', '/tokens', {
    clientId: 'demo-app',
    msisdn: SEED_MSISDN,
    scope: `openid offline_access ${SCOPE}`
  })
  t.equal(plain.statusCode, 201, 'openid, offline_access and no purpose are fine')
})
