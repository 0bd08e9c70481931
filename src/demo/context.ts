// What the demo's route plugins share, in a module of its own: the plugin (index.ts) builds it
// and the routes read it, so neither imports the other.
import type { Store } from '../core/store.js'
import type { DemoAttempts, DemoCollections } from './attempts.js'
import type { DemoBackend } from './verification.js'

export interface DemoOptions {
  /** Link the dashboard (the control API is on) */
  dashboard: boolean
  /** The control API's admin token: the app reads the journal API with it */
  adminToken: string | undefined
  /** The app's store, where the demo keeps its attempts (its own collection) */
  store: Store<DemoCollections>
}

export interface DemoContext extends DemoOptions {
  attempts: DemoAttempts
  backend: DemoBackend
}
