// Runtime configuration: command-line flags (commander) over environment variables over defaults.
// Every value is checked here, so a bad flag stops start-up with a message naming it.
import { randomInt } from 'node:crypto'
import { join } from 'node:path'
import { Command, InvalidArgumentError, Option } from 'commander'
import type { SigningAlg } from '../core/fixture-schema.js'
import type { Profile } from '../core/context.js'
import { SIGNING_ALGS } from '../core/fixture-schema.js'
import { isSharedStoreUrl } from '../core/store.js'
import { DEFAULT_V2_RELEASE, V2_RELEASES, type V2Release } from '../core/camara-errors.js'
import { PACKAGE_ROOT } from '../package-root.js'

export const DEFAULT_FIXTURES = join(PACKAGE_ROOT, 'fixtures', 'default.json')

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export interface EmulatorConfig {
  port: number
  host: string
  /** Externally visible base URL; derived from host and port when absent */
  publicUrl: string | undefined
  fixtures: string[]
  seed: number
  accessTokenTtl: number
  codeTtl: number
  refreshTokenTtl: number
  signingAlg: SigningAlg
  signingKeyFile: string | undefined
  /** Honour X-Forwarded-For (true, a hop count, or a comma-separated list of proxy addresses) */
  trustProxy: boolean | number | string
  profile: Profile
  /** The Number Verification release /v2 speaks (a client's numberVerificationRelease overrides it) */
  nvV2Release: V2Release
  requirePurpose: boolean
  logLevel: LogLevel
  /** Serve the control API under /_emulator (health is always served) */
  admin: boolean
  /** When set, the control API requires `Authorization: Bearer <adminToken>` */
  adminToken: string | undefined
  /** Reload fixture files when they change */
  watch: boolean
  /** Live scenario activations at once (control API) */
  maxActivations: number
  /** Authorization requests waiting for their operator leg at once */
  maxPending: number
  /** Grants (a completed authorization, its code and tokens) live at once */
  maxGrants: number
  /** DPoP proof ids remembered at once (replay detection, for each token's lifetime) */
  maxDpopProofs: number
  /** Scenarios defined at runtime (control API) */
  maxRuntimeScenarios: number
  /** Ms a request body may take to arrive after its headers (408 in the surface's format); 0: no limit */
  bodyTimeout: number
  /** Ms for a whole request, headers and body (Node's requestTimeout, a bare 408); 0: no limit */
  requestTimeout: number
  /** Ms a connection may stay silent before it is closed (Node's socket timeout); 0: no limit */
  connectionTimeout: number
  /** Host names the control API answers to besides loopback and the public URL's; '*': any */
  allowedHosts: string[]
  /** Callers may pick scenarios (x-emulator-scenario header, emulator_scenario / konera_context at authorize) */
  userScenarios: boolean
  /** The authorization code flow takes login_hint=operatortoken: for a device on Wi-Fi (contested: ICM#232) */
  operatorTokenLoginHint: boolean
  /** CIBA: seconds a client must wait between polls (bc-authorize's interval) */
  cibaInterval: number
  /** CIBA: seconds an auth_req_id lives (bc-authorize's expires_in) */
  cibaExpiresIn: number
  /** Where state lives: 'memory' (this process) or a redis:// / rediss:// URL (Valkey, Redis 7+) */
  store: string
  /** Namespaces (/ns/<name>) live at once */
  maxNamespaces: number
  /** Seconds a namespace nobody uses lives on */
  namespaceIdle: number
  /**
   * OTLP/HTTP base endpoint (e.g. http://localhost:4318) spans are exported to, /v1/traces appended
   * as for OTEL_EXPORTER_OTLP_ENDPOINT; undefined: no tracing
   */
  otlpEndpoint: string | undefined
}

export const defaultConfig: EmulatorConfig = {
  port: 9091,
  host: '127.0.0.1',
  publicUrl: undefined,
  fixtures: [DEFAULT_FIXTURES],
  seed: 1,
  accessTokenTtl: 3600,
  codeTtl: 120,
  refreshTokenTtl: 30 * 24 * 3600,
  signingAlg: 'RS256',
  signingKeyFile: undefined,
  trustProxy: false,
  profile: 'default',
  nvV2Release: DEFAULT_V2_RELEASE,
  requirePurpose: true,
  logLevel: 'info',
  admin: true,
  adminToken: undefined,
  watch: false,
  maxActivations: 1000,
  maxPending: 10_000,
  maxGrants: 100_000,
  maxDpopProofs: 100_000,
  maxRuntimeScenarios: 1000,
  bodyTimeout: 10_000,
  requestTimeout: 30_000,
  connectionTimeout: 120_000,
  allowedHosts: [],
  userScenarios: true,
  operatorTokenLoginHint: false,
  cibaInterval: 5,
  cibaExpiresIn: 120,
  store: 'memory',
  maxNamespaces: 100,
  namespaceIdle: 3600,
  otlpEndpoint: undefined
}

function integer (name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`)
    const parsed = Number(value)
    if (parsed < min || parsed > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`)
    }
    return parsed
  }
}

function url (value: string): string {
  try {
    const parsed = new URL(value)
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('protocol')
    return value
  } catch {
    throw new InvalidArgumentError('must be an absolute http(s) URL, e.g. http://localhost:9091')
  }
}

/**
 * The OTLP/HTTP base endpoint, as OTEL_EXPORTER_OTLP_ENDPOINT: the signal's path is appended, so a
 * URL already naming the traces path would post to .../v1/traces/v1/traces, which collectors
 * answer 404 to (a silent loss): refused here instead
 */
function otlpEndpoint (value: string): string {
  const trimmed = value.trim()
  let parsed: URL
  try {
    parsed = new URL(trimmed)
  } catch {
    throw new InvalidArgumentError('must be an absolute http(s) URL, the OTLP/HTTP base endpoint, e.g. http://localhost:4318')
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidArgumentError('must be an absolute http(s) URL, the OTLP/HTTP base endpoint, e.g. http://localhost:4318')
  }
  if (/\/v1\/traces\/?$/.test(parsed.pathname)) {
    throw new InvalidArgumentError('is the base endpoint, without /v1/traces (appended), e.g. http://localhost:4318')
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    throw new InvalidArgumentError('must have no query or fragment (/v1/traces is appended to its path)')
  }
  return trimmed
}

function storeUrl (value: string): string {
  const trimmed = value.trim()
  if (trimmed === 'memory' || isSharedStoreUrl(trimmed)) return trimmed
  throw new InvalidArgumentError('must be memory, or a Valkey / Redis URL: redis://host:port[/db] or rediss://host:port[/db]')
}

function hostNames (value: string): string[] {
  const names = value.split(',').map((name) => name.trim()).filter((name) => name !== '')
  for (const name of names) {
    if (name !== '*' && !/^(\[[0-9a-fA-F:.]+\]|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*|[A-Za-z0-9_.-]+)$/.test(name)) {
      throw new InvalidArgumentError(`"${name}" is not a host name (no scheme, port or path: e.g. emulator,10.0.0.5)`)
    }
  }
  return names
}

function trustProxy (value: string): boolean | number | string {
  if (value === 'true') return true
  // An empty TRUST_PROXY= (as compose files write an unset one) means no proxy
  if (value === 'false' || value.trim() === '') return false
  if (/^\d+$/.test(value)) return Number(value)
  return value
}

export function buildCommand (version: string): Command {
  return new Command('camara-nv-emulator')
    .description('Offline emulator of a CAMARA Number Verification gateway and the mobile operators behind it')
    .version(version, '-v, --version')
    .addOption(new Option('-p, --port <port>', 'port to listen on')
      .env('PORT').argParser(integer('--port', 0, 65535)).default(defaultConfig.port))
    .addOption(new Option('-H, --host <host>', 'address to listen on (0.0.0.0 in containers)')
      .env('HOST').default(defaultConfig.host))
    .addOption(new Option('--public-url <url>', 'externally visible base URL for the issuer, discovery and redirects')
      .env('PUBLIC_URL').argParser(url))
    .addOption(new Option('-f, --fixtures <files>', 'comma-separated fixture files, merged in order')
      .env('FIXTURES').default(defaultConfig.fixtures.join(','), 'fixtures/default.json'))
    .addOption(new Option('--seed <n>',
      'seed of every random choice, for replayable runs (default: random, printed at start)')
      .env('SEED').argParser(integer('--seed', 0, 2 ** 32 - 1)))
    .addOption(new Option('--access-token-ttl <seconds>', 'access token lifetime')
      .env('ACCESS_TOKEN_TTL')
      .argParser(integer('--access-token-ttl', 1, 31_536_000)).default(defaultConfig.accessTokenTtl))
    .addOption(new Option('--code-ttl <seconds>', 'authorization code lifetime')
      .env('CODE_TTL').argParser(integer('--code-ttl', 1, 3600)).default(defaultConfig.codeTtl))
    .addOption(new Option('--refresh-token-ttl <seconds>', 'refresh token lifetime')
      .env('REFRESH_TOKEN_TTL')
      .argParser(integer('--refresh-token-ttl', 1, 31_536_000)).default(defaultConfig.refreshTokenTtl))
    .addOption(new Option('--signing-alg <alg>', 'id_token signing algorithm')
      .env('SIGNING_ALG').choices(SIGNING_ALGS).default(defaultConfig.signingAlg))
    .addOption(new Option('--signing-key <file>', 'private JWK file to sign with (default: a key generated at start)')
      .env('SIGNING_KEY'))
    .addOption(new Option('--trust-proxy <value>', 'honour X-Forwarded-For: true, a hop count, or proxy addresses')
      .env('TRUST_PROXY').argParser(trustProxy).default(false))
    .addOption(new Option('--profile <profile>', 'token rules: default (the aggregator) or camara-strict')
      .env('PROFILE').choices(['default', 'camara-strict']).default(defaultConfig.profile))
    .addOption(new Option('--nv-v2-release <release>',
      'the Number Verification release /v2 paths speak: 2.0.0 (r2.4) or 2.1.0 (r3.2)')
      .env('NV_V2_RELEASE').choices(V2_RELEASES).default(defaultConfig.nvV2Release))
    .addOption(new Option('--no-require-purpose', 'accept authorization requests without a dpv: purpose scope'))
    .addOption(new Option('--log-level <level>', 'log level')
      .env('LOG_LEVEL')
      .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default(defaultConfig.logLevel))
    .addOption(new Option('--admin-token <token>', 'require this bearer token on the control API (/_emulator)')
      .env('ADMIN_TOKEN'))
    .addOption(new Option('--no-admin', 'switch the control API off (health stays)'))
    .addOption(new Option('--allowed-hosts <names>', 'comma-separated host names the control API answers to besides ' +
      'localhost, 127.0.0.1, [::1] and the --public-url host (* for any)').env('ALLOWED_HOSTS').argParser(hostNames))
    .addOption(new Option('--body-timeout <ms>', 'how long a request body may take after its headers (0: no limit)')
      .env('BODY_TIMEOUT')
      .argParser(integer('--body-timeout', 0, 3_600_000)).default(defaultConfig.bodyTimeout))
    .addOption(new Option('--request-timeout <ms>', 'how long a whole request may take to arrive (0: no limit)')
      .env('REQUEST_TIMEOUT')
      .argParser(integer('--request-timeout', 0, 3_600_000)).default(defaultConfig.requestTimeout))
    .addOption(new Option('--connection-timeout <ms>', 'how long a connection may stay silent (0: no limit)')
      .env('CONNECTION_TIMEOUT')
      .argParser(integer('--connection-timeout', 0, 3_600_000)).default(defaultConfig.connectionTimeout))
    .addOption(new Option('--no-user-scenarios', 'ignore scenarios picked by callers (x-emulator-scenario, ' +
      'emulator_scenario; env USER_SCENARIOS=false), for shared demos'))
    .addOption(new Option('--max-activations <n>', 'live scenario activations at once').env('MAX_ACTIVATIONS')
      .argParser(integer('--max-activations', 0, 1_000_000)).default(defaultConfig.maxActivations))
    .addOption(new Option('--max-namespaces <n>',
      'namespaces (/ns/<name>, PUT /_emulator/namespaces/<name>) live at once')
      .env('MAX_NAMESPACES').argParser(integer('--max-namespaces', 1, 100_000)).default(defaultConfig.maxNamespaces))
    .addOption(new Option('--namespace-idle <seconds>', 'how long a namespace nobody uses lives on')
      .env('NAMESPACE_IDLE')
      .argParser(integer('--namespace-idle', 1, 30 * 24 * 3600)).default(defaultConfig.namespaceIdle))
    .addOption(new Option('--max-pending <n>', 'authorization requests waiting for their operator leg at once')
      .env('MAX_PENDING').argParser(integer('--max-pending', 1, 10_000_000)).default(defaultConfig.maxPending))
    .addOption(new Option('--max-grants <n>', 'live grants (completed authorizations with their code or tokens)')
      .env('MAX_GRANTS').argParser(integer('--max-grants', 1, 10_000_000)).default(defaultConfig.maxGrants))
    .addOption(new Option('--max-dpop-proofs <n>', 'DPoP proof ids remembered for replay detection (each for its ' +
      'token\'s lifetime)')
      .env('MAX_DPOP_PROOFS').argParser(integer('--max-dpop-proofs', 1, 10_000_000))
      .default(defaultConfig.maxDpopProofs))
    .addOption(new Option('--max-runtime-scenarios <n>', 'scenarios defined through the control API')
      .env('MAX_RUNTIME_SCENARIOS')
      .argParser(integer('--max-runtime-scenarios', 0, 1_000_000)).default(defaultConfig.maxRuntimeScenarios))
    .addOption(new Option('--operator-token-login-hint', 'the authorization code flow authenticates a device ' +
      'on Wi-Fi by login_hint=operatortoken:<token> ' +
      '(SIM-based; contested in CAMARA, ICM#232; env OPERATOR_TOKEN_LOGIN_HINT=true)'))
    .addOption(new Option('--ciba-interval <seconds>', 'CIBA: seconds a client must wait between polls ' +
      '(bc-authorize\'s interval; a sooner poll is slow_down)')
      .env('CIBA_INTERVAL').argParser(integer('--ciba-interval', 1, 3600)).default(defaultConfig.cibaInterval))
    .addOption(new Option('--ciba-expires-in <seconds>', 'CIBA: seconds an auth_req_id lives ' +
      '(bc-authorize\'s expires_in; then expired_token)')
      .env('CIBA_EXPIRES_IN').argParser(integer('--ciba-expires-in', 1, 86_400)).default(defaultConfig.cibaExpiresIn))
    // WATCH is read by parseConfig: commander sets a flag from any value of its variable, WATCH=false included
    .addOption(new Option('-w, --watch', 'reload fixture files when they change (env WATCH=true)'))
    .addOption(new Option('--store <url>', 'where state lives: memory, or redis://host:port[/db] / rediss://... ' +
      '(Valkey or Redis 7+, shared by replicas)').env('STORE_URL').argParser(storeUrl).default(defaultConfig.store))
    .addOption(new Option('--otlp-endpoint <url>', 'export a span per request over OTLP/HTTP to this base endpoint ' +
      '(/v1/traces appended), e.g. http://localhost:4318 (default: no tracing)').env('OTLP_ENDPOINT').argParser(otlpEndpoint))
    .showHelpAfterError()
}

/** Parses argv (without node and script) and the environment into a checked configuration */
export function parseConfig (argv: string[], env: NodeJS.ProcessEnv, version = '0.0.0'): EmulatorConfig {
  const command = buildCommand(version).exitOverride()
  // commander reads process.env for .env(); give it the environment we were handed
  const saved = process.env
  // An empty variable (PUBLIC_URL= in a compose file) is an unset one; FIXTURES= names no file and
  // is refused below with its own message
  process.env = Object.fromEntries(
    Object.entries(env).filter(([name, value]) => name === 'FIXTURES' || value?.trim() !== '')
  )
  try {
    command.parse(argv, { from: 'user' })
  } finally {
    process.env = saved
  }
  const options = command.opts()
  /** A true/false environment variable; unset or empty is undefined, anything else stops start-up */
  const flag = (name: string): boolean | undefined => {
    const value = env[name]?.trim().toLowerCase()
    if (value === undefined || value === '') return undefined
    if (value === 'true' || value === '1') return true
    if (value === 'false' || value === '0') return false
    return command.error(
      `error: environment variable ${name} must be true or false, got "${env[name] ?? ''}"`,
      { code: 'commander.invalidArgument' }
    )
  }
  const fixtures = (options.fixtures as string).split(',').map((f) => f.trim()).filter((f) => f !== '')
  if (fixtures.length === 0) {
    command.error('error: --fixtures (FIXTURES) must name at least one fixture file', {
      code: 'commander.invalidArgument'
    })
  }
  const bodyTimeout = options.bodyTimeout as number
  const requestTimeout = options.requestTimeout as number
  // Node's bare 408 would otherwise come first, instead of the answer in the surface's format
  if (bodyTimeout > 0 && requestTimeout > 0 && bodyTimeout >= requestTimeout) {
    command.error(`error: --body-timeout (${bodyTimeout}) must be below --request-timeout (${requestTimeout}), or 0`,
      { code: 'commander.invalidArgument' })
  }
  return {
    port: options.port as number,
    host: options.host as string,
    publicUrl: options.publicUrl as string | undefined,
    fixtures,
    seed: (options.seed as number | undefined) ?? randomInt(0, 2 ** 32 - 1),
    accessTokenTtl: options.accessTokenTtl as number,
    codeTtl: options.codeTtl as number,
    refreshTokenTtl: options.refreshTokenTtl as number,
    signingAlg: options.signingAlg as SigningAlg,
    signingKeyFile: options.signingKey as string | undefined,
    trustProxy: options.trustProxy as boolean | number | string,
    profile: options.profile as Profile,
    nvV2Release: options.nvV2Release as V2Release,
    requirePurpose: options.requirePurpose as boolean,
    logLevel: options.logLevel as LogLevel,
    admin: (options.admin as boolean) && flag('ADMIN') !== false,
    adminToken: options.adminToken as string | undefined,
    watch: options.watch === true || flag('WATCH') === true,
    maxActivations: options.maxActivations as number,
    maxRuntimeScenarios: options.maxRuntimeScenarios as number,
    maxPending: options.maxPending as number,
    maxNamespaces: options.maxNamespaces as number,
    namespaceIdle: options.namespaceIdle as number,
    maxGrants: options.maxGrants as number,
    maxDpopProofs: options.maxDpopProofs as number,
    bodyTimeout,
    requestTimeout,
    connectionTimeout: options.connectionTimeout as number,
    allowedHosts: (options.allowedHosts as string[] | undefined) ?? [],
    userScenarios: (options.userScenarios as boolean) && flag('USER_SCENARIOS') !== false,
    operatorTokenLoginHint: options.operatorTokenLoginHint === true || flag('OPERATOR_TOKEN_LOGIN_HINT') === true,
    cibaInterval: options.cibaInterval as number,
    cibaExpiresIn: options.cibaExpiresIn as number,
    store: options.store as string,
    otlpEndpoint: options.otlpEndpoint as string | undefined
  }
}

/** The base URL the emulator tells clients about */
export function resolvePublicUrl (config: Pick<EmulatorConfig, 'publicUrl' | 'host' | 'port'>): string {
  if (config.publicUrl !== undefined) return config.publicUrl
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`
}
