// What a request was about, filled in by the routes as they learn it (operation, flow, client,
// subscriber, refusal reason). The request log, the journal and the scenario engine read it.
import fp from 'fastify-plugin'
import type { RefusedFlow } from '../core/errors.js'
import { correlate } from './correlation.js'

export type Operation = 'authorize' | 'operator' | 'token' | 'verify' | 'share' | 'discovery' | 'jwks' | 'control' | 'docs' | 'other'

export interface RequestFacts {
  /** When the request arrived, on the emulator's clock (ms since the epoch) */
  startedAt: number
  operation: Operation
  flowId?: string
  clientId?: string
  msisdn?: string
  operatorId?: string
  /** Why the emulator refused the request, in words (e.g. 'code already used') */
  reason?: string
}

/** A refusal of a credential that belongs to a flow is filed under that flow (the journal's flow view) */
export function linkRefusedFlow (facts: RequestFacts, flow: RefusedFlow | undefined): void {
  if (flow === undefined) return
  facts.flowId ??= flow.flowId
  facts.clientId ??= flow.clientId
  facts.msisdn ??= flow.msisdn
  facts.operatorId ??= flow.operatorId
}

declare module 'fastify' {
  interface FastifyContextConfig {
    operation?: Operation
  }
  interface FastifyRequest {
    facts: RequestFacts
  }
}

export default fp(async (app) => {
  app.decorateRequest('facts', null as unknown as RequestFacts)
  // The one onRequest hook every request runs (each hook costs ~1 us under load): facts, then the
  // correlation headers. Callback style, since an async hook costs a promise each time
  app.addHook('onRequest', (request, reply, done) => {
    request.facts = { operation: request.routeOptions.config.operation ?? 'other', startedAt: app.emulator.ctx.clock.now() }
    correlate(request, reply)
    done()
  })
}, { name: 'request-facts', fastify: '5.x', dependencies: ['emulator', 'correlation'] })
