import t, { type Test } from 'tap'
import { CommanderError } from 'commander'
import {
  DEFAULT_FIXTURES, defaultConfig, parseConfig, resolvePublicUrl, type EmulatorConfig
} from '../../src/config/config.js'

/** Runs parseConfig, expecting commander to stop it (it would exit the process without exitOverride) */
function refusal (
  t: Test, argv: string[], env: NodeJS.ProcessEnv = {}
): { code: string, exitCode: number, stderr: string, stdout: string } {
  const stderr = t.capture(process.stderr, 'write', () => true)
  const stdout = t.capture(process.stdout, 'write', () => true)
  try {
    parseConfig(argv, env, '1.2.3')
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error
    const text = (calls: Array<{ args: unknown[] }>): string => calls.map((call) => String(call.args[0])).join('')
    const result = {
      code: error.code, exitCode: error.exitCode, stderr: text(stderr.calls), stdout: text(stdout.calls)
    }
    stderr.restore()
    stdout.restore()
    return result
  }
  throw new Error(`expected ${JSON.stringify(argv)} to be refused`)
}

/** A config with its seed fixed, for exact comparison */
function withoutSeed (config: EmulatorConfig): EmulatorConfig {
  return { ...config, seed: -1 }
}

const EVERY_ENV: NodeJS.ProcessEnv = {
  PORT: '8080',
  HOST: '0.0.0.0',
  PUBLIC_URL: 'https://nv.example.com/base',
  FIXTURES: 'a.json, b.json,',
  SEED: '42',
  ACCESS_TOKEN_TTL: '600',
  CODE_TTL: '30',
  REFRESH_TOKEN_TTL: '86400',
  SIGNING_ALG: 'ES256',
  SIGNING_KEY: 'keys/signing.json',
  TRUST_PROXY: '10.0.0.1,10.0.0.2',
  PROFILE: 'camara-strict',
  LOG_LEVEL: 'warn',
  ADMIN_TOKEN: 'env-token',
  WATCH: 'true',
  MAX_ACTIVATIONS: '50',
  MAX_RUNTIME_SCENARIOS: '0',
  MAX_PENDING: '500',
  MAX_GRANTS: '2000',
  MAX_DPOP_PROOFS: '3000',
  CIBA_INTERVAL: '2',
  CIBA_EXPIRES_IN: '60',
  BODY_TIMEOUT: '0',
  REQUEST_TIMEOUT: '60000',
  CONNECTION_TIMEOUT: '0',
  ALLOWED_HOSTS: 'emulator, 10.0.0.5,',
  USER_SCENARIOS: 'false',
  OPERATOR_TOKEN_LOGIN_HINT: 'true',
  STORE_URL: 'redis://valkey:6379/2',
  MAX_NAMESPACES: '7',
  NAMESPACE_IDLE: '120',
  NV_V2_RELEASE: '2.0.0',
  OTLP_ENDPOINT: 'http://collector:4318'
}

const FROM_ENV: EmulatorConfig = {
  port: 8080,
  host: '0.0.0.0',
  publicUrl: 'https://nv.example.com/base',
  fixtures: ['a.json', 'b.json'],
  seed: 42,
  accessTokenTtl: 600,
  codeTtl: 30,
  refreshTokenTtl: 86400,
  signingAlg: 'ES256',
  signingKeyFile: 'keys/signing.json',
  trustProxy: '10.0.0.1,10.0.0.2',
  profile: 'camara-strict',
  requirePurpose: true,
  logLevel: 'warn',
  admin: true,
  adminToken: 'env-token',
  watch: true,
  maxActivations: 50,
  maxRuntimeScenarios: 0,
  maxPending: 500,
  maxGrants: 2000,
  maxDpopProofs: 3000,
  cibaInterval: 2,
  cibaExpiresIn: 60,
  bodyTimeout: 0,
  requestTimeout: 60000,
  connectionTimeout: 0,
  allowedHosts: ['emulator', '10.0.0.5'],
  userScenarios: false,
  operatorTokenLoginHint: true,
  store: 'redis://valkey:6379/2',
  maxNamespaces: 7,
  namespaceIdle: 120,
  nvV2Release: '2.0.0',
  otlpEndpoint: 'http://collector:4318'
}

t.test('without flags or environment every value is the default, and the seed is random', async (t) => {
  const config = parseConfig([], {})
  t.strictSame(withoutSeed(config), withoutSeed(defaultConfig))
  t.strictSame(config.fixtures, [DEFAULT_FIXTURES])
  t.ok(Number.isInteger(config.seed) && config.seed >= 0 && config.seed < 2 ** 32, `seed ${config.seed}`)
  t.equal(defaultConfig.port, 9091)
  t.equal(defaultConfig.host, '127.0.0.1')
})

t.test('environment variables set every value they name', async (t) => {
  t.strictSame(parseConfig([], EVERY_ENV), FROM_ENV)
})

t.test('flags win over environment variables', async (t) => {
  const argv = [
    '--port', '9000', '--host', '::', '--public-url', 'http://localhost:9000', '--fixtures', 'c.json', '--seed', '7',
    '--access-token-ttl', '60', '--code-ttl', '10', '--refresh-token-ttl', '120', '--signing-alg', 'EdDSA',
    '--signing-key', 'flag.json', '--trust-proxy', '2', '--profile', 'default', '--log-level', 'silent',
    '--admin-token', 'flag-token',
    '--max-activations', '7', '--max-runtime-scenarios', '8', '--body-timeout', '500', '--request-timeout', '501',
    '--connection-timeout', '9',
    '--allowed-hosts', '*', '--no-user-scenarios', '--max-pending', '11', '--max-grants', '12',
    '--max-dpop-proofs', '15', '--ciba-interval', '16', '--ciba-expires-in', '17', '--store', 'memory',
    '--max-namespaces', '13', '--namespace-idle', '14', '--nv-v2-release', '2.1.0',
    '--otlp-endpoint', 'https://otel.example.com/otlp'
  ]
  t.strictSame(parseConfig(argv, EVERY_ENV), {
    port: 9000,
    host: '::',
    publicUrl: 'http://localhost:9000',
    fixtures: ['c.json'],
    seed: 7,
    accessTokenTtl: 60,
    codeTtl: 10,
    refreshTokenTtl: 120,
    signingAlg: 'EdDSA',
    signingKeyFile: 'flag.json',
    trustProxy: 2,
    profile: 'default',
    requirePurpose: true,
    logLevel: 'silent',
    admin: true,
    adminToken: 'flag-token',
    watch: true,
    maxActivations: 7,
    maxRuntimeScenarios: 8,
    bodyTimeout: 500,
    requestTimeout: 501,
    connectionTimeout: 9,
    allowedHosts: ['*'],
    userScenarios: false,
    operatorTokenLoginHint: true,
    maxPending: 11,
    maxGrants: 12,
    maxDpopProofs: 15,
    cibaInterval: 16,
    cibaExpiresIn: 17,
    store: 'memory',
    maxNamespaces: 13,
    namespaceIdle: 14,
    nvV2Release: '2.1.0',
    otlpEndpoint: 'https://otel.example.com/otlp'
  })
})

t.test('short flags', async (t) => {
  const config = parseConfig(['-p', '0', '-H', '0.0.0.0', '-f', 'x.json,y.json', '-w'], {})
  t.strictSame([config.port, config.host, config.fixtures, config.watch], [0, '0.0.0.0', ['x.json', 'y.json'], true])
})

t.test('switches: --no-require-purpose, --no-admin and ADMIN, --watch and WATCH', async (t) => {
  t.equal(parseConfig(['--no-require-purpose'], {}).requirePurpose, false)
  t.equal(parseConfig(['--no-admin'], {}).admin, false)
  t.equal(parseConfig([], { ADMIN: 'false' }).admin, false)
  t.equal(parseConfig([], { ADMIN: '0' }).admin, false)
  t.equal(parseConfig([], { ADMIN: 'true' }).admin, true)
  t.equal(parseConfig([], { ADMIN: '' }).admin, true, 'empty is unset')
  const empty = parseConfig([], {
    PUBLIC_URL: '',
    PORT: ' ',
    SEED: '',
    STORE_URL: '',
    SIGNING_KEY: '',
    ADMIN_TOKEN: '',
    MAX_NAMESPACES: '',
    OTLP_ENDPOINT: ''
  })
  t.strictSame(withoutSeed(empty), withoutSeed(defaultConfig),
    'empty variables are unset ones: PUBLIC_URL= starts as without it')
  t.equal(parseConfig(['--no-admin'], { ADMIN: 'true' }).admin, false, 'the flag wins')
  t.equal(parseConfig([], { WATCH: 'TRUE' }).watch, true)
  t.equal(parseConfig([], { WATCH: '1' }).watch, true)
  t.equal(parseConfig([], { WATCH: 'false' }).watch, false, 'WATCH=false does not switch watching on')
  t.equal(parseConfig([], { WATCH: '0' }).watch, false)
  t.equal(parseConfig(['--watch'], { WATCH: 'false' }).watch, true, 'the flag wins')
  t.equal(parseConfig(['--no-user-scenarios'], {}).userScenarios, false)
  t.equal(parseConfig([], { USER_SCENARIOS: '0' }).userScenarios, false)
  t.equal(parseConfig([], {}).userScenarios, true)
  t.equal(parseConfig(['--operator-token-login-hint'], {}).operatorTokenLoginHint, true)
  t.equal(parseConfig([], {}).operatorTokenLoginHint, false, 'off unless asked: CAMARA contests it')
  t.equal(parseConfig(['--no-user-scenarios'], { USER_SCENARIOS: 'true' }).userScenarios, false, 'the flag wins')
})

t.test('--trust-proxy takes true, false, a hop count or proxy addresses', async (t) => {
  t.equal(parseConfig(['--trust-proxy', 'true'], {}).trustProxy, true)
  t.equal(parseConfig(['--trust-proxy', 'false'], {}).trustProxy, false)
  t.equal(parseConfig(['--trust-proxy', '1'], {}).trustProxy, 1)
  t.equal(parseConfig(['--trust-proxy', '127.0.0.1,::1'], {}).trustProxy, '127.0.0.1,::1')
  t.equal(parseConfig([], { TRUST_PROXY: '' }).trustProxy, false, 'an empty variable is no proxy')
})

t.test('--otlp-endpoint takes an http(s) base endpoint; unset, tracing is off', async (t) => {
  t.equal(parseConfig([], {}).otlpEndpoint, undefined)
  t.equal(parseConfig(['--otlp-endpoint', 'http://localhost:4318'], {}).otlpEndpoint, 'http://localhost:4318')
  t.equal(parseConfig([], { OTLP_ENDPOINT: ' https://otel.example.com/tenant-a/ ' }).otlpEndpoint, 'https://otel.example.com/tenant-a/', 'a path prefix is kept')
  t.equal(parseConfig([], { OTLP_ENDPOINT: ' ' }).otlpEndpoint, undefined, 'an empty variable is unset')
})

t.test('a zero time limit switches it off, so it never clashes with the other', async (t) => {
  t.strictSame(parseConfig(['--request-timeout', '0'], {}).requestTimeout, 0)
  t.strictSame(parseConfig(['--body-timeout', '0', '--request-timeout', '1'], {}).bodyTimeout, 0)
})

t.test('range limits are inclusive', async (t) => {
  t.equal(parseConfig(['--port', '65535'], {}).port, 65535)
  t.equal(parseConfig(['--seed', '0'], {}).seed, 0)
  t.equal(parseConfig(['--seed', '4294967295'], {}).seed, 4294967295)
  t.equal(parseConfig(['--code-ttl', '3600'], {}).codeTtl, 3600)
  t.equal(parseConfig(['--access-token-ttl', '1'], {}).accessTokenTtl, 1)
  t.equal(parseConfig(['--refresh-token-ttl', '31536000'], {}).refreshTokenTtl, 31536000)
})

t.test('invalid values are refused with a CommanderError naming the option, never a process exit', async (t) => {
  const cases: Array<[string[], NodeJS.ProcessEnv, string, string]> = [
    [['--port', 'abc'], {}, 'commander.invalidArgument',
      "error: option '-p, --port <port>' argument 'abc' is invalid. --port must be a whole number from 0 to 65535"],
    [['--port', '65536'], {}, 'commander.invalidArgument',
      "error: option '-p, --port <port>' argument '65536' is invalid. --port must be a whole number from 0 to 65535"],
    [['--port', '80.5'], {}, 'commander.invalidArgument',
      "error: option '-p, --port <port>' argument '80.5' is invalid. --port must be a whole number from 0 to 65535"],
    [[], { PORT: 'http' }, 'commander.invalidArgument',
      "error: option '-p, --port <port>' value 'http' from env 'PORT' is invalid. " +
      '--port must be a whole number from 0 to 65535'],
    [['--seed', '4294967296'], {}, 'commander.invalidArgument',
      "error: option '--seed <n>' argument '4294967296' is invalid. " +
      '--seed must be a whole number from 0 to 4294967295'],
    [['--access-token-ttl', '0'], {}, 'commander.invalidArgument',
      "error: option '--access-token-ttl <seconds>' argument '0' is invalid. " +
      '--access-token-ttl must be a whole number from 1 to 31536000'],
    [['--code-ttl', '3601'], {}, 'commander.invalidArgument',
      "error: option '--code-ttl <seconds>' argument '3601' is invalid. " +
      '--code-ttl must be a whole number from 1 to 3600'],
    [[], { REFRESH_TOKEN_TTL: '-5' }, 'commander.invalidArgument',
      "error: option '--refresh-token-ttl <seconds>' value '-5' from env 'REFRESH_TOKEN_TTL' is invalid. " +
      '--refresh-token-ttl must be a whole number from 1 to 31536000'],
    [['--signing-alg', 'HS256'], {}, 'commander.invalidArgument',
      "error: option '--signing-alg <alg>' argument 'HS256' is invalid. " +
      'Allowed choices are RS256, PS256, ES256, EdDSA.'],
    [['--profile', 'strict'], {}, 'commander.invalidArgument',
      "error: option '--profile <profile>' argument 'strict' is invalid. Allowed choices are default, camara-strict."],
    [[], { LOG_LEVEL: 'verbose' }, 'commander.invalidArgument',
      "error: option '--log-level <level>' value 'verbose' from env 'LOG_LEVEL' is invalid. " +
      'Allowed choices are fatal, error, warn, info, debug, trace, silent.'],
    [[], { NV_V2_RELEASE: '3.0.0' }, 'commander.invalidArgument',
      "error: option '--nv-v2-release <release>' value '3.0.0' from env 'NV_V2_RELEASE' is invalid. " +
      'Allowed choices are 2.0.0, 2.1.0.'],
    [['--public-url', 'ftp://files.example'], {}, 'commander.invalidArgument',
      "error: option '--public-url <url>' argument 'ftp://files.example' is invalid. " +
      'must be an absolute http(s) URL, e.g. http://localhost:9091'],
    [['--public-url', 'localhost:9091'], {}, 'commander.invalidArgument',
      "error: option '--public-url <url>' argument 'localhost:9091' is invalid. " +
      'must be an absolute http(s) URL, e.g. http://localhost:9091'],
    [['--store', 'valkey:6379'], {}, 'commander.invalidArgument',
      "error: option '--store <url>' argument 'valkey:6379' is invalid. " +
      'must be memory, or a Valkey / Redis URL: redis://host:port[/db] or rediss://host:port[/db]'],
    [[], { STORE_URL: 'http://valkey:6379' }, 'commander.invalidArgument',
      "error: option '--store <url>' value 'http://valkey:6379' from env 'STORE_URL' is invalid. " +
      'must be memory, or a Valkey / Redis URL: redis://host:port[/db] or rediss://host:port[/db]'],
    [['--store', 'redis://'], {}, 'commander.invalidArgument',
      "error: option '--store <url>' argument 'redis://' is invalid. " +
      'must be memory, or a Valkey / Redis URL: redis://host:port[/db] or rediss://host:port[/db]'],
    [['--otlp-endpoint', 'grpc://collector:4317'], {}, 'commander.invalidArgument',
      "error: option '--otlp-endpoint <url>' argument 'grpc://collector:4317' is invalid. " +
      'must be an absolute http(s) URL, the OTLP/HTTP base endpoint, e.g. http://localhost:4318'],
    [[], { OTLP_ENDPOINT: 'collector:4318' }, 'commander.invalidArgument',
      "error: option '--otlp-endpoint <url>' value 'collector:4318' from env 'OTLP_ENDPOINT' is invalid. " +
      'must be an absolute http(s) URL, the OTLP/HTTP base endpoint, e.g. http://localhost:4318'],
    [['--otlp-endpoint', 'not a url'], {}, 'commander.invalidArgument',
      "error: option '--otlp-endpoint <url>' argument 'not a url' is invalid. " +
      'must be an absolute http(s) URL, the OTLP/HTTP base endpoint, e.g. http://localhost:4318'],
    [['--otlp-endpoint', 'http://collector:4318/v1/traces'], {}, 'commander.invalidArgument',
      "error: option '--otlp-endpoint <url>' argument 'http://collector:4318/v1/traces' is invalid. " +
      'is the base endpoint, without /v1/traces (appended), e.g. http://localhost:4318'],
    [['--otlp-endpoint', 'http://collector:4318/?tenant=a'], {}, 'commander.invalidArgument',
      "error: option '--otlp-endpoint <url>' argument 'http://collector:4318/?tenant=a' is invalid. " +
      'must have no query or fragment (/v1/traces is appended to its path)'],
    [['--fixtures', ' , '], {}, 'commander.invalidArgument',
      'error: --fixtures (FIXTURES) must name at least one fixture file'],
    [[], { FIXTURES: '' }, 'commander.invalidArgument',
      'error: --fixtures (FIXTURES) must name at least one fixture file'],
    [[], { WATCH: 'yes' }, 'commander.invalidArgument',
      'error: environment variable WATCH must be true or false, got "yes"'],
    [[], { ADMIN: 'off' }, 'commander.invalidArgument',
      'error: environment variable ADMIN must be true or false, got "off"'],
    [['--max-activations', '-1'], {}, 'commander.invalidArgument',
      "error: option '--max-activations <n>' argument '-1' is invalid. " +
      '--max-activations must be a whole number from 0 to 1000000'],
    [[], { MAX_RUNTIME_SCENARIOS: 'lots' }, 'commander.invalidArgument',
      "error: option '--max-runtime-scenarios <n>' value 'lots' from env 'MAX_RUNTIME_SCENARIOS' is invalid. " +
      '--max-runtime-scenarios must be a whole number from 0 to 1000000'],
    [['--ciba-interval', '0'], {}, 'commander.invalidArgument',
      "error: option '--ciba-interval <seconds>' argument '0' is invalid. " +
      '--ciba-interval must be a whole number from 1 to 3600'],
    [[], { CIBA_EXPIRES_IN: '1.5' }, 'commander.invalidArgument',
      "error: option '--ciba-expires-in <seconds>' value '1.5' from env 'CIBA_EXPIRES_IN' is invalid. " +
      '--ciba-expires-in must be a whole number from 1 to 86400'],
    [['--max-dpop-proofs', '0'], {}, 'commander.invalidArgument',
      "error: option '--max-dpop-proofs <n>' argument '0' is invalid. " +
      '--max-dpop-proofs must be a whole number from 1 to 10000000'],
    [['--body-timeout', '30000'], {}, 'commander.invalidArgument',
      'error: --body-timeout (30000) must be below --request-timeout (30000), or 0'],
    [[], { REQUEST_TIMEOUT: '5000' }, 'commander.invalidArgument',
      'error: --body-timeout (10000) must be below --request-timeout (5000), or 0'],
    [[], { CONNECTION_TIMEOUT: '1.5' }, 'commander.invalidArgument',
      "error: option '--connection-timeout <ms>' value '1.5' from env 'CONNECTION_TIMEOUT' is invalid. " +
      '--connection-timeout must be a whole number from 0 to 3600000'],
    [['--allowed-hosts', 'http://emulator'], {}, 'commander.invalidArgument',
      "error: option '--allowed-hosts <names>' argument 'http://emulator' is invalid. " +
      '"http://emulator" is not a host name (no scheme, port or path: e.g. emulator,10.0.0.5)'],
    [[], { ALLOWED_HOSTS: 'emulator:9091' }, 'commander.invalidArgument',
      "error: option '--allowed-hosts <names>' value 'emulator:9091' from env 'ALLOWED_HOSTS' is invalid. " +
      '"emulator:9091" is not a host name (no scheme, port or path: e.g. emulator,10.0.0.5)'],
    [['--bogus'], {}, 'commander.unknownOption', "error: unknown option '--bogus'"],
    [['--port'], {}, 'commander.optionMissingArgument', "error: option '-p, --port <port>' argument missing"],
    [['extra'], {}, 'commander.excessArguments', 'error: too many arguments. Expected 0 arguments but got 1.']
  ]
  for (const [argv, env, code, message] of cases) {
    const result = refusal(t, argv, env)
    t.strictSame(
      { code: result.code, exitCode: result.exitCode, firstLine: result.stderr.split('\n')[0] },
      { code, exitCode: 1, firstLine: message },
      `${argv.join(' ')} ${JSON.stringify(env)}`
    )
    t.match(result.stderr, /Usage: camara-nv-emulator \[options\]/, 'help follows the error')
  }
})

t.test('--version and --help stop parsing with exit code 0', async (t) => {
  t.strictSame(refusal(t, ['--version']), { code: 'commander.version', exitCode: 0, stderr: '', stdout: '1.2.3\n' })
  t.strictSame(refusal(t, ['-v']), { code: 'commander.version', exitCode: 0, stderr: '', stdout: '1.2.3\n' })
  const help = refusal(t, ['--help'])
  t.strictSame([help.code, help.exitCode], ['commander.helpDisplayed', 0])
  t.match(help.stdout, /--public-url <url>/)
})

t.test('the process environment is left as it was, after success or failure', async (t) => {
  const before = process.env
  parseConfig([], { PORT: '1234' })
  t.equal(process.env, before)
  refusal(t, [], { PORT: 'nope' })
  t.equal(process.env, before)
  t.equal(parseConfig([], {}).port, 9091, 'the environment handed in is the only one read')
})

t.test('resolvePublicUrl', async (t) => {
  t.equal(resolvePublicUrl({ publicUrl: 'https://nv.example.com', host: '0.0.0.0', port: 9091 }), 'https://nv.example.com', 'given wins')
  t.equal(resolvePublicUrl({ publicUrl: undefined, host: '127.0.0.1', port: 9091 }), 'http://127.0.0.1:9091')
  t.equal(resolvePublicUrl({ publicUrl: undefined, host: '0.0.0.0', port: 8080 }), 'http://localhost:8080', 'a wildcard host is not reachable')
  t.equal(resolvePublicUrl({ publicUrl: undefined, host: '::', port: 8080 }), 'http://localhost:8080')
  t.equal(resolvePublicUrl({ publicUrl: undefined, host: '::1', port: 9091 }), 'http://[::1]:9091', 'IPv6 literals in brackets')
  t.equal(resolvePublicUrl({ publicUrl: undefined, host: 'emulator', port: 9091 }), 'http://emulator:9091')
})
