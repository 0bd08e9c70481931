// The processes the benchmarks measure, each started on its own port of 127.0.0.1 with its
// output in a temp file (so logging costs what it costs in a container, and no pipe back-pressure
// slows it): the emulator as `npm start` runs it (dist/), a bare Fastify route, oauth2-mock-server.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync } from 'node:fs'
import { get } from 'node:http'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const TSX = ['--import', 'tsx']

export interface ServerProcess {
  name: string
  url: string
  pid: number
  child: ChildProcess
  /** Milliseconds from spawn() to the first successful readiness probe */
  readyMs: number
  logFile: string
  /** SIGTERM, then the exit code */
  stop: () => Promise<number | null>
}

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0))
    })
  })
}

/** Where a run keeps its logs and keys: inside the checkout, gone with node_modules */
export const BENCH_TMP = join(ROOT, 'node_modules', '.cache', 'bench-tmp')

export function tempDir (prefix: string): string {
  mkdirSync(BENCH_TMP, { recursive: true })
  return mkdtempSync(join(BENCH_TMP, `${prefix}-`))
}

/** Resident set size of a process in bytes, from /proc (Linux) */
export function rssOf (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(match[1]) * 1024
}

/** One GET on a fresh connection; node:http, since fetch's first call alone costs ~100 ms */
async function probe (url: string): Promise<boolean> {
  return await new Promise((resolve) => {
    const req = get(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.once('error', () => resolve(false))
    req.once('timeout', () => { req.destroy(); resolve(false) })
  })
}

interface StartOptions {
  name: string
  node?: string
  args: string[]
  port: number
  /** Path answering 200 once ready */
  readyPath: string
  env?: NodeJS.ProcessEnv
  timeoutMs?: number
}

export async function startProcess (options: StartOptions): Promise<ServerProcess> {
  const logFile = join(tempDir(`bench-${options.name}`), 'out.log')
  const fd = openSync(logFile, 'w')
  const url = `http://127.0.0.1:${options.port}`
  const started = performance.now()
  const child = spawn(options.node ?? process.execPath, options.args, {
    cwd: ROOT,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...options.env }
  })
  let exited: number | null | undefined
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => { exited = code; resolve(code) }))
  const deadline = started + (options.timeoutMs ?? 30_000)
  while (!await probe(url + options.readyPath)) {
    if (exited !== undefined || performance.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`${options.name} did not become ready (exit ${String(exited)}):\n` +
        `${readFileSync(logFile, 'utf8').slice(-2000)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  const readyMs = performance.now() - started
  return {
    name: options.name,
    url,
    pid: child.pid as number,
    child,
    readyMs,
    logFile,
    stop: async () => {
      if (exited === undefined) child.kill('SIGTERM')
      return await exit
    }
  }
}

export interface RedisProcess {
  url: string
  pid: number
  stop: () => Promise<void>
}

/**
 * A Valkey or Redis server on 127.0.0.1:`port` without persistence, its files in `dir`, once it
 * accepts connections: the bench's shared-store section and the shared-store tests start it so
 */
export async function spawnRedisServer (binary: string, port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  )
  let output = ''
  const collect = (chunk: Buffer): void => { output += chunk.toString() }
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(new Error(`${binary} ${why}:\n${output}`))
    }
    const timer = setTimeout(() => { fail('did not start within 10 s') }, 10_000)
    const exited = (code: number | null): void => { fail(`exited (${String(code)}) before it was ready`) }
    const ready = (): void => {
      if (!output.includes('Ready to accept connections')) return
      clearTimeout(timer)
      child.off('exit', exited)
      child.stdout.off('data', ready)
      // From here on its output is read and dropped: nothing is kept for the life of the server
      child.stdout.off('data', collect).resume()
      child.stderr.off('data', collect).resume()
      resolve()
    }
    child.once('error', (error) => { fail(`could not start (${error.message})`) })
    child.once('exit', exited)
    child.stdout.on('data', collect).on('data', ready)
    child.stderr.on('data', collect)
  })
  return child
}

/** A Valkey or Redis server for the shared-store section ($REDIS_SERVER, else redis-server) */
export async function startRedisServer (): Promise<RedisProcess> {
  const port = await freePort()
  const child = await spawnRedisServer(process.env.REDIS_SERVER ?? 'redis-server', port, tempDir('bench-redis'))
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve() }))
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid as number, stop: async () => { child.kill('SIGTERM'); await exited } }
}

/** Builds dist/ when a source is newer, as `npm start` does */
export async function buildIfNeeded (): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts/build-if-needed.mjs')], { stdio: 'inherit' })
    child.once('exit', (code) => code === 0 ? resolve() : reject(new Error(`build failed (${String(code)})`)))
  })
  if (!existsSync(join(ROOT, 'dist/server.js'))) throw new Error('dist/server.js missing after build')
}

export async function startEmulator (
  args: string[], options: { port?: number, timeoutMs?: number } = {}
): Promise<ServerProcess> {
  const port = options.port ?? await freePort()
  return await startProcess({
    name: 'emulator',
    args: ['dist/server.js', '--host', '127.0.0.1', '--port', String(port), '--seed', '1', ...args],
    port,
    readyPath: '/_emulator/health',
    timeoutMs: options.timeoutMs
  })
}

/** The built library with some performance devices off (bench/servers/emulator-devices.mjs) */
export async function startEmulatorVariant (name: string, keyFile: string, switches: string[]): Promise<ServerProcess> {
  const port = await freePort()
  return await startProcess({
    name,
    args: ['bench/servers/emulator-devices.mjs', String(port), keyFile, ...switches],
    port,
    readyPath: '/_emulator/health'
  })
}

export async function startBareFastify (): Promise<ServerProcess> {
  const port = await freePort()
  return await startProcess({
    name: 'bare-fastify',
    args: [...TSX, 'bench/servers/bare-fastify.ts', String(port)],
    port,
    readyPath: '/ready'
  })
}

/** bench/servers/fastify-lifecycle.ts: the framework's share of /verify, `token` naming the seed subscriber */
export async function startFastifyLifecycle (token: string): Promise<ServerProcess> {
  const port = await freePort()
  return await startProcess({
    name: 'fastify-lifecycle',
    args: [...TSX, 'bench/servers/fastify-lifecycle.ts', String(port), token],
    port,
    readyPath: '/ready'
  })
}

export async function startOauth2MockServer (node?: string): Promise<ServerProcess> {
  const port = await freePort()
  return await startProcess({
    name: 'oauth2-mock-server',
    node,
    args: [...TSX, 'bench/servers/oauth2-mock.ts', String(port)],
    port,
    readyPath: '/.well-known/openid-configuration'
  })
}
