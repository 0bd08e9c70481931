// GET /_emulator/fixtures: the emulated world as it is now (after runtime changes).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { ClientSchema, OperatorSchema, SubscriberSchema } from '../../core/fixture-schema.js'

const fixtures: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/fixtures', {
    config: { operation: 'control' },
    schema: {
      summary: 'Current fixtures: operators, clients, subscribers',
      tags: ['control'],
      response: {
        200: Type.Object({
          files: Type.Array(Type.String()),
          defaultOperator: Type.Optional(Type.String()),
          operators: Type.Array(OperatorSchema),
          clients: Type.Array(ClientSchema),
          subscribers: Type.Array(SubscriberSchema)
        })
      }
    }
  }, async () => {
    const { files, defaultOperator, operators, clients, subscribers } = app.emulator.directory.fixtures
    return { files, ...(defaultOperator === undefined ? {} : { defaultOperator }), operators, clients, subscribers }
  })
}

export default fixtures
