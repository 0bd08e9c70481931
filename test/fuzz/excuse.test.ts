// The fuzz properties' excuse for a 5xx (checkServerError) must be exact, or "no unintended 5xx"
// can never fail: only the status a scenario applied to that very request injects is excused.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { REDIRECT_URI } from '../helpers/app.js'
import { verify } from '../helpers/flow.js'
import { buildScenarioApp, TOKEN_URL } from '../scenarios/support.js'
import { checkServerError, freshAccessToken, freshCode, InvariantError } from './properties.js'

/** A verify call with the scenario that answers 500 (internal-error): the app, its token, the answer */
async function injected500 (
  t: Test,
  correlator: string
): Promise<{ app: FastifyInstance, token: string, injected: LightMyRequestResponse }> {
  const { app } = await buildScenarioApp(t)
  const token = await freshAccessToken(app)
  const injected = await verify(app, token, { scenarios: 'internal-error', headers: { 'x-correlator': correlator } })
  t.equal(injected.statusCode, 500)
  return { app, token, injected }
}

/** The same response as another status or headers: an answer the app never gave */
function synthetic (
  res: LightMyRequestResponse,
  change: Partial<Pick<LightMyRequestResponse, 'statusCode' | 'headers'>>
): LightMyRequestResponse {
  return { ...res, ...change }
}

/** Why checkServerError refuses the response: its message without the response it quotes */
function refusal (t: Test, app: FastifyInstance, res: LightMyRequestResponse): string | undefined {
  try {
    checkServerError(app, res)
  } catch (error) {
    t.ok(error instanceof InvariantError, 'an invariant failure, not a crash of the check')
    const message = (error as Error).message
    return message.slice(0, message.indexOf(`: ${res.statusCode} {`))
  }
  t.fail('the 5xx was excused')
  return undefined
}

/** Makes verify crash as a bug would: an unexpected throw inside the core call */
function breakVerify (app: FastifyInstance): void {
  app.emulator.numberVerification.verify = () => { throw new Error('a bug in verify') }
}

t.test('a 503 an activated scenario injected is excused; a 500 in its place is not', async (t) => {
  const { app } = await buildScenarioApp(t)
  const token = await freshAccessToken(app)
  app.emulator.scenarios.activate('operator-unavailable', { remaining: 1 })
  const res = await verify(app, token, { headers: { 'x-correlator': 'excuse-503' } })
  t.equal(res.statusCode, 503)
  t.strictSame(res.json(), { status: 503, code: 'UNAVAILABLE', message: 'Service Unavailable.' })
  t.same(app.emulator.journal.list({ correlator: 'excuse-503' }).map((e) => [e.status, e.scenarios]),
    [[503, ['operator-unavailable']]])
  t.doesNotThrow(() => checkServerError(app, res))
  t.equal(refusal(t, app, synthetic(res, { statusCode: 500 })),
    'unintended 5xx: scenario operator-unavailable injects 503, not 500 (applied: operator-unavailable)')
})

t.test('a real 500 during a request a latency-only scenario touched is not excused', async (t) => {
  // Latency recorded instead of waited
  const { app, sleeps } = await buildScenarioApp(t)
  const token = await freshAccessToken(app)
  app.emulator.scenarios.activate('slow-network')
  breakVerify(app)
  const res = await verify(app, token, { headers: { 'x-correlator': 'crash-under-latency' } })
  t.equal(res.statusCode, 500)
  t.strictSame(res.json(), { status: 500, code: 'INTERNAL', message: 'Server error' })
  t.equal(sleeps.filter((ms) => ms > 0).length, 1, 'slow-network applied its latency to the crashing request')
  const last = app.emulator.journal.list({ limit: 1 })[0]
  t.same([last?.correlator, last?.status, last?.scenarios], ['crash-under-latency', 500, ['slow-network']],
    'the old excuse (the last entry lists a scenario) would have let it through')
  t.equal(refusal(t, app, res),
    'unintended 5xx: no scenario applied to this request injects an error (applied: slow-network)')
})

t.test('a real 500 with no scenario at all is not excused', async (t) => {
  const { app } = await buildScenarioApp(t)
  const token = await freshAccessToken(app)
  breakVerify(app)
  const res = await verify(app, token, { headers: { 'x-correlator': 'plain-crash' } })
  t.equal(res.statusCode, 500)
  t.equal(refusal(t, app, res), 'unintended 5xx: no scenario applied to this request injects an error (applied: none)')
})

t.test("another request's injected 500 excuses nothing: the entry is found by the response's correlator", async (t) => {
  const { app, injected } = await injected500(t, 'injected-500')
  t.doesNotThrow(() => checkServerError(app, injected))
  t.same(app.emulator.journal.list({ limit: 1 })[0]?.scenarios, ['internal-error'],
    'the last entry lists the 500 scenario')
  const other = synthetic(injected, { headers: { ...injected.headers, 'x-correlator': 'crashed' } })
  t.equal(refusal(t, app, other),
    'unintended 5xx: no journal entry has correlator "crashed", so no scenario injected it')
  const anonymous = synthetic(injected, { headers: { 'content-type': 'application/json' } })
  t.equal(refusal(t, app, anonymous), 'unintended 5xx: the response echoes no correlator to find its journal entry by')
})

t.test('a correlator reused by a later request that answered otherwise excuses nothing', async (t) => {
  const { app, token } = await injected500(t, 'reused')
  const later = await verify(app, token, { headers: { 'x-correlator': 'reused' } })
  t.equal(later.statusCode, 200)
  t.equal(refusal(t, app, synthetic(later, { statusCode: 500 })),
    'unintended 5xx: no scenario applied to this request injects an error (applied: none)')
})

t.test("the token endpoint's injected 500 (OAuth server_error) is excused, a 503 in its place is not", async (t) => {
  const { app } = await buildScenarioApp(t)
  const res = await app.inject({
    method: 'POST',
    url: TOKEN_URL,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-emulator-scenario': 'token-server-error',
      'x-correlator': 'token-500'
    },
    payload: new URLSearchParams({
      grant_type: 'authorization_code',
      code: await freshCode(app),
      redirect_uri: REDIRECT_URI,
      client_id: 'demo-app',
      client_secret: 'demo-secret'
    }).toString()
  })
  t.equal(res.statusCode, 500)
  t.strictSame(res.json(), {
    error: 'server_error',
    error_description: 'The authorization server encountered an unexpected condition.'
  })
  t.doesNotThrow(() => checkServerError(app, res))
  t.equal(refusal(t, app, synthetic(res, { statusCode: 503 })),
    'unintended 5xx: scenario token-server-error injects 500, not 503 (applied: token-server-error)')
})
