// Bounded fuzz run of the token endpoint; the long run is `npm run bench:fuzz`.
import fc from 'fast-check'
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { tokenProperty } from './properties.js'

t.test('any token request answers OAuth JSON, never an unintended 5xx, and a refused one stores nothing', async (t) => {
  const { app } = await buildTestApp(t)
  await fc.assert(tokenProperty(app), { numRuns: 300 })
  t.pass('300 generated token requests kept every invariant')
})
