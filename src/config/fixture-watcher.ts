// --watch: reloads fixture files when they change. The whole set is re-read and re-validated; a
// valid set replaces the old one at once, an invalid one is reported and the last good set stays.
import { watch, type FSWatcher } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import { FixtureError, type Fixtures } from '../core/fixtures.js'
import { loadFixtures } from './fixtures.js'

export interface FixtureWatcherEvents {
  loaded: (fixtures: Fixtures) => void
  failed: (error: FixtureError | Error) => void
}

export interface FixtureWatcher {
  close: () => void
  /** Re-reads now (also what a file change triggers after the debounce) */
  reload: () => void
}

/**
 * Watches the folders of the files rather than the files: editors save by writing a new file and
 * renaming it over the old one, which ends a watch on the file itself.
 */
export function watchFixtures (
  files: string[],
  events: FixtureWatcherEvents,
  options: { debounceMs?: number } = {}
): FixtureWatcher {
  const absolute = files.map((f) => resolve(f))
  const names = new Set(absolute.map((f) => basename(f)))
  let timer: NodeJS.Timeout | undefined
  const reload = (): void => {
    timer = undefined
    try {
      events.loaded(loadFixtures(files))
    } catch (error) {
      events.failed(error as Error)
    }
  }
  const schedule = (filename: string | null): void => {
    if (filename !== null && !names.has(filename)) return
    if (timer !== undefined) clearTimeout(timer)
    timer = setTimeout(reload, options.debounceMs ?? 100)
  }
  const watchers: FSWatcher[] = [...new Set(absolute.map((f) => dirname(f)))].map((dir) =>
    watch(dir, (_event, filename) => schedule(filename))
  )
  return {
    reload,
    close: () => {
      if (timer !== undefined) clearTimeout(timer)
      for (const watcher of watchers) watcher.close()
    }
  }
}

export function describeReloadFailure (error: FixtureError | Error): string {
  return error instanceof FixtureError
    ? `fixtures not reloaded, keeping the last good set: ${error.message}`
    : `fixtures not reloaded: ${error.message}`
}
