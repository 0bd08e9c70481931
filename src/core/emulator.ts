// The emulator's domain, assembled: one object the HTTP surfaces, the control API and the
// programmatic API all drive. It knows nothing of Fastify.
import type { Fixtures } from '../config/fixtures.js'
import { AuthorizationService } from './authorization.js'
import { systemClock, type Clock } from './clock.js'
import { defaultCoreSettings, type CoreContext, type CoreSettings } from './context.js'
import { Directory } from './directory.js'
import type { KeyRing } from './keys.js'
import { MemoryStore, type Store } from './store.js'
import { NumberVerificationService } from './number-verification.js'
import { TokenService } from './token-service.js'
import { EmulatorUrls } from './urls.js'

export interface EmulatorOptions {
  fixtures: Fixtures
  keys: KeyRing
  publicUrl: string
  settings?: Partial<CoreSettings>
  clock?: Clock
  store?: Store
}

export class Emulator {
  readonly ctx: CoreContext
  readonly keys: KeyRing
  readonly authorization: AuthorizationService
  readonly tokens: TokenService
  readonly numberVerification: NumberVerificationService
  private directoryValue: Directory

  constructor (options: EmulatorOptions) {
    const clock = options.clock ?? systemClock
    this.directoryValue = new Directory(options.fixtures)
    this.keys = options.keys
    this.ctx = {
      clock,
      store: options.store ?? new MemoryStore(clock),
      settings: { ...defaultCoreSettings, ...options.settings },
      urls: new EmulatorUrls(options.publicUrl),
      directory: () => this.directoryValue
    }
    this.authorization = new AuthorizationService(this.ctx)
    this.tokens = new TokenService(this.ctx, this.keys)
    this.numberVerification = new NumberVerificationService(this.tokens)
  }

  get directory (): Directory {
    return this.directoryValue
  }

  get urls (): EmulatorUrls {
    return this.ctx.urls
  }

  /** Swaps the whole emulated world at once (fixture reload, control API changes) */
  replaceFixtures (fixtures: Fixtures): void {
    this.directoryValue = new Directory(fixtures)
  }

  close (): void {
    this.ctx.store.close()
  }
}
