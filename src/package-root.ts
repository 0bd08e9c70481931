// The package's root folder: the nearest folder above this module holding a package.json. The
// same answer from src/ (tests), dist/ (the library) and the bundled dist/server.js (the CLI), so
// files shipped with the package (package.json, fixtures/) are found wherever the code runs from.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export function packageRootOf (moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl))
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(moduleUrl)}`)
    dir = parent
  }
}

export const PACKAGE_ROOT = packageRootOf(import.meta.url)
