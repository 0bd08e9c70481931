// Programmatic API: `await startEmulator()` inside a test file starts an emulator on an ephemeral
// port and returns its URLs, typed controls and close(). It runs the same buildApp as the CLI, and
// the controls drive the same core as the control API (/_emulator), with the same checks.
import { Value } from '@sinclair/typebox/value'
import type { FastifyInstance } from 'fastify'
import { buildApp, type AppDependencies } from './app.js'
import { defaultConfig, type EmulatorConfig } from './config/config.js'
import { FixtureError, mergeFixtures, validateFixtureDocument } from './core/fixtures.js'
import { readFixtureFile } from './config/fixtures.js'
import {
  OPERATOR_TOKEN_LIFETIME,
  SubscriberSchema,
  type ClientFixture,
  type FixtureFile,
  type OperatorFixture,
  type SubscriberFixture
} from './core/fixture-schema.js'
import type { Emulator } from './core/emulator.js'
import { appendQuery } from './core/errors.js'
import type { JournalEntry, JournalFilter } from './core/journal.js'
import { ScenarioRegistryError, type Activation, type ScenarioListing } from './core/scenarios/engine.js'
import {
  firstSchemaProblem, ScenarioError, validateScenario, type Scenario, type ScenarioMatch
} from './core/scenarios/scenario-schema.js'
import type { MintRequest, TokenResponse } from './core/token-service.js'
import type { IssuedOperatorToken, MintOperatorTokenRequest } from './core/operator-tokens.js'
import { AUTH_PREFIX } from './core/urls.js'
import { E164_PATTERN, isE164 } from './core/phone-number.js'
import { parseScope, scopeProblem } from './core/scopes.js'

export type { EmulatorConfig } from './config/config.js'
export type { FixtureFile, ClientFixture, OperatorFixture, SubscriberFixture } from './core/fixture-schema.js'
export type { JournalEntry, JournalFilter } from './core/journal.js'
export type { Activation, ScenarioListing } from './core/scenarios/engine.js'
export type { Scenario, ScenarioMatch, ScenarioEffects } from './core/scenarios/scenario-schema.js'
export type { MintRequest, TokenResponse } from './core/token-service.js'
export type { IssuedOperatorToken, MintOperatorTokenRequest } from './core/operator-tokens.js'
export { FixtureError } from './core/fixtures.js'
export { NamespaceNotFoundError, NamespaceRequestError } from './core/namespaces.js'
export { buildApp } from './app.js'
export { ManualClock, type Clock } from './core/clock.js'
export { OAuthError } from './core/errors.js'
export { KeyRing } from './core/keys.js'
export { hashPhoneNumber } from './core/phone-number.js'
export { ScenarioRegistryError } from './core/scenarios/engine.js'
export { ScenarioError } from './core/scenarios/scenario-schema.js'

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

/** The emulated world as it is now, after runtime changes (GET /_emulator/fixtures) */
export interface FixturesSnapshot {
  files: string[]
  defaultOperator?: string
  operators: OperatorFixture[]
  clients: ClientFixture[]
  subscribers: SubscriberFixture[]
}

/** A subscriber as upsertSubscriber takes it: the fixture file's defaults apply to what is left out */
export type SubscriberInput = Omit<SubscriberFixture, 'ipv4' | 'ipv6' | 'authMethods'> &
  Partial<Pick<SubscriberFixture, 'ipv4' | 'ipv6' | 'authMethods'>>

export interface FixtureControls {
  get: () => FixturesSnapshot
  /**
   * Adds a subscriber, or replaces the one with the same MSISDN; throws FixtureError on a broken rule, changing nothing
   */
  upsertSubscriber: (subscriber: SubscriberInput) => { created: boolean }
  /** false when no subscriber has that MSISDN */
  removeSubscriber: (msisdn: string) => boolean
}

export interface ActivateOptions {
  /** Only the next N matching requests */
  remaining?: number
  /** Deactivate after this long, on the emulator's clock (above 0, at most 1e9); absent = never */
  expiresInSeconds?: number
  /** Replaces the scenario's match rules for this activation */
  match?: Partial<ScenarioMatch>
}

export interface ScenarioControls {
  /** The catalogue, fixture and runtime scenarios, each with whether it is active */
  list: () => ScenarioListing[]
  /** Defines a scenario (or replaces one defined at runtime); throws ScenarioError naming the JSON path and rule */
  define: (scenario: Scenario) => ScenarioListing
  /** Removes a runtime-defined scenario; false when none has that name */
  remove: (name: string) => boolean
  /** Activates a scenario for every matching request (or the next N); returns the activation id */
  activate: (name: string, options?: ActivateOptions) => string
  /** Ends one activation (by id) or every activation of a scenario (by name); returns how many ended */
  deactivate: (idOrName: string) => number
  activations: () => Activation[]
}

export interface JournalControls {
  /** Journal entries, oldest first */
  list: (filter?: JournalFilter) => Array<Readonly<JournalEntry>>
  clear: () => void
}

/** What drives one world: the server's own, or a namespace's */
export interface WorldControls {
  urls: EmulatorEndpoints
  emulator: Emulator
  fixtures: FixtureControls
  scenarios: ScenarioControls
  journal: JournalControls
  /** Tokens for a subscriber as if the whole flow had run (POST /_emulator/tokens) */
  mintToken: (request: MintRequest) => Promise<TokenResponse & { flowId: string }>
  /**
   * An operator token (GSMA TS.43, SIM-based authentication) for a subscriber and an app, as its
   * operator's entitlement server would issue it to the device (POST /_emulator/operator-tokens)
   */
  mintOperatorToken: (request: MintOperatorTokenRequest) => Promise<IssuedOperatorToken>
  /**
   * A fresh start: forgets codes, tokens, runtime scenarios, activations and the journal, restarts
   * the seeded generator; back to the fixtures it started with
   */
  reset: () => Promise<void>
  /**
   * Completes the browser leg in-process (gateway authorize -> operator -> redirect) for a device,
   * so backend tests get a real authorization code without a browser.
   */
  authorizeDevice: (options: AuthorizeDeviceOptions) => Promise<DeviceAuthorization>
}

/** A namespace: an isolated world served under /ns/<name>, with the same controls */
export interface NamespaceControls extends WorldControls {
  name: string
  /** Removes the namespace and everything in it; false when it was already gone */
  delete: () => Promise<boolean>
}

export interface RunningEmulator extends WorldControls {
  app: FastifyInstance
  /**
   * Creates (or replaces, empty) the namespace `name`: its own fixtures (default: the server's),
   * scenarios, journal, codes, tokens and seed; PUT /_emulator/namespaces/<name> with the same checks
   */
  namespace: (name: string, fixtures?: FixtureFile, options?: { seed?: number }) => Promise<NamespaceControls>
  close: () => Promise<void>
}

const PROGRAMMATIC_API = 'programmatic API'

function resolveFixtures (
  entries: Array<string | FixtureFile> | undefined
): { paths: string[], inline: FixtureFile[] } {
  const list = entries ?? defaultConfig.fixtures
  return {
    paths: list.filter((f): f is string => typeof f === 'string'),
    inline: list.filter((f): f is FixtureFile => typeof f !== 'string')
  }
}

/** Left-out options keep their defaults, even when given as undefined */
function definedOnly<T extends object> (options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>
}

function fixtureControls (emulator: Emulator): FixtureControls {
  return {
    get: () => {
      const { files, defaultOperator, operators, clients, subscribers } = emulator.directory.fixtures
      return structuredClone({
        files,
        ...(defaultOperator === undefined ? {} : { defaultOperator }),
        operators,
        clients,
        subscribers
      })
    },
    upsertSubscriber: (input) => {
      // The same schema as fixture files and PUT /_emulator/subscribers, defaults included
      const subscriber = Value.Default(SubscriberSchema, structuredClone(input)) as SubscriberFixture
      const problem = firstSchemaProblem(SubscriberSchema, subscriber, '$')
      if (problem !== undefined) throw new FixtureError(PROGRAMMATIC_API, problem.jsonPath, problem.rule)
      const answer = emulator.upsertSubscriber(subscriber)
      emulator.runtimeChanged()
      return answer
    },
    removeSubscriber: (msisdn) => {
      const removed = emulator.removeSubscriber(msisdn)
      emulator.runtimeChanged()
      return removed
    }
  }
}

function scenarioControls (emulator: Emulator): ScenarioControls {
  const engine = emulator.scenarios
  const changed = <T>(result: T): T => {
    emulator.runtimeChanged()
    return result
  }
  return {
    list: () => engine.list(),
    // Replicas on a shared store learn of a change once it is published (in the background)
    define: (scenario) => changed(engine.define(validateScenario(structuredClone(scenario), PROGRAMMATIC_API))),
    remove: (name) => changed(engine.remove(name)),
    activate: (name, options = {}) => {
      try {
        return changed(engine.activate(name, options).id)
      } catch (error) {
        // The engine checks the options; the message names this API as define()'s does
        if (error instanceof ScenarioError) throw new ScenarioError(error.jsonPath, error.rule, PROGRAMMATIC_API)
        throw error
      }
    },
    deactivate: (idOrName) => changed(engine.deactivate(idOrName)),
    activations: () => engine.activations()
  }
}

async function mintToken (emulator: Emulator, request: MintRequest): Promise<TokenResponse & { flowId: string }> {
  // The checks POST /_emulator/tokens makes: its schema, the client's registered scopes, the scenario names
  if (request.msisdn !== undefined && !isE164(request.msisdn)) {
    throw new FixtureError(PROGRAMMATIC_API, '$.msisdn', `must match pattern ${E164_PATTERN}`)
  }
  const client = emulator.directory.client(request.clientId)
  const scope = parseScope(request.scope)
  const problem = client === undefined ? undefined : scopeProblem(scope, client.scopes, { requirePurpose: false })
  if (problem !== undefined) throw new FixtureError(PROGRAMMATIC_API, '$.scope', problem)
  const unknown = emulator.scenarios.validateNames(request.scenarios ?? [])
  if (unknown.length > 0) {
    throw new ScenarioRegistryError('unknown', `unknown scenario ${unknown.map((name) => `"${name}"`).join(', ')}`)
  }
  return await emulator.tokens.mint(request)
}

export async function startEmulator (options: StartOptions = {}): Promise<RunningEmulator> {
  const { fixtures: fixtureOption, clock, keys, ...overrides } = options
  const { paths, inline } = resolveFixtures(fixtureOption)
  const config: EmulatorConfig = {
    ...defaultConfig,
    port: 0,
    logLevel: 'silent',
    ...definedOnly(overrides),
    fixtures: paths
  }
  const deps: AppDependencies = { clock, keys }
  if (inline.length > 0) {
    deps.fixtures = mergeFixtures([
      ...paths.map((file) => ({ file, content: readFixtureFile(file) })),
      ...inline.map((content, i) => ({
        file: `inline fixtures[${i}]`,
        content: validateFixtureDocument(`inline fixtures[${i}]`, content)
      }))
    ])
  }
  const app = await buildApp(config, deps)
  let address: string
  try {
    address = await app.listen({ port: config.port, host: config.host })
  } catch (error) {
    await app.close()
    throw error
  }
  if (config.publicUrl === undefined) app.emulator.urls.setBase(address)
  const root = worldControls(app, app.emulator)
  return {
    ...root,
    app,
    namespace: async (name, fixtures, namespaceOptions = {}) => {
      await app.namespaces.put(name, { fixtures, seed: namespaceOptions.seed })
      return {
        ...worldControls(app, await app.namespaces.resolve(name)),
        name,
        delete: async () => await app.namespaces.delete(name)
      }
    },
    close: async () => { await app.close() }
  }
}

function worldControls (app: FastifyInstance, emulator: Emulator): WorldControls {
  const { urls } = emulator
  /** The emulator's own legs of the browser flow: gateway authorize and operator authorize */
  const isOwnLeg = (location: URL): boolean => {
    const base = new URL(urls.publicUrl)
    const prefix = base.pathname.replace(/\/$/, '')
    return location.origin === base.origin &&
      (location.pathname === `${prefix}${AUTH_PREFIX}/authorize` ||
        location.pathname.startsWith(`${prefix}/operators/`))
  }

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
      ...(device.codeChallenge === undefined
        ? {}
        : { code_challenge: device.codeChallenge, code_challenge_method: 'S256' }),
      ...device.extra
    }
    let location = new URL(appendQuery(urls.authorizationEndpoint, query))
    // Behind a --public-url with a path, the app still serves from its root (a namespace's
    // /ns/<name> is part of the app's paths, so it stays)
    const servedFrom = new URL(app.emulator.urls.publicUrl).pathname.replace(/\/$/, '').length
    // Follow the emulator's own redirects (gateway -> operator) until one leaves it for the app
    for (let hop = 0; hop < 5 && isOwnLeg(location); hop++) {
      const res = await app.inject({
        method: 'GET',
        url: location.pathname.slice(servedFrom) + location.search,
        remoteAddress
      })
      if (res.statusCode !== 302) {
        throw new Error(`authorize leg ${location.pathname} answered ${res.statusCode}: ${res.body.slice(0, 300)}`)
      }
      location = new URL(res.headers.location as string)
    }
    const param = (name: string): string | undefined => location.searchParams.get(name) ?? undefined
    return {
      redirect: location,
      code: param('code'),
      state: param('state'),
      error: param('error'),
      errorDescription: param('error_description')
    }
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
    emulator,
    fixtures: fixtureControls(emulator),
    scenarios: scenarioControls(emulator),
    journal: {
      list: (filter) => emulator.journal.list(filter),
      clear: () => emulator.journal.clear()
    },
    mintToken: async (request) => await mintToken(emulator, request),
    mintOperatorToken: async (request) => {
      // The bound POST /_emulator/operator-tokens's schema sets, checked before anything is stored
      const seconds = request.lifetimeSeconds
      const { minimum, maximum } = OPERATOR_TOKEN_LIFETIME
      if (seconds !== undefined && !(Number.isInteger(seconds) && seconds >= minimum && seconds <= maximum)) {
        throw new FixtureError(PROGRAMMATIC_API, '$.lifetimeSeconds',
          `must be an integer from ${minimum} to ${maximum}, not ${String(seconds)}`)
      }
      return await emulator.operatorTokens.mint(request)
    },
    reset: () => emulator.reset(),
    authorizeDevice
  }
}
