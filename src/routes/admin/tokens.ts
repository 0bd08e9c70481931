// POST /_emulator/tokens: mint tokens for a subscriber, as if the whole flow had run, for backend
// tests that skip the browser leg.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { E164_PATTERN } from '../../core/phone-number.js'
import { ErrorInfoSchema } from '../../schemas/camara.js'
import { TokenResponseSchema } from '../../schemas/oauth.js'

const tokens: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/tokens', {
    config: { operation: 'control' },
    schema: {
      summary: 'Mint tokens for a subscriber',
      tags: ['control'],
      body: Type.Object({
        clientId: Type.String({ examples: ['demo-app'] }),
        msisdn: Type.Optional(Type.String({ pattern: E164_PATTERN, description: 'Omit for a token that identifies no subscriber' })),
        scope: Type.String({ examples: ['openid dpv:FraudPreventionAndDetection number-verification:verify'] }),
        amr: Type.Optional(Type.Array(Type.String(), { description: "Default ['nba','mnba']; ['sms','otp'] gives a token the API refuses with 403" }))
      }, { additionalProperties: false }),
      response: { 201: Type.Intersect([TokenResponseSchema, Type.Object({ flowId: Type.String() })]), 400: ErrorInfoSchema }
    }
  }, async (request, reply) => {
    const minted = await app.emulator.tokens.mint(request.body)
    request.facts.leg.flow = { flowId: minted.flowId, clientId: request.body.clientId, msisdn: request.body.msisdn }
    return await reply.code(201).header('cache-control', 'no-store').send(minted)
  })
}

export default tokens
