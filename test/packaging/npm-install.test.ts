// The published files are complete: the packed tarball is installed with `npm install` in an
// empty project (dependencies from the registry, as a user gets them), then started with
// `npx camara-nv-emulator` and imported by name. The slowest test: one install, bounded.
import { execFile as execFileCallback } from 'node:child_process'
import {
  accessSync,
  constants,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { cleanEnv, listeningAddress, probePort, startProcess } from './child-process.js'
import { packedPackage, ROOT } from './packed-package.js'

const execFile = promisify(execFileCallback)

t.setTimeout(420_000)

const pkg = await packedPackage()
// The one project outside the checkout, on purpose: anywhere inside it, Node would also resolve the
// checkout's node_modules and hide a dependency the package forgot to declare. It holds its own copy
// of the tarball (nothing in it points back into the checkout) and goes in teardown.
const project = mkdtempSync(join(tmpdir(), 'nv-install-'))
t.teardown(() => rmSync(project, { recursive: true, force: true }))
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'install-check', private: true, type: 'module' }))
const tarball = join(project, basename(pkg.tarball))
copyFileSync(pkg.tarball, tarball)
// --prefer-offline: the npm cache usually holds every dependency already; the registry fills the gaps
await execFile('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
  cwd: project,
  env: cleanEnv(),
  timeout: 300_000,
  maxBuffer: 16 * 1024 * 1024
})
const installed = join(project, 'node_modules', 'camara-nv-emulator')

t.test('the tarball holds what the package needs, and nothing of the sources or tests', async (t) => {
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
    bin: Record<string, string>
    exports: unknown
    types: string
  }
  t.same(manifest.bin, { 'camara-nv-emulator': 'dist/server.js' })
  t.same(manifest.exports, {
    '.': { types: './dist/index.d.ts', import: './dist/index.js' },
    './package.json': './package.json',
    './fixtures/*': './fixtures/*'
  })
  for (const file of [
    'dist/server.js',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/app.js',
    'fixtures/default.json',
    'fixtures/fixture.schema.json',
    'README.md'
  ]) {
    t.ok(existsSync(join(installed, file)), `ships ${file}`)
  }
  for (const file of ['src', 'test', 'tsconfig.json', 'scripts', 'dist/.build-stamp', 'examples']) {
    t.notOk(existsSync(join(installed, file)), `does not ship ${file}`)
  }
  t.equal(
    readFileSync(join(installed, 'dist', 'server.js'), 'utf8').split('\n')[0],
    '#!/usr/bin/env node',
    'the shebang survives tsc'
  )
})

t.test('npm links the bin and makes it executable', async (t) => {
  const bin = join(project, 'node_modules', '.bin', 'camara-nv-emulator')
  t.equal(readlinkSync(bin), '../camara-nv-emulator/dist/server.js')
  t.doesNotThrow(() => accessSync(bin, constants.X_OK))
})

t.test(
  "npx camara-nv-emulator --port 0 serves health from the installed files, and stops on the terminal's SIGTERM",
  async (t) => {
    const cli = startProcess('npx', ['camara-nv-emulator', '--port', '0'], { cwd: project, group: true })
    t.teardown(cli.kill)
    const address = await listeningAddress(cli)
    const health = await fetch(`${address}/_emulator/health`)
    t.equal(health.status, 200)
    t.match(await health.json(), { status: 'ok', issuer: `${address}/camara/api/auth/v1` })
    t.match(cli.stdout(), `  fixtures       ${join(installed, 'fixtures', 'default.json')}: `)

    // As Ctrl-C in a terminal or a CI runner stopping a job: the whole process group gets the signal
    cli.signal('SIGTERM')
    await cli.exited
    t.match(cli.stdout(), /"signal":"SIGTERM","msg":"shutting down"/)
    t.equal(await probePort(Number(new URL(address).port)), 'ECONNREFUSED')
  }
)

t.test('a plain JavaScript program imports the installed package by name', async (t) => {
  copyFileSync(join(ROOT, 'test', 'api', 'fixtures', 'consumer.mjs'), join(project, 'consumer.mjs'))
  const consumer = startProcess(process.execPath, ['consumer.mjs'], { cwd: project })
  t.teardown(consumer.kill)
  t.same(await consumer.exited, { code: 0, signal: null }, consumer.stderr())
  t.match(JSON.parse(consumer.stdout()), { verify: { own: true, other: false }, afterClose: 'ECONNREFUSED' })
})
