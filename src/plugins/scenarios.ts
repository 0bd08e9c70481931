// Carries out what the core's scenario step decided, where only HTTP can: faults on the socket
// (reset, hang, empty reply) and on the body (malformed / truncated / dribbled).
// The engine decides and the core sequences; this plugin only acts.
import { Readable } from 'node:stream'
import { Socket } from 'node:net'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { BODY_FAULTS, type Sleep } from '../core/legs.js'
import type { DecidedFault } from '../core/scenarios/engine.js'
import { recordRequest } from './journal-record.js'

export type { Sleep } from '../core/legs.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Reset, hang or empty reply: the response never comes, as on a broken network */
    breakConnection: (request: FastifyRequest, reply: FastifyReply, fault: DecidedFault) => void
  }
}

/** Malformed: the body as sent, its last character replaced by something no JSON parser accepts */
export function malform (payload: string): string {
  return payload.length === 0 ? '{"' : `${payload.slice(0, -1)},"}`
}

export default fp(async (app) => {
  const hung = new Set<Socket>()

  app.decorate('breakConnection', breakConnection)

  /** Reset, hang or empty reply: the response never comes, as on a broken network */
  function breakConnection (request: FastifyRequest, reply: FastifyReply, fault: DecidedFault): void {
    reply.hijack()
    const socket = request.raw.socket
    request.facts.reason = `fault ${fault.type} (scenario ${fault.scenario})`
    recordFault(request, fault)
    if (!(socket instanceof Socket)) {
      // app.inject() (the programmatic browser leg, tests): no socket to break, so fail the
      // response the way light-my-request reports a dead connection
      const fail = (): void => {
        reply.raw.destroy(Object.assign(new Error(`fault ${fault.type}`), { code: 'ECONNRESET' }))
      }
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
    recordRequest(request, { status: 0, durationMs: 0, reason: `fault ${fault.type} (scenario ${fault.scenario})` })
  }

  // preClose, not onClose: server.close() waits for open connections, and onClose runs after it
  app.addHook('preClose', async () => {
    for (const socket of hung) socket.destroy()
  })
}, { name: 'scenarios', fastify: '5.x', dependencies: ['request-facts', 'emulator'] })

/** The body fault the request's scenarios decided, if any */
export function bodyFaultOf (request: FastifyRequest): DecidedFault | undefined {
  const fault = request.facts.leg.decision?.fault
  return fault !== undefined && BODY_FAULTS.has(fault.type) ? fault : undefined
}

/**
 * The body to send: the payload, or what a body fault makes of it. Body faults act on whatever
 * body goes out, success or error; the journal's onSend hook calls this, so a request runs one
 * onSend hook, not two.
 */
export function outgoingBody (request: FastifyRequest, reply: FastifyReply, payload: unknown, sleep: Sleep): unknown {
  const fault = bodyFaultOf(request)
  if (fault === undefined || typeof payload !== 'string') return payload
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
