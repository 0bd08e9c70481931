// The control API over the emulator's state: reset (codes, tokens, activations, journal, runtime
// fixture changes), subscribers added, replaced and removed at runtime under the fixture rules,
// and tokens minted for a subscriber that the Number Verification API then accepts or refuses.
import t from 'tap'
import {
  accessTokenFor, activate, assertErrorInfo, buildScenarioApp, codeFor, control, defaultFixtureDocument, exchangeCode,
  journalEntries, JSON_UTF8, SEED_MSISDN, verified, verify
} from '../../scenarios/support.js'

const RUNTIME_MSISDN = '+34611111111'
const RUNTIME_SUBSCRIBER = {
  msisdn: RUNTIME_MSISDN,
  operator: 'telco-es',
  name: 'added at runtime',
  ipv4: ['142.115.200.1'],
  ipv6: [],
  connection: 'mobile-data',
  authMethods: ['network']
}
const path = (msisdn: string): string => `/subscribers/${encodeURIComponent(msisdn)}`

t.test('POST /_emulator/reset forgets codes, tokens, activations and the journal, ' +
  'and restores the fixtures', async (t) => {
  const { app } = await buildScenarioApp(t)
  const token = await accessTokenFor(app)
  const code = await codeFor(app)
  await activate(app, 'rate-limited')
  t.equal((await control(app, 'PUT', path(RUNTIME_MSISDN), RUNTIME_SUBSCRIBER)).statusCode, 201)
  t.equal((await control(app, 'DELETE', path('+34600000005'))).statusCode, 204)
  t.ok((await journalEntries(app)).length > 0)

  const res = await control(app, 'POST', '/reset')
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')

  const refused = await verify(app, token)
  t.equal(refused.statusCode, 401, 'the access token is gone')
  const exchanged = await exchangeCode(app, code)
  t.equal(exchanged.statusCode, 400)
  t.strictSame(exchanged.json(), {
    error: 'invalid_grant',
    error_description: 'authorization code is unknown or expired'
  })
  t.strictSame((await control(app, 'GET', '/scenarios')).json().activations, [])
  const subscribers = (await control(app, 'GET', '/subscribers')).json() as Array<{ msisdn: string }>
  t.strictSame(subscribers.map((s) => s.msisdn), defaultFixtureDocument().subscribers.map((s) => s.msisdn),
    'the file\'s subscribers, no more, no fewer')
  t.strictSame((await journalEntries(app)).map((e) => e.operation), ['verify', 'token'], 'only what happened since')

  const fresh = await accessTokenFor(app)
  t.strictSame((await verify(app, fresh)).json(), verified(true), 'a new flow works, without the old activation')
})

t.test('subscribers at runtime: PUT adds (201) then replaces (200), the flow finds them, ' +
  'DELETE removes (204, then 404)', async (t) => {
  const { app } = await buildScenarioApp(t)

  const added = await control(app, 'PUT', path(RUNTIME_MSISDN), RUNTIME_SUBSCRIBER)
  t.equal(added.statusCode, 201)
  t.strictSame(added.json(), RUNTIME_SUBSCRIBER)
  const listed = (await control(app, 'GET', '/subscribers')).json() as Array<{ msisdn: string }>
  t.strictSame(listed.at(-1), RUNTIME_SUBSCRIBER)
  t.match((await control(app, 'GET', '/fixtures')).json(), {
    subscribers: [{}, {}, {}, {}, {}, {}, {}, RUNTIME_SUBSCRIBER]
  })

  const token = await accessTokenFor(app, { konera: 'ipv4:142.115.200.1' })
  t.strictSame((await verify(app, token, { phoneNumber: RUNTIME_MSISDN })).json(), verified(true),
    'the operator identifies the new device by its address')

  const replaced = await control(app, 'PUT', path(RUNTIME_MSISDN), {
    ...RUNTIME_SUBSCRIBER,
    scenarios: ['verify-always-false']
  })
  t.equal(replaced.statusCode, 200)
  t.strictSame((await verify(app, token, { phoneNumber: RUNTIME_MSISDN })).json(), verified(false),
    'its new fixture scenario applies at once')

  const removed = await control(app, 'DELETE', path(RUNTIME_MSISDN))
  t.equal(removed.statusCode, 204)
  t.equal(removed.body, '')
  assertErrorInfo(t, await control(app, 'DELETE', path(RUNTIME_MSISDN)), {
    status: 404,
    code: 'NOT_FOUND',
    message: `no subscriber ${RUNTIME_MSISDN}`
  })
  const gone = (await control(app, 'GET', '/subscribers')).json() as Array<{ msisdn: string }>
  t.notOk(gone.some((s) => s.msisdn === RUNTIME_MSISDN))
})

t.test('a subscriber that breaks the fixture rules is 400 and changes nothing', async (t) => {
  const { app } = await buildScenarioApp(t)
  const before = (await control(app, 'GET', '/subscribers')).body
  const cases: Array<{
    name: string
    msisdn?: string
    body: Record<string, unknown>
    code: string
    message: string | RegExp
  }> = [
    {
      name: 'an unknown operator',
      body: { ...RUNTIME_SUBSCRIBER, operator: 'telco-xx' },
      code: 'INVALID_FIXTURE',
      message: '$.subscribers[7].operator: unknown operator "telco-xx"; known: telco-es, telco-in'
    },
    {
      name: 'an address another subscriber has',
      body: { ...RUNTIME_SUBSCRIBER, ipv4: ['142.115.147.143'] },
      code: 'INVALID_FIXTURE',
      message: `$.subscribers[7].ipv4[0]: address "142.115.147.143" is already used by ${SEED_MSISDN}`
    },
    {
      name: 'an unknown scenario',
      body: { ...RUNTIME_SUBSCRIBER, scenarios: ['nope'] },
      code: 'INVALID_FIXTURE',
      message: '$.subscribers[7].scenarios[0]: unknown scenario "nope" ' +
        '(not in the catalogue nor defined in $.scenarios)'
    },
    {
      name: 'a body msisdn other than the path\'s',
      body: { ...RUNTIME_SUBSCRIBER, msisdn: '+34611111112' },
      code: 'INVALID_ARGUMENT',
      message: `body msisdn +34611111112 differs from the path ${RUNTIME_MSISDN}`
    },
    { name: 'an unknown connection', body: { ...RUNTIME_SUBSCRIBER, connection: 'carrier-pigeon' }, code: 'INVALID_ARGUMENT', message: /^body\.connection / }
  ]
  for (const row of cases) {
    // Awaited: the check after the loop must see every refused request done
    await t.test(row.name, async (t) => {
      const res = await control(app, 'PUT', path(row.msisdn ?? RUNTIME_MSISDN), row.body)
      t.equal(res.statusCode, 400)
      t.match(res.json(), { status: 400, code: row.code, message: row.message })
      t.equal(res.headers['content-type'], JSON_UTF8)
    })
  }
  await t.test('a path that is not E.164', async (t) => {
    const res = await control(app, 'PUT', '/subscribers/34611111111', RUNTIME_SUBSCRIBER)
    t.equal(res.statusCode, 400)
    t.equal(res.json().code, 'INVALID_ARGUMENT')
  })
  t.equal((await control(app, 'GET', '/subscribers')).body, before, 'the subscribers are as they were')
})

t.test('POST /_emulator/tokens mints tokens the API accepts; sms/otp ones it refuses with 403', async (t) => {
  const { app } = await buildScenarioApp(t)

  t.test('network-authenticated by default: verify answers for the subscriber', async (t) => {
    const res = await control(app, 'POST', '/tokens', {
      clientId: 'demo-app',
      msisdn: SEED_MSISDN,
      scope: 'openid dpv:FraudPreventionAndDetection number-verification:verify'
    })
    t.equal(res.statusCode, 201)
    t.equal(res.headers['cache-control'], 'no-store')
    const minted = res.json() as Record<string, unknown>
    t.match(minted, { token_type: 'Bearer', expires_in: 3600, scope: 'openid dpv:FraudPreventionAndDetection number-verification:verify', access_token: /^\S{43}$/, id_token: /^[\w-]+\.[\w-]+\.[\w-]+$/, flowId: /^\S{12}$/ })
    t.equal(minted.refresh_token, undefined)
    t.strictSame((await verify(app, minted.access_token as string)).json(), verified(true))
    t.strictSame((await verify(app, minted.access_token as string, { phoneNumber: '+34666666667' })).json(),
      verified(false))
    const entries = await journalEntries(app, { flowId: minted.flowId as string })
    t.match(entries, [
      { operation: 'verify', msisdn: SEED_MSISDN, clientId: 'demo-app', status: 200 },
      { operation: 'verify' }
    ], 'API calls with a minted token join its flow')
  })

  t.test('amr sms/otp: 403 NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK', async (t) => {
    const res = await control(app, 'POST', '/tokens', {
      clientId: 'demo-app',
      msisdn: SEED_MSISDN,
      scope: 'number-verification:verify',
      amr: ['sms', 'otp']
    })
    t.equal(res.statusCode, 201)
    const refused = await verify(app, res.json().access_token as string)
    assertErrorInfo(t, refused, {
      status: 403,
      code: 'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK',
      message: 'The subscription must be identified via the mobile network to use this service.'
    })
  })

  t.test('a scope without verify: 403 PERMISSION_DENIED', async (t) => {
    const res = await control(app, 'POST', '/tokens', {
      clientId: 'demo-app',
      msisdn: SEED_MSISDN,
      scope: 'number-verification:device-phone-number:read'
    })
    t.equal(res.statusCode, 201)
    assertErrorInfo(t, await verify(app, res.json().access_token as string), {
      status: 403,
      code: 'PERMISSION_DENIED',
      message: 'Client does not have sufficient permissions to perform this action.'
    })
  })

  t.test('an unknown client or a bad body is 400', async (t) => {
    assertErrorInfo(t, await control(app, 'POST', '/tokens', {
      clientId: 'nope',
      msisdn: SEED_MSISDN,
      scope: 'number-verification:verify'
    }), {
      status: 400, code: 'INVALID_ARGUMENT', message: 'client_id "nope" is not registered'
    })
    const badNumber = await control(app, 'POST', '/tokens', {
      clientId: 'demo-app',
      msisdn: '666666666',
      scope: 'number-verification:verify'
    })
    t.equal(badNumber.statusCode, 400)
    t.equal(badNumber.json().code, 'INVALID_ARGUMENT')
  })
})
