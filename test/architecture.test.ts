// Layers point one way: the core imports nothing of the application around it, config reads
// flags, environment and files and may use the core, and neither reaches up into routes,
// plugins, views or the demo. Read from the sources' import statements, so a new file that
// breaks the rule fails here.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import t from 'tap'

const SRC = resolve(import.meta.dirname, '..', 'src')

function sources (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** The src-relative targets of a file's relative imports (static, dynamic and re-exports) */
function localImports (file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map((match) => match[1] ?? '')
  return specifiers.map((specifier) => relative(SRC, resolve(dirname(file), specifier)))
}

/** Leaf modules at the root that import nothing of the application (where the package lives) */
const BASE = ['package-root', 'version']

function layerOf (srcRelative: string): string {
  const top = srcRelative.split('/')[0] ?? ''
  if (!top.endsWith('.js') && !top.endsWith('.ts')) return top
  return BASE.includes(top.replace(/\.[jt]s$/, '')) ? 'base' : 'root'
}

const ALLOWED: Record<string, string[]> = {
  base: ['base'],
  core: ['core', 'base'],
  config: ['config', 'core', 'base'],
  store: ['store', 'core', 'base']
}

t.test('each layer imports only the layers beneath it', async (t) => {
  const offences: string[] = []
  let checked = 0
  for (const file of sources(SRC)) {
    const layer = layerOf(relative(SRC, file).replace(/\.ts$/, '.js'))
    const allowed = ALLOWED[layer]
    if (allowed === undefined) continue
    for (const target of localImports(file)) {
      checked++
      if (!allowed.includes(layerOf(target))) offences.push(`${relative(SRC, file)} imports ${target}`)
    }
  }
  t.ok(checked > 50, `the imports of core, config and store were read (${checked})`)
  t.strictSame(offences, [])
})

t.test('the check sees a core file that reaches into config', async (t) => {
  t.equal(layerOf('config/fixtures.js'), 'config')
  t.equal(layerOf('app.js'), 'root')
  t.equal(layerOf('version.js'), 'base')
  t.notOk(ALLOWED.core?.includes(layerOf('config/fixtures.js')))
  t.notOk(ALLOWED.config?.includes(layerOf('routes/gateway/token.js')))
})
