// The emulator on a shared store (--store redis://...): two apps on one Valkey/Redis server act as
// replicas, sharing one signing key as the deployment would give them (--signing-key). A flow
// whose legs land on different replicas completes, single use holds across them, and the store's
// outage is a 503 in each surface's own format that ends by itself when the store is back.
import t, { type Test } from 'tap'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { buildTestApp, ISSUER } from '../helpers/app.js'
import { authorizationCode, exchangeCode, gatewayLeg, operatorLeg, redirectOf, SEED_KONERA, verify, type Tokens } from '../helpers/flow.js'
import { startRedis } from '../helpers/redis.js'

const server = await startRedis(t)
let databases = 0
/** The test apps' clock (test/helpers/app.ts) */
const APP_TIME = Date.UTC(2026, 10, 25, 12, 0, 0)
/** The seed subscriber's device, as the operator sees it on its network */
const DEVICE = { konera: SEED_KONERA }

/** Two replicas on their own database of the server, so each test starts from an empty store */
async function replicas (t: Test): Promise<[Awaited<ReturnType<typeof buildTestApp>>['app'], Awaited<ReturnType<typeof buildTestApp>>['app']]> {
  const store = `${server.url}/${++databases}`
  const [a, b] = await Promise.all([buildTestApp(t, { store }), buildTestApp(t, { store })])
  return [a.app, b.app]
}

t.test('a flow whose legs land on different replicas completes, and verifies on either', async (t) => {
  const [a, b] = await replicas(t)
  const gateway = await gatewayLeg(a, DEVICE)
  const callback = redirectOf(await operatorLeg(b, gateway), 'operator')
  const code = callback.searchParams.get('code')
  t.type(code, 'string', `the operator leg on b finished what authorize on a started: ${callback.toString()}`)
  const exchanged = await exchangeCode(a, code ?? '')
  t.equal(exchanged.statusCode, 200, exchanged.body)
  const tokens = exchanged.json<Tokens>()
  const jwks = await b.inject({ method: 'GET', url: '/camara/api/auth/v1/jwks' })
  const { payload } = await jwtVerify(tokens.id_token ?? '', createLocalJWKSet(jwks.json()), { issuer: ISSUER, audience: 'demo-app', currentDate: new Date(APP_TIME) })
  t.equal(typeof payload.sub, 'string', "b's JWKS verifies a's id_token")
  for (const replica of [a, b]) {
    const res = await verify(replica, tokens.access_token)
    t.equal(res.statusCode, 200, res.body)
    t.equal(res.json<{ devicePhoneNumberVerified: boolean }>().devicePhoneNumberVerified, true)
  }
})

t.test('of ten redemptions of one code spread over two replicas, exactly one succeeds', async (t) => {
  const [a, b] = await replicas(t)
  const code = await authorizationCode(a, DEVICE)
  const answers = await Promise.all(Array.from({ length: 10 }, async (_, i) => await exchangeCode(i % 2 === 0 ? a : b, code)))
  t.strictSame(answers.map((res) => res.statusCode).sort(), [200, 400, 400, 400, 400, 400, 400, 400, 400, 400])
  const refused = answers.find((res) => res.statusCode === 400)
  t.equal(refused?.json<{ error: string }>().error, 'invalid_grant')
})

t.test('while the store is down every surface answers 503 in its own format, then serves again', async (t) => {
  const [a] = await replicas(t)
  const tokens = (await exchangeCode(a, await authorizationCode(a, DEVICE))).json<Tokens>()
  await server.stop({ crash: true })
  t.teardown(async () => { await server.start().catch(() => {}) })

  const token = await exchangeCode(a, 'any-code')
  t.equal(token.statusCode, 503)
  t.strictSame(token.json(), { error: 'temporarily_unavailable', error_description: 'the emulator cannot reach its store (--store); try again shortly' })

  const api = await verify(a, tokens.access_token)
  t.equal(api.statusCode, 503)
  t.strictSame(api.json(), { status: 503, code: 'UNAVAILABLE', message: 'Service Unavailable.' })
  t.match(api.headers['x-emulator-reason'], /^the store at redis:\/\/127\.0\.0\.1:\d+\/\d+ is unavailable: /)

  const page = await gatewayLeg(a, DEVICE)
  t.equal(page.statusCode, 503)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.body, /temporarily_unavailable/)

  const control = await a.inject({ method: 'POST', url: '/_emulator/tokens', payload: { clientId: 'demo-app', msisdn: '+34666666666', scope: 'openid dpv:FraudPreventionAndDetection number-verification:verify' } })
  t.equal(control.statusCode, 503)
  t.strictSame(control.json(), { status: 503, code: 'UNAVAILABLE', message: 'the emulator cannot reach its store (--store); try again shortly' })

  const health = await a.inject({ method: 'GET', url: '/_emulator/health' })
  t.equal(health.statusCode, 503)
  t.match(health.json(), { status: 'unavailable', issuer: ISSUER, reason: /^the store at redis:\/\/127\.0\.0\.1:\d+\/\d+ is unavailable: / })

  await server.start()
  let status = 0
  for (let i = 0; i < 100 && status !== 200; i++) {
    status = (await a.inject({ method: 'GET', url: '/_emulator/health' })).statusCode
    if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.equal(status, 200, 'healthy again without a restart')
  const again = await exchangeCode(a, await authorizationCode(a, DEVICE))
  t.equal(again.statusCode, 200, 'a whole flow works again')
})

t.test('an unreachable store stops start-up with a message naming it', async (t) => {
  await t.rejects(buildTestApp(t, { store: 'redis://127.0.0.1:1' }), {
    name: 'StoreUnavailableError',
    message: /^cannot reach the store at redis:\/\/127\.0\.0\.1:1: /
  })
})
