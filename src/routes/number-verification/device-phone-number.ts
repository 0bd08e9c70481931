// GET {family}/device-phone-number: the number the network bound to the token.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { NV_SHARE_SCOPE } from '../../core/scopes.js'
import { CorrelatorHeadersSchema, ShareResponseSchema } from '../../schemas/camara.js'
import { authorizeCall, NV_ERROR_RESPONSES, type PathFamily } from './family.js'

const devicePhoneNumber: FastifyPluginAsyncTypebox<{ family: PathFamily }> = async (app, { family }) => {
  app.get('/device-phone-number', {
    config: { operation: 'share', checkRequest: authorizeCall(NV_SHARE_SCOPE, family) },
    schema: {
      summary: `Share the device phone number (${family.label})`,
      tags: [family.tag],
      operationId: `share_${family.id}`,
      security: [{ openId: [NV_SHARE_SCOPE] }],
      headers: CorrelatorHeadersSchema,
      response: { 200: ShareResponseSchema, ...NV_ERROR_RESPONSES }
    },
  }, async (request) => {
    const service = request.emulator.numberVerification
    return { devicePhoneNumber: await service.shareNumber(service.identify(request.call), request.facts.leg) }
  })
}

export default devicePhoneNumber
