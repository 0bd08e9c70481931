// The command line as users run it: `node dist/server.js` (the package's bin, `npm start` and the
// container's ENTRYPOINT) from the packed package, as a real process with real signals.
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { tempDir } from '../helpers/temp-dir.js'
import { listeningAddress, probePort, startProcess, type RunningProcess } from './child-process.js'
import { freePort } from '../../bench/lib/processes.js'
import { packedPackage } from './packed-package.js'

// Packing (first run) and a dozen process starts take longer than tap's default 30 s
t.setTimeout(180_000)

const pkg = await packedPackage()
const SERVER = join(pkg.root, 'dist', 'server.js')
const defaultFixtures = join(pkg.root, 'fixtures', 'default.json')
const counts = (({ operators, clients, subscribers }) => ({
  operators: operators.length,
  clients: clients.length,
  subscribers: subscribers.length
}))(JSON.parse(readFileSync(defaultFixtures, 'utf8')) as {
  operators: unknown[]
  clients: unknown[]
  subscribers: unknown[]
})

function runCli (t: Test, args: string[]): RunningProcess {
  const cli = startProcess(process.execPath, [SERVER, ...args], { cwd: pkg.root })
  t.teardown(cli.kill)
  return cli
}

t.test('--help prints the usage with every flag on stdout and exits 0', async (t) => {
  const cli = runCli(t, ['--help'])
  t.same(await cli.exited, { code: 0, signal: null })
  t.equal(cli.stderr(), '')
  t.match(cli.stdout(), /^Usage: camara-nv-emulator \[options\]\n/)
  for (const flag of ['-v, --version', '-p, --port <port>', '-H, --host <host>', '--public-url <url>',
    '-f, --fixtures <files>', '--seed <n>', '--access-token-ttl <seconds>', '--code-ttl <seconds>',
    '--refresh-token-ttl <seconds>', '--signing-alg <alg>', '--signing-key <file>', '--trust-proxy <value>',
    '--profile <profile>', '--no-require-purpose', '--log-level <level>', '--admin-token <token>', '--no-admin',
    '-w, --watch', '-h, --help']) {
    t.ok(cli.stdout().includes(`\n  ${flag} `), `lists ${flag}`)
  }
})

t.test('--version and -v print the package version alone and exit 0', async (t) => {
  for (const flag of ['--version', '-v']) {
    const cli = runCli(t, [flag])
    t.same(await cli.exited, { code: 0, signal: null })
    t.same({ stdout: cli.stdout(), stderr: cli.stderr() }, { stdout: `${pkg.version}\n`, stderr: '' }, flag)
  }
})

t.test('a bad flag exits 1 with the error first on stderr, the usage after it, and nothing on stdout', async (t) => {
  const cases: Array<[string[], string]> = [
    [['--bogus'], "error: unknown option '--bogus'"],
    [['--port', '70000'],
      "error: option '-p, --port <port>' argument '70000' is invalid. --port must be a whole number from 0 to 65535"],
    [['--profile', 'strict'],
      "error: option '--profile <profile>' argument 'strict' is invalid. Allowed choices are default, camara-strict."]
  ]
  for (const [args, message] of cases) {
    const cli = runCli(t, args)
    t.same(await cli.exited, { code: 1, signal: null }, args.join(' '))
    t.equal(cli.stdout(), '', `${args.join(' ')}: nothing on stdout`)
    t.equal(cli.stderr().split('\n')[0], message)
    t.match(cli.stderr(), /\nUsage: camara-nv-emulator \[options\]\n/)
  }
})

t.test('bad fixtures exit 1 naming the file, the JSON path and the rule, and nothing listens', async (t) => {
  const dir = tempDir(t, 'nv-cli-fixtures-')
  const badNumber = join(dir, 'bad-number.json')
  writeFileSync(badNumber, JSON.stringify({
    operators: [{ id: 'op', name: 'Op', numberPrefixes: ['+44'], ipRanges: [] }],
    clients: [],
    subscribers: [{ msisdn: '0044', operator: 'op', connection: 'mobile-data' }]
  }))
  const unknownOperator = join(dir, 'unknown-operator.json')
  writeFileSync(unknownOperator, JSON.stringify({
    operators: [],
    clients: [],
    subscribers: [{ msisdn: '+447700900001', operator: 'nope', connection: 'mobile-data' }]
  }))
  const notJson = join(dir, 'not-json.json')
  writeFileSync(notJson, '{ "operators": [')
  const cases: Array<[string, string]> = [
    [badNumber, `${badNumber}: $.subscribers[0].msisdn: must match pattern ^\\+[1-9][0-9]{4,14}$`],
    [unknownOperator, `${unknownOperator}: $.subscribers[0].operator: unknown operator "nope"; known: none`],
    [notJson, `${notJson}: $: is not valid JSON (`],
    [join(dir, 'missing.json'), `${join(dir, 'missing.json')}: $: cannot be read (ENOENT)`]
  ]
  // Side by side: each start is a whole process
  const runs = await Promise.all(cases.map(async ([file, message]) => {
    const port = await freePort()
    const cli = runCli(t, ['--port', String(port), '--fixtures', file])
    return { file, message, port, cli, exit: await cli.exited }
  }))
  for (const { file, message, port, cli, exit } of runs) {
    t.same(exit, { code: 1, signal: null }, file)
    t.ok(cli.stderr().startsWith(`camara-nv-emulator: invalid fixtures: ${message}`),
      `stderr names the file, path and rule: ${cli.stderr()}`)
    t.equal(cli.stderr().split('\n').length, 2, 'one line')
    t.equal(cli.stdout(), '', 'no banner, no log line')
    t.equal(await probePort(port), 'ECONNREFUSED', 'nothing was left listening')
  }
})

t.test('a port in use exits 1 saying so and how to pick another', async (t) => {
  const blocker = createServer().listen(0, '127.0.0.1')
  await once(blocker, 'listening')
  t.teardown(() => blocker.close())
  const { port } = blocker.address() as { port: number }
  const cli = runCli(t, ['--port', String(port)])
  t.same(await cli.exited, { code: 1, signal: null })
  t.equal(cli.stderr(), `camara-nv-emulator: port ${port} on 127.0.0.1 is already in use (use --port or PORT)\n`)
})

t.test('--port 0 prints the URLs of the port it really got, and they answer', async (t) => {
  const cli = runCli(t, ['--port', '0', '--seed', '7'])
  const address = await listeningAddress(cli)
  await cli.waitForOutput(/ {2}fixtures .*\n/)
  t.match(address, /^http:\/\/127\.0\.0\.1:\d+$/)
  t.not(address, 'http://127.0.0.1:0')
  const issuer = `${address}/camara/api/auth/v1`
  const banner = cli.stdout().slice(cli.stdout().indexOf('camara-nv-emulator '))
  t.equal(banner.split('\n').slice(0, 8).join('\n'), [
    `camara-nv-emulator ${pkg.version} listening on ${address} (seed 7, profile default)`,
    `  issuer         ${issuer}`,
    `  discovery      ${issuer}/.well-known/openid-configuration`,
    `  authorize      ${issuer}/authorize`,
    `  token          ${issuer}/token`,
    `  jwks           ${issuer}/jwks`,
    `  health         ${address}/_emulator/health`,
    `  fixtures       ${defaultFixtures}: ${counts.operators} operators, ${counts.clients} clients, ` +
      `${counts.subscribers} subscribers`
  ].join('\n'))
  const health = await fetch(`${address}/_emulator/health`)
  t.equal(health.status, 200)
  t.strictSame(await health.json(), {
    status: 'ok',
    issuer,
    ...counts,
    capacity: {
      pending: { live: 0, max: 10000 }, grants: { live: 0, max: 100000 }, dpopProofs: { live: 0, max: 100000 }
    }
  })
  const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json() as {
    issuer: string
    token_endpoint: string
  }
  t.same([discovery.issuer, discovery.token_endpoint], [issuer, `${issuer}/token`])
  cli.child.kill('SIGTERM')
  t.same(await cli.exited, { code: 0, signal: null })
})

/** Tokens for the default fixtures' first subscriber, from the running emulator's control API */
async function mintAccessToken (address: string): Promise<string> {
  const minted = await fetch(`${address}/_emulator/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      clientId: 'demo-app',
      msisdn: '+34666666666',
      scope: 'openid dpv:FraudPreventionAndDetection number-verification:verify'
    })
  })
  if (minted.status !== 201) throw new Error(`minting answered ${minted.status}: ${await minted.text()}`)
  return (await minted.json() as { access_token: string }).access_token
}

/** Defines a scenario on the running emulator through its control API */
async function defineScenario (address: string, scenario: object): Promise<void> {
  const res = await fetch(`${address}/_emulator/scenarios`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(scenario)
  })
  if (res.status !== 201) throw new Error(`defining the scenario answered ${res.status}: ${await res.text()}`)
}

async function verifyWithScenario (
  address: string,
  accessToken: string,
  scenario: string,
  signal?: AbortSignal
): Promise<Response> {
  return await fetch(`${address}/camara/api/number-verification/v1/verify`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${accessToken}`,
      'content-type': 'application/json',
      'x-emulator-scenario': scenario
    },
    body: JSON.stringify({ phoneNumber: '+34666666666' }),
    signal
  })
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`${signal} lets the response in flight finish, then exits 0`, async (t) => {
    const cli = runCli(t, ['--port', '0'])
    const address = await listeningAddress(cli)
    const accessToken = await mintAccessToken(address)
    // Headers and a first chunk at once, then the rest of the body a few bytes every 150 ms
    await defineScenario(address, {
      name: 'dribbled-verify',
      description: 'verify body dribbled',
      match: { operations: ['verify'] },
      effects: { fault: { type: 'slow-body', chunkDelayMs: 150 } }
    })

    const res = await verifyWithScenario(address, accessToken, 'dribbled-verify')
    t.equal(res.status, 200)
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    const first = await reader.read()
    let body = decoder.decode(first.value, { stream: true })

    cli.child.kill(signal)
    await cli.waitForOutput(new RegExp(`"signal":"${signal}","msg":"shutting down"`))
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      body += decoder.decode(chunk.value, { stream: true })
    }
    t.match(JSON.parse(body), { devicePhoneNumberVerified: true, assessedAt: String }, 'the whole body arrived')
    t.same(await cli.exited, { code: 0, signal: null })
    const log = cli.stdout().split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string, url?: string })
    const shutdownAt = log.findIndex((line) => line.msg === 'shutting down')
    const verifiedAt = log.findIndex((line) =>
      line.msg === 'request completed' && line.url === '/camara/api/number-verification/v1/verify')
    t.ok(shutdownAt >= 0 && shutdownAt < verifiedAt, 'the request was still in flight when the signal arrived')
    t.equal(await probePort(Number(new URL(address).port)), 'ECONNREFUSED', 'nothing listens afterwards')
  })
}

t.test('SIGTERM does not wait forever for a request that never ends: ' +
  'its connection is cut after a grace period', async (t) => {
  const cli = runCli(t, ['--port', '0'])
  const address = await listeningAddress(cli)
  // A stalled upload: headers announce a body that never comes. Expect: 100-continue makes the
  // server say when it has the request, so the signal surely finds it in flight
  const upload = connect(Number(new URL(address).port), '127.0.0.1')
  t.teardown(() => upload.destroy())
  upload.setEncoding('utf8')
  let received = ''
  upload.on('data', (chunk: string) => { received += chunk })
  const closed = once(upload, 'close')
  upload.write('POST /_emulator/scenarios HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
    'Content-Length: 1000\r\nExpect: 100-continue\r\n\r\n')
  while (!received.includes('HTTP/1.1 100 Continue\r\n\r\n')) await once(upload, 'data')
  upload.write('{"name":')

  cli.child.kill('SIGTERM')
  t.same(await cli.exited, { code: 0, signal: null })
  await closed
  t.equal(received, 'HTTP/1.1 100 Continue\r\n\r\n', 'the stalled request got no answer, its connection was closed')
  const log = cli.stdout().split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { msg: string }).msg)
  t.same(log.slice(log.indexOf('shutting down')), [
    'shutting down',
    'requests still in flight after the grace period: closing their connections'
  ])
})
