// Bounded fuzz run of the control API bodies; the long run is `npm run bench:fuzz`.
import fc from 'fast-check'
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { controlProperty } from './properties.js'

t.test(
  'any control API body answers ErrorInfo when refused, never a 5xx, and a refused scenario is not stored',
  async (t) => {
    const { app } = await buildTestApp(t)
    await fc.assert(controlProperty(app), { numRuns: 300 })
    t.pass('300 generated control calls kept every invariant')
  }
)
