// Load child of the soak: drives whole flows against a URL and prints one JSON line per second
// ({ flows, failures }) and a final one ({ done: true, ... }).
import { driveFlows } from './lib/flows.js'

const [url, workers = '16', seconds = '60'] = process.argv.slice(2)
if (url === undefined) throw new Error('usage: flow-load.ts URL [workers] [seconds]')
const run = await driveFlows({
  url,
  workers: Number(workers),
  durationMs: Number(seconds) * 1000,
  progress: (flows) => process.stdout.write(JSON.stringify({ flows }) + '\n')
})
process.stdout.write(JSON.stringify({ done: true, ...run }) + '\n')
