// Bounded fuzz run of every Number Verification path family; the long run is `npm run bench:fuzz`.
import fc from 'fast-check'
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { clientCredentialsToken } from '../helpers/flow.js'
import { freshAccessToken, numberVerificationProperty } from './properties.js'

t.test('any call on any path family answers CAMARA ErrorInfo or a valid answer, and stores nothing', async (t) => {
  const { app } = await buildTestApp(t)
  const tokens = { valid: await freshAccessToken(app), clientCredentials: await clientCredentialsToken(app) }
  await fc.assert(numberVerificationProperty(app, tokens), { numRuns: 400 })
  t.pass('400 generated API calls kept every invariant')
})
