// What the domain services share: time, state, the emulated world and the URLs they hand out.
import type { Clock } from './clock.js'
import type { Directory } from './directory.js'
import type { Flows } from './flows.js'
import type { LegScenarios } from './legs.js'
import type { StateCollections } from './records.js'
import type { Store } from './store.js'
import type { EmulatorUrls } from './urls.js'
import { DEFAULT_V2_RELEASE, type V2Release } from './camara-errors.js'

export type Profile = 'default' | 'camara-strict'

export interface CoreSettings {
  /** Seconds */
  accessTokenTtl: number
  codeTtl: number
  refreshTokenTtl: number
  /** How long the browser may take from gateway to operator */
  pendingTtl: number
  profile: Profile
  /** CAMARA asks for exactly one dpv: purpose in the scope */
  requirePurpose: boolean
  /** Salt of the pairwise subject identifiers: stable across restarts for stable tests */
  pairwiseSalt: string
  /** Caps on what the control API can make the scenario engine hold */
  maxActivations: number
  maxRuntimeScenarios: number
  /** Caps on what unauthenticated traffic can make the store hold (temporarily_unavailable past them) */
  maxPending: number
  maxGrants: number
  /** DPoP proof ids kept for replay detection (each for its token's lifetime) */
  maxDpopProofs: number
  /** Whether callers pick scenarios themselves (x-emulator-scenario, emulator_scenario at authorize) */
  userScenarios: boolean
  /** The Number Verification release /v2 speaks to a client that names none (--nv-v2-release) */
  nvV2Release: V2Release
  /** CIBA: seconds a client must wait between polls (the bc-authorize answer's interval) */
  cibaInterval: number
  /** CIBA: seconds an auth_req_id lives (the bc-authorize answer's expires_in) */
  cibaExpiresIn: number
  /** The authorization code flow takes login_hint=operatortoken: (--operator-token-login-hint) */
  operatorTokenLoginHint: boolean
}

export const defaultCoreSettings: CoreSettings = {
  accessTokenTtl: 3600,
  codeTtl: 120,
  refreshTokenTtl: 30 * 24 * 3600,
  pendingTtl: 300,
  profile: 'default',
  requirePurpose: true,
  pairwiseSalt: 'camara-nv-emulator',
  maxActivations: 1000,
  maxRuntimeScenarios: 1000,
  maxPending: 10_000,
  maxGrants: 100_000,
  maxDpopProofs: 100_000,
  userScenarios: true,
  nvV2Release: DEFAULT_V2_RELEASE,
  cibaInterval: 5,
  cibaExpiresIn: 120,
  operatorTokenLoginHint: false
}

export interface CoreContext {
  clock: Clock
  store: Store<StateCollections>
  /** The scenario step of every leg (decide, fail if injected, wait) */
  legs: LegScenarios
  settings: CoreSettings
  urls: EmulatorUrls
  /** A function, since fixtures can be replaced at runtime */
  directory: () => Directory
  /** New flow ids, and each flow's own randomness */
  flows: Flows
}
