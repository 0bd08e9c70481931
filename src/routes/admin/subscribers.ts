// /_emulator/subscribers: list, add or replace, and remove subscribers at runtime.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { SubscriberSchema } from '../../core/fixture-schema.js'
import { E164_PATTERN } from '../../core/phone-number.js'
import { CamaraError } from '../../core/errors.js'
import { ErrorInfoSchema, NoContentSchema } from '../../schemas/camara.js'

const MsisdnParams = Type.Object({
  msisdn: Type.String({ pattern: E164_PATTERN, description: 'E.164, URL-encoded (+ as %2B)' })
})

const subscribers: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/subscribers', {
    config: { operation: 'control' },
    schema: { summary: 'List subscribers', tags: ['control'], response: { 200: Type.Array(SubscriberSchema) } }
  }, async (request) => request.emulator.directory.fixtures.subscribers)

  app.put(
    '/subscribers/:msisdn',
    {
      config: { operation: 'control' },
      schema: {
        summary: 'Add or replace a subscriber',
        description:
          'Checked by the fixture rules (known operator, unique addresses); 201 when added, 200 when replaced.',
        tags: ['control'],
        params: MsisdnParams,
        body: SubscriberSchema,
        response: { 200: SubscriberSchema, 201: SubscriberSchema, 400: ErrorInfoSchema }
      }
    },
    async (request, reply) => {
      if (request.body.msisdn !== request.params.msisdn) {
        throw new CamaraError(
          400,
          'INVALID_ARGUMENT',
          `body msisdn ${request.body.msisdn} differs from the path ${request.params.msisdn}`
        )
      }
      const { created } = await request.emulator.changeRuntime(() => request.emulator.upsertSubscriber(request.body))
      return await reply.code(created ? 201 : 200).send(request.body)
    }
  )

  app.delete(
    '/subscribers/:msisdn',
    {
      config: { operation: 'control' },
      schema: {
        summary: 'Remove a subscriber',
        tags: ['control'],
        params: MsisdnParams,
        response: { 204: NoContentSchema, 404: ErrorInfoSchema }
      }
    },
    async (request, reply) => {
      if (!(await request.emulator.changeRuntime(() => request.emulator.removeSubscriber(request.params.msisdn)))) {
        throw new CamaraError(404, 'NOT_FOUND', `no subscriber ${request.params.msisdn}`)
      }
      return await reply.code(204).send(null)
    }
  )
}

export default subscribers
