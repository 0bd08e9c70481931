// `npm run bench`: the emulator measured side by side with its baselines in one run, on this
// machine, against 127.0.0.1 only. Prints a table of ratios and writes the details (--out).
//   --rss-seconds N   how long the memory run drives flows (default 90)
//   --rss-flows N     stop the memory run after N flows (default 1,000,000)
//   --seconds N       length of each throughput measurement (default 8; a /verify round takes 2/5 of it)
//   --verify-procs N  processes per side in the /verify comparison (default 4)
//   --only a,b        run only some sections: start, verify, token, flows, latency, replicas, namespaces, rss,
//                     devices, hostile
//   --out FILE        where the details go (default bench/results.json)
import { cpus, loadavg, totalmem } from 'node:os'
import { rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { Pool } from 'undici'
import {
  accessTokenFor,
  collectCodes,
  driveFlows,
  pool,
  TOKEN_PATH,
  tokenForm,
  VERIFY_BODY,
  VERIFY_PATH
} from './lib/flows.js'
import {
  BENCH_TMP,
  buildIfNeeded,
  ROOT,
  rssOf,
  startRedisServer,
  startBareFastify,
  startFastifyLifecycle,
  startEmulator,
  startEmulatorVariant,
  startOauth2MockServer,
  tempDir,
  type ServerProcess
} from './lib/processes.js'
import { MB, median, peakGrowth, percentile, round, slope } from './lib/stats.js'

/** The memory target's length: RSS is judged after this many flows */
const TARGET_FLOWS = 1_000_000

const { values: flags } = parseArgs({
  options: {
    'rss-seconds': { type: 'string', default: '90' },
    'rss-flows': { type: 'string', default: String(TARGET_FLOWS) },
    seconds: { type: 'string', default: '8' },
    'verify-procs': { type: 'string', default: '4' },
    only: { type: 'string' },
    out: { type: 'string', default: 'bench/results.json' }
  }
})
const SECONDS = Number(flags.seconds)
/** parseArgs filled in the default */
const OUT = flags.out as string
/** The bearer token the framework-only baseline knows (bench/servers/fastify-lifecycle.ts) */
const LIFECYCLE_TOKEN = 'bench-lifecycle-token'

/** /verify: rounds of each process, and seconds of each round */
const VERIFY_ROUNDS = 4
const VERIFY_SECONDS = Math.max(2, Math.round(SECONDS / 2.5))
const CONNECTIONS = 32
const only = flags.only === undefined ? undefined : new Set(flags.only.split(','))
const enabled = (section: string): boolean => only === undefined || only.has(section)

interface Row {
  measure: string
  emulator: string
  baseline: string
  ratio: string
  target: string
  met: boolean | null
}
const rows: Row[] = []
const results: Record<string, unknown> = {}
const log = (text: string): void => { process.stderr.write(`[bench] ${text}\n`) }

function machine (): Record<string, unknown> {
  const cpu = cpus()
  return {
    nproc: cpu.length,
    model: cpu[0]?.model ?? 'unknown',
    node: process.version,
    memoryGb: round(totalmem() / 1024 ** 3, 1),
    platform: `${process.platform} ${process.arch}`,
    loadAverageAtStart: loadavg().map((v) => round(v, 2))
  }
}

async function cannon (options: autocannon.Options): Promise<autocannon.Result> {
  return await new Promise((resolve, reject) => {
    autocannon(
      { connections: CONNECTIONS, pipelining: 1, ...options },
      (error, result) => error !== null && error !== undefined ? reject(error) : resolve(result)
    )
  })
}

function checkClean (name: string, result: autocannon.Result): void {
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(`${name}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`)
  }
}

async function rs256SignsPerSecond (): Promise<number> {
  const { privateKey } = await generateKeyPair('RS256')
  const payload = {
    iss: 'http://127.0.0.1:9091/camara/api/auth/v1',
    sub: 'x'.repeat(43),
    aud: 'demo-app',
    azp: 'demo-app',
    amr: ['nba', 'mnba']
  }
  const sign = async (): Promise<string> => await new SignJWT({ ...payload, iat: 1, exp: 2, auth_time: 1 })
    .setProtectedHeader({ alg: 'RS256', kid: 'k', typ: 'JWT' })
    .sign(privateKey)
  for (let i = 0; i < 200; i++) await sign()
  // One at a time: the formula counts one signature's cost per flow
  let count = 0
  const started = performance.now()
  while (performance.now() - started < 2000) {
    await sign()
    count++
  }
  return count / ((performance.now() - started) / 1000)
}

async function writeKeyFile (): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const file = join(tempDir('bench-key'), 'signing-key.json')
  writeFileSync(file, JSON.stringify(await exportJWK(privateKey)))
  return file
}

async function startSection (keyFile: string): Promise<void> {
  const withKey: number[] = []
  const generated: number[] = []
  for (let i = 0; i < 7; i++) {
    const server = await startEmulator(['--signing-key', keyFile, '--log-level', 'warn'])
    withKey.push(server.readyMs)
    await server.stop()
  }
  for (let i = 0; i < 3; i++) {
    const server = await startEmulator(['--log-level', 'warn'])
    generated.push(server.readyMs)
    await server.stop()
  }
  const med = median(withKey)
  results.start = { withKeyMs: withKey.map((v) => round(v)), generatedKeyMs: generated.map((v) => round(v)) }
  rows.push({
    measure: 'start to healthy, --signing-key (median of 7, spawn -> 200 /_emulator/health)',
    emulator: `${round(med)} ms (max ${round(Math.max(...withKey))})`,
    baseline: '',
    ratio: '',
    target: '<= 300 ms',
    met: med <= 300
  })
  rows.push({
    measure: 'start to healthy, key generated at start (median of 3)',
    emulator: `${round(median(generated))} ms`,
    baseline: '',
    ratio: '',
    target: '(info)',
    met: null
  })
}

/**
 * /verify against the bare route: several processes of each (two identical Node processes differ
 * by up to ~15% here, from where their memory and threads land), short rounds interleaved so a
 * noisy moment of the machine hits both, and medians of all samples compared.
 */
async function verifySection (keyFile: string): Promise<number> {
  const procs = Number(flags['verify-procs'])
  const rounds = VERIFY_ROUNDS
  const seconds = VERIFY_SECONDS
  const bare: ServerProcess[] = []
  const lifecycle: ServerProcess[] = []
  const warn: ServerProcess[] = []
  for (let i = 0; i < procs; i++) {
    bare.push(await startBareFastify())
    lifecycle.push(await startFastifyLifecycle(LIFECYCLE_TOKEN))
    warn.push(await startEmulator(['--signing-key', keyFile, '--log-level', 'warn']))
  }
  const info = await startEmulator(['--signing-key', keyFile, '--log-level', 'info'])
  const tokens = new Map<ServerProcess, string>(lifecycle.map((server) => [server, LIFECYCLE_TOKEN]))
  for (const server of [...warn, info]) tokens.set(server, await accessTokenFor(server.url))
  const options = (server: ServerProcess): autocannon.Options => ({
    url: server.url + VERIFY_PATH,
    method: 'POST',
    headers: { authorization: `Bearer ${tokens.get(server) ?? 'unused'}`, 'content-type': 'application/json' },
    body: VERIFY_BODY
  })
  const request = async (server: ServerProcess): Promise<number> => {
    const result = await cannon({ ...options(server), duration: seconds })
    checkClean(server.name, result)
    return result.requests.average
  }
  const everyServer = [...bare, ...lifecycle, ...warn, info]
  for (const server of everyServer) await cannon({ ...options(server), duration: 2 })
  const samples = new Map<ServerProcess, number[]>(everyServer.map((server) => [server, []]))
  for (let roundNo = 0; roundNo < rounds; roundNo++) {
    for (let i = 0; i < procs; i++) {
      for (const server of [bare[i], lifecycle[i], warn[i]] as ServerProcess[]) {
        samples.get(server)?.push(await request(server))
      }
    }
    samples.get(info)?.push(await request(info))
  }
  await Promise.all(everyServer.map(async (server) => await server.stop()))
  const all = (servers: ServerProcess[]): number[] => servers.flatMap((server) => samples.get(server) ?? [])
  const perProcess = (servers: ServerProcess[]): number[] =>
    servers.map((server) => Math.round(median(samples.get(server) ?? [])))
  const bareRps = median(all(bare))
  const lifecycleRps = median(all(lifecycle))
  const warnRps = median(all(warn))
  const infoRps = median(all([info]))
  results.verify = {
    method: `${procs} processes per side, ${rounds} interleaved rounds of ${seconds} s, medians of all samples`,
    bareRps: all(bare).map((v) => Math.round(v)),
    lifecycleRps: all(lifecycle).map((v) => Math.round(v)),
    warnRps: all(warn).map((v) => Math.round(v)),
    infoRps: all([info]).map((v) => Math.round(v)),
    bareProcessMedians: perProcess(bare),
    warnProcessMedians: perProcess(warn),
    connections: CONNECTIONS,
    seconds
  }
  const spread = (values: number[]): string => `${Math.round(Math.min(...values))}-${Math.round(Math.max(...values))}`
  rows.push({
    measure: '/verify req/s, valid token, --log-level warn vs bare Fastify route ' +
      `(median; samples ${spread(all(warn))} vs ${spread(all(bare))})`,
    emulator: `${Math.round(warnRps)}`,
    baseline: `${Math.round(bareRps)}`,
    ratio: `${round(100 * warnRps / bareRps)}%`,
    target: '>= 75%',
    met: warnRps / bareRps >= 0.75
  })
  rows.push({
    measure: '/verify req/s, valid token, --log-level info (one JSON line per request, through Fastify)',
    emulator: `${Math.round(infoRps)}`,
    baseline: `${Math.round(bareRps)}`,
    ratio: `${round(100 * infoRps / bareRps)}%`,
    target: '(info)',
    met: null
  })
  rows.push({
    measure: '/verify req/s of a Fastify route doing only the framework\'s share (logger at warn, onRequest and ' +
      `onSend hooks, the body schema, the 200 serializer) vs bare (samples ${spread(all(lifecycle))})`,
    emulator: `${Math.round(lifecycleRps)}`,
    baseline: `${Math.round(bareRps)}`,
    ratio: `${round(100 * lifecycleRps / bareRps)}%`,
    target: '(info)',
    met: null
  })
  rows.push({
    measure: '/verify req/s, --log-level warn vs that framework-only route',
    emulator: `${Math.round(warnRps)}`,
    baseline: `${Math.round(lifecycleRps)}`,
    ratio: `${round(100 * warnRps / lifecycleRps)}%`,
    target: '(info)',
    met: null
  })
  return bareRps
}

/**
 * What the remaining performance device alone is worth, on against off in the same program (the
 * built library, not the bundle): the lazy schema compilers on start to healthy. Interleaved,
 * medians. (The lazy per-request logger measured 94.2% of a pino child per request on /verify,
 * no gain, and went.)
 */
async function devicesSection (keyFile: string): Promise<void> {
  const starts = { lazy: [] as number[], eager: [] as number[] }
  for (let i = 0; i < 7; i++) {
    for (const [side, switches] of [['lazy', []], ['eager', ['--eager-schemas']]] as const) {
      const server = await startEmulatorVariant(`devices-${side}-schemas`, keyFile, [...switches])
      starts[side].push(server.readyMs)
      await server.stop()
    }
  }
  const lazyStart = median(starts.lazy)
  const eagerStart = median(starts.eager)
  results.devices = {
    startLazySchemasMs: starts.lazy.map((v) => round(v)),
    startEagerSchemasMs: starts.eager.map((v) => round(v))
  }
  rows.push({
    measure: 'device: lazy schema compilers, start to healthy of dist/app.js (median of 7; off = compiled at start)',
    emulator: `${round(lazyStart)} ms`,
    baseline: `${round(eagerStart)} ms`,
    ratio: `-${round(eagerStart - lazyStart)} ms`,
    target: '(kept if it moves start <= 300 ms)',
    met: null
  })
}

async function tokenSection (keyFile: string): Promise<void> {
  const emulator = await startEmulator(['--signing-key', keyFile, '--log-level', 'warn'])
  const peer = await startOauth2MockServer()
  const amount = Math.max(2000, Math.round(SECONDS * 1500))
  const measure = async (server: ServerProcess, path: string, bodies: string[]): Promise<number> => {
    let next = 0
    const started = performance.now()
    const result = await cannon({
      url: server.url + path,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      amount: bodies.length,
      requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }) }]
    })
    checkClean(server.name, result)
    return result.requests.total / ((performance.now() - started) / 1000)
  }
  const measuredEmulator: number[] = []
  const measuredPeer: number[] = []
  // The peer accepts any code; the emulator needs a fresh one per request
  const peerBodies = [tokenForm('any-code')]
  for (let roundNo = 0; roundNo < 2; roundNo++) {
    const codes = await collectCodes(emulator.url, amount)
    measuredEmulator.push(await measure(emulator, TOKEN_PATH, codes.map(tokenForm)))
    measuredPeer.push(await measure(peer, '/token', Array.from({ length: amount }, () => peerBodies[0] as string)))
  }
  await Promise.all([emulator.stop(), peer.stop()])
  const e = Math.max(...measuredEmulator)
  const p = Math.max(...measuredPeer)
  results.token = { emulatorRps: measuredEmulator, oauth2MockServerRps: measuredPeer, requestsPerRound: amount }
  rows.push({
    measure: 'token req/s, code exchange + RS256 id_token vs oauth2-mock-server /token RS256',
    emulator: `${Math.round(e)}`,
    baseline: `${Math.round(p)}`,
    ratio: `${round(e / p, 2)}x`,
    target: '>= 2x',
    met: e / p >= 2
  })
}

async function flowsSection (keyFile: string, bareRps: number, signsPerSecond: number): Promise<void> {
  const emulator = await startEmulator(['--signing-key', keyFile, '--log-level', 'warn'])
  await driveFlows({ url: emulator.url, workers: CONNECTIONS, durationMs: 2000 })
  const run = await driveFlows({ url: emulator.url, workers: CONNECTIONS, durationMs: SECONDS * 1000 + 4000 })
  await emulator.stop()
  if (run.failures > 0) throw new Error(`flows: ${run.failures} failures, first: ${run.firstError ?? ''}`)
  const hops = 4
  const limit = 1 / (hops / bareRps + 1 / signsPerSecond)
  results.flows = { ...run, hops, bareRps, rs256SignsPerSecond: signsPerSecond, limit }
  rows.push({
    measure: 'full flows/s (authorize -> operator -> token -> verify), ' +
      `limit 1/(${hops}/bare_rps + 1/rs256_signs_per_s)`,
    emulator: `${Math.round(run.perSecond)}`,
    baseline: `${Math.round(limit)}`,
    ratio: `${round(100 * run.perSecond / limit)}%`,
    target: '>= 80%',
    met: run.perSecond / limit >= 0.8
  })
}

/**
 * Open loop at a fixed rate: a request every 1/rate s whatever the answers, latency by hrtime. The
 * sender wakes every millisecond and sends what is due: waking by setImmediate kept one of the two
 * cores busy spinning, which the emulator, its GC threads and the load generator then shared (no
 * scenario: p99 7.1 ms that way, 3.2 ms this way, in one session).
 */
async function fixedRate (
  url: string,
  token: string,
  rate: number,
  seconds: number
): Promise<{ latencies: number[], failures: number }> {
  const client = new Pool(url, { connections: 256, pipelining: 1 })
  const latencies: number[] = []
  let failures = 0
  const total = rate * seconds
  const pending: Array<Promise<void>> = []
  const started = performance.now()
  let sent = 0
  const send = (): void => {
    const t0 = performance.now()
    pending.push(client.request({
      method: 'POST',
      path: VERIFY_PATH,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: VERIFY_BODY
    })
      .then(async (res) => {
        await res.body.dump()
        if (res.statusCode === 200) latencies.push(performance.now() - t0)
        else failures++
      }, () => { failures++ }))
  }
  while (sent < total) {
    const due = Math.min(total, Math.floor((performance.now() - started) * rate / 1000))
    while (sent < due) { send(); sent++ }
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  await Promise.all(pending)
  await client.close()
  return { latencies: latencies.sort((a, b) => a - b), failures }
}

/**
 * Replicas sharing a store: full flows through two emulators on one Valkey/Redis (each flow's legs
 * alternate between them) against one in-memory emulator, interleaved rounds in one run; and what
 * the store adds to one call: /verify latency at a fixed rate, memory against Redis.
 */
async function replicasSection (keyFile: string): Promise<void> {
  const redis = await startRedisServer()
  const args = ['--signing-key', keyFile, '--log-level', 'warn']
  const memory = await startEmulator(args)
  const replicas = [
    await startEmulator([...args, '--store', redis.url]),
    await startEmulator([...args, '--store', redis.url])
  ]
  const urls = replicas.map((replica) => replica.url)
  await driveFlows({ url: memory.url, workers: CONNECTIONS, durationMs: 2000 })
  await driveFlows({ url: urls, workers: CONNECTIONS, durationMs: 2000 })
  const rounds = { memory: [] as number[], replicas: [] as number[] }
  for (let round = 0; round < 2; round++) {
    for (const [name, url] of [['memory', memory.url], ['replicas', urls]] as const) {
      const run = await driveFlows({ url, workers: CONNECTIONS, durationMs: SECONDS * 1000 })
      if (run.failures > 0) {
        throw new Error(`replicas (${name}): ${run.failures} failures, first: ${run.firstError ?? ''}`)
      }
      rounds[name].push(run.perSecond)
    }
  }
  const rate = 500
  const tokens = [await accessTokenFor(memory.url), await accessTokenFor(urls[0] as string)]
  await fixedRate(memory.url, tokens[0] as string, rate, 2)
  await fixedRate(urls[0] as string, tokens[1] as string, rate, 2)
  // Interleaved rounds, medians of each percentile: one hiccup of this machine moves a single p99
  const latencyRounds = 3
  const runs = {
    memory: [] as Array<{ latencies: number[], failures: number }>,
    redis: [] as Array<{ latencies: number[], failures: number }>
  }
  for (let round = 0; round < latencyRounds; round++) {
    runs.memory.push(await fixedRate(memory.url, tokens[0] as string, rate, Math.ceil(SECONDS / 2)))
    runs.redis.push(await fixedRate(urls[0] as string, tokens[1] as string, rate, Math.ceil(SECONDS / 2)))
  }
  const pct = (name: 'memory' | 'redis', q: number): number =>
    median(runs[name].map((run) => percentile(run.latencies, q)))
  const failures = (name: 'memory' | 'redis'): number => runs[name].reduce((sum, run) => sum + run.failures, 0)
  await Promise.all([memory.stop(), ...replicas.map(async (replica) => await replica.stop())])
  await redis.stop()
  const best = (values: number[]): number => Math.max(...values)
  const ratio = best(rounds.replicas) / best(rounds.memory)
  results.replicas = {
    method: `flows: 2 interleaved rounds of ${SECONDS} s, best of each; latency: /verify at ${rate} req/s, ` +
      `${latencyRounds} interleaved rounds of ${Math.ceil(SECONDS / 2)} s, medians`,
    flowsPerSecond: { memory: rounds.memory.map((v) => round(v)), twoReplicas: rounds.replicas.map((v) => round(v)) },
    verifyLatency: {
      memory: { p50: pct('memory', 50), p99: pct('memory', 99), failures: failures('memory') },
      redis: { p50: pct('redis', 50), p99: pct('redis', 99), failures: failures('redis') }
    }
  }
  rows.push({
    measure: 'full flows/s, two replicas on one Redis (legs alternate) vs one in-memory process ' +
      '(best of 2 interleaved rounds)',
    emulator: `${Math.round(best(rounds.replicas))}`,
    baseline: `${Math.round(best(rounds.memory))}`,
    ratio: `${round(100 * ratio)}%`,
    target: '(info)',
    met: null
  })
  rows.push({
    measure: `/verify added by the Redis store at ${rate} req/s: p50 / p99 ` +
      `(Redis - memory; medians of ${latencyRounds} rounds)`,
    emulator: `${round(pct('redis', 50) - pct('memory', 50), 2)} / ` +
      `${round(pct('redis', 99) - pct('memory', 99), 2)} ms`,
    baseline: `memory p50 ${round(pct('memory', 50), 2)}, p99 ${round(pct('memory', 99), 2)} ms`,
    ratio: '',
    target: '(info)',
    met: failures('redis') === 0 ? null : false
  })
}

/**
 * 50 namespaces running flows at once, one worker each, against the same 50 workers in one
 * namespace alone and in the root world: interleaved rounds in one process. Then no cross-talk: every namespace's
 * journal holds its own requests only, and its token is refused by its neighbour.
 */
async function namespacesSection (keyFile: string): Promise<void> {
  const count = 50
  const emulator = await startEmulator([
    '--signing-key', keyFile, '--log-level', 'warn', '--max-namespaces', String(count + 1)
  ])
  const names = Array.from({ length: count }, (_, i) => `ns-${i}`)
  const control = pool(emulator.url, 8)
  const put = async (name: string): Promise<void> => {
    const res = await control.request({ method: 'PUT', path: `/_emulator/namespaces/${name}` })
    await res.body.dump()
    if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`PUT namespace ${name}: ${res.statusCode}`)
  }
  for (const name of [...names, 'alone']) await put(name)
  await driveFlows({ url: emulator.url, workers: count, durationMs: 2000, namespaces: names })
  await driveFlows({ url: emulator.url, workers: count, durationMs: 2000, namespaces: ['alone'] })
  const rounds = { fifty: [] as number[], alone: [] as number[], root: [] as number[] }
  for (let round = 0; round < 2; round++) {
    for (const [name, namespaces] of [['fifty', names], ['alone', ['alone']], ['root', []]] as const) {
      const run = await driveFlows({ url: emulator.url, workers: count, durationMs: SECONDS * 1000, namespaces })
      if (run.failures > 0) {
        throw new Error(`namespaces (${name}): ${run.failures} failures, first: ${run.firstError ?? ''}`)
      }
      rounds[name].push(run.perSecond)
    }
  }
  // No cross-talk: each journal lists only its own namespace's paths; a token works only at home
  let foreignEntries = 0
  for (const name of names) {
    const res = await control.request({ method: 'GET', path: `/ns/${name}/_emulator/journal?limit=1000` })
    const { entries } = await res.body.json() as { entries: Array<{ path: string }> }
    foreignEntries += entries.filter((entry) => !entry.path.startsWith(`/ns/${name}/`)).length
    if (entries.length === 0) throw new Error(`namespaces: ${name}'s journal is empty`)
  }
  const tokenOf0 = await accessTokenFor(emulator.url, '/ns/ns-0')
  const crossed = await control.request({
    method: 'POST',
    path: '/ns/ns-1' + VERIFY_PATH,
    headers: { authorization: `Bearer ${tokenOf0}`, 'content-type': 'application/json' },
    body: VERIFY_BODY
  })
  await crossed.body.dump()
  await control.close()
  await emulator.stop()
  const best = (values: number[]): number => Math.max(...values)
  const ratio = best(rounds.fifty) / best(rounds.alone)
  const isolated = foreignEntries === 0 && crossed.statusCode === 401
  results.namespaces = {
    method: `${count} flow workers, one per namespace, against ${count} in one namespace; ` +
      `2 interleaved rounds of ${SECONDS} s, best of each`,
    flowsPerSecond: {
      fiftyNamespaces: rounds.fifty.map((v) => round(v)),
      oneNamespace: rounds.alone.map((v) => round(v)),
      root: rounds.root.map((v) => round(v))
    },
    crossTalk: { foreignJournalEntries: foreignEntries, neighboursTokenAnswered: crossed.statusCode }
  }
  rows.push({
    measure: `full flows/s, ${count} namespaces at once vs one namespace alone ` +
      `(${count} workers; no cross-talk: journals and tokens checked)`,
    emulator: `${Math.round(best(rounds.fifty))}`,
    baseline: `${Math.round(best(rounds.alone))}`,
    ratio: `${round(100 * ratio)}%`,
    target: '(info)',
    met: isolated ? null : false
  })
  rows.push({
    measure: `full flows/s, one namespace vs the root world (${count} workers): what resolving a namespace costs`,
    emulator: `${Math.round(best(rounds.alone))}`,
    baseline: `${Math.round(best(rounds.root))}`,
    ratio: `${round(100 * best(rounds.alone) / best(rounds.root))}%`,
    target: '(info)',
    met: null
  })
}

async function latencySection (keyFile: string): Promise<void> {
  const emulator = await startEmulator(['--signing-key', keyFile, '--log-level', 'warn'])
  const token = await accessTokenFor(emulator.url)
  const rate = 1000
  await fixedRate(emulator.url, token, rate, 2)
  const baseline = await fixedRate(emulator.url, token, rate, SECONDS)
  const control = async (path: string, body: unknown): Promise<void> => {
    const res = await fetch(emulator.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body)
    })
    if (res.status !== 201) throw new Error(`${path} answered ${res.status}: ${await res.text()}`)
  }
  await control('/_emulator/scenarios', {
    name: 'bench-fixed-50ms',
    description: 'Every verify call takes 50 ms more',
    match: { operations: ['verify'] },
    effects: { latency: { fixedMs: 50 } }
  })
  await control('/_emulator/scenarios/bench-fixed-50ms/activate', {})
  const delayed = await fixedRate(emulator.url, token, rate, SECONDS)
  await emulator.stop()
  const p = (run: { latencies: number[] }, q: number): number => percentile(run.latencies, q)
  const errP50 = p(delayed, 50) - 50
  const errP99 = p(delayed, 99) - 50
  results.latency = {
    rate,
    seconds: SECONDS,
    without: { p50: p(baseline, 50), p99: p(baseline, 99), failures: baseline.failures },
    with50ms: {
      p50: p(delayed, 50),
      p99: p(delayed, 99),
      max: p(delayed, 100),
      failures: delayed.failures,
      count: delayed.latencies.length
    }
  }
  rows.push({
    measure: 'injected 50 ms at 1,000 req/s: p50 error (measured p50 - 50 ms)',
    emulator: `${round(errP50, 2)} ms (p50 ${round(p(delayed, 50), 2)})`,
    baseline: `no scenario: p50 ${round(p(baseline, 50), 2)} ms`,
    ratio: '',
    target: '<= 2 ms',
    met: Math.abs(errP50) <= 2 && delayed.failures === 0
  })
  rows.push({
    measure: 'injected 50 ms at 1,000 req/s: p99 error (measured p99 - 50 ms)',
    emulator: `${round(errP99, 2)} ms (p99 ${round(p(delayed, 99), 2)})`,
    baseline: `no scenario: p99 ${round(p(baseline, 99), 2)} ms`,
    ratio: '',
    target: '<= 10 ms',
    met: Math.abs(errP99) <= 10 && delayed.failures === 0
  })
}

async function rssSection (keyFile: string): Promise<void> {
  const ttl = 2
  const emulator = await startEmulator([
    '--signing-key', keyFile, '--log-level', 'warn', '--access-token-ttl', String(ttl), '--code-ttl', String(ttl)
  ])
  const samples: Array<{ flows: number, seconds: number, rssMb: number }> = []
  const sample = (flows: number, ms: number): void => {
    samples.push({ flows, seconds: round(ms / 1000), rssMb: round(rssOf(emulator.pid) / MB, 1) })
  }
  sample(0, 0)
  let lastSample = 0
  const run = await driveFlows({
    url: emulator.url,
    workers: CONNECTIONS,
    durationMs: Number(flags['rss-seconds']) * 1000,
    maxFlows: Number(flags['rss-flows']),
    progress: (flows, ms) => {
      if (ms - lastSample >= 5000) {
        lastSample = ms
        sample(flows, ms)
        log(`rss: ${flows} flows, ${samples.at(-1)?.rssMb ?? 0} MB`)
      }
    }
  })
  // Let two sweeps (every 10 s) pass over everything the last flows left
  await new Promise((resolve) => setTimeout(resolve, (ttl + 21) * 1000))
  sample(run.flows, run.elapsedMs + (ttl + 21) * 1000)
  const journal = await (await fetch(`${emulator.url}/_emulator/journal?limit=10000`)).json() as {
    capacity: number
    entries: unknown[]
  }
  await emulator.stop()
  if (run.failures > 0) throw new Error(`rss: ${run.failures} failures, first: ${run.firstError ?? ''}`)
  // The samples while driven: not the one before the first flow, nor the one after the pause
  const driven = samples.slice(1, -1)
  const growth = peakGrowth(driven.map((s) => s.rssMb))
  const second = driven.slice(Math.floor(driven.length / 2))
  const mbPer100k = slope(second.map((s) => [s.flows / 100_000, s.rssMb]))
  const peak = Math.max(...samples.map((s) => s.rssMb))
  const after = samples.at(-1)?.rssMb ?? 0
  // Flat: the last quarter's peak at most 2 MB over the second quarter's. At 1M flows those are
  // ~500k flows apart, so a leak of ~4 bytes a flow shows; a shorter run is reported, not judged
  const judged = run.flows >= TARGET_FLOWS
  results.rss = {
    flows: run.flows,
    perSecond: run.perSecond,
    ttlSeconds: ttl,
    samples,
    peakMb: peak,
    peakGrowthMb: growth,
    mbPer100kFlowsSecondHalf: mbPer100k,
    journal: { capacity: journal.capacity, entries: journal.entries.length }
  }
  rows.push({
    measure: `RSS after ${run.flows.toLocaleString('en')} flows (TTL ${ttl} s, sampled every 5 s; ` +
      `last quarter's peak - second quarter's: ${round(growth, 1)} MB)`,
    emulator: `${after} MB`,
    baseline: `peak ${peak} MB`,
    ratio: '',
    target: judged ? '<= 150 MB, flat (growth <= 2 MB)' : '(judged at 1M flows)',
    met: judged ? peak <= 150 && after <= 150 && growth <= 2 : null
  })
  rows.push({
    measure: 'journal entries after the memory run (ring buffer)',
    emulator: `${journal.entries.length}`,
    baseline: `capacity ${journal.capacity}`,
    ratio: '',
    target: 'bounded',
    met: journal.entries.length <= journal.capacity
  })
}

/** Unauthenticated authorizes per hostile variant (the hardening issue's figure) */
const HOSTILE_REQUESTS = 20_000

/**
 * Hostile load: authorizes nobody completes, each trying to make the emulator keep kilobytes. One
 * fresh process per variant; RSS right after the load, and how many requests the store kept.
 */
async function hostileSection (keyFile: string): Promise<void> {
  const base = {
    response_type: 'code',
    client_id: 'demo-app',
    redirect_uri: 'http://localhost:3000/callback',
    scope: 'openid dpv:FraudPreventionAndDetection number-verification:verify',
    konera_context: 'ipv4:142.115.147.143'
  }
  const variants = [
    {
      name: '6 KB state and 6 KB nonce (over their limits)',
      query: { ...base, state: 's'.repeat(6144), nonce: 'n'.repeat(6144) }
    },
    {
      name: 'state, nonce and acr_values at their limits',
      query: { ...base, state: 's'.repeat(2048), nonce: 'n'.repeat(512), acr_values: 'a'.repeat(256) }
    }
  ]
  const measured: Array<Record<string, unknown>> = []
  results.hostile = measured
  for (const variant of variants) {
    const emulator = await startEmulator(['--signing-key', keyFile, '--log-level', 'warn'])
    const health = async (): Promise<{ capacity: { pending: { live: number, max: number } } }> =>
      await (await fetch(`${emulator.url}/_emulator/health`)).json() as {
        capacity: { pending: { live: number, max: number } }
      }
    const before = rssOf(emulator.pid)
    const result = await cannon({
      url: `${emulator.url}/camara/api/auth/v1/authorize?${new URLSearchParams(variant.query).toString()}`,
      amount: HOSTILE_REQUESTS
    })
    const after = rssOf(emulator.pid)
    const { pending } = (await health()).capacity
    await emulator.stop()
    const statuses = result.statusCodeStats as unknown as Record<string, { count: number }>
    const found = statuses['302']?.count ?? 0
    if (found !== HOSTILE_REQUESTS || result.errors > 0) {
      throw new Error(
        `hostile (${variant.name}): ${found} of ${HOSTILE_REQUESTS} answered 302, ` +
          `${result.errors} errors: ${JSON.stringify(statuses)}`
      )
    }
    measured.push({
      variant: variant.name,
      requests: HOSTILE_REQUESTS,
      queryBytes: new URLSearchParams(variant.query).toString().length,
      rssBeforeMb: round(before / MB, 1),
      rssAfterMb: round(after / MB, 1),
      pendingKept: pending.live,
      maxPending: pending.max
    })
    rows.push({
      measure: `RSS after ${HOSTILE_REQUESTS.toLocaleString('en')} unauthenticated authorizes: ${variant.name}; ` +
        `${pending.live.toLocaleString('en')} kept (--max-pending ${pending.max.toLocaleString('en')})`,
      emulator: `${round(after / MB, 1)} MB`,
      baseline: `${round(before / MB, 1)} MB before`,
      ratio: '',
      target: '< 200 MB',
      met: after < 200 * MB
    })
  }
}

function printTable (info: Record<string, unknown>): void {
  const header: Row = {
    measure: 'measure',
    emulator: 'emulator',
    baseline: 'baseline / limit',
    ratio: 'ratio',
    target: 'target',
    met: null
  }
  const all = [header, ...rows]
  const width = (key: keyof Row): number => Math.max(...all.map((r) => String(r[key] ?? '').length))
  const keys: Array<keyof Row> = ['measure', 'emulator', 'baseline', 'ratio', 'target']
  const line = (r: Row): string => `| ${keys.map((k) => String(r[k]).padEnd(width(k))).join(' | ')} | ` +
    `${r === header ? 'met' : r.met === null ? '' : r.met ? 'yes' : 'NO'} |`
  process.stdout.write(
    `\nMachine: ${String(info.nproc)} x ${String(info.model)}, ${String(info.memoryGb)} GB, ` +
      `Node ${String(info.node)}, ${String(info.platform)}; ` +
      `load average at start ${String(info.loadAverageAtStart)}, ` +
      `at end ${loadavg().map((v) => round(v, 2)).join(',')}\n`
  )
  process.stdout.write(
    `Load: ${CONNECTIONS} keep-alive connections / flow workers, load generator on the same machine; ` +
      `/verify: ${String(flags['verify-procs'])} processes per side, ` +
      `${VERIFY_ROUNDS} interleaved rounds of ${VERIFY_SECONDS} s, medians; token: best of 2 interleaved rounds\n\n`
  )
  process.stdout.write(line(header) + '\n')
  process.stdout.write(`|${keys.map((k) => '-'.repeat(width(k) + 2)).join('|')}|-----|\n`)
  for (const row of rows) process.stdout.write(line(row) + '\n')
}

async function main (): Promise<void> {
  const info = machine()
  results.machine = info
  results.startedAt = new Date().toISOString()
  // Only the last run's logs and keys stay (for a look after the run); earlier ones go
  rmSync(BENCH_TMP, { recursive: true, force: true })
  await buildIfNeeded()
  const keyFile = await writeKeyFile()
  log('RS256 signatures per second (jose, one at a time)')
  const signsPerSecond = await rs256SignsPerSecond()
  results.rs256SignsPerSecond = signsPerSecond
  if (enabled('start')) { log('start to healthy'); await startSection(keyFile) }
  let bareRps = 0
  if (enabled('verify') || enabled('flows')) { log('/verify vs bare Fastify'); bareRps = await verifySection(keyFile) }
  if (enabled('token')) { log('token vs oauth2-mock-server'); await tokenSection(keyFile) }
  if (enabled('flows')) { log('full flows'); await flowsSection(keyFile, bareRps, signsPerSecond) }
  if (enabled('latency')) { log('injected latency accuracy'); await latencySection(keyFile) }
  if (enabled('replicas')) { log('replicas sharing a Redis store'); await replicasSection(keyFile) }
  if (enabled('namespaces')) { log('50 namespaces at once'); await namespacesSection(keyFile) }
  if (enabled('devices')) { log('what each performance device is worth'); await devicesSection(keyFile) }
  if (enabled('hostile')) { log('memory under hostile authorizes'); await hostileSection(keyFile) }
  if (enabled('rss')) { log(`memory under flows (up to ${flags['rss-seconds'] ?? ''} s)`); await rssSection(keyFile) }
  results.rows = rows
  results.finishedAt = new Date().toISOString()
  writeFileSync(resolve(ROOT, OUT), JSON.stringify(results, null, 2) + '\n')
  printTable(info)
  process.stdout.write(`\nrs256_signs_per_s (jose, sequential): ${Math.round(signsPerSecond)}; details in ${OUT}\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  process.exit(1)
})
