// `npm run bench:fuzz`: the fuzz properties of test/fuzz with many more runs (default 20,000 per
// property; --runs N, --seed N to replay a failure). Prints each property's runs and time.
import { parseArgs } from 'node:util'
import fc from 'fast-check'
import { buildTestApp } from '../test/helpers/app.js'
import { clientCredentialsToken } from '../test/helpers/flow.js'
import {
  authorizeProperty,
  controlProperty,
  freshAccessToken,
  numberVerificationProperty,
  operatorProperty,
  tokenProperty
} from '../test/fuzz/properties.js'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20000' }, seed: { type: 'string' } } })
const numRuns = Number(values.runs)
const seed = values.seed === undefined ? undefined : Number(values.seed)

// No tap test here: the app is closed at the end, by hand
const { app } = await buildTestApp({ teardown: () => {} })
const tokens = { valid: await freshAccessToken(app), clientCredentials: await clientCredentialsToken(app) }
const properties: Array<[string, fc.IAsyncPropertyWithHooks<never[]>]> = [
  ['authorize', authorizeProperty(app) as unknown as fc.IAsyncPropertyWithHooks<never[]>],
  ['operator', operatorProperty(app) as unknown as fc.IAsyncPropertyWithHooks<never[]>],
  ['token', tokenProperty(app) as unknown as fc.IAsyncPropertyWithHooks<never[]>],
  ['number-verification', numberVerificationProperty(app, tokens) as unknown as fc.IAsyncPropertyWithHooks<never[]>],
  ['control', controlProperty(app) as unknown as fc.IAsyncPropertyWithHooks<never[]>]
]
let failed = false
for (const [name, property] of properties) {
  const started = performance.now()
  const result = await fc.check(property, { numRuns, ...(seed === undefined ? {} : { seed }) })
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  if (result.failed) {
    failed = true
    process.stdout.write(
      `FAIL ${name} after ${result.numRuns} runs (${seconds} s), seed ${result.seed}, path ` +
        `${String(result.counterexamplePath)}\n${fc.defaultReportMessage(result) ?? ''}\n`
    )
  } else {
    process.stdout.write(`ok   ${name}: ${result.numRuns} runs in ${seconds} s (seed ${result.seed})\n`)
  }
}
await app.close()
process.exit(failed ? 1 : 0)
