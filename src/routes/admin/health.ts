// GET /_emulator/health: 200 once the emulator serves requests; used by Docker and CI waits. It
// also says how close the capped collections are to --max-pending, --max-grants and
// --max-dpop-proofs, and answers 503 with the reason while a shared store (--store) cannot be
// reached. A replica that kept its own fixtures, because the ones another replica published break
// a rule here, says why.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { StoreUnavailableError } from '../../core/store.js'

const Fill = Type.Object({ live: Type.Integer(), max: Type.Integer() })

const health: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/_emulator/health', {
    config: { operation: 'control', withoutRuntime: true },
    schema: {
      summary: 'Readiness',
      tags: ['control'],
      response: {
        200: Type.Object({
          status: Type.Literal('ok'),
          issuer: Type.String(),
          operators: Type.Integer(),
          clients: Type.Integer(),
          subscribers: Type.Integer(),
          capacity: Type.Object({ pending: Fill, grants: Fill, dpopProofs: Fill }),
          /** On a shared store: why this replica kept its own fixtures instead of the fleet's */
          fixturesNotAdopted: Type.Optional(Type.String())
        }),
        503: Type.Object({
          status: Type.Literal('unavailable'),
          issuer: Type.String(),
          reason: Type.String()
        })
      }
    }
  }, async (request, reply) => {
    const { emulator } = request
    let capacity
    try {
      capacity = await emulator.capacity()
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error
      request.facts.reason = error.message
      return await reply
        .code(503)
        .send({ status: 'unavailable' as const, issuer: emulator.urls.issuer, reason: error.message })
    }
    const notAdopted = emulator.fixturesNotAdopted
    return {
      status: 'ok' as const,
      issuer: emulator.urls.issuer,
      ...emulator.directory.counts(),
      capacity,
      ...(notAdopted === undefined ? {} : { fixturesNotAdopted: notAdopted })
    }
  })
}

export default health
