// Namespaces: isolated emulator worlds in one process and one store, one per CI job. Each has its
// own fixtures, scenarios, journal, codes and tokens and seed, and is served under /ns/<name>.
// What defines one (its fixtures and seed) lives in the store, so every replica sharing the store
// serves it; each process builds the world's services once per revision, on first use.
import type { Clock } from './clock.js'
import type { Emulator } from './emulator.js'
import { mergeFixtures, validateFixtureDocument, type Fixtures } from './fixtures.js'
import type { FixtureFile } from './fixture-schema.js'
import { NAMESPACE_NAME, type Store } from './store.js'

/** What PUT /_emulator/namespaces/<name> stored */
export interface NamespaceDefinition {
  name: string
  /** New at every PUT: a process whose world was built from another revision builds it again */
  revision: string
  /** ms since the epoch */
  createdAt: number
  /** The namespace's own fixture document, checked; absent: the server's fixtures */
  fixtures?: FixtureFile
  seed?: number
}

export interface NamespaceCollections {
  namespaces: NamespaceDefinition
}

export interface NamespaceLimits {
  maxNamespaces: number
  /** A namespace nobody used for this long goes, with everything in it */
  idleMs: number
}

/** A request named a namespace that does not exist (never created, deleted, or expired idle) */
export class NamespaceNotFoundError extends Error {
  readonly statusCode = 404

  constructor (readonly namespace: string) {
    super(`no namespace "${namespace}": PUT /_emulator/namespaces/${namespace} creates it (an idle namespace expires)`)
    this.name = 'NamespaceNotFoundError'
  }
}

/** Why a PUT was refused: a broken name, or the cap reached */
export class NamespaceRequestError extends Error {
  constructor (readonly kind: 'invalid' | 'full', message: string) {
    super(message)
    this.name = 'NamespaceRequestError'
  }
}

/** A namespace as the control API lists it */
export interface NamespaceView {
  name: string
  createdAt: number
  /** Whether it serves fixtures of its own (otherwise the server's) */
  ownFixtures: boolean
  seed: number | undefined
  /** Where a client points: the namespace's issuer */
  issuer: string
}

interface World {
  revision: string
  emulator: Emulator
  /** When this process last restarted the namespace's idle lifetime */
  touchedAt: number
}

/**
 * Where the definitions live: a store namespace of its own, which no user's namespace can be
 * named (a leading '-'), so the root world's reset leaves every namespace in place
 */
export const REGISTRY = '-namespaces'

export interface NamespacesOptions {
  /** The registry's store (the root store's namespace REGISTRY) */
  store: Store<NamespaceCollections>
  /** The store each namespace's world gets its own part of */
  worlds: Store<object>
  clock: Clock
  limits: NamespaceLimits
  /** The services of one namespace's world (synchronous: two first requests build one world) */
  build: (definition: NamespaceDefinition, fixtures: Fixtures | undefined) => Emulator
  /** The issuer a namespace's clients point at */
  issuerOf: (name: string) => string
  /** A revision id (nanoid) */
  newId: () => string
}

export class Namespaces {
  private readonly worlds = new Map<string, World>()
  private readonly options: NamespacesOptions
  private readonly timer: NodeJS.Timeout

  constructor (options: NamespacesOptions) {
    this.options = options
    // Worlds of namespaces that expired or were deleted elsewhere are let go within a minute
    this.timer = setInterval(
      () => {
        this.sweep().catch(() => {})
      },
      Math.min(options.limits.idleMs, 60_000)
    )
    this.timer.unref()
  }

  /** The file name fixture errors of a PUT name */
  static source (name: string): string {
    return `PUT /_emulator/namespaces/${name}`
  }

  /**
   * Checks a namespace's fixture document as a fixture file is checked (FixtureError names the
   * JSON path and the rule)
   */
  static checkFixtures (name: string, document: unknown): { document: FixtureFile, fixtures: Fixtures } {
    const source = Namespaces.source(name)
    const checked = validateFixtureDocument(source, document)
    return { document: checked, fixtures: mergeFixtures([{ file: source, content: checked }]) }
  }

  /** The world serving requests under /ns/<name>; NamespaceNotFoundError when there is none */
  async resolve (name: string): Promise<Emulator> {
    const { store, clock, limits } = this.options
    const definition = NAMESPACE_NAME.test(name) ? await store.get('namespaces', name) : undefined
    if (definition === undefined) {
      this.release(name)
      throw new NamespaceNotFoundError(name)
    }
    // No await from here to the map: parallel first requests share the one world built
    const world = this.worldOf(definition)
    const now = clock.now()
    if (now - world.touchedAt >= limits.idleMs / 10) {
      world.touchedAt = now
      await store.touch('namespaces', name, limits.idleMs)
    }
    return world.emulator
  }

  private worldOf (definition: Readonly<NamespaceDefinition>): World {
    const known = this.worlds.get(definition.name)
    if (known?.revision === definition.revision) return known
    if (known !== undefined) this.release(definition.name)
    const fixtures =
      definition.fixtures === undefined
        ? undefined
        : Namespaces.checkFixtures(definition.name, definition.fixtures).fixtures
    // Touched at its first use: a world built late in the idle lifetime still restarts it
    const world: World = {
      revision: definition.revision,
      emulator: this.options.build(definition, fixtures),
      touchedAt: Number.NEGATIVE_INFINITY
    }
    this.worlds.set(definition.name, world)
    return world
  }

  /**
   * Creates or replaces a namespace: a replaced one starts empty (codes, tokens, scenarios,
   * journal). Refuses a name the rule does not allow, and a new name past the cap.
   */
  async put (
    name: string,
    body: { fixtures?: unknown, seed?: number }
  ): Promise<{ created: boolean, namespace: NamespaceView }> {
    const { store, clock, limits } = this.options
    if (!NAMESPACE_NAME.test(name)) {
      throw new NamespaceRequestError(
        'invalid',
        `a namespace's name must match ${NAMESPACE_NAME.source}: lowercase letters, digits and '-', at most 63 ` +
          `characters (got "${name}")`
      )
    }
    const checked = body.fixtures === undefined ? undefined : Namespaces.checkFixtures(name, body.fixtures)
    const existing = await store.get('namespaces', name)
    if (existing === undefined && (await store.size('namespaces')) >= limits.maxNamespaces) {
      throw new NamespaceRequestError(
        'full',
        `at most ${limits.maxNamespaces} namespaces (--max-namespaces); DELETE one, or let an idle one expire`
      )
    }
    const definition: NamespaceDefinition = {
      name,
      revision: this.options.newId(),
      createdAt: clock.now(),
      ...(checked === undefined ? {} : { fixtures: checked.document }),
      ...(body.seed === undefined ? {} : { seed: body.seed })
    }
    this.release(name)
    await this.emptyStoreOf(name)
    await store.put('namespaces', name, definition, limits.idleMs)
    return { created: existing === undefined, namespace: this.view(definition) }
  }

  /** Removes a namespace and everything in it; false when there was none */
  async delete (name: string): Promise<boolean> {
    if (!NAMESPACE_NAME.test(name)) return false
    const removed = await this.options.store.delete('namespaces', name)
    this.release(name)
    await this.emptyStoreOf(name)
    return removed
  }

  async list (): Promise<NamespaceView[]> {
    const entries = await this.options.store.list('namespaces')
    return entries.map(({ value }) => this.view(value)).sort((a, b) => a.name.localeCompare(b.name))
  }

  /** The cap on live namespaces (--max-namespaces) */
  get max (): number {
    return this.options.limits.maxNamespaces
  }

  private view (definition: Readonly<NamespaceDefinition>): NamespaceView {
    return {
      name: definition.name,
      createdAt: definition.createdAt,
      ownFixtures: definition.fixtures !== undefined,
      seed: definition.seed,
      issuer: this.options.issuerOf(definition.name)
    }
  }

  /** What a namespace left in a shared store (values outlive a world only there) */
  private async emptyStoreOf (name: string): Promise<void> {
    // In one process a world's state is its own memory store, gone with the world
    if (!this.options.worlds.shared) return
    const left = this.options.worlds.namespace(name)
    try {
      await left.clear()
    } finally {
      await left.close()
    }
  }

  /** Lets this process's world of a namespace go (its memory-store state goes with it) */
  private release (name: string): void {
    const world = this.worlds.get(name)
    if (world === undefined) return
    this.worlds.delete(name)
    world.emulator.close().catch(() => {})
  }

  /** Lets go the worlds whose namespace expired or was deleted or replaced by another replica */
  async sweep (): Promise<void> {
    for (const [name, world] of [...this.worlds]) {
      const definition = await this.options.store.get('namespaces', name)
      if (definition?.revision !== world.revision) this.release(name)
    }
  }

  async close (): Promise<void> {
    clearInterval(this.timer)
    for (const name of [...this.worlds.keys()]) this.release(name)
    await this.options.store.close()
  }
}
