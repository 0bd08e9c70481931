// The demo module's static browser scripts (src/demo/public), read once at start. Found beside
// this module under tsx (src/demo/public) and in the library build (dist/demo/public); the bundled
// CLI (dist/server.js) has no folder of its own, so it looks under the package root's dist/.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PACKAGE_ROOT } from '../package-root.js'

export interface StaticScript {
  body: string
  /** A short hash of the content: the URL names it, so the file can be cached for good */
  version: string
}

export function publicFolder (): string {
  const candidates = [
    join(dirname(fileURLToPath(import.meta.url)), 'public'),
    join(PACKAGE_ROOT, 'dist', 'demo', 'public')
  ]
  const found = candidates.find((dir) => existsSync(join(dir, 'dashboard.js')))
  if (found === undefined) throw new Error(`the demo's browser scripts are missing: looked in ${candidates.join(', ')}`)
  return found
}

export function readStaticScript (name: string): StaticScript {
  const body = readFileSync(join(publicFolder(), name), 'utf8')
  return { body, version: createHash('sha256').update(body).digest('base64url').slice(0, 12) }
}
