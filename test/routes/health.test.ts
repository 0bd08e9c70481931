import t from 'tap'
import { buildTestApp, ISSUER } from '../helpers/app.js'

t.test('health answers 200 with the issuer and fixture counts once ready', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/_emulator/health' })
  t.equal(res.statusCode, 200)
  t.strictSame(res.json(), { status: 'ok', issuer: ISSUER, operators: 2, clients: 3, subscribers: 7 })
})
