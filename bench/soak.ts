// `npm run soak`: the emulator in this process, whole flows driven from a child process for a set
// time, sampling every 5 s this process's RSS, heap and event-loop delay
// (perf_hooks.monitorEventLoopDelay), the store and the journal. Prints a table.
//   --seconds N   how long to drive flows (default 60)
//   --workers N   concurrent flows (default 16)
//   --ttl N       access token and code lifetime in seconds, so entries expire (default 5)
import { spawn } from 'node:child_process'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { buildApp } from '../src/app.js'
import { defaultConfig } from '../src/config/config.js'
import { ROOT } from './lib/processes.js'
import { MB, round } from './lib/stats.js'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    workers: { type: 'string', default: '16' },
    ttl: { type: 'string', default: '5' }
  }
})
const seconds = Number(values.seconds)
const ttl = Number(values.ttl)

const app = await buildApp(
  { ...defaultConfig, port: 0, seed: 1, accessTokenTtl: ttl, codeTtl: ttl, refreshTokenTtl: ttl },
  { logger: { level: 'warn' } }
)
const url = await app.listen({ port: 0, host: '127.0.0.1' })
app.emulator.urls.setBase(url)

const delay = monitorEventLoopDelay({ resolution: 5 })
delay.enable()
const load = spawn(
  process.execPath,
  ['--import', 'tsx', 'bench/flow-load.ts', url, String(values.workers), String(seconds)],
  { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] }
)
let flows = 0
let final: { flows: number, failures: number, perSecond: number, firstError?: string } | undefined
createInterface({ input: load.stdout }).on('line', (line) => {
  const message = JSON.parse(line) as { flows: number, done?: boolean, failures: number, perSecond: number }
  flows = message.flows
  if (message.done === true) final = message
})
const loadExit = new Promise<number | null>((resolve) => load.once('exit', resolve))

interface Sample {
  s: number
  flows: number
  rssMb: number
  heapMb: number
  eldP50: number
  eldP99: number
  eldMax: number
  stored: number
  journal: number
}
const samples: Sample[] = []
const started = performance.now()
const sample = (): void => {
  const memory = process.memoryUsage()
  const sizes = app.emulator.ctx.store.sizes()
  samples.push({
    s: Math.round((performance.now() - started) / 1000),
    flows,
    rssMb: round(memory.rss / MB),
    heapMb: round(memory.heapUsed / MB),
    eldP50: round(delay.percentile(50) / 1e6, 2),
    eldP99: round(delay.percentile(99) / 1e6, 2),
    eldMax: round(delay.max / 1e6, 2),
    stored: Object.values(sizes).reduce((a, b) => a + b, 0),
    journal: app.emulator.journal.size
  })
  delay.reset()
  process.stderr.write(`[soak] ${JSON.stringify(samples.at(-1))}\n`)
}
sample()
const timer = setInterval(sample, 5000)
const code = await loadExit
clearInterval(timer)
sample()
await app.close()

const keys: Array<keyof Sample> = ['s', 'flows', 'rssMb', 'heapMb', 'eldP50', 'eldP99', 'eldMax', 'stored', 'journal']
const header = ['s', 'flows', 'RSS MB', 'heap MB', 'loop delay p50 ms', 'p99 ms', 'max ms', 'store entries', 'journal']
process.stdout.write(
  `\nSoak: ${seconds} s, ${String(values.workers)} concurrent flows, TTL ${ttl} s, Node ${process.version}\n\n`
)
process.stdout.write(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n`)
for (const s of samples) process.stdout.write(`| ${keys.map((k) => String(s[k])).join(' | ')} |\n`)
process.stdout.write(
  `\n${final?.flows ?? flows} flows (${round(final?.perSecond ?? 0)}/s), ${final?.failures ?? 'unknown'} ` +
    `failures${final?.firstError === undefined ? '' : `, first: ${final.firstError}`}\n`
)
process.exit(code === 0 && final?.failures === 0 ? 0 : 1)
