// GET /camara/api/auth/v1/authorize: validate (a signed request object too), route to the
// operator (telco finder), 302 there.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Query } from '../../core/authorization.js'
import { AuthorizeQuerySchema, ErrorPageSchema, RedirectResponseSchema } from '../../schemas/oauth.js'
import { documentOnly } from '../route-options.js'

const authorize: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/authorize',
    {
      schema: {
        summary: 'OIDC authorization request (network-based authentication)',
        description:
          'Validates the request and redirects the browser to the emulated operator authorization server chosen by ' +
            'the telco finder. Errors about the client or redirect_uri are shown as a page; all others redirect to ' +
              'redirect_uri with error, error_description and state (a bad request object: invalid_request_object).',
        tags: ['gateway'],
        querystring: AuthorizeQuerySchema,
        response: { 302: RedirectResponseSchema, 400: ErrorPageSchema }
      },
      validatorCompiler: documentOnly,
      config: { operation: 'authorize' }
    },
    async (request, reply) => {
      const { location } = await request.emulator.authorization.start(
        request.query as Query,
        request.ip,
        request.facts.leg
      )
      return await reply.redirect(location, 302)
    }
  )
}

export default authorize
