// How scenarios are chosen, through HTTP: the precedence of header > flow > control > fixture for
// errors, faults and forced results; a flow-wide choice made at authorize carried through the
// operator, the token and the API calls; fixture selection per subscriber, client and operator;
// unknown names refused in each surface's own format.
import t from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { REDIRECT_URI } from '../helpers/app.js'
import { NV_SCOPES } from '../helpers/flow.js'
import {
  accessTokenFor, activate, assertErrorInfo, buildScenarioApp, codeFor, control, defaultFixtureDocument, define,
  exchangeCode, gatewayAuthorize, INDIA_KONERA, INDIA_MSISDN, journalEntries, JSON_UTF8, NEIGHBOUR_KONERA,
  NEIGHBOUR_MSISDN, operatorAuthorize, redirectError, SEED_KONERA, SEED_MSISDN, share, TOKEN_URL, UNKNOWN_HINT,
  verified, verify, writeFixtureFile
} from './support.js'

type Level = 'header' | 'flow' | 'control' | 'fixture'

/** Selects one scenario per level given (and none at the others), then verifies with the seed device */
async function verifyWithLevels (
  app: FastifyInstance, flowTokens: Map<string, string>, levels: Partial<Record<Level, string>>
): Promise<LightMyRequestResponse> {
  const flow = levels.flow ?? ''
  let token = flowTokens.get(flow)
  if (token === undefined) {
    token = await accessTokenFor(app, flow === '' ? {} : { extraQuery: { emulator_scenario: flow } })
    flowTokens.set(flow, token)
  }
  const seed = defaultFixtureDocument().subscribers.find((s) => s.msisdn === SEED_MSISDN)
  const put = await control(app, 'PUT', `/subscribers/${encodeURIComponent(SEED_MSISDN)}`,
    { ...seed, ...(levels.fixture === undefined ? {} : { scenarios: [levels.fixture] }) })
  if (put.statusCode !== 200) throw new Error(`PUT subscriber answered ${put.statusCode}: ${put.body}`)
  const cleared = await control(app, 'DELETE', '/activations')
  if (cleared.statusCode !== 204) throw new Error(`DELETE activations answered ${cleared.statusCode}`)
  if (levels.control !== undefined) await activate(app, levels.control)
  return await verify(app, token, levels.header === undefined ? {} : { scenarios: levels.header })
}

const ORDER: Level[] = ['header', 'flow', 'control', 'fixture']

t.test('errors: header beats flow beats control beats fixture', async (t) => {
  const { app } = await buildScenarioApp(t)
  const tokens = new Map<string, string>()
  const chosen: Record<Level, string> = {
    header: 'rate-limited',
    flow: 'gateway-timeout',
    control: 'operator-unavailable',
    fixture: 'internal-error'
  }
  const statusOf: Record<Level, number> = { header: 429, flow: 504, control: 503, fixture: 500 }
  for (let top = 0; top < ORDER.length; top++) {
    const present = ORDER.slice(top)
    const winner = present[0] as Level
    t.test(`with ${present.join(' + ')}: the ${winner} scenario answers`, async (t) => {
      const res = await verifyWithLevels(app, tokens,
        Object.fromEntries(present.map((level) => [level, chosen[level]])))
      t.equal(res.statusCode, statusOf[winner])
      t.equal(res.headers['x-emulator-reason'], `scenario ${chosen[winner]}`)
    })
  }
  t.test('with none: the real answer', async (t) => {
    const res = await verifyWithLevels(app, tokens, {})
    t.equal(res.statusCode, 200)
    t.strictSame(res.json(), verified(true))
  })
  t.test('the journal lists every applied scenario, the winner first', async (t) => {
    const entries = await journalEntries(app, { operation: 'verify' })
    t.strictSame(entries[0]?.scenarios, ['rate-limited', 'gateway-timeout', 'operator-unavailable', 'internal-error'])
    t.equal(entries[0]?.reason, 'scenario rate-limited')
  })
})

/** Each adjacent pair of levels, both ways round: the higher level wins whatever its value */
function pairs (): Array<[Level, Level]> {
  return ORDER.slice(0, -1).map((level, i) => [level, ORDER[i + 1] as Level])
}

t.test('forced verify results: the higher level wins, whichever value it forces', async (t) => {
  const { app } = await buildScenarioApp(t)
  const tokens = new Map<string, string>()
  for (const [higher, lower] of pairs()) {
    for (const forced of [true, false]) {
      t.test(`${higher} verify-always-${String(forced)} over ${lower} verify-always-${String(!forced)}`, async (t) => {
        const res = await verifyWithLevels(app, tokens, {
          [higher]: `verify-always-${String(forced)}`,
          [lower]: `verify-always-${String(!forced)}`
        })
        t.equal(res.statusCode, 200)
        t.strictSame(res.json(), verified(forced))
      })
    }
  }
})

t.test('faults: the higher level wins, whichever fault it gives', async (t) => {
  const { app } = await buildScenarioApp(t)
  const tokens = new Map<string, string>()
  const complete = JSON.stringify(verified(true))
  for (const [higher, lower] of pairs()) {
    t.test(`${higher} malformed-body over ${lower} slow-body: the body is not JSON`, async (t) => {
      const res = await verifyWithLevels(app, tokens, { [higher]: 'malformed-body', [lower]: 'slow-body' })
      t.equal(res.statusCode, 200)
      t.throws(() => JSON.parse(res.body), SyntaxError)
      t.equal(res.body, `${complete.slice(0, -1)},"}`)
    })
    t.test(`${higher} slow-body over ${lower} malformed-body: the body arrives whole`, async (t) => {
      const res = await verifyWithLevels(app, tokens, { [higher]: 'slow-body', [lower]: 'malformed-body' })
      t.equal(res.statusCode, 200)
      t.equal(res.body, complete)
      t.equal(res.headers['transfer-encoding'], 'chunked')
    })
  }
})

t.test('a flow-wide choice made at authorize is carried through operator, token, refresh ' +
  'and every API call', async (t) => {
  const { app, sleeps } = await buildScenarioApp(t)
  await define(app, {
    name: 'flow-marker',
    description: 'a 7 ms delay on every leg, to see where the flow goes',
    effects: { latency: { fixedMs: 7 } }
  })

  t.test('emulator_scenario=flow-marker,verify-always-false', async (t) => {
    sleeps.length = 0
    const gateway = await gatewayAuthorize(app, {
      emulator_scenario: 'flow-marker,verify-always-false',
      scope: `${NV_SCOPES} offline_access`
    })
    const operator = await operatorAuthorize(app, gateway)
    const code = redirectError(operator.headers.location as string).code as string
    const tokenRes = await exchangeCode(app, code)
    t.equal(tokenRes.statusCode, 200)
    const { access_token: token, refresh_token: refreshToken } =
      tokenRes.json() as { access_token: string, refresh_token: string }
    t.strictSame((await verify(app, token)).json(), verified(false), 'the forced result rides with the token')
    t.equal((await share(app, token)).statusCode, 200)
    const refreshed = await app.inject({
      method: 'POST',
      url: TOKEN_URL,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: 'demo-app',
        client_secret: 'demo-secret'
      }).toString()
    })
    t.equal(refreshed.statusCode, 200)
    t.strictSame((await verify(app, (refreshed.json() as { access_token: string }).access_token)).json(),
      verified(false), 'and with the refreshed token')
    t.strictSame(sleeps, [7, 7, 7, 7, 7, 7, 7], 'authorize, operator, token, verify, share, refresh, verify')
    const flowId = (await journalEntries(app, { operation: 'authorize' })).at(-1)?.flowId as string
    const flow = await journalEntries(app, { flowId })
    t.strictSame(flow.map((e) => [e.operation, e.scenarios]), [
      ['authorize', ['flow-marker']],
      ['operator', ['flow-marker']],
      ['token', ['flow-marker']],
      ['verify', ['flow-marker', 'verify-always-false']],
      ['share', ['flow-marker']],
      ['token', ['flow-marker']],
      ['verify', ['flow-marker', 'verify-always-false']]
    ])
  })

  t.test('konera_context=ipv4:...,scenario:flow-marker+verify-always-false', async (t) => {
    sleeps.length = 0
    const token = await accessTokenFor(app, { konera: `${SEED_KONERA},scenario:flow-marker+verify-always-false` })
    t.strictSame((await verify(app, token)).json(), verified(false))
    t.strictSame(sleeps, [7, 7, 7, 7])
  })

  t.test('another flow of the same device and client is untouched', async (t) => {
    sleeps.length = 0
    const token = await accessTokenFor(app)
    t.strictSame((await verify(app, token)).json(), verified(true))
    t.strictSame(sleeps, [], 'no leg waits')
  })

  t.test('a header applies to its own request only', async (t) => {
    const token = await accessTokenFor(app)
    sleeps.length = 0
    t.strictSame((await verify(app, token, { scenarios: 'flow-marker' })).json(), verified(true))
    t.strictSame((await verify(app, token)).json(), verified(true))
    t.strictSame(sleeps, [7])
  })
})

t.test('fixture files select scenarios per subscriber, per client and per operator', async (t) => {
  const document = defaultFixtureDocument()
  document.scenarios = [{
    name: 'file-latency',
    description: 'defined in the fixture file',
    match: { operations: ['verify'] },
    effects: { latency: { fixedMs: 123 } }
  }]
  const neighbour = document.subscribers.find((s) => s.msisdn === NEIGHBOUR_MSISDN)
  if (neighbour === undefined) throw new Error('the default fixtures lost the neighbour subscriber')
  neighbour.scenarios = ['file-latency', 'rate-limited']
  const demo = document.clients.find((c) => c.clientId === 'demo-app')
  document.clients.push({
    ...demo,
    clientId: 'qa-app',
    scenarios: ['token-server-error']
  } as typeof document.clients[number])
  const india = document.operators.find((o) => o.id === 'telco-in')
  if (india === undefined) throw new Error('the default fixtures lost telco-in')
  india.scenarios = ['operator-unavailable']
  const file = writeFixtureFile(t, document)
  const { app, sleeps } = await buildScenarioApp(t, { fixtures: [file] })

  t.test('the subscriber named in the file gets its scenarios; its operator neighbour does not', async (t) => {
    const neighbourToken = await accessTokenFor(app, { konera: NEIGHBOUR_KONERA })
    sleeps.length = 0
    assertErrorInfo(t, await verify(app, neighbourToken, { phoneNumber: NEIGHBOUR_MSISDN }), {
      status: 429, code: 'TOO_MANY_REQUESTS', message: 'Rate limit reached.', retryAfter: '30'
    })
    t.strictSame(sleeps, [123], 'the file-defined latency applied too')
    const seedToken = await accessTokenFor(app)
    t.strictSame((await verify(app, seedToken)).json(), verified(true))
  })

  t.test('the operator named in the file fails its subscribers\' API calls; the other operator\'s work', async (t) => {
    const indiaToken = await accessTokenFor(app, { konera: INDIA_KONERA })
    assertErrorInfo(t, await verify(app, indiaToken, { phoneNumber: INDIA_MSISDN }), {
      status: 503, code: 'UNAVAILABLE', message: 'Service Unavailable.'
    })
    assertErrorInfo(t, await share(app, indiaToken), {
      status: 503, code: 'UNAVAILABLE', message: 'Service Unavailable.'
    })
  })

  t.test('the client named in the file fails at the token endpoint; ' +
    'another client with the same device does not', async (t) => {
    const res = await exchangeCode(app, await codeFor(app, { clientId: 'qa-app' }), {}, 'qa-app')
    t.equal(res.statusCode, 500)
    t.strictSame(res.json(), {
      error: 'server_error',
      error_description: 'The authorization server encountered an unexpected condition.'
    })
    t.equal((await exchangeCode(app, await codeFor(app))).statusCode, 200)
  })

  t.test('the control API lists the file-defined scenario with its file', async (t) => {
    const listing = (await control(app, 'GET', '/scenarios')).json() as {
      scenarios: Array<{ name: string, origin: string, file?: string }>
    }
    t.match(listing.scenarios.find((s) => s.name === 'file-latency'), { origin: 'fixture', file })
  })
})

t.test('unknown scenario names are refused in each surface\'s format, and nothing is applied', async (t) => {
  const { app } = await buildScenarioApp(t)
  const token = await accessTokenFor(app)
  const oneUnknown = `unknown scenario "nope": ${UNKNOWN_HINT}`

  t.test('verify (header): 400 INVALID_ARGUMENT naming every unknown name once', async (t) => {
    assertErrorInfo(t, await verify(app, token, { scenarios: 'nope' }), {
      status: 400, code: 'INVALID_ARGUMENT', message: oneUnknown
    })
    assertErrorInfo(t, await verify(app, token, { scenarios: 'nope, rate-limited,also-nope,nope' }), {
      status: 400, code: 'INVALID_ARGUMENT', message: `unknown scenario "nope", "also-nope": ${UNKNOWN_HINT}`
    })
  })

  t.test('share (header): 400 INVALID_ARGUMENT', async (t) => {
    assertErrorInfo(t, await share(app, token, { scenarios: 'nope' }), {
      status: 400, code: 'INVALID_ARGUMENT', message: oneUnknown
    })
  })

  t.test('token (header): 400 invalid_request, and the code stays redeemable', async (t) => {
    const code = await codeFor(app)
    const res = await exchangeCode(app, code, { 'x-emulator-scenario': 'nope' })
    t.equal(res.statusCode, 400)
    t.strictSame(res.json(), { error: 'invalid_request', error_description: oneUnknown })
    t.equal(res.headers['content-type'], JSON_UTF8)
    t.equal((await exchangeCode(app, code)).statusCode, 200)
  })

  t.test('discovery (header): 400 invalid_request', async (t) => {
    const res = await app.inject({
      method: 'GET',
      url: '/camara/api/auth/v1/.well-known/openid-configuration',
      headers: { 'x-emulator-scenario': 'nope' }
    })
    t.equal(res.statusCode, 400)
    t.strictSame(res.json(), { error: 'invalid_request', error_description: oneUnknown })
  })

  const expectedRedirect = {
    target: REDIRECT_URI,
    error: 'invalid_request',
    description: oneUnknown,
    state: 'state-1',
    code: null
  }
  t.test('authorize (flow, emulator_scenario): a redirect with invalid_request and the state', async (t) => {
    const res = await gatewayAuthorize(app, { emulator_scenario: 'nope' })
    t.equal(res.statusCode, 302)
    t.strictSame(redirectError(res.headers.location as string), expectedRedirect)
  })

  t.test('authorize (flow, konera_context scenario:): the same redirect', async (t) => {
    const res = await gatewayAuthorize(app, { konera_context: `${SEED_KONERA},scenario:consent-denied+nope` })
    t.equal(res.statusCode, 302)
    t.strictSame(redirectError(res.headers.location as string), expectedRedirect)
  })

  t.test('authorize and operator legs (header): the same redirect from whichever leg sees it', async (t) => {
    const gateway = await gatewayAuthorize(app, {}, { 'x-emulator-scenario': 'nope' })
    t.strictSame(redirectError(gateway.headers.location as string), expectedRedirect)
    const operator = await operatorAuthorize(app, await gatewayAuthorize(app), { 'x-emulator-scenario': 'nope' })
    t.equal(operator.statusCode, 302)
    t.strictSame(redirectError(operator.headers.location as string), expectedRedirect)
  })

  t.test('the refusals are journaled with their reason', async (t) => {
    const refused = (await journalEntries(app)).filter((entry) => entry.reason === oneUnknown)
    t.strictSame(refused.map((entry) => entry.operation),
      ['verify', 'share', 'token', 'discovery', 'authorize', 'authorize', 'authorize', 'operator'])
    t.ok(refused.every((entry) => entry.scenarios.length === 0), 'nothing was applied')
  })
})
