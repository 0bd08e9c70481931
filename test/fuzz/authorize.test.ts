// Bounded fuzz run of the browser surface (gateway authorize and the operator leg); the long run
// is `npm run bench:fuzz`. The invariants are in properties.ts.
import fc from 'fast-check'
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { authorizeProperty, operatorProperty } from './properties.js'

t.test(
  'no authorization request, however malformed, crashes the gateway, redirects off the registered URIs or stores ' +
    'anything when refused',
  async (t) => {
    const { app } = await buildTestApp(t)
    await fc.assert(authorizeProperty(app), { numRuns: 300 })
    t.pass('300 generated authorization requests kept every invariant')
  }
)

t.test('the operator leg answers any operator id and request_id with a redirect or an error page', async (t) => {
  const { app } = await buildTestApp(t)
  await fc.assert(operatorProperty(app), { numRuns: 200 })
  t.pass('200 generated operator requests kept every invariant')
})
