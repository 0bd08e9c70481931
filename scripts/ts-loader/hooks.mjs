// Module hooks (registered by ./register.mjs) that let Node run this project's TypeScript as it is:
// esbuild strips the types of each .ts file as it loads, and the result is kept in
// node_modules/.cache/ts-loader, keyed by the file's content, so the hundred test processes of a
// run compile each file once. The output has a statement a line and an inline source map naming
// the source by its path (not its text, which c8 reads from the file: the coverage data of a run
// is half the size), so V8's coverage maps back to the .ts lines (tsx's whitespace-minified
// output folds each file into a few lines, and c8 then reports every file as fully covered).
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const CACHE =
  process.env.TS_LOADER_CACHE ?? fileURLToPath(new URL('../../node_modules/.cache/ts-loader/', import.meta.url))
/** An entry is compiled again after this long, so the entries of files since edited go */
const ENTRY_LIFETIME_MS = 7 * 24 * 3600_000
/** What tsconfig.json asks of the emitted JavaScript, for a file compiled on its own */
const OPTIONS = Object.freeze({
  loader: 'ts',
  format: 'esm',
  target: 'node20',
  sourcemap: 'inline',
  sourcesContent: false,
  tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true, useDefineForClassFields: true } }
})
// esbuild itself is imported on the first cache miss only (~30 ms a process); its version, which
// the cache is keyed by, comes from its package.json
const ESBUILD_VERSION = JSON.parse(
  readFileSync(new URL('../../node_modules/esbuild/package.json', import.meta.url), 'utf8')
).version
const SALT = `${ESBUILD_VERSION}\0${JSON.stringify(OPTIONS)}\0`
let esbuild
const TS = /\.[cm]?ts$/

mkdirSync(CACHE, { recursive: true })

/** Removes the entries older than ENTRY_LIFETIME_MS; a process reading one meanwhile compiles again */
export async function pruneCache (now = Date.now()) {
  for (const name of await readdir(CACHE)) {
    const path = join(CACHE, name)
    const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: now }))
    if (now - mtimeMs > ENTRY_LIFETIME_MS) await rm(path, { force: true })
  }
}

// In the background, never holding the process open
setTimeout(() => { pruneCache().catch(() => {}) }, 1000).unref()

/**
 * `./x.js` in a .ts file names ./x.ts (NodeNext), and so does the same path that tap's mockImport
 * resolves from its own folder (with a query): the .ts twin when it exists. Asked first, without
 * Node's resolution: that is one stat for each of the project's imports, which all have a twin.
 */
export async function resolve (specifier, context, nextResolve) {
  if (context.parentURL !== undefined && /^(\.|\/|file:)/.test(specifier)) {
    const url = new URL(specifier, context.parentURL)
    if (url.protocol === 'file:' && /\.[cm]?js$/.test(url.pathname)) {
      url.pathname = url.pathname.replace(/js$/, 'ts')
      if (existsSync(url)) return { url: url.href, format: 'module', shortCircuit: true }
    }
  }
  return nextResolve(specifier, context)
}

export async function load (url, context, nextLoad) {
  // tap's mockImport loads a module again under a query (?tapmock=...): the path decides
  if (!url.startsWith('file:') || !TS.test(new URL(url).pathname)) return nextLoad(url, context)
  const path = fileURLToPath(url)
  // Synchronous reads: this thread only serves module loads, and fs/promises' four round trips
  // through the thread pool per file cost more than the read
  const source = readFileSync(path, 'utf8')
  const cached = join(
    CACHE,
    createHash('sha256').update(SALT).update(path).update('\0').update(source).digest('hex') + '.js'
  )
  let code
  try {
    code = readFileSync(cached, 'utf8')
  } catch {
    esbuild ??= await import('esbuild')
    code = (await esbuild.transform(source, { ...OPTIONS, sourcefile: path })).code
    // Written whole, then renamed: a parallel process reads the old entry or the new, never half
    const partial = `${cached}.${process.pid}`
    writeFileSync(partial, code)
    renameSync(partial, cached)
  }
  return { format: path.endsWith('.cts') ? 'commonjs' : 'module', source: code, shortCircuit: true }
}
