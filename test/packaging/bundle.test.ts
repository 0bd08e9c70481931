// The CLI as shipped is one bundled module (scripts/build.mjs): start-up loads one file instead of
// ~600. It must stay self-contained, and find the package's own files from where it lies.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { builtinModules } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { packageRootOf } from '../../src/package-root.js'
import { accessTokenFor } from '../../bench/lib/flows.js'
import { listeningAddress, startProcess } from './child-process.js'
import { packedPackage, ROOT } from './packed-package.js'

// The first file to need the packed package builds it (tsc, esbuild, npm pack): on a loaded 2-core
// machine that alone can pass tap's default 30 s
t.setTimeout(180_000)

/** The part of esbuild's metafile read here (https://esbuild.github.io/api/#metafile) */
interface Metafile {
  outputs: Record<string, { bytes: number, imports: Array<{ path: string, kind: string, external?: boolean }> }>
}

function isNodeBuiltin (name: string): boolean {
  return name.startsWith('node:') || builtinModules.includes(name)
}

t.test('the bundle imports nothing but Node\'s own modules and what the build leaves external', async (t) => {
  const pkg = await packedPackage()
  // The build script that made the packed bundle (packed-package.ts packs this working tree's scripts/);
  // a computed specifier, as the script is untyped JavaScript
  const { BUNDLE_EXTERNAL: declared } = (await import(pathToFileURL(join(ROOT, 'scripts', 'build.mjs')).href)) as {
    BUNDLE_EXTERNAL: readonly string[]
  }
  t.notOk(existsSync(join(pkg.root, 'dist', 'server.meta.json')), 'the package does not ship the metafile')
  const metafile = JSON.parse(readFileSync(pkg.metafile, 'utf8')) as Metafile
  // The entry and the chunks it imports (dist/chunks: what the CLI loads only when asked, and
  // what those share with the entry); the source maps are outputs too
  const outputs = Object.entries(metafile.outputs).filter(([path]) => path.endsWith('.js'))
  t.ok(
    outputs.some(([path]) => path === 'dist/server.js'),
    `dist/server.js among the metafile's outputs: ${outputs.map(([p]) => p).join(', ')}`
  )
  t.strictSame(
    outputs
      .map(([path]) => path)
      .filter((path) => path !== 'dist/server.js' && !/^dist\/chunks\/[\w-]+\.js$/.test(path)),
    [],
    'the rest in dist/chunks'
  )
  for (const [path, output] of outputs) {
    t.equal(output.bytes, statSync(join(pkg.root, path)).size, `the metafile describes the shipped ${path}`)
  }
  t.ok(
    outputs.some(([path]) => /^dist\/chunks\/redis-/.test(path)),
    'the Redis store is a chunk of its own, loaded for --store redis://'
  )
  // Every import esbuild left in the outputs, static, dynamic or require(): an ES module import left
  // external counts here, though Node's CommonJS loader trace (below) would never see it
  const imports = outputs.flatMap(([, output]) => output.imports)
  t.ok(imports.length > 0, 'the metafile lists the bundle\'s imports')
  const shipped = new Set(outputs.map(([path]) => path))
  t.strictSame(
    imports.filter((i) => i.external !== true && !shipped.has(i.path)),
    [],
    'the rest are external: the bundle is these files'
  )
  const packages = [
    ...new Set(
      imports
        .filter((i) => i.external === true)
        .map((i) => i.path)
        .filter((name) => !isNodeBuiltin(name))
    )
  ].sort()
  t.same(
    packages,
    [...declared].sort(),
    `besides Node's own modules, exactly the build's external list (${declared.join(', ')})`
  )
})

t.test('the packed CLI serves a whole flow and its docs requiring nothing but Node\'s own modules', async (t) => {
  const pkg = await packedPackage()
  // NODE_DEBUG=module: Node's CommonJS loader reports each require(), the bundle's included. Kept
  // beside the metafile check above for what the metafile cannot list: a require() of a computed
  // name, which esbuild leaves to run time unresolved; and it runs a flow and the docs in the
  // packed package, so the bundle works, not just links
  const cli = startProcess(
    process.execPath,
    [join(pkg.root, 'dist', 'server.js'), '--port', '0', '--host', '127.0.0.1'],
    { cwd: pkg.root, env: { NODE_DEBUG: 'module' } }
  )
  t.teardown(cli.kill)
  const base = await listeningAddress(cli)
  const token = await accessTokenFor(base)
  const verify = await fetch(`${base}/camara/api/number-verification/v1/verify`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ phoneNumber: '+34666666666' })
  })
  t.match(await verify.json(), { devicePhoneNumberVerified: true, assessedAt: /^\d{4}-/ }, 'a flow and a verify call')
  const docs = await fetch(`${base}/docs/static/swagger-ui.css`)
  t.equal(docs.status, 200, 'swagger-ui\'s static files, read from node_modules')
  await docs.arrayBuffer()
  // Each require() of the bundle: "Module._load REQUEST <name> parent: <file>"
  const bundle = (file: string): boolean =>
    file === join(pkg.root, 'dist', 'server.js') || file.startsWith(join(pkg.root, 'dist', 'chunks') + '/')
  const requests = [...cli.stderr().matchAll(/Module\._load REQUEST (\S+) parent: (\S+)/g)]
    .filter((m) => bundle(m[2] as string))
    .map((m) => m[1] as string)
  t.ok(requests.length > 0, 'the loader trace sees the bundle\'s require() calls')
  t.same([...new Set(requests.filter((name) => !isNodeBuiltin(name)))], [], 'none but Node\'s own modules')
  // The external OpenTelemetry SDK is loaded for --otlp-endpoint only (request-tracing.ts): its
  // packages require() their own files, which the trace would show
  t.notMatch(cli.stderr(), /node_modules\/@opentelemetry\//, 'the OpenTelemetry SDK is not loaded with tracing off')
})

t.test('packageRootOf finds the nearest package.json above a module', async (t) => {
  const root = t.testdir({
    'package.json': '{}',
    dist: { nested: { 'x.js': '' } },
    inner: { 'package.json': '{}', 'y.js': '' }
  })
  t.equal(packageRootOf(pathToFileURL(join(root, 'dist', 'nested', 'x.js')).href), root)
  t.equal(packageRootOf(pathToFileURL(join(root, 'inner', 'y.js')).href), join(root, 'inner'), 'the nearest one')
  // Outside the project (tap's testdir is inside it, below this package.json): the system temp
  // folder, as no folder inside the checkout can lack a package.json above it; removed in teardown
  const outside = mkdtempSync(join(tmpdir(), 'no-package-'))
  t.teardown(() => rmSync(outside, { recursive: true, force: true }))
  const lonely = join(outside, 'a')
  mkdirSync(lonely)
  writeFileSync(join(lonely, 'z.js'), '')
  t.throws(() => packageRootOf(pathToFileURL(join(lonely, 'z.js')).href), /no package.json above/)
})
