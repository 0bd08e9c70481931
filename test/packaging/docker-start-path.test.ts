// No Docker engine runs here, so the image is checked by its start path: the Dockerfile and the
// compose file are read, and the container's command runs as a process with the container's
// environment over the packed package's files (what the image copies to /app). The container
// must start exactly as `npm start` does, and its health checks must pass against it.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { listeningAddress, startProcess, type RunningProcess } from './child-process.js'
import { freePort } from '../../bench/lib/processes.js'
import { packedPackage, ROOT } from './packed-package.js'
import { parse as parseYaml } from 'yaml'
import { redisMissing, startRedis } from '../helpers/redis.js'

t.setTimeout(180_000)

interface Instruction {
  keyword: string
  args: string
}

/** Dockerfile instructions per stage, line continuations joined, comments dropped */
function dockerfileStages (text: string): Instruction[][] {
  const stages: Instruction[][] = []
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'))
  for (const line of lines) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? []
    if (keyword.toUpperCase() === 'FROM') stages.push([])
    stages.at(-1)?.push({ keyword: keyword.toUpperCase(), args: args.replace(/\s+/g, ' ') })
  }
  return stages
}

/** ENV key=value pairs (values without spaces, as ours are) */
function environment (stage: Instruction[]): Record<string, string> {
  return Object.fromEntries(stage.filter((i) => i.keyword === 'ENV')
    .flatMap((i) => i.args.split(' ').map((pair) => pair.split('=') as [string, string])))
}

function only (stage: Instruction[], keyword: string): string {
  const found = stage.filter((i) => i.keyword === keyword)
  if (found.length !== 1) throw new Error(`expected one ${keyword} in the stage, found ${found.length}`)
  return (found[0] as Instruction).args
}

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
const stages = dockerfileStages(dockerfile)
const build = stages[0] ?? []
const runtime = stages.at(-1) ?? []
const containerEnv = environment(runtime)
const entrypoint = JSON.parse(only(runtime, 'ENTRYPOINT')) as string[]
const healthcheck = JSON.parse(only(runtime, 'HEALTHCHECK').replace(/^.*?CMD /, '')) as string[]
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>
  files: string[]
}
const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')

/** Runs an exec-form command (["node", ...]) with the container's environment, from the packed package as /app */
function runInApp (t: Test, command: string[], env: NodeJS.ProcessEnv, cwd: string): RunningProcess {
  const [program, ...args] = command
  if (program !== 'node') throw new Error(`the container would run ${String(program)}, not node`)
  const child = startProcess(process.execPath, args, { cwd, env })
  t.teardown(child.kill)
  return child
}

t.test('the image is built in two stages and runs as a non-root user on 0.0.0.0:9091', async (t) => {
  t.equal(stages.length, 2, 'a build stage and a runtime stage')
  t.match(only(build, 'FROM'), /^node:24-\S+ AS build$/)
  t.match(only(runtime, 'FROM'), /^node:24-\S+$/, 'Node 24, the major .ci/run also tests on')
  t.match(readFileSync(join(ROOT, '.ci', 'run'), 'utf8'), /node@24/)
  t.equal(only(runtime, 'USER'), 'node')
  t.equal(only(runtime, 'WORKDIR'), '/app')
  t.same(containerEnv, { NODE_ENV: 'production', HOST: '0.0.0.0', PORT: '9091' })
  t.equal(only(runtime, 'EXPOSE'), '9091')
  t.notOk(runtime.some((i) => i.keyword === 'CMD'), 'no CMD: `docker run image --flag` passes flags to the emulator')
})

t.test('the build stage builds as `npm run build` does and keeps only production dependencies', async (t) => {
  const runs = build.filter((i) => i.keyword === 'RUN').map((i) => i.args)
  t.ok(runs.some((run) => run.includes('npm ci')), 'installs from the lock file')
  t.ok(manifest.scripts.build !== undefined && runs.some((run) => run.includes('npm run build')),
    `runs npm run build (${manifest.scripts.build ?? 'no build script'})`)
  t.ok(runs.some((run) => run.includes('npm prune --omit=dev')))
})

t.test('the runtime stage copies what the package publishes, and .dockerignore keeps host builds out', async (t) => {
  const copies = runtime.filter((i) => i.keyword === 'COPY').map((i) => i.args)
  t.same(copies, [
    '--from=build /app/node_modules ./node_modules',
    '--from=build /app/dist ./dist',
    'package.json ./',
    'fixtures ./fixtures'
  ])
  const published = manifest.files.filter((f) => !f.startsWith('!') && f !== 'README.md').map((f) => f.replace(/\/$/, ''))
  t.same(published.sort(), ['dist', 'fixtures'], 'every published folder is in the image')
  const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n')
  for (const entry of ['node_modules', 'dist']) t.ok(ignored.includes(entry), `.dockerignore has ${entry}`)
})

t.test('the container runs `npm start`\'s command, with the container environment it serves health, ' +
  'and its HEALTHCHECK passes', async (t) => {
  t.same(entrypoint, (manifest.scripts.start ?? '').split(' '),
    `ENTRYPOINT is npm start: ${manifest.scripts.start ?? ''}`)
  t.match(healthcheck, ['node', '-e', /\/_emulator\/health/])
  const pkg = await packedPackage()
  // PORT as the image sets it would clash with anything on this machine using 9091: a free one
  const port = await freePort()
  const env = { ...containerEnv, PORT: String(port) }

  const notYet = runInApp(t, healthcheck, env, pkg.root)
  t.same(await notYet.exited, { code: 1, signal: null }, 'the health check fails while nothing listens')

  const container = runInApp(t, entrypoint, env, pkg.root)
  await listeningAddress(container)
  t.match(container.stdout(), `  issuer         http://localhost:${port}/camara/api/auth/v1\n`, '0.0.0.0 is announced as localhost')
  t.match(container.stdout(), `  fixtures       ${join(pkg.root, 'fixtures', 'default.json')}: `,
    'the image\'s fixtures/default.json')
  const health = await fetch(`http://127.0.0.1:${port}/_emulator/health`)
  t.equal(health.status, 200)

  const check = runInApp(t, healthcheck, env, pkg.root)
  t.same(await check.exited, { code: 0, signal: null }, 'the HEALTHCHECK command passes')

  container.child.kill('SIGTERM')
  t.same(await container.exited, { code: 0, signal: null }, 'docker stop (SIGTERM) ends it cleanly')
})

t.test('docker-compose.yml: PUBLIC_URL becomes the issuer, mounted fixtures are read, ' +
  'and its health check passes', async (t) => {
  const variable = (name: string): string => {
    const match = new RegExp(`^ {6}${name}: (.+)$`, 'm').exec(compose)
    if (match === null) throw new Error(`docker-compose.yml sets no ${name}`)
    return match[1] as string
  }
  t.equal(variable('HOST'), '0.0.0.0')
  t.equal(variable('PORT'), '9091')
  t.match(compose, /^ {6}- "9091:9091"$/m, 'the port is published')
  const publicUrl = variable('PUBLIC_URL')
  t.equal(publicUrl, 'http://localhost:9091')
  // The compose file mounts ./fixtures over the image's /app/fixtures and names a file inside it
  t.match(compose, /^ {6}- \.\/fixtures:\/app\/fixtures:ro$/m)
  const fixtures = variable('FIXTURES')
  t.match(fixtures, /^\/app\/fixtures\//)
  const mounted = join(ROOT, 'fixtures', fixtures.slice('/app/fixtures/'.length))
  t.ok(existsSync(mounted), `${fixtures} exists in ./fixtures`)
  t.match(compose, /example-app:[\s\S]*depends_on:\s+emulator:\s+condition: service_healthy/, 'the example app waits for healthy')

  // The compose settings, with the published port 9091 swapped for a free one of this machine
  const pkg = await packedPackage()
  const port = await freePort()
  const swapPort = (text: string): string => text.replaceAll(':9091', `:${port}`)
  const env = {
    ...containerEnv,
    HOST: variable('HOST'),
    PORT: String(port),
    PUBLIC_URL: swapPort(publicUrl),
    SEED: variable('SEED'),
    FIXTURES: mounted
  }
  const container = runInApp(t, entrypoint, env, pkg.root)
  await listeningAddress(container)
  t.match(container.stdout(), '(seed 42, profile default)')
  const health = await (await fetch(`http://127.0.0.1:${port}/_emulator/health`)).json() as { issuer: string }
  t.equal(health.issuer, `http://localhost:${port}/camara/api/auth/v1`, 'the issuer is PUBLIC_URL\'s, whatever address the request came to')

  const composeCommand = (service: string, key: string): string[] => {
    const block = compose.slice(compose.indexOf(`  ${service}:`))
    const match = new RegExp(`${key}: (\\[.*\\])$`, 'm').exec(block)
    if (match === null) throw new Error(`no ${key} for ${service}`)
    return (JSON.parse(match[1] as string) as string[]).map(swapPort)
  }
  const [kind, ...healthCommand] = composeCommand('emulator', 'test')
  t.equal(kind, 'CMD')
  const check = runInApp(t, healthCommand, {}, pkg.root)
  t.same(await check.exited, { code: 0, signal: null }, 'the compose health check passes')
  const app = runInApp(t, composeCommand('example-app', 'command'), {}, pkg.root)
  t.same(await app.exited, { code: 0, signal: null }, app.stderr())
  t.match(app.stdout(), new RegExp(`^issuer http://localhost:${port}/camara/api/auth/v1 signing keys \\d+\n$`))
})

interface ComposeService {
  profiles?: string[]
  image?: string
  command?: string[]
  environment?: Record<string, string | number>
  ports?: string[]
  volumes?: string[]
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test: string[] }
}

t.test('docker-compose.yml\'s replicas profile: two replicas on Valkey behind a load balancer, ' +
  'each start path checked', async (t) => {
  const services = (parseYaml(compose, { merge: true }) as { services: Record<string, ComposeService> }).services
  const service = (name: string): ComposeService => {
    const found = services[name]
    if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`)
    return found
  }
  t.equal(services.emulator?.profiles, undefined, 'plain `docker compose up` still starts the one emulator only')
  for (const name of ['valkey', 'replica-1', 'replica-2', 'lb']) {
    t.strictSame(service(name).profiles, ['replicas'], `${name} is in the profile`)
  }
  const valkey = service('valkey')
  t.match(valkey.image, /^valkey\/valkey:\d+/)
  t.strictSame(valkey.healthcheck?.test, ['CMD', 'valkey-cli', 'ping'])

  const lb = service('lb')
  const [published, inside] = (lb.ports?.[0] ?? '').split(':')
  const replicas = ['replica-1', 'replica-2'].map(service)
  for (const replica of replicas) {
    const env = replica.environment ?? {}
    t.equal(env.STORE_URL, 'redis://valkey:6379', 'the store is the valkey service')
    t.equal(env.PUBLIC_URL, `http://localhost:${published ?? ''}`, 'the issuer is the load balancer\'s address')
    t.equal(env.SIGNING_KEY, undefined, 'no key file: the first replica\'s key is shared through the store')
    t.strictSame(replica.depends_on, { valkey: { condition: 'service_healthy' } })
  }
  t.strictSame(lb.depends_on, {
    'replica-1': { condition: 'service_healthy' },
    'replica-2': { condition: 'service_healthy' }
  })

  // The load balancer's configuration: it listens where the port is published to, and its
  // upstreams are the two replica services on the port they listen on
  const mount = (lb.volumes?.[0] ?? '').split(':')
  const nginx = readFileSync(join(ROOT, mount[0] ?? ''), 'utf8')
  t.equal(mount[1], '/etc/nginx/conf.d/default.conf')
  t.match(nginx, new RegExp(`^\\s*listen ${inside ?? ''};$`, 'm'))
  const upstreams = [...nginx.matchAll(/^\s*server (\S+?):(\d+)\b/gm)].map((m) => `${m[1] ?? ''}:${m[2] ?? ''}`)
  t.strictSame(upstreams, replicas.map((replica, i) => `replica-${i + 1}:${String(replica.environment?.PORT)}`))

  // Each replica's start path with its compose environment, the store swapped for a local server
  if (redisMissing(t, 'each replica\'s start path against a local Valkey or Redis')) return
  const redis = await startRedis(t)
  const pkg = await packedPackage()
  const started: Array<{ port: number }> = []
  for (const replica of replicas) {
    const port = await freePort()
    const env = Object.fromEntries(Object.entries(replica.environment ?? {})
      .map(([name, value]) => [name, String(value)]))
    const container = runInApp(t, entrypoint, {
      ...containerEnv,
      ...env,
      PORT: String(port),
      STORE_URL: redis.url
    }, pkg.root)
    await listeningAddress(container)
    started.push({ port })
    const [kind, ...check] = (replica.healthcheck?.test ?? []).map((part) => part.replaceAll(':9091', `:${port}`))
    t.equal(kind, 'CMD')
    t.same(await runInApp(t, check, {}, pkg.root).exited, { code: 0, signal: null }, 'its health check passes')
  }
  const jwks = await Promise.all(started.map(async ({ port }) => await (await fetch(`http://127.0.0.1:${port}/camara/api/auth/v1/jwks`)).json()))
  t.strictSame(jwks[1], jwks[0], 'both replicas publish the one signing key')
  const issuers = await Promise.all(started.map(async ({ port }) => (await (await fetch(`http://127.0.0.1:${port}/_emulator/health`)).json() as { issuer: string }).issuer))
  t.strictSame(issuers, [`http://localhost:${published ?? ''}/camara/api/auth/v1`, `http://localhost:${published ?? ''}/camara/api/auth/v1`])
})
