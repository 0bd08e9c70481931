import t from 'tap'
import { buildTestApp, ISSUER } from '../helpers/app.js'
import { gatewayLeg } from '../helpers/flow.js'

t.test('health answers 200 with the issuer and fixture counts once ready', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/_emulator/health' })
  t.equal(res.statusCode, 200)
  t.strictSame(res.json(), {
    status: 'ok',
    issuer: ISSUER,
    operators: 2,
    clients: 3,
    subscribers: 7,
    capacity: {
      pending: { live: 0, max: 10_000 }, grants: { live: 0, max: 100_000 }, dpopProofs: { live: 0, max: 100_000 }
    }
  })
})

t.test('health reports how full the capped collections are', async (t) => {
  const { app } = await buildTestApp(t, { maxPending: 3 })
  for (let i = 0; i < 2; i++) t.equal((await gatewayLeg(app)).statusCode, 302)
  const res = await app.inject({ method: 'GET', url: '/_emulator/health' })
  t.strictSame(res.json().capacity, {
    pending: { live: 2, max: 3 }, grants: { live: 0, max: 100_000 }, dpopProofs: { live: 0, max: 100_000 }
  })
})
