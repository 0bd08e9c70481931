// Scratch folders for tests, inside the checkout (node_modules/.cache/test-tmp), never the system
// temp folder: a run leaves nothing behind outside the clone, and `npm ci` or deleting the clone
// removes whatever a killed run could not.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The checkout this test file belongs to */
export const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '')

/** Where this checkout's test runs keep what they build and cache (deleted with node_modules) */
export const CACHE_ROOT = join(CHECKOUT, 'node_modules', '.cache', 'camara-nv-emulator')

export const TEST_TMP = join(CHECKOUT, 'node_modules', '.cache', 'test-tmp')

/** A fresh folder under TEST_TMP, removed when `t` ends */
export function tempDir (t: { teardown: (fn: () => void) => void }, prefix: string): string {
  mkdirSync(TEST_TMP, { recursive: true })
  const dir = mkdtempSync(join(TEST_TMP, prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
