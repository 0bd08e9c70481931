// Shared test set-up: a fresh app per test on the default fixtures, with a manual clock and one
// fixed signing key (signing-key.json, a key for tests only), read once per test file: generating
// an RSA key took 70 to 100 ms of each test process. The app
// closes when its test ends: buildTestApp registers the teardown, so no test closes it by hand.
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { buildApp, type PerformanceDevices } from '../../src/app.js'
import { defaultConfig, type EmulatorConfig, type LogLevel } from '../../src/config/config.js'
import { ManualClock } from '../../src/core/clock.js'
import { KeyRing } from '../../src/core/keys.js'
import type { Sleep } from '../../src/plugins/scenarios.js'

export const BASE_URL = 'http://emulator.test'
export const ISSUER = `${BASE_URL}/camara/api/auth/v1`
export const REDIRECT_URI = 'http://localhost:3000/callback'
export const SCOPE = 'openid dpv:FraudPreventionAndDetection number-verification:verify'

let sharedKeys: Promise<KeyRing> | undefined

export function testKeys (): Promise<KeyRing> {
  sharedKeys ??= KeyRing.create({ alg: 'RS256', keyFile: fileURLToPath(new URL('signing-key.json', import.meta.url)) })
  return sharedKeys
}

export interface TestApp {
  app: FastifyInstance
  clock: ManualClock
}

export interface TestAppOptions {
  /** The signing keys (default: one ring per test file); 'generate': the app's own, as the CLI makes them */
  keys?: KeyRing | 'generate'
  /** How injected latency waits (default: the real timer); a recording fake keeps tests instant */
  sleep?: Sleep
  /** The performance devices (both on by default, as in the CLI) */
  devices?: PerformanceDevices
  /** The log (off by default) and where it goes */
  logger?: { level: LogLevel }
  logStream?: NodeJS.WritableStream
}

/** Where the app's closing is registered: the tap test it serves (or a script's own list) */
export interface Teardown {
  teardown: (close: () => unknown) => void
}

/** The test app, closed in `t`'s teardown */
export async function buildTestApp (
  t: Teardown, overrides: Partial<EmulatorConfig> = {}, options: TestAppOptions = {}
): Promise<TestApp> {
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 12, 0, 0))
  const app = await buildApp({ ...defaultConfig, publicUrl: BASE_URL, ...overrides }, {
    clock,
    ...(options.keys === 'generate' ? {} : { keys: options.keys ?? await testKeys() }),
    logger: options.logger ?? false,
    ...(options.logStream === undefined ? {} : { logStream: options.logStream }),
    ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
    ...(options.devices === undefined ? {} : { devices: options.devices })
  })
  t.teardown(() => app.close())
  return { app, clock }
}

/** The same app with its log on at `level`, each JSON line it writes parsed into `lines` */
export async function buildLoggedTestApp<Line = Record<string, unknown>> (
  t: Teardown, level: LogLevel
): Promise<TestApp & { lines: Line[] }> {
  const lines: Line[] = []
  const logStream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Line)
      done()
    }
  })
  return { ...await buildTestApp(t, {}, { logger: { level }, logStream }), lines }
}
