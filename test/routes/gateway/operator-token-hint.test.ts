// Behind --operator-token-login-hint (CAMARA contests it, ICM#232): the authorization code flow
// authenticates a device on Wi-Fi by login_hint=operatortoken:, once; off by default.
import t from 'tap'
import { buildTestApp } from '../../helpers/app.js'
import { authorizeParams, identifiedSubscriber, obtainCode, runAuthorization } from './flow.js'
import { operatorToken, WIFI_MSISDN } from './sim-based.js'

/** The device on Wi-Fi, its browser seen at its Wi-Fi address */
const ON_WIFI = { remoteAddress: '81.40.12.34' }

t.test('with the option, the operator token authenticates the device on Wi-Fi, once', async (t) => {
  const { app } = await buildTestApp(t, { operatorTokenLoginHint: true })
  const token = await operatorToken(app, WIFI_MSISDN, 'demo-app')
  const params = authorizeParams({ prompt: 'none', login_hint: `operatortoken:${token}` })
  const code = await obtainCode(app, params, ON_WIFI)
  t.strictSame(await identifiedSubscriber(app, code), { msisdn: WIFI_MSISDN, amr: ['sc', 'hwk'] })
  const again = await runAuthorization(app, params, ON_WIFI)
  t.equal(again.callback.searchParams.get('error'), 'login_required')
  t.equal(
    again.callback.searchParams.get('error_description'),
    'Telco ES (emulated) cannot authenticate the device: the operator token was already used'
  )
})

t.test('with the option, another app\'s token or an unknown one ends in login_required', async (t) => {
  const { app } = await buildTestApp(t, { operatorTokenLoginHint: true })
  const forOther = await operatorToken(app, WIFI_MSISDN, 'demo-app-jwt')
  const other = await runAuthorization(
    app,
    authorizeParams({ prompt: 'none', login_hint: `operatortoken:${forOther}` }),
    ON_WIFI
  )
  t.equal(
    other.callback.searchParams.get('error_description'),
    'Telco ES (emulated) cannot authenticate the device: the operator token was issued for another app'
  )
  t.ok((await app.emulator.journalEntries()).some((entry) => entry.reason ===
    'Telco ES (emulated) cannot authenticate the device: the operator token was issued for another app ' +
    '("demo-app-jwt")'), 'the journal names the app the token is for')
  const unknown = await runAuthorization(
    app,
    authorizeParams({ prompt: 'none', login_hint: 'operatortoken:nope' }),
    ON_WIFI
  )
  t.equal(unknown.callback.searchParams.get('error'), 'login_required')
})

t.test('without the option (the default), the hint is ignored: a device on Wi-Fi is not authenticated', async (t) => {
  const { app } = await buildTestApp(t)
  const token = await operatorToken(app, WIFI_MSISDN, 'demo-app')
  const { callback } = await runAuthorization(
    app,
    authorizeParams({ prompt: 'none', login_hint: `operatortoken:${token}` }),
    ON_WIFI
  )
  t.equal(callback.searchParams.get('error'), 'login_required')
  t.equal(
    (
      await app.inject({
        method: 'POST',
        url: '/_emulator/operator-tokens',
        payload: { clientId: 'demo-app', msisdn: WIFI_MSISDN }
      })
    ).statusCode,
    201
  )
})
