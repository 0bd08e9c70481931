// The published package from its consumers' side: a plain JavaScript program and the examples
// (JavaScript and TypeScript) import 'camara-nv-emulator' by name from the packed tarball's
// files, through package.json "exports", and run against it; the TypeScript example is
// type-checked against the declarations the package ships.
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { tempDir } from '../helpers/temp-dir.js'
import { startProcess } from '../packaging/child-process.js'
import { packedPackage, ROOT } from '../packaging/packed-package.js'
import { expectedEndpoints } from './endpoints.js'

t.setTimeout(180_000)

const pkg = await packedPackage()
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
const TSX = import.meta.resolve('tsx')

/** A consumer project whose node_modules holds the packed package (and @types for the TypeScript check) */
function consumerProject (t: Test, files: Record<string, string>): string {
  // Inside the checkout: it links to the unpacked package and the checkout's @types
  const dir = tempDir(t, 'nv-consumer-')
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(pkg.root, join(dir, 'node_modules', 'camara-nv-emulator'), 'dir')
  symlinkSync(join(ROOT, 'node_modules', '@types'), join(dir, 'node_modules', '@types'), 'dir')
  for (const [name, source] of Object.entries(files)) copyFileSync(source, join(dir, name))
  return dir
}

async function run (
  t: Test,
  cwd: string,
  args: string[]
): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = startProcess(process.execPath, args, { cwd })
  t.teardown(child.kill)
  const { code } = await child.exited
  return { code, stdout: child.stdout(), stderr: child.stderr() }
}

t.test('a plain JavaScript consumer imports the package by name and drives the flow and every control', async (t) => {
  const dir = consumerProject(t, { 'consumer.mjs': fileURLToPath(new URL('fixtures/consumer.mjs', import.meta.url)) })
  const { code, stdout, stderr } = await run(t, dir, ['consumer.mjs'])
  t.same({ code, stderr }, { code: 0, stderr: '' })
  const report = JSON.parse(stdout) as { urls: { base: string } }
  const base = report.urls.base
  t.match(base, /^http:\/\/127\.0\.0\.1:\d+$/)
  const issuer = `${base}/camara/api/auth/v1`
  t.same(report, {
    urls: expectedEndpoints(base),
    health: { status: 200, issuer },
    authorization: { callback: 'http://localhost:3000/callback', state: 'from-js', code: 'string', error: null },
    token: {
      status: 200,
      tokenType: 'Bearer',
      scope: 'openid dpv:FraudPreventionAndDetection number-verification:verify',
      idToken: 'string'
    },
    verify: { own: true, other: false },
    fixtures: {
      added: { created: true },
      stored: {
        msisdn: '+34611111111',
        operator: 'telco-es',
        ipv4: ['142.115.1.1'],
        ipv6: [],
        connection: 'mobile-data',
        authMethods: ['network']
      },
      refused: 'FixtureError: programmatic API: $.msisdn: must match pattern ^\\+[1-9][0-9]{4,14}$',
      removed: true,
      removedAgain: false
    },
    scenarios: {
      defined: { name: 'js-says-false', origin: 'control', active: false },
      activation: 'activation-1',
      whileActive: false,
      afterOneCall: true,
      rateLimited: '429 TOO_MANY_REQUESTS',
      deactivated: 1,
      unknown: 'ScenarioRegistryError: unknown scenario "nope"',
      listed: true
    },
    journal: {
      operations: ['authorize', 'operator', 'token', 'verify', 'verify', 'verify', 'verify', 'verify'],
      verifyCalls: 5,
      afterClear: 0
    },
    minted: { tokenType: 'Bearer', flowId: 'string', verify: true },
    errorClasses: { fixtureError: 'function', scenarioRegistryError: 'function' },
    afterReset: { oldToken: '401 UNAUTHENTICATED', journal: 1 },
    afterClose: 'ECONNREFUSED'
  })
})

t.test('the in-process example of the README passes under node --test against the packed package', async (t) => {
  const dir = consumerProject(t, {
    'number-verification.test.mjs': join(ROOT, 'examples', 'in-process', 'number-verification.test.mjs')
  })
  const { code, stdout, stderr } = await run(t, dir, ['--test', '--test-reporter=tap', 'number-verification.test.mjs'])
  t.equal(code, 0, stdout + stderr)
  t.match(stdout, /\n# tests 4\n/)
  t.match(stdout, /\n# fail 0\n/)
})

t.test('the README\'s in-process programs run against the packed package', async (t) => {
  const examples = join(ROOT, 'examples', 'in-process')
  const dir = consumerProject(t, {
    'quick-start.mjs': join(examples, 'quick-start.mjs'),
    'controls.mjs': join(examples, 'controls.mjs')
  })
  const quickStart = await run(t, dir, ['quick-start.mjs'])
  t.same({ code: quickStart.code, stderr: quickStart.stderr }, { code: 0, stderr: '' })
  t.match(quickStart.stdout, /^\{\s+devicePhoneNumberVerified: true,\s+assessedAt: '\d{4}-\d\d-\d\dT[\d:.]+Z'\s+\}\n$/)
  t.same(await run(t, dir, ['controls.mjs']), { code: 0, stdout: '', stderr: '' })
})

t.test('the TypeScript example type-checks against the shipped declarations, and passes', async (t) => {
  const dir = consumerProject(t, {
    'typed-controls.test.ts': join(ROOT, 'examples', 'in-process', 'typed-controls.test.ts')
  })
  const tsconfig = {
    compilerOptions: {
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      target: 'ES2022',
      strict: true,
      noEmit: true,
      types: ['node']
    }
  }
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ ...tsconfig, include: ['typed-controls.test.ts'] }))
  const typecheck = await run(t, dir, [TSC, '-p', '.'])
  t.same(typecheck, { code: 0, stdout: '', stderr: '' }, 'tsc finds no error')

  // The declarations are real types, not `any`: a misuse is a compile error
  writeFileSync(join(dir, 'misuse.ts'), [
    "import { startEmulator } from 'camara-nv-emulator'",
    'const emulator = await startEmulator({ port: 0 })',
    'emulator.scenarios.activate(42)',
    "await emulator.mintToken({ clientId: 'demo-app' })",
    ''
  ].join('\n'))
  writeFileSync(join(dir, 'tsconfig.misuse.json'), JSON.stringify({ ...tsconfig, include: ['misuse.ts'] }))
  const misuse = await run(t, dir, [TSC, '-p', 'tsconfig.misuse.json'])
  t.equal(misuse.code, 2)
  t.match(
    misuse.stdout,
    "misuse.ts(3,29): error TS2345: Argument of type 'number' is not assignable to parameter of type 'string'."
  )
  t.match(
    misuse.stdout,
    /misuse\.ts\(4,\d+\): error TS2345: [^\n]*\n\s+Property 'scope' is missing in type '\{ clientId: string; \}' but required in type 'MintRequest'/
  )

  const { code, stdout, stderr } = await run(t, dir, [
    '--import',
    TSX,
    '--test',
    '--test-reporter=tap',
    'typed-controls.test.ts'
  ])
  t.equal(code, 0, stdout + stderr)
  t.match(stdout, /\n# fail 0\n/)
})
