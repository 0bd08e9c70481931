// buildApp(config) -> a ready Fastify instance. Used by the server, the programmatic API and
// every test, so all of them run the same application.
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { resolvePublicUrl, type EmulatorConfig, type LogLevel } from './config/config.js'
import { type Fixtures } from './core/fixtures.js'
import { loadFixtures } from './config/fixtures.js'
import { describeReloadFailure, watchFixtures } from './config/fixture-watcher.js'
import { systemClock, type Clock } from './core/clock.js'
import { STATE_COLLECTIONS, type StateCollections } from './core/records.js'
import { MemoryStore } from './store/memory.js'
import type { Store } from './core/store.js'
import { DEMO_COLLECTIONS, type DemoCollections } from './demo/attempts.js'
import { Emulator } from './core/emulator.js'
import { Namespaces, REGISTRY, type NamespaceCollections } from './core/namespaces.js'
import { nanoid } from 'nanoid'
import { KeyRing } from './core/keys.js'
import emulatorPlugin from './plugins/emulator.js'
import bodyTimeout from './plugins/body-timeout.js'
import correlation, { correlatorOf } from './plugins/correlation.js'
import metrics from './plugins/metrics.js'
import openapi from './plugins/openapi.js'
import tracing from './plugins/tracing.js'
import requestFacts from './plugins/request-facts.js'
import scenarios from './plugins/scenarios.js'
import type { Sleep } from './core/legs.js'
import numberVerification from './routes/number-verification/index.js'
import controlSurface, { type ControlOptions } from './routes/admin/index.js'
import gateway, { gatewayMetadata } from './routes/gateway/index.js'
import { RFC8414_PREFIX } from './routes/gateway/discovery.js'
import operatorAuthorize from './routes/operator/authorize.js'
import simPicker from './routes/operator/sim-picker.js'
import operatorToken from './routes/operator/operator-token.js'
import demo from './demo/index.js'
import { AUTH_PREFIX, namespacePath, pathOf } from './core/urls.js'
import { rewriteNamespaceUrl } from './plugins/namespace-url.js'
import { schemaCompilers } from './schema-compilers.js'
import { VERSION } from './version.js'
import { frameworkErrors } from './routes/framework-errors.js'
import { rootErrorHandler } from './routes/root-errors.js'
import { addSurfaceHooks, camaraTimeoutError } from './plugins/surface.js'

export interface AppDependencies {
  clock?: Clock
  keys?: KeyRing
  /** Already loaded fixtures (tests); otherwise config.fixtures are read */
  fixtures?: Fixtures
  /** false silences the log (tests); default: JSON lines at config.logLevel */
  logger?: false | { level: LogLevel }
  /** Where the log lines go instead of stdout (tests that read the log) */
  logStream?: NodeJS.WritableStream
  /** Human-readable lines (pino-pretty) instead of JSON: the CLI sets it when stdout is a terminal */
  prettyLogs?: boolean
  /** How injected latency waits: tests pass one that records and returns at once */
  sleep?: Sleep
  /**
   * The performance device, on by default; `npm run bench -- --only devices` turns it off to
   * measure what it alone is worth (docs/performance.md has the figures)
   */
  devices?: PerformanceDevices
}

export interface PerformanceDevices {
  /** Route validators and serializers compiled on first use, not at start (src/schema-compilers.ts) */
  lazySchemas?: boolean
}

/** Fastify's default body limit */
const BODY_LIMIT = 1024 * 1024

async function loggerOptions (config: EmulatorConfig, deps: AppDependencies): Promise<FastifyServerOptions['logger']> {
  if (deps.logger === false) return false
  const level = deps.logger?.level ?? config.logLevel
  if (deps.logStream !== undefined) return { level, stream: deps.logStream }
  if (deps.prettyLogs === true) {
    // A stream in this thread, not a pino transport (a worker thread): loaded only for a terminal,
    // and nothing that resolves files at run time, so the bundled CLI (dist/server.js) can use it
    const { default: pretty } = await import('pino-pretty')
    return { level, stream: pretty({ translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,reqId', sync: true }) }
  }
  return { level }
}

/** Everything the app keeps in its one store: the core's collections and the demo's */
export type AppCollections = StateCollections & DemoCollections & NamespaceCollections

const APP_COLLECTIONS = [...STATE_COLLECTIONS, ...DEMO_COLLECTIONS]

/** What the store tells about its connection (the app's log, once it has one) */
type StoreEvents = (event: { up: boolean, error?: Error }) => void

/**
 * The store --store names: memory (this process), or Valkey / Redis shared by replicas. A store
 * that cannot be reached stops start-up with StoreUnavailableError naming it. The Redis client is
 * imported only for a shared store: loading it (and the @opentelemetry/api it reads) took about
 * 25 ms of every start and 110 ms of every test process's import of the app.
 */
async function buildStore (
  config: Pick<EmulatorConfig, 'store'>,
  clock: Clock,
  events?: StoreEvents
): Promise<Store<AppCollections>> {
  if (config.store === 'memory') return new MemoryStore<AppCollections>(clock, { collections: APP_COLLECTIONS })
  const { RedisStore } = await import('./store/redis.js')
  return await RedisStore.connect<AppCollections>({
    url: config.store,
    collections: APP_COLLECTIONS,
    onConnectionChange: events
  })
}

export async function buildEmulator (
  config: EmulatorConfig,
  deps: AppDependencies,
  store: Store<AppCollections>
): Promise<Emulator> {
  const fixtures = deps.fixtures ?? loadFixtures(config.fixtures)
  const clock = deps.clock ?? systemClock
  const keys = deps.keys ?? await KeyRing.create({ alg: config.signingAlg, keyFile: config.signingKeyFile, store })
  return new Emulator({
    store,
    fixtures,
    keys,
    publicUrl: resolvePublicUrl(config),
    clock,
    sleep: deps.sleep,
    seed: config.seed,
    settings: {
      accessTokenTtl: config.accessTokenTtl,
      codeTtl: config.codeTtl,
      refreshTokenTtl: config.refreshTokenTtl,
      profile: config.profile,
      requirePurpose: config.requirePurpose,
      maxActivations: config.maxActivations,
      maxRuntimeScenarios: config.maxRuntimeScenarios,
      maxPending: config.maxPending,
      maxGrants: config.maxGrants,
      maxDpopProofs: config.maxDpopProofs,
      userScenarios: config.userScenarios,
      operatorTokenLoginHint: config.operatorTokenLoginHint,
      cibaInterval: config.cibaInterval,
      cibaExpiresIn: config.cibaExpiresIn,
      nvV2Release: config.nvV2Release
    }
  })
}

/** The surfaces a world serves (a namespace's requests reach the same routes: plugins/namespace-url.ts) */
async function surfaces (app: FastifyInstance, options: { control: ControlOptions }): Promise<void> {
  await app.register(gateway, { prefix: AUTH_PREFIX })
  await app.register(gatewayMetadata, { prefix: RFC8414_PREFIX })
  await app.register(operatorAuthorize)
  await app.register(simPicker)
  await app.register(operatorToken)
  await app.register(controlSurface, options.control)
  await app.register(numberVerification)
  // Anything outside the surfaces: the CAMARA-style error shape, with where to look. A surface of
  // its own, so a client's request to a wrong path is in the journal and the log like any other
  await app.register(async (outside) => {
    addSurfaceHooks(outside, { timeoutError: camaraTimeoutError })
    outside.setErrorHandler(rootErrorHandler)
    outside.setNotFoundHandler(async (request, reply) => {
      return await reply.code(404).send({
        status: 404,
        code: 'NOT_FOUND',
        message: `no route ${request.method} ${pathOf(request.url)}; GET /openapi.json lists them`
      })
    })
  })
}

export async function buildApp (config: EmulatorConfig, deps: AppDependencies = {}): Promise<FastifyInstance> {
  // Bound once they exist: the store reports its connection from its first moment
  const bound: { log?: FastifyInstance['log'], keys?: KeyRing } = {}
  const store = await buildStore(config, deps.clock ?? systemClock, ({ up, error }) => {
    if (up) {
      bound.log?.info({ store: 'up' }, 'the store is reachable again')
      // A restarted store may have lost them: replicas started from now on must get the same keys
      bound.keys?.keepIn(store).catch((error: unknown) => bound.log?.warn(
        { err: error },
        'could not write the signing keys back to the store'
      ))
    } else {
      bound.log?.warn({ store: 'down', err: error }, 'the store is unreachable: requests answer 503 until it is back')
    }
  })
  let emulator: Emulator
  try {
    emulator = await buildEmulator(config, deps, store)
  } catch (error) {
    await store.close()
    throw error
  }
  const namespaces = new Namespaces({
    store: store.namespace(REGISTRY),
    worlds: store,
    clock: deps.clock ?? systemClock,
    limits: { maxNamespaces: config.maxNamespaces, idleMs: config.namespaceIdle * 1000 },
    build: (definition, fixtures) => emulator.inNamespace(definition.name, {
      store: store.namespace(definition.name),
      fixtures,
      seed: definition.seed
    }),
    issuerOf: (name) => emulator.urls.under(namespacePath(name)).issuer,
    newId: () => nanoid(12)
  })
  const logger = await loggerOptions(config, deps)
  const app = Fastify({
    logger,
    bodyLimit: BODY_LIMIT,
    // Slow and stalled uploads are cut (body-timeout answers first, in the surface's format)
    requestTimeout: config.requestTimeout,
    connectionTimeout: config.connectionTimeout,
    // request-log writes one line per request instead of Fastify's two
    // The request id is the correlator (genReqId), so the per-request logger Fastify creates anyway
    // carries it: a second child logger per request cost ~10% of /verify throughput
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'correlator' }),
    genReqId: correlatorOf,
    // Unknown properties are refused, never silently dropped
    ajv: { customOptions: { removeAdditional: false } },
    // Fastify accepts a hop count at runtime; its type declaration omits number
    trustProxy: config.trustProxy as boolean | string,
    // OAuth and CAMARA clients send plain paths; be lenient only on a trailing slash
    routerOptions: { ignoreTrailingSlash: true },
    // Validators and serializers compile on first use: most routes are never called in a given run
    schemaController: { compilersFactory: schemaCompilers({ lazy: deps.devices?.lazySchemas ?? true }) },
    // A malformed URL or an over-long path parameter answers in the surface's own format
    frameworkErrors,
    // /ns/<name>/... is served by the same routes, in the namespace's world
    rewriteUrl: rewriteNamespaceUrl
  }).withTypeProvider<TypeBoxTypeProvider>()
  bound.log = app.log
  bound.keys = emulator.keys

  // Errors outside the surfaces (Swagger UI's static files, /openapi.*, bodies sent to unknown
  // paths) in the root not-found handler's shape. Set before any plugin: a route keeps the handler
  // its scope had when it was registered, and each surface sets its own in its own scope
  app.setErrorHandler(rootErrorHandler)
  await app.register(bodyTimeout, { bodyTimeout: config.bodyTimeout, requestTimeout: config.requestTimeout })
  await app.register(emulatorPlugin, { emulator, namespaces })
  await app.register(correlation)
  // Before every surface: each one's hooks look once, as it registers, whether tracing is on
  await app.register(tracing, { otlpEndpoint: config.otlpEndpoint, serviceVersion: VERSION })
  await app.register(requestFacts)
  await app.register(scenarios)
  await app.register(metrics, { storeSizes: async () => await emulator.ctx.store.sizes() })
  await app.register(openapi, { version: VERSION })
  await app.register(surfaces, {
    control: {
      enabled: config.admin,
      adminToken: config.adminToken,
      listenHost: config.host,
      allowedHosts: config.allowedHosts
    }
  })
  await app.register(demo, { dashboard: config.admin, adminToken: config.adminToken, store })
  if (config.watch) {
    const watcher = watchFixtures(config.fixtures, {
      loaded: (fixtures) => {
        try {
          app.emulator.loadFixtures(fixtures)
          app.log.info({ files: config.fixtures, ...app.emulator.directory.counts() }, 'fixtures reloaded')
        } catch (error) {
          // e.g. a fixture scenario now clashing with one defined through the control API
          app.log.error(describeReloadFailure(error as Error))
        }
      },
      failed: (error) => app.log.error(describeReloadFailure(error))
    })
    app.addHook('onClose', async () => watcher.close())
  }
  await app.ready()
  return app
}
