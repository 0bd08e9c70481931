// Programmatic API: `await startEmulator()` inside a test file starts an emulator on an ephemeral
// port and returns its URLs, typed controls and close(). It runs the same buildApp as the CLI.
import type { FastifyInstance } from 'fastify'
import { buildApp, type AppDependencies } from './app.js'
import { defaultConfig, type EmulatorConfig } from './config/config.js'
import { mergeFixtures, readFixtureFile, validateFixtureDocument } from './config/fixtures.js'
import type { FixtureFile } from './config/fixture-schema.js'
import type { Emulator } from './core/emulator.js'
import { appendQuery } from './core/errors.js'

export type { EmulatorConfig } from './config/config.js'
export type { FixtureFile, ClientFixture, OperatorFixture, SubscriberFixture } from './config/fixture-schema.js'
export { FixtureError } from './config/fixtures.js'
export { buildApp } from './app.js'
export { ManualClock } from './core/clock.js'
export { KeyRing } from './core/keys.js'
export { hashPhoneNumber } from './core/phone-number.js'

export interface StartOptions extends Partial<Omit<EmulatorConfig, 'fixtures'>> {
  /** Fixture file paths, or fixture documents given inline (validated the same way) */
  fixtures?: Array<string | FixtureFile>
  /** Log level; silent by default in-process */
  logLevel?: EmulatorConfig['logLevel']
  clock?: AppDependencies['clock']
  keys?: AppDependencies['keys']
}

export interface EmulatorEndpoints {
  base: string
  issuer: string
  discovery: string
  authorize: string
  token: string
  jwks: string
  verify: string
  health: string
}

export interface DeviceAuthorization {
  /** The redirect to the app: ?code=...&state=... or ?error=... */
  redirect: URL
  code: string | undefined
  state: string | undefined
  error: string | undefined
  errorDescription: string | undefined
}

export interface AuthorizeDeviceOptions {
  clientId: string
  redirectUri: string
  scope: string
  state?: string
  nonce?: string
  prompt?: string
  loginHint?: string
  codeChallenge?: string
  /** The device's address on the network, e.g. '142.115.147.143' or '2001:4860:7:f04::fe' */
  deviceIp?: string
  /** Extra authorize query parameters */
  extra?: Record<string, string>
}

export interface RunningEmulator {
  urls: EmulatorEndpoints
  app: FastifyInstance
  emulator: Emulator
  /**
   * Completes the browser leg in-process (gateway authorize -> operator -> redirect) for a device,
   * so backend tests get a real authorization code without a browser.
   */
  authorizeDevice: (options: AuthorizeDeviceOptions) => Promise<DeviceAuthorization>
  close: () => Promise<void>
}

function resolveFixtures (entries: Array<string | FixtureFile> | undefined): { paths: string[], inline: FixtureFile[] } {
  const list = entries ?? defaultConfig.fixtures
  return {
    paths: list.filter((f): f is string => typeof f === 'string'),
    inline: list.filter((f): f is FixtureFile => typeof f !== 'string')
  }
}

export async function startEmulator (options: StartOptions = {}): Promise<RunningEmulator> {
  const { fixtures: fixtureOption, clock, keys, ...overrides } = options
  const { paths, inline } = resolveFixtures(fixtureOption)
  const config: EmulatorConfig = { ...defaultConfig, port: 0, logLevel: 'silent', ...overrides, fixtures: paths }
  const deps: AppDependencies = { clock, keys }
  if (inline.length > 0) {
    deps.fixtures = mergeFixtures([
      ...paths.map((file) => ({ file, content: readFixtureFile(file) })),
      ...inline.map((content, i) => ({ file: `inline fixtures[${i}]`, content: validateFixtureDocument(`inline fixtures[${i}]`, content) }))
    ])
  }
  const app = await buildApp(config, deps)
  const address = await app.listen({ port: config.port, host: config.host })
  if (config.publicUrl === undefined) app.emulator.urls.setBase(address)
  const urls = app.emulator.urls

  const authorizeDevice = async (device: AuthorizeDeviceOptions): Promise<DeviceAuthorization> => {
    const remoteAddress = device.deviceIp ?? '127.0.0.1'
    const query: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: device.clientId,
      redirect_uri: device.redirectUri,
      scope: device.scope,
      state: device.state,
      nonce: device.nonce,
      prompt: device.prompt,
      login_hint: device.loginHint,
      ...(device.codeChallenge === undefined ? {} : { code_challenge: device.codeChallenge, code_challenge_method: 'S256' }),
      ...device.extra
    }
    let location = appendQuery(urls.authorizationEndpoint, query)
    // Follow the emulator's own redirects (gateway -> operator) until one leaves it
    for (let hop = 0; hop < 5 && location.startsWith(urls.publicUrl); hop++) {
      const target = new URL(location)
      const res = await app.inject({ method: 'GET', url: target.pathname + target.search, remoteAddress })
      if (res.statusCode !== 302) throw new Error(`authorize leg answered ${res.statusCode}: ${res.body.slice(0, 300)}`)
      location = res.headers.location as string
    }
    const redirect = new URL(location)
    const param = (name: string): string | undefined => redirect.searchParams.get(name) ?? undefined
    return { redirect, code: param('code'), state: param('state'), error: param('error'), errorDescription: param('error_description') }
  }

  return {
    urls: {
      base: urls.publicUrl,
      issuer: urls.issuer,
      discovery: urls.discovery,
      authorize: urls.authorizationEndpoint,
      token: urls.tokenEndpoint,
      jwks: urls.jwksUri,
      verify: urls.verify,
      health: `${urls.publicUrl}/_emulator/health`
    },
    app,
    emulator: app.emulator,
    authorizeDevice,
    close: async () => { await app.close() }
  }
}
