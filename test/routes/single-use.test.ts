// Single use under load, through HTTP: N parallel uses of one code, refresh token, request_id or
// camara-strict access token give exactly one success, with a latency scenario applying to every
// request (the sleep really waits, so the requests interleave while they are in the core), and a
// replay still revokes what the winner was issued. An injected error leaves the credential usable.
import t from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { buildTestApp } from '../helpers/app.js'
import {
  authorizationCode, codeForm, gatewayLeg, operatorLeg, redirectOf, SEED_KONERA, tokenRequest, verify, type Tokens
} from '../helpers/flow.js'

const PARALLEL = 10
const SLOW = { 'x-emulator-scenario': 'slow-network' }
// The injected latency really passes (a few ms), so parallel requests overlap inside the core
const interleavingSleep = async (): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, 5)) }

function statuses (answers: LightMyRequestResponse[]): number[] {
  return answers.map((res) => res.statusCode).sort((a, b) => a - b)
}

async function parallel (run: () => Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse[]> {
  return await Promise.all(Array.from({ length: PARALLEL }, run))
}

for (const latency of [true, false]) {
  const headers = latency ? SLOW : {}
  const label = latency ? 'with a latency scenario' : 'without scenarios'

  t.test(
    `${PARALLEL} parallel redemptions of one code: one success, the rest replays that revoke it (${label})`,
    async (t) => {
      const { app } = await buildTestApp(t, {}, { sleep: interleavingSleep })
      const code = await authorizationCode(app, { konera: SEED_KONERA })
      const answers = await parallel(async () => await tokenRequest(app, codeForm(code), headers))
      t.strictSame(statuses(answers), [200, ...Array<number>(PARALLEL - 1).fill(400)])
      for (const res of answers.filter((a) => a.statusCode === 400)) {
        t.strictSame(res.json(), {
          error: 'invalid_grant',
          error_description: 'authorization code was already used; the tokens issued with it are revoked'
        })
      }
      const winner = answers.find((a) => a.statusCode === 200)?.json<Tokens>() as Tokens
      const call = await verify(app, winner.access_token)
      t.equal(call.statusCode, 401, 'the token the winner got is revoked by the replays')
      t.equal(call.headers['x-emulator-reason'], 'access token was revoked (authorization code replayed)')
    }
  )

  t.test(`${PARALLEL} parallel uses of one refresh token: one success (${label})`, async (t) => {
    const { app } = await buildTestApp(t, {}, { sleep: interleavingSleep })
    const code = await authorizationCode(app, {
      konera: SEED_KONERA,
      scope: 'openid dpv:FraudPreventionAndDetection number-verification:verify offline_access'
    })
    const first = (await tokenRequest(app, codeForm(code))).json<Tokens>()
    const form = {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      client_id: 'demo-app',
      client_secret: 'demo-secret'
    }
    const answers = await parallel(async () => await tokenRequest(app, form, headers))
    t.strictSame(statuses(answers), [200, ...Array<number>(PARALLEL - 1).fill(400)])
  })

  t.test(`${PARALLEL} parallel operator legs of one request_id: one code (${label})`, async (t) => {
    const { app } = await buildTestApp(t, {}, { sleep: interleavingSleep })
    const gateway = await gatewayLeg(app, { konera: SEED_KONERA })
    const answers = await parallel(async () => await operatorLeg(app, gateway, { headers }))
    const codes = answers.filter(
      (res) => res.statusCode === 302 && redirectOf(res, 'operator').searchParams.has('code')
    )
    t.equal(codes.length, 1, 'one redirect with a code')
    t.strictSame(
      statuses(answers.filter((res) => !codes.includes(res))),
      Array<number>(PARALLEL - 1).fill(400),
      'the others get the error page'
    )
  })

  t.test(`${PARALLEL} parallel calls with one camara-strict access token: one answer (${label})`, async (t) => {
    const { app } = await buildTestApp(t, { profile: 'camara-strict' }, { sleep: interleavingSleep })
    const token = (
      await app.emulator.tokens.mint({
        clientId: 'demo-app',
        msisdn: '+34666666666',
        scope: 'dpv:FraudPreventionAndDetection number-verification:verify'
      })
    ).access_token
    const answers = await parallel(async () => await verify(app, token, { headers }))
    t.strictSame(statuses(answers), [200, ...Array<number>(PARALLEL - 1).fill(401)])
  })
}

t.test('an injected token error leaves the code usable: the retry succeeds', async (t) => {
  const { app } = await buildTestApp(t)
  const code = await authorizationCode(app, { konera: SEED_KONERA })
  const failed = await tokenRequest(app, codeForm(code), { 'x-emulator-scenario': 'token-server-error' })
  t.equal(failed.statusCode, 500)
  t.strictSame(failed.json(), {
    error: 'server_error',
    error_description: 'The authorization server encountered an unexpected condition.'
  })
  t.equal((await tokenRequest(app, codeForm(code))).statusCode, 200, 'the code was not spent')
})

t.test('an injected operator error leaves the request pending: the retry gets the code', async (t) => {
  const { app } = await buildTestApp(t)
  const gateway = await gatewayLeg(app, { konera: SEED_KONERA })
  const failed = redirectOf(
    await operatorLeg(app, gateway, { headers: { 'x-emulator-scenario': 'operator-auth-server-error' } }),
    'operator'
  )
  t.equal(failed.searchParams.get('error'), 'server_error')
  const retry = redirectOf(await operatorLeg(app, gateway), 'operator')
  t.type(retry.searchParams.get('code'), 'string', 'the request_id still completes')
})
