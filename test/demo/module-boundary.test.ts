// The demo module's shape, read from its source: no import cycle among its files (type-only
// imports included, since they tie modules together for readers and refactors as much as values
// do), and no path into the server's store: the sample app is a client of the emulator.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src')
const DEMO = join(SRC, 'demo')

function sourceFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** Relative imports of a module (`import ... from`, `export ... from`, `import type`), as .ts paths */
function importsOf (file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specifiers = [...text.matchAll(/^(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/gm)].map((m) => m[1] as string)
  return specifiers.map((specifier) => resolve(dirname(file), specifier.replace(/\.js$/, '.ts')))
}

function cyclesAmong (files: string[]): string[][] {
  const inside = new Set(files)
  const graph = new Map(files.map((file) => [file, importsOf(file).filter((target) => inside.has(target))]))
  const cycles: string[][] = []
  const state = new Map<string, 'open' | 'done'>()
  const path: string[] = []
  const visit = (file: string): void => {
    state.set(file, 'open')
    path.push(file)
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') {
        cycles.push([...path.slice(path.indexOf(next)), next].map((f) => relative(SRC, f)))
      } else if (state.get(next) === undefined) visit(next)
    }
    path.pop()
    state.set(file, 'done')
  }
  for (const file of files) if (state.get(file) === undefined) visit(file)
  return cycles
}

t.test('the demo module has no import cycle, type-only imports included', async (t) => {
  t.strictSame(cyclesAmong(sourceFiles(DEMO)), [])
})

t.test('the cycle finder finds a cycle of type-only imports', async (t) => {
  // A guard on the guard: the pattern above must see `import type` lines
  const file = join(DEMO, 'context.ts')
  t.ok(importsOf(file).some((target) => target.endsWith('attempts.ts')), 'context.ts imports attempts.ts by type')
})

t.test('the demo never reaches into the server\'s state: its store handle sees only its own collection', async (t) => {
  const files = sourceFiles(DEMO)
  const offending = files.filter((file) => {
    const text = readFileSync(file, 'utf8')
    return /\bctx\.store|emulator\.ctx\.store|StateCollections|core\/records\.js/.test(text)
  }).map((file) => relative(SRC, file))
  t.strictSame(offending, [])
  const handles = files.flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/\bStore<([^>]+)>/g)].map((m) => m[1])
  )
  t.ok(handles.length > 0, 'the demo keeps its attempts in the app\'s store')
  t.strictSame([...new Set(handles)], ['DemoCollections'], 'typed to the demo\'s collection only')
})
