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
    /**
     * The route's checks that need no body (e.g. an API's bearer token), run by the one onRequest
     * hook once the facts are set; what it throws goes to the route's error handler
     */
    checkRequest?: (request: FastifyRequest) => void
  }
  interface FastifyRequest {
    facts: RequestFacts
  }
}

export default fp(async (app) => {
  app.decorateRequest('facts', null as unknown as RequestFacts)
  // The one onRequest hook every request runs (each hook costs ~1 us under load): facts, the
  // correlation headers, then the route's own checks. Callback style: an async hook costs a promise
  // each time
  app.addHook('onRequest', (request, reply, done) => {
    const config = request.routeOptions.config
    request.facts = { operation: config.operation ?? 'other', startedAt: app.emulator.ctx.clock.now() }
    correlate(request, reply)
    if (config.checkRequest !== undefined) {
      try {
        config.checkRequest(request)
      } catch (error) {
        done(error as Error)
        return
      }
    }
    done()
  })
}, { name: 'request-facts', fastify: '5.x', dependencies: ['emulator', 'correlation'] })
