// A real Valkey or Redis server for the shared-store tests: started on a free port of 127.0.0.1,
// without persistence, its working folder inside the checkout, stopped when the test ends. It can
// be stopped and started again on the same port (an outage and a store restart).
// The binary: $REDIS_SERVER, else valkey-server or redis-server on the PATH (.ci/run installs
// Debian's redis-server).
import { spawnSync, type ChildProcess } from 'node:child_process'
import type { Test } from 'tap'
import { tempDir } from './temp-dir.js'
import { freePort, spawnRedisServer } from '../../bench/lib/processes.js'

export interface RedisServer {
  url: string
  port: number
  /** Stops the server (SIGKILL when `crash`); its data goes with it */
  stop: (options?: { crash?: boolean }) => Promise<void>
  /** Starts it again on the same port (nothing to do while it runs) */
  start: () => Promise<void>
  /** Freezes the server (SIGSTOP: connections stay open, nothing answers) or thaws it (SIGCONT) */
  freeze: (frozen: boolean) => void
}

const MISSING = 'no Valkey or Redis server is installed (Debian: apt-get install redis-server; or set REDIS_SERVER)'

function findBinary (): string | undefined {
  const given = process.env.REDIS_SERVER
  const candidates = given !== undefined && given !== '' ? [given] : ['valkey-server', 'redis-server']
  return candidates.find((name) => spawnSync('sh', ['-c', 'command -v "$0"', name]).status === 0)
}

function serverBinary (): string {
  const binary = findBinary()
  if (binary === undefined) throw new Error(`the shared-store tests need a server: ${MISSING}`)
  return binary
}

/**
 * True when no server binary is installed: then `what` is skipped, visibly, and the caller runs
 * none of it. In CI (CI=true; .ci/run installs redis-server) that is a failure, never a green skip.
 */
export function redisMissing (t: Test, what: string): boolean {
  if (findBinary() !== undefined) return false
  if (process.env.CI === 'true') t.fail(`${MISSING}: .ci/run should have installed Debian's redis-server`)
  else t.test(what, { skip: MISSING }, async () => {})
  return true
}

export async function startRedis (t: Test): Promise<RedisServer> {
  const binary = serverBinary()
  const dir = tempDir(t, 'redis-')
  const port = await freePort()
  let child: ChildProcess | undefined

  const start = async (): Promise<void> => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) return
    child = await spawnRedisServer(binary, port, dir)
  }

  const stop = async ({ crash = false } = {}): Promise<void> => {
    const proc = child
    child = undefined
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return
    const exited = new Promise((resolve) => proc.once('exit', resolve))
    proc.kill(crash ? 'SIGKILL' : 'SIGTERM')
    await exited
  }

  await start()
  t.teardown(async () => { child?.kill('SIGCONT'); await stop({ crash: true }) })
  const freeze = (frozen: boolean): void => { child?.kill(frozen ? 'SIGSTOP' : 'SIGCONT') }
  return { url: `redis://127.0.0.1:${port}`, port, stop, start, freeze }
}
