// POST /_emulator/reset: forget every code, grant and token and return to the loaded fixtures.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

const reset: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/reset', {
    config: { operation: 'control' },
    schema: { summary: 'Reset all state', description: 'Clears codes, grants, tokens, scenario activations and the journal; restores the fixtures loaded from files.', tags: ['control'], response: { 204: Type.Null({ description: 'State cleared' }) } }
  }, async (_request, reply) => {
    await app.emulator.reset()
    return await reply.code(204).send(null)
  })
}

export default reset
