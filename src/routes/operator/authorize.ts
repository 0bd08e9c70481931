// GET /operators/:operatorId/authorize: the emulated Operator Authorization Server. It identifies
// the device from its network address and redirects to the app with a code or an OAuth error.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { browserErrorHandler } from '../gateway/index.js'
import { addSurfaceHooks } from '../../plugins/surface.js'
import { documentOnly } from '../route-options.js'
import { ErrorPageSchema, RedirectResponseSchema } from '../../schemas/oauth.js'
import { acceptsHtml, browserTimeoutError, showSimPicker, SimPickerPageSchema } from './sim-picker.js'

const operatorAuthorize: FastifyPluginAsyncTypebox = async (app) => {
  addSurfaceHooks(app, { timeoutError: browserTimeoutError })
  app.setErrorHandler(browserErrorHandler)
  app.get(
    '/operators/:operatorId/authorize',
    {
      schema: {
        summary: 'Emulated operator authorization endpoint (reached by the gateway redirect)',
        tags: ['operator'],
        params: Type.Object({ operatorId: Type.String() }),
        querystring: Type.Object({
          request_id: Type.Optional(Type.String({ description: 'Issued by the gateway authorize endpoint' }))
        }),
        response: { 200: SimPickerPageSchema, 302: RedirectResponseSchema, 400: ErrorPageSchema }
      },
      validatorCompiler: documentOnly,
      config: { operation: 'operator' }
    },
    async (request, reply) => {
      const query = request.query as Record<string, unknown>
      const requestId = typeof query.request_id === 'string' ? query.request_id : undefined
      const { leg } = request.facts
      leg.flow = { operatorId: request.params.operatorId }
      if (acceptsHtml(request.headers.accept)) {
        const offer = await request.emulator.authorization.offerSimPicker(
          request.params.operatorId,
          requestId,
          request.ip,
          leg
        )
        if (offer !== undefined) return await showSimPicker(request, reply, offer)
      }
      const { location } = await request.emulator.authorization.completeAtOperator(
        request.params.operatorId,
        requestId,
        request.ip,
        leg
      )
      return await reply.redirect(location, 302)
    }
  )
}

export default operatorAuthorize
