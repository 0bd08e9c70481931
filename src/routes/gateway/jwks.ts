// GET {issuer}/jwks: the public keys id_tokens are signed with.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { JwksSchema } from '../../schemas/oauth.js'

const jwks: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/jwks',
    {
      config: { operation: 'jwks' },
      schema: {
        summary: 'JSON Web Key Set of the id_token signing keys',
        tags: ['gateway'],
        response: { 200: JwksSchema }
      }
    },
    async (request, reply) => {
      await request.emulator.ctx.legs.run(request.facts.leg, {
        operation: request.facts.operation as 'discovery' | 'jwks'
      })
      return await reply.header('cache-control', 'public, max-age=300').send(request.emulator.keys.jwks())
    }
  )
}

export default jwks
