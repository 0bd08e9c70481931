// What a request was about: its operation (from the route), when it arrived, why the emulator
// refused it, and its Leg: the flow and the scenario decision the core fills in as it learns them.
// The request log, the journal and the error renderers read it here, the one place they meet.
import fp from 'fastify-plugin'
import type { Span } from '@opentelemetry/api'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import type { Emulator } from '../core/emulator.js'
import { newLeg, type Leg } from '../core/legs.js'
import type { FlowRef } from '../core/records.js'
import { parseScenarioList } from '../core/scenarios/engine.js'
import { correlate } from './correlation.js'
import { namespaceOf } from './namespace-url.js'

export type Operation = 'authorize' | 'operator' | 'token' | 'verify' | 'share' | 'discovery' | 'jwks' |
  'operator-token' | 'bc-authorize' | 'control' | 'docs' | 'other'

/** The operations that read runtime scenarios or fixtures: the legs, and the control API */
const READS_RUNTIME: ReadonlySet<Operation> = new Set([
  'authorize', 'operator', 'token', 'verify', 'share', 'discovery', 'jwks', 'operator-token', 'bc-authorize', 'control'
])

/** Where a caller chooses scenarios for one request */
export const SCENARIO_HEADER = 'x-emulator-scenario'

export interface RequestFacts {
  /** When the request arrived, on the emulator's clock (ms since the epoch) */
  startedAt: number
  operation: Operation
  /** What the core learnt: the flow, the scenarios decided */
  leg: Leg
  /** Why the emulator refused the request, in words (e.g. 'code already used') */
  reason?: string
  /** The request's span, only when tracing is on (src/plugins/tracing.ts) and the leg is traced */
  span?: Span
}

declare module 'fastify' {
  interface FastifyContextConfig {
    operation?: Operation
    /**
     * The route's checks that need no body (e.g. an API's bearer token), run by the one onRequest
     * hook once the facts are set; what it throws (or rejects with) goes to the route's error handler
     */
    checkRequest?: (request: FastifyRequest) => void | Promise<void>
    /** The route reads no runtime state, and must answer while a shared store is down (health) */
    withoutRuntime?: boolean
  }
  interface FastifyRequest {
    facts: RequestFacts
  }
}

/** The flow the request belongs to, as the core found it */
export function flowOf (request: FastifyRequest): FlowRef {
  return request.facts.leg.flow
}

/** Names of the scenarios applied to the request (none: undefined) */
export function appliedScenarios (request: FastifyRequest): string[] | undefined {
  const applied = request.facts.leg.decision?.applied
  return applied === undefined || applied.length === 0 ? undefined : applied.map((a) => a.name)
}

/**
 * The onRequest hook of every surface (src/plugins/surface.ts): facts, the correlation headers,
 * then the route's own checks. Callback style: an async hook costs a promise each time.
 */
export function factsHook (
  app: FastifyInstance
): (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void {
  const root = app.emulator
  const { clock, settings } = root.ctx
  // --no-user-scenarios: the header is ignored, as a shared demo's visitors could send it
  const userScenarios = settings.userScenarios
  const { namespaces, tracing } = app
  return (request, reply, done) => {
    const config = request.routeOptions.config
    request.facts = {
      operation: config.operation ?? 'other',
      startedAt: clock.now(),
      leg: newLeg(userScenarios ? parseScenarioList(request.headers[SCENARIO_HEADER]) : [])
    }
    // Tracing off (the default): tracing is undefined for the app's life, no span and nothing loaded.
    // Started before anything can answer, so every answer (an early refusal included) ends it
    if (tracing !== undefined) tracing.start(request)
    correlate(request, reply)
    // Under /ns/<name> the namespace's world is looked up (NamespaceNotFoundError goes to the
    // route's error handler, which answers in the surface's format)
    const namespace = namespaceOf(request.raw)
    // On a shared store, what other replicas changed (scenarios, fixtures) is adopted first
    const syncs = READS_RUNTIME.has(request.facts.operation) && config.withoutRuntime !== true
    if (namespace === undefined) {
      request.emulator = root
      const synced = syncs ? root.beforeRequest() : undefined
      if (synced === undefined) check(request, config.checkRequest, done)
      else synced.then(() => { warnNotAdopted(request); check(request, config.checkRequest, done) }, done)
      return
    }
    namespaces.resolve(namespace).then(async (world) => {
      request.emulator = world
      if (syncs) {
        await world.beforeRequest()
        warnNotAdopted(request)
      }
    }).then(() => { check(request, config.checkRequest, done) }, done)
  }
}

/** The reason each world last logged for not taking another replica's fixtures */
const loggedNotAdopted = new WeakMap<Emulator, string>()

/** Says in the log, once per reason, that this replica kept its fixtures (Emulator.fixturesNotAdopted) */
function warnNotAdopted (request: FastifyRequest): void {
  const world = request.emulator
  const reason = world.fixturesNotAdopted
  if (reason === undefined) {
    loggedNotAdopted.delete(world)
  } else if (loggedNotAdopted.get(world) !== reason) {
    loggedNotAdopted.set(world, reason)
    request.log.warn({ reason }, 'kept this replica\'s fixtures: the ones another replica published break a rule here')
  }
}

/** The route's own checks, once the request's world is known */
function check (
  request: FastifyRequest,
  checkRequest: ((request: FastifyRequest) => void | Promise<void>) | undefined,
  done: HookHandlerDoneFunction
): void {
  if (checkRequest === undefined) {
    done()
    return
  }
  let checked: void | Promise<void>
  try {
    checked = checkRequest(request)
  } catch (error) {
    done(error as Error)
    return
  }
  if (checked instanceof Promise) checked.then(() => { done() }, done)
  else done()
}

/** Whether the request came through a surface, which gave it facts (the root's answers have none) */
export function hasFacts (request: FastifyRequest): boolean {
  return request.facts !== null
}

export default fp(async (app) => {
  app.decorateRequest('facts', null as unknown as RequestFacts)
}, { name: 'request-facts', fastify: '5.x', dependencies: ['emulator', 'correlation', 'tracing'] })
