import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, ISSUER, REDIRECT_URI, SCOPE } from '../helpers/app.js'
import { gatewayLeg, operatorLeg, redeemCode, redirectOf, type Fields } from '../helpers/flow.js'
import { HTML_ACCEPT, postForm, textOf } from './support.js'

const TELCO_ES_SIMS = ['+34666666666', '+34666666667', '+34600000002', '+34600000003', '+34600000004', '+34600000005']

/** Gateway authorize for demo-app, then the operator leg as a browser (or another client) asks for it */
async function pickerLeg (app: FastifyInstance, params: Fields = {}, options: { accept?: string } = {}) {
  const gateway = await gatewayLeg(app, { scope: SCOPE, state: 'st', extraQuery: params })
  const res = await operatorLeg(app, gateway, {
    headers: options.accept === undefined ? {} : { accept: options.accept }
  })
  return { res, requestId: redirectOf(gateway, 'gateway').searchParams.get('request_id') ?? '' }
}

function redirectQuery (location: unknown): Record<string, string> {
  const url = new URL(String(location))
  t.equal(url.origin + url.pathname, REDIRECT_URI)
  // Every authorization response names the gateway as its issuer (RFC 9207)
  t.equal(url.searchParams.get('iss'), ISSUER, 'iss')
  url.searchParams.delete('iss')
  return Object.fromEntries(url.searchParams)
}

async function exchange (app: FastifyInstance, code: string): Promise<{ msisdn: string | undefined, amr: string[] }> {
  const token = (await redeemCode(app, code)).access_token
  const record = await app.emulator.ctx.store.get('accessTokens', token)
  return { msisdn: record?.msisdn, amr: record?.amr ?? [] }
}

t.test('a browser the operator cannot place, asking interactively, gets the SIM picker', async (t) => {
  const { app } = await buildTestApp(t)
  const { res, requestId } = await pickerLeg(app, {}, { accept: HTML_ACCEPT })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'text/html; charset=utf-8')
  t.equal(res.headers['cache-control'], 'no-store')
  const text = textOf(res.body)
  t.match(text, 'Which SIM is this browser on? Demo app (client secret) asked Telco ES (emulated) ' +
    'to confirm this device\'s phone number. The operator could not find address 127.0.0.1 on its mobile network')
  t.match(res.body, '<form class="card" method="post" action="/operators/telco-es/sim-picker">')
  t.match(res.body, `<input type="hidden" name="request_id" value="${requestId}">`)
  const offered = [...res.body.matchAll(/name="msisdn" value="([^"]*)"/g)].map((m) => m[1])
  t.strictSame(offered, [...TELCO_ES_SIMS, ''], "every telco-es SIM, then 'none of these'")
  t.match(text, '+34600000002 On WiFi: cannot be network-authenticated, no fallback Wi-Fi · network')
  t.match(text, '+34600000005 No authentication method (barred line) mobile data · no authentication method')

  const [entry] = app.emulator.journal.list({ operation: 'operator' })
  t.match(entry, {
    operation: 'operator',
    method: 'GET',
    path: '/operators/telco-es/authorize',
    status: 200,
    clientId: 'demo-app',
    operatorId: 'telco-es',
    reason: 'the operator cannot place the device: SIM picker shown'
  })
  t.equal(entry?.flowId, app.emulator.journal.list({ operation: 'authorize' })[0]?.flowId,
    'the page belongs to the flow')
})

t.test('everywhere else the protocol errors stay as they are', async (t) => {
  const { app } = await buildTestApp(t)
  const unplaced = 'Telco ES (emulated) cannot identify the device: ' +
    'address 127.0.0.1 is not a subscriber on its mobile network'
  const cases: Array<{
    name: string, params?: Record<string, string>, accept?: string, error: string, description: string
  }> = [
    { name: 'not a browser (no Accept: text/html)', error: 'access_denied', description: unplaced },
    { name: 'a client that accepts anything', accept: '*/*', error: 'access_denied', description: unplaced },
    {
      name: 'prompt=none',
      params: { prompt: 'none' },
      accept: HTML_ACCEPT,
      error: 'login_required',
      description: unplaced
    },
    {
      name: 'a device the operator places but cannot authenticate (on Wi-Fi)',
      params: { konera_context: 'ipv4:81.40.12.34' },
      accept: HTML_ACCEPT,
      error: 'access_denied',
      description: 'Telco ES (emulated) cannot authenticate +34600000002: ' +
        'the device is on wifi, not mobile data and no fallback method'
    },
    {
      name: 'an operator without simPicker',
      params: { konera_context: 'ipv4:49.36.99.99' },
      accept: HTML_ACCEPT,
      error: 'access_denied',
      description: 'Telco IN (emulated) cannot identify the device: ' +
        'address 49.36.99.99, 127.0.0.1 is not a subscriber on its mobile network'
    }
  ]
  for (const { name, params, accept, error, description } of cases) {
    t.test(name, async (t) => {
      const { res } = await pickerLeg(app, params, { accept })
      t.equal(res.statusCode, 302)
      t.strictSame(redirectQuery(res.headers.location), { error, error_description: description, state: 'st' })
    })
  }

  t.test('a device the network identifies gets its code at once', async (t) => {
    const { res } = await pickerLeg(app, { konera_context: 'ipv4:142.115.147.143' }, { accept: HTML_ACCEPT })
    t.equal(res.statusCode, 302)
    t.match(redirectQuery(res.headers.location), { code: /.+/, state: 'st' })
  })
})

t.test('POST /operators/{id}/sim-picker completes the operator leg with the chosen SIM', async (t) => {
  const { app } = await buildTestApp(t)
  const choose = async (msisdn: string, params: Record<string, string> = {}) => {
    const { requestId } = await pickerLeg(app, params, { accept: HTML_ACCEPT })
    const res = await postForm(app, '/operators/telco-es/sim-picker', { request_id: requestId, msisdn })
    return { res, requestId }
  }

  t.test('a SIM on mobile data with network authentication: a network authentication', async (t) => {
    const { res } = await choose('+34666666667')
    t.equal(res.statusCode, 302)
    const query = redirectQuery(res.headers.location)
    t.strictSame(Object.keys(query), ['code', 'state'])
    t.strictSame(await exchange(app, query.code as string), { msisdn: '+34666666667', amr: ['nba', 'mnba'] })
    const [entry] = app.emulator.journal.list({ operation: 'operator' }).filter((e) => e.method === 'POST')
    t.match(entry, {
      path: '/operators/telco-es/sim-picker',
      status: 302,
      msisdn: '+34666666667',
      clientId: 'demo-app',
      operatorId: 'telco-es'
    })
  })

  t.test('a SIM with only SMS OTP: the interactive fallback', async (t) => {
    const { res } = await choose('+34600000003')
    t.strictSame(
      await exchange(app, redirectQuery(res.headers.location).code as string),
      { msisdn: '+34600000003', amr: ['sms', 'otp'] }
    )
  })

  t.test('a SIM on Wi-Fi without fallback: access_denied, as its fixture says', async (t) => {
    const { res } = await choose('+34600000002')
    t.strictSame(redirectQuery(res.headers.location), {
      error: 'access_denied',
      error_description: 'Telco ES (emulated) cannot authenticate +34600000002: ' +
        'the device is on wifi, not mobile data and no fallback method',
      state: 'st'
    })
  })

  t.test('none of these: access_denied', async (t) => {
    const { res } = await choose('')
    t.strictSame(redirectQuery(res.headers.location), {
      error: 'access_denied',
      error_description: 'Telco ES (emulated) cannot identify the device: ' +
        'the browser is on none of its SIMs (simulated operator network)',
      state: 'st'
    })
  })

  t.test("another operator's SIM: access_denied", async (t) => {
    const { res } = await choose('+919036499174')
    t.strictSame(redirectQuery(res.headers.location), {
      error: 'access_denied',
      error_description: 'Telco ES (emulated) has no SIM +919036499174 (simulated operator network)',
      state: 'st'
    })
  })

  t.test('flow scenarios apply when the choice completes the leg', async (t) => {
    const { res } = await choose('+34666666666', { emulator_scenario: 'consent-denied' })
    t.strictSame(redirectQuery(res.headers.location), {
      error: 'access_denied', error_description: 'The subscriber denied consent.', state: 'st'
    })
  })

  t.test('single use: the same request cannot be completed twice, nor reopened', async (t) => {
    const { res, requestId } = await choose('+34666666666')
    t.equal(res.statusCode, 302)
    const again = await postForm(app, '/operators/telco-es/sim-picker', {
      request_id: requestId, msisdn: '+34666666666'
    })
    t.equal(again.statusCode, 400)
    t.match(textOf(again.body), 'this authorization request is unknown, expired or already completed')
    const reopen = await app.inject({
      method: 'GET', url: `/operators/telco-es/authorize?request_id=${requestId}`, headers: { accept: HTML_ACCEPT }
    })
    t.equal(reopen.statusCode, 400)
  })

  t.test('a request the picker was not offered for cannot be completed by it', async (t) => {
    const gateway = await gatewayLeg(app, { scope: SCOPE, state: 'st' })
    const requestId = redirectOf(gateway, 'gateway').searchParams.get('request_id') ?? ''
    const res = await postForm(app, '/operators/telco-es/sim-picker', { request_id: requestId, msisdn: '+34666666666' })
    t.equal(res.statusCode, 400)
    t.match(textOf(res.body), 'Error: invalid_request no SIM choice was offered for this authorization request')
  })

  t.test('a missing or foreign request_id is a page, never a redirect', async (t) => {
    const missing = await postForm(app, '/operators/telco-es/sim-picker', { msisdn: '+34666666666' })
    t.equal(missing.statusCode, 400)
    t.match(textOf(missing.body), 'request_id is required')
    const { requestId } = await pickerLeg(app, {}, { accept: HTML_ACCEPT })
    const foreign = await postForm(app, '/operators/telco-in/sim-picker', {
      request_id: requestId, msisdn: '+919036499174'
    })
    t.equal(foreign.statusCode, 400)
    t.match(textOf(foreign.body), 'this authorization request was routed to operator "telco-es", not "telco-in"')
  })
})

t.test('fixture text on the picker page is escaped', async (t) => {
  const { app } = await buildTestApp(t)
  app.emulator.upsertSubscriber({
    msisdn: '+34611111111',
    operator: 'telco-es',
    name: '<img src=x onerror=alert(1)>',
    ipv4: [],
    ipv6: [],
    connection: 'mobile-data',
    authMethods: ['network']
  })
  const { res } = await pickerLeg(app, {}, { accept: HTML_ACCEPT })
  t.equal(res.statusCode, 200)
  t.notMatch(res.body, '<img src=x')
  t.match(res.body, '&lt;img src=x onerror=alert(1)&gt;')
})
