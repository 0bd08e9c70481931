// The CLI as shipped is one bundled module (scripts/build.mjs): start-up loads one file instead of
// ~600. It must stay self-contained, and find the package's own files from where it lies.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { builtinModules } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { packageRootOf } from '../../src/package-root.js'
import { accessTokenFor } from '../../bench/lib/flows.js'
import { listeningAddress, startProcess } from './child-process.js'
import { packedPackage } from './packed-package.js'

t.test('the packed CLI serves a whole flow and its docs requiring nothing but Node\'s own modules', async (t) => {
  const pkg = await packedPackage()
  // NODE_DEBUG=module: Node's CommonJS loader reports each require(), the bundle's included; a
  // relative or package import left in the bundle would show here (or fail)
  const cli = startProcess(process.execPath, [join(pkg.root, 'dist', 'server.js'), '--port', '0', '--host', '127.0.0.1'], { cwd: pkg.root, env: { NODE_DEBUG: 'module' } })
  t.teardown(cli.kill)
  const base = await listeningAddress(cli)
  const token = await accessTokenFor(base)
  const verify = await fetch(`${base}/camara/api/number-verification/v1/verify`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ phoneNumber: '+34666666666' }) })
  t.match(await verify.json(), { devicePhoneNumberVerified: true, assessedAt: /^\d{4}-/ }, 'a flow and a verify call')
  const docs = await fetch(`${base}/docs/static/swagger-ui.css`)
  t.equal(docs.status, 200, 'swagger-ui\'s static files, read from node_modules')
  await docs.arrayBuffer()
  // Each require() of the bundle: "Module._load REQUEST <name> parent: <file>"
  const bundle = join(pkg.root, 'dist', 'server.js')
  const requests = [...cli.stderr().matchAll(/Module\._load REQUEST (\S+) parent: (\S+)/g)].filter((m) => m[2] === bundle).map((m) => m[1] as string)
  t.ok(requests.length > 0, 'the loader trace sees the bundle\'s require() calls')
  t.same([...new Set(requests.filter((name) => !name.startsWith('node:') && !builtinModules.includes(name)))], [], 'none but Node\'s own modules')
})

t.test('packageRootOf finds the nearest package.json above a module', async (t) => {
  const root = t.testdir({ 'package.json': '{}', dist: { nested: { 'x.js': '' } }, inner: { 'package.json': '{}', 'y.js': '' } })
  t.equal(packageRootOf(pathToFileURL(join(root, 'dist', 'nested', 'x.js')).href), root)
  t.equal(packageRootOf(pathToFileURL(join(root, 'inner', 'y.js')).href), join(root, 'inner'), 'the nearest one')
  // Outside the project (tap's testdir is inside it, below this package.json)
  const outside = mkdtempSync(join(tmpdir(), 'no-package-'))
  t.teardown(() => rmSync(outside, { recursive: true, force: true }))
  const lonely = join(outside, 'a')
  mkdirSync(lonely)
  writeFileSync(join(lonely, 'z.js'), '')
  t.throws(() => packageRootOf(pathToFileURL(join(lonely, 'z.js')).href), /no package.json above/)
})
