// POST /_emulator/reset is a fresh start: runtime scenario definitions go and the seeded generator
// restarts, so the same requests after a reset give the same outcomes as after start.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildScenarioApp, control, SEED_MSISDN, verify } from '../../scenarios/support.js'

const COIN = {
  name: 'coin',
  description: 'verify answers false on half of the calls, drawn from the seeded generator',
  match: { operations: ['verify'], probability: 0.5 },
  effects: { verifiedResult: false }
}

/** Defines the coin at runtime, mints a token and flips the coin `count` times through verify */
async function flips (t: Test, app: FastifyInstance, count: number): Promise<boolean[]> {
  t.equal((await control(app, 'POST', '/scenarios', COIN)).statusCode, 201)
  const minted = await control(app, 'POST', '/tokens', {
    clientId: 'demo-app',
    msisdn: SEED_MSISDN,
    scope: 'number-verification:verify'
  })
  const token = (minted.json() as { access_token: string }).access_token
  const outcomes: boolean[] = []
  for (let i = 0; i < count; i++) {
    const res = await verify(app, token, { scenarios: 'coin' })
    outcomes.push((res.json() as { devicePhoneNumberVerified: boolean }).devicePhoneNumberVerified)
  }
  return outcomes
}

t.test('the same seed and requests after a reset give the same outcomes as after start', async (t) => {
  const { app } = await buildScenarioApp(t, { seed: 7 })
  const afterStart = await flips(t, app, 24)
  t.ok(afterStart.includes(true) && afterStart.includes(false), `both sides come up: ${afterStart.join(' ')}`)
  t.equal((await control(app, 'POST', '/reset')).statusCode, 204)
  t.strictSame(await flips(t, app, 24), afterStart)
})

t.test('a reset removes the scenarios defined at runtime and keeps the catalogue and fixture ones', async (t) => {
  const { app } = await buildScenarioApp(t)
  const names = async (): Promise<string[]> =>
    ((await control(app, 'GET', '/scenarios')).json() as { scenarios: Array<{ name: string }> }).scenarios.map(
      (s) => s.name
    )
  const before = await names()
  t.equal((await control(app, 'POST', '/scenarios', COIN)).statusCode, 201)
  t.strictSame(await names(), [...before, 'coin'])
  t.equal((await control(app, 'POST', '/reset')).statusCode, 204)
  t.strictSame(await names(), before)
  const activation = await control(app, 'POST', '/scenarios/coin/activate')
  t.equal(activation.statusCode, 404)
  t.strictSame(activation.json(), { status: 404, code: 'NOT_FOUND', message: 'unknown scenario "coin"' })
})
