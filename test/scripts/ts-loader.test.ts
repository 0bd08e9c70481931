// The tests' TypeScript loader (scripts/ts-loader): what tap's coverage and stack traces rely on.
// The hooks are called here as Node calls them; one child process runs a file through register.mjs.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { CHECKOUT, tempDir } from '../helpers/temp-dir.js'

interface Loaded { format: string, source: string, shortCircuit?: boolean }
interface Hooks {
  resolve: (
    specifier: string,
    context: { parentURL?: string },
    next: (s: string, c: unknown) => unknown
  ) => Promise<unknown>
  load: (url: string, context: unknown, next: (u: string, c: unknown) => unknown) => Promise<Loaded>
  pruneCache: (now?: number) => Promise<void>
}

const HOOKS = pathToFileURL(join(CHECKOUT, 'scripts', 'ts-loader', 'hooks.mjs')).href
const REGISTER = pathToFileURL(join(CHECKOUT, 'scripts', 'ts-loader', 'register.mjs')).href

/** The hooks module on its own cache folder (its cache is chosen when it loads) */
async function hooksWith (cache: string): Promise<Hooks> {
  process.env.TS_LOADER_CACHE = cache
  try {
    return await import(`${HOOKS}?cache=${encodeURIComponent(cache)}`) as Hooks
  } finally {
    delete process.env.TS_LOADER_CACHE
  }
}

const passOn = (value: unknown) => (): unknown => value

t.test('a .ts file loads as an ES module, a statement a line, with an inline source map', async (t) => {
  const dir = tempDir(t, 'ts-loader-')
  const hooks = await hooksWith(join(dir, 'cache'))
  const file = join(dir, 'typed.ts')
  const source =
    "import type { X } from './x.js'\n\nexport const n: number = 1\n\nexport function f (a: string): X {\n  return a " +
      'as X\n}\n'
  writeFileSync(file, source)
  const loaded = await hooks.load(pathToFileURL(file).href, {}, () => t.fail('not passed on'))
  t.equal(loaded.format, 'module')
  t.equal(loaded.shortCircuit, true)
  t.notMatch(loaded.source, /import type|: number|: string/, 'the types are gone')
  t.match(loaded.source, /^function f\(a\) \{\n {2}return a;\n\}$/m, 'the code is not minified')
  const map = /\/\/# sourceMappingURL=data:application\/json;base64,(.+)$/m.exec(loaded.source)?.[1]
  if (map === undefined) return t.fail('no inline source map')
  const decoded = JSON.parse(Buffer.from(map, 'base64').toString('utf8')) as {
    sources: string[]
    sourcesContent?: string[]
  }
  t.strictSame(decoded.sources, [file], 'the map names the source by its path')
  t.equal(decoded.sourcesContent, undefined, 'and leaves its text out: coverage reads the file')
  t.equal(readdirSync(join(dir, 'cache')).length, 1, 'one cache entry')

  // The same content again comes from the cache: its entry, changed here, is what loads
  const [entry] = readdirSync(join(dir, 'cache'))
  writeFileSync(join(dir, 'cache', entry ?? ''), 'export const cached = true\n')
  t.equal(
    (await hooks.load(pathToFileURL(file).href, {}, () => t.fail('not passed on'))).source,
    'export const cached = true\n'
  )
  // Edited, the file compiles again under a new entry
  writeFileSync(file, 'export const edited = 2\n')
  t.match(
    (await hooks.load(pathToFileURL(file).href, {}, () => t.fail('not passed on'))).source,
    /^const edited = 2;$/m
  )
  t.equal(readdirSync(join(dir, 'cache')).length, 2)
  // A query (tap's mockImport) does not hide the extension
  t.match(
    (await hooks.load(`${pathToFileURL(file).href}?tapmock=1`, {}, () => t.fail('not passed on'))).source,
    /edited/
  )
})

t.test('anything but TypeScript goes to the next loader untouched', async (t) => {
  const hooks = await hooksWith(join(tempDir(t, 'ts-loader-'), 'cache'))
  const next = { format: 'module', source: 'next' }
  t.equal(await hooks.load('file:///x/y.js', {}, passOn(next)), next)
  t.equal(await hooks.load('node:fs', {}, passOn(next)), next)
  t.equal(await hooks.load('file:///x/y.json', {}, passOn(next)), next)
})

t.test('./x.js names ./x.ts when the .ts exists, from any parent and with a query', async (t) => {
  const dir = tempDir(t, 'ts-loader-')
  const hooks = await hooksWith(join(dir, 'cache'))
  writeFileSync(join(dir, 'only-ts.ts'), '')
  writeFileSync(join(dir, 'both.ts'), '')
  writeFileSync(join(dir, 'both.js'), '')
  const parent = pathToFileURL(join(dir, 'parent.ts')).href
  const jsParent = pathToFileURL(join(dir, 'parent.js')).href
  const next = (specifier: string): unknown => ({ url: `next:${specifier}` })
  t.strictSame(await hooks.resolve('./only-ts.js', { parentURL: parent }, next), {
    url: pathToFileURL(join(dir, 'only-ts.ts')).href,
    format: 'module',
    shortCircuit: true
  })
  t.strictSame(await hooks.resolve('./only-ts.js?tapmock=1', { parentURL: jsParent }, next), {
    url: `${pathToFileURL(join(dir, 'only-ts.ts')).href}?tapmock=1`,
    format: 'module',
    shortCircuit: true
  })
  t.strictSame(
    await hooks.resolve('./both.js', { parentURL: parent }, next),
    { url: pathToFileURL(join(dir, 'both.ts')).href, format: 'module', shortCircuit: true },
    'the .ts before a .js beside it, as TypeScript reads it'
  )
  t.strictSame(
    await hooks.resolve('./missing.js', { parentURL: parent }, next),
    { url: 'next:./missing.js' },
    'Node reports what is missing'
  )
  t.strictSame(
    await hooks.resolve('tap', { parentURL: parent }, next),
    { url: 'next:tap' },
    "packages are Node's to resolve"
  )
  t.strictSame(
    await hooks.resolve('./only-ts.js', {}, next),
    { url: 'next:./only-ts.js' },
    'the entry point has no parent'
  )
})

t.test('entries older than a week are removed, newer ones kept', async (t) => {
  const cache = join(tempDir(t, 'ts-loader-'), 'cache')
  const hooks = await hooksWith(cache)
  mkdirSync(cache, { recursive: true })
  writeFileSync(join(cache, 'old.js'), '')
  writeFileSync(join(cache, 'new.js'), '')
  const now = Date.now()
  const eightDaysAgo = new Date(now - 8 * 24 * 3600_000)
  utimesSync(join(cache, 'old.js'), eightDaysAgo, eightDaysAgo)
  await hooks.pruneCache(now)
  t.notOk(existsSync(join(cache, 'old.js')))
  t.ok(existsSync(join(cache, 'new.js')))
})

t.test('through register.mjs, a thrown error points at the .ts line', async (t) => {
  const dir = tempDir(t, 'ts-loader-')
  const file = join(dir, 'throws.ts')
  writeFileSync(
    file,
    "interface Unused { a: string }\n\n\nexport function boom (): never {\n  throw new Error('boom')\n}\nboom()\n"
  )
  const run = spawnSync(process.execPath, ['--import', REGISTER, file], {
    encoding: 'utf8',
    env: { ...process.env, TS_LOADER_CACHE: join(dir, 'cache') }
  })
  t.equal(run.status, 1)
  t.match(run.stderr, `${file}:5:9`, 'line 5, column 9 of the source')
})
