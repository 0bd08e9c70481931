// POST /_emulator/reset: a fresh start: forget every code, grant, token and runtime scenario, return
// to the loaded fixtures and restart the seeded generator.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

const reset: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/reset', {
    config: { operation: 'control' },
    schema: {
      summary: 'Reset all state',
      description: 'Clears codes, grants, tokens, runtime scenario definitions, activations and the journal; ' +
        'restores the fixtures loaded from files; restarts the seeded generator, so the same requests give ' +
        'the same outcomes as after start.',
      tags: ['control'],
      response: { 204: Type.Null({ description: 'State cleared' }) }
    }
  }, async (request, reply) => {
    await request.emulator.reset()
    return await reply.code(204).send(null)
  })
}

export default reset
