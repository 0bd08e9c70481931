// GET /_emulator/health: 200 once the emulator serves requests; used by Docker and CI waits. It
// also says how close the capped collections are to --max-pending and --max-grants.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

const Fill = Type.Object({ live: Type.Integer(), max: Type.Integer() })

const health: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/_emulator/health', {
    config: { operation: 'control' },
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
          capacity: Type.Object({ pending: Fill, grants: Fill })
        })
      }
    }
  }, async () => ({
    status: 'ok' as const,
    issuer: app.emulator.urls.issuer,
    ...app.emulator.directory.counts(),
    capacity: await app.emulator.capacity()
  }))
}

export default health
