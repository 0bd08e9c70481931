// The demo's Wi-Fi path: the phone on Wi-Fi obtains an operator token from its operator's
// entitlement server, the sample app's backend runs CIBA with it and calls verify; the result
// page shows the verdict and every hop of the one flow, as for the browser path.
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { postForm, textOf } from './support.js'

const WIFI = '+34600000002'

t.test('a phone on Wi-Fi is verified through an operator token and CIBA, every hop shown', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await postForm(app, '/demo/start', { device: WIFI, claimed: WIFI, hint: 'operator-token' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const text = textOf(res.body)
  t.match(text, 'Number verified')
  t.match(
    text,
    `${WIFI} is the number of this device: its operator confirmed it through the SIM (an operator token), over ` +
      'Wi-Fi, no code needed.'
  )
  t.match(text, 'SIM-based authentication (operator token)', 'the id_token amr explained')
  for (const hop of [
    '/operators/telco-es/operator-token',
    '/camara/api/auth/v1/bc-authorize',
    '/camara/api/auth/v1/token',
    '/camara/api/number-verification/v1/verify'
  ]) {
    t.match(text, hop, `the timeline shows ${hop}`)
  }
  const flows = new Set((await app.emulator.journalEntries()).filter((e) => e.msisdn === WIFI).map((e) => e.flowId))
  t.equal(flows.size, 1, 'one flow')
})

t.test('claiming another number on Wi-Fi: not verified', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await postForm(app, '/demo/start', { device: WIFI, claimed: '+34666666666', hint: 'operator-token' })
  t.match(textOf(res.body), 'Number not verified')
})

t.test('a SIM that cannot: the entitlement server\'s refusal, as the user and the developer read it', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await postForm(app, '/demo/start', {
    device: '+34666666667',
    claimed: '+34666666667',
    hint: 'operator-token'
  })
  const text = textOf(res.body)
  t.match(text, 'The phone got no operator token')
  t.match(text, 'cannot do SIM-based authentication')
})

t.test('the user denies consent: the CIBA refusal', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await postForm(app, '/demo/start', {
    device: WIFI,
    claimed: WIFI,
    hint: 'operator-token',
    scenario: 'ciba-consent-denied'
  })
  t.match(textOf(res.body), 'access_denied')
})

t.test('the operator takes 3 s: the app waits the interval and polls again', async (t) => {
  const waits: number[] = []
  const { app, clock } = await buildTestApp(t, {}, { sleep: async (ms) => { waits.push(ms); clock.advance(ms) } })
  const res = await postForm(app, '/demo/start', {
    device: WIFI,
    claimed: WIFI,
    hint: 'operator-token',
    scenario: 'ciba-slow-operator'
  })
  t.match(textOf(res.body), 'Number verified')
  t.strictSame(waits, [5000], 'one authorization_pending, then the interval')
})

t.test('the Wi-Fi path needs a simulated device', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await postForm(app, '/demo/start', { device: 'browser', claimed: WIFI, hint: 'operator-token' })
  t.equal(res.statusCode, 400)
  t.match(textOf(res.body), 'The Wi-Fi path needs a simulated device')
})

t.test('the dashboard names the new legs and what the world offers for them', async (t) => {
  const { app } = await buildTestApp(t)
  await postForm(app, '/demo/start', { device: WIFI, claimed: WIFI, hint: 'operator-token' })
  const world = textOf((await app.inject({ method: 'GET', url: '/_emulator/ui/sections/world' })).body)
  t.match(world, 'operator tokens (300 s)')
  t.match(world, 'trusted tel: subjects')
  const flowId = (await app.emulator.journalEntries()).find((e) => e.operation === 'operator-token')?.flowId ?? ''
  const flow = textOf(
    (await app.inject({ method: 'GET', url: `/_emulator/ui/sections/flows/${encodeURIComponent(flowId)}` })).body
  )
  t.match(flow, 'Entitlement server (operator token)')
  t.match(flow, 'CIBA bc-authorize')
})
