// The per-request logger, created only when a request logs something. Fastify makes a pino child
// (bound to the request id) for every request; under load at --log-level warn nothing logs per
// request, and that child was ~5% of a /verify call. This one defers the child to the first line
// written at an enabled level, so the bindings (the correlator) are the same as before.
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify'

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
const LEVELS: readonly Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace']
type Bindings = Parameters<FastifyBaseLogger['child']>[0]
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1]
type Write = (...args: unknown[]) => void

export class LazyRequestLogger {
  private readonly parent: FastifyBaseLogger
  private readonly bindings: Bindings
  private readonly options: ChildOptions
  private real: FastifyBaseLogger | undefined

  declare fatal: FastifyBaseLogger['fatal']
  declare error: FastifyBaseLogger['error']
  declare warn: FastifyBaseLogger['warn']
  declare info: FastifyBaseLogger['info']
  declare debug: FastifyBaseLogger['debug']
  declare trace: FastifyBaseLogger['trace']

  constructor (parent: FastifyBaseLogger, bindings: Bindings, options: ChildOptions) {
    this.parent = parent
    this.bindings = bindings
    this.options = options
  }

  /** The pino child, made on first use */
  materialize (): FastifyBaseLogger {
    this.real ??= this.parent.child(this.bindings, this.options)
    return this.real
  }

  /** Whether a line at this level would be written: the child's level once made, else the parent's */
  enabled (level: Level): boolean {
    const logger = (this.real ?? this.parent) as FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean }
    return logger.isLevelEnabled === undefined || logger.isLevelEnabled(level)
  }

  get level (): string {
    return this.real?.level ?? this.parent.level
  }

  set level (level: string) {
    this.materialize().level = level
  }

  silent (): void {}

  child (bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.materialize().child(bindings, options)
  }
}

for (const level of LEVELS) {
  Object.defineProperty(LazyRequestLogger.prototype, level, {
    value: function (this: LazyRequestLogger, ...args: unknown[]): void {
      if (this.enabled(level)) (this.materialize()[level] as Write)(...args)
    },
    writable: true,
    configurable: true
  })
}

/**
 * Fastify's childLoggerFactory: a lazy child, unless the route sets its own level or serializers
 * (then pino's child at once, as Fastify would make it).
 */
export const lazyChildLoggerFactory: NonNullable<FastifyServerOptions['childLoggerFactory']> = function (logger, bindings, options) {
  if (options.level !== undefined || options.serializers !== undefined) return logger.child(bindings, options)
  return new LazyRequestLogger(logger, bindings, options) as unknown as FastifyBaseLogger
}
