// Carries out the scenario engine's decisions on real requests: latency, errors in the surface's
// own format, forced verify results, and faults on the socket (reset, hang, empty reply,
// malformed / truncated / dribbled bodies). The engine decides; this plugin only acts.
import { setTimeout as delay } from 'node:timers/promises'
import { Readable } from 'node:stream'
import { Socket } from 'node:net'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Decision, DecidedError, DecidedFault } from '../core/scenarios/engine.js'
import { parseScenarioList } from '../core/scenarios/engine.js'
import type { ScenarioOperation } from '../core/scenarios/scenario-schema.js'
import { SCENARIO_OPERATIONS } from '../core/scenarios/scenario-schema.js'
import { journalRecordOf } from './journal-record.js'
import type { RequestFacts } from './request-facts.js'
import type { Directory } from '../core/directory.js'

export const SCENARIO_HEADER = 'x-emulator-scenario'

export type Sleep = (ms: number) => Promise<void>

/** A decided body fault, with how a slow body waits between its chunks */
export interface PendingBodyFault {
  fault: DecidedFault
  sleep: Sleep
}

export interface ScenarioContext {
  flowScenarios?: string[]
  claimedNumber?: string
  /** Renders an engine error (or a refusal of unknown scenario names) in the surface's format */
  toError: (error: DecidedError | { unknown: string[] }) => Error
}

/**
 * Thrown when a fault must take over the connection. It unwinds the route (and the core call it
 * is in) to the surface's error handler, which calls takeOver() and sends nothing.
 */
export class ConnectionTakenOver extends Error {
  readonly takeOver: () => void

  constructor (fault: string, takeOver: () => void) {
    super(`connection taken over by fault ${fault}`)
    this.name = 'ConnectionTakenOver'
    this.takeOver = takeOver
  }
}

type ErrorHandler = (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => FastifyReply

/**
 * A surface's error handler that first lets a fault take the connection over (ConnectionTakenOver
 * unwinds a route to its error handler): every surface that runs scenarios sets its handler this way.
 */
export function takingOverFaults (handler: ErrorHandler): ErrorHandler {
  return (error, request, reply) => {
    if (error instanceof ConnectionTakenOver) {
      error.takeOver()
      return reply
    }
    return handler(error, request, reply)
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Names of the scenarios applied to this request, for the journal and the log (none: undefined) */
    appliedScenarios: string[] | undefined
    /** A body fault to apply when the response is sent (the journal's onSend hook applies it) */
    bodyFault: PendingBodyFault | undefined
  }
  interface FastifyInstance {
    /**
     * Runs the scenarios for this request once its facts are known. Throws the surface's error
     * for an injected error, and ConnectionTakenOver when a fault took over the connection.
     * A promise only when there is latency to wait: the common case costs no promise.
     */
    runScenarios: (request: FastifyRequest, reply: FastifyReply, context: ScenarioContext) => Decision | Promise<Decision>
  }
}

function isScenarioOperation (operation: string): operation is ScenarioOperation {
  return (SCENARIO_OPERATIONS as readonly string[]).includes(operation)
}

/** The scenarios the fixtures attach to the request's subscriber, client and operator */
export function fixtureScenariosOf (directory: Directory, facts: Pick<RequestFacts, 'msisdn' | 'clientId' | 'operatorId'>): string[] {
  const subscriber = facts.msisdn === undefined ? undefined : directory.subscriber(facts.msisdn)?.scenarios
  const client = facts.clientId === undefined ? undefined : directory.client(facts.clientId)?.scenarios
  const operator = facts.operatorId === undefined ? undefined : directory.operator(facts.operatorId)?.scenarios
  // The common case: no fixture entity names a scenario, nothing to copy
  if (subscriber === undefined && client === undefined && operator === undefined) return []
  return [...subscriber ?? [], ...client ?? [], ...operator ?? []]
}

/** Malformed: the body as sent, its last character replaced by something no JSON parser accepts */
export function malform (payload: string): string {
  return payload.length === 0 ? '{"' : `${payload.slice(0, -1)},"}`
}

export default fp<{ sleep?: Sleep }>(async (app, options) => {
  const sleep: Sleep = options.sleep ?? (async (ms) => { if (ms > 0) await delay(ms) })
  const hung = new Set<Socket>()

  // No per-request hook: the header is read when the scenarios run, and no scenario applied is
  // the prototype's undefined
  app.decorateRequest('appliedScenarios', undefined)
  app.decorateRequest('bodyFault', undefined)

  app.decorate('runScenarios', (request: FastifyRequest, reply: FastifyReply, context: ScenarioContext): Decision | Promise<Decision> => {
    const { emulator } = app
    const facts = request.facts
    if (!isScenarioOperation(facts.operation)) throw new Error(`runScenarios called for operation ${facts.operation}`)
    const decision = emulator.scenarios.decide({
      operation: facts.operation,
      clientId: facts.clientId,
      msisdn: facts.msisdn,
      operatorId: facts.operatorId,
      claimedNumber: context.claimedNumber,
      // --no-user-scenarios: the header is ignored, as a shared demo's visitors could send it
      headerScenarios: emulator.ctx.settings.userScenarios ? parseScenarioList(request.headers[SCENARIO_HEADER]) : [],
      flowScenarios: context.flowScenarios ?? [],
      fixtureScenarios: fixtureScenariosOf(app.emulator.directory, facts)
    })
    if (decision.unknown.length > 0) throw context.toError({ unknown: decision.unknown })
    if (decision.applied.length > 0) request.appliedScenarios = decision.applied.map((a) => a.name)
    if (decision.latencyMs > 0) return sleep(decision.latencyMs).then(() => carryOut(request, reply, context, decision))
    return carryOut(request, reply, context, decision)
  })

  /** After any latency: the fault or error the decision holds, else the decision for the route */
  function carryOut (request: FastifyRequest, reply: FastifyReply, context: ScenarioContext, decision: Decision): Decision {
    const facts = request.facts
    const fault = decision.fault
    if (fault !== undefined) {
      if (fault.type === 'malformed-json' || fault.type === 'truncated-json' || fault.type === 'slow-body') {
        request.bodyFault = { fault, sleep }
      } else {
        throw new ConnectionTakenOver(fault.type, () => breakConnection(request, reply, fault))
      }
    }
    if (decision.error !== undefined) {
      facts.reason = `scenario ${decision.error.scenario}`
      throw context.toError(decision.error)
    }
    return decision
  }

  /** Reset, hang or empty reply: the response never comes, as on a broken network */
  function breakConnection (request: FastifyRequest, reply: FastifyReply, fault: DecidedFault): void {
    reply.hijack()
    const socket = request.raw.socket
    request.facts.reason = `fault ${fault.type} (scenario ${fault.scenario})`
    recordFault(request, fault)
    if (!(socket instanceof Socket)) {
      // app.inject() (the programmatic browser leg, tests): no socket to break, so fail the
      // response the way light-my-request reports a dead connection
      const fail = (): void => { reply.raw.destroy(Object.assign(new Error(`fault ${fault.type}`), { code: 'ECONNRESET' })) }
      if (fault.type !== 'hang') fail()
      else if (fault.afterMs !== undefined) setTimeout(fail, fault.afterMs)
      return
    }
    if (fault.type === 'connection-reset') {
      socket.resetAndDestroy()
    } else if (fault.type === 'empty-reply') {
      socket.end()
      socket.destroySoon()
    } else {
      hung.add(socket)
      socket.once('close', () => hung.delete(socket))
      if (fault.afterMs !== undefined) {
        const timer = setTimeout(() => socket.destroy(), fault.afterMs)
        socket.once('close', () => clearTimeout(timer))
      }
    }
  }

  /** A broken connection has no response, so no onResponse: journal it here, with status 0 */
  function recordFault (request: FastifyRequest, fault: DecidedFault): void {
    app.emulator.journal.append(journalRecordOf(request, { status: 0, durationMs: 0, reason: `fault ${fault.type} (scenario ${fault.scenario})` }))
  }

  // preClose, not onClose: server.close() waits for open connections, and onClose runs after it
  app.addHook('preClose', async () => {
    for (const socket of hung) socket.destroy()
  })
}, { name: 'scenarios', fastify: '5.x', dependencies: ['request-facts', 'emulator'] })

/**
 * The body to send: the payload, or what a body fault makes of it. Body faults act on whatever
 * body goes out, success or error; the journal's onSend hook calls this, so a request runs one
 * onSend hook, not two.
 */
export function outgoingBody (request: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
  const pending = request.bodyFault
  if (pending === undefined || typeof payload !== 'string') return payload
  const { fault, sleep } = pending
  request.facts.reason ??= `fault ${fault.type} (scenario ${fault.scenario})`
  if (fault.type === 'malformed-json') return malform(payload)
  if (fault.type === 'truncated-json') {
    // Announce the whole body, send half, then close: the client sees a premature end. A stream,
    // because Fastify recomputes Content-Length for string payloads
    reply.header('content-length', String(Buffer.byteLength(payload)))
    reply.raw.once('finish', () => {
      // app.inject() has no real socket to close: the half body is all its caller gets anyway
      const socket = request.raw.socket as Partial<Socket>
      if (typeof socket.destroySoon === 'function') socket.destroySoon()
    })
    return Readable.from([payload.slice(0, Math.floor(payload.length / 2))])
  }
  reply.removeHeader('content-length')
  return Readable.from(dribble(payload, fault.chunkDelayMs ?? 200, sleep))
}

async function * dribble (payload: string, chunkDelayMs: number, sleep: Sleep): AsyncGenerator<string> {
  const size = Math.max(1, Math.ceil(payload.length / 8))
  for (let at = 0; at < payload.length; at += size) {
    if (at > 0) await sleep(chunkDelayMs)
    yield payload.slice(at, at + size)
  }
}
