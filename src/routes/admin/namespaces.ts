// /_emulator/namespaces: create or replace (PUT), list and remove isolated worlds, each served
// under /ns/<name> with its own fixtures, scenarios, journal, codes, tokens and seed.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { CamaraError } from '../../core/errors.js'
import { NAMESPACE_NAME } from '../../core/store.js'
import { ErrorInfoSchema, NoContentSchema } from '../../schemas/camara.js'
import type { NamespaceView } from '../../core/namespaces.js'

const NameParams = Type.Object({
  name: Type.String({ maxLength: 128, description: `A name matching ${NAMESPACE_NAME.source}` })
})

const NamespaceSchema = Type.Object({
  name: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  ownFixtures: Type.Boolean({ description: 'false: the server\'s fixtures' }),
  seed: Type.Optional(Type.Integer()),
  issuer: Type.String({ description: 'Where the namespace\'s clients point (discovery is under it)' })
})

function namespaceView (view: NamespaceView): {
  name: string
  createdAt: string
  ownFixtures: boolean
  seed?: number
  issuer: string
} {
  return { ...view, createdAt: new Date(view.createdAt).toISOString() }
}

const namespaces: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/namespaces', {
    config: { operation: 'control' },
    schema: {
      summary: 'List the namespaces',
      tags: ['control'],
      response: { 200: Type.Object({ namespaces: Type.Array(NamespaceSchema), max: Type.Integer() }) }
    }
  }, async () => ({ namespaces: (await app.namespaces.list()).map(namespaceView), max: app.namespaces.max }))

  app.put(
    '/namespaces/:name',
    {
      config: { operation: 'control' },
      schema: {
        summary: 'Create or replace a namespace',
        description:
          "Every surface is then served under /ns/{name} as well, with its own fixtures (default: the server's), " +
          'scenarios, journal, codes, tokens and seed. A replaced namespace starts empty. 201 when created, 200 when ' +
            'replaced; ' +
          '429 QUOTA_EXCEEDED past --max-namespaces; an idle namespace expires after --namespace-idle seconds.',
        tags: ['control'],
        params: NameParams,
        body: Type.Optional(
          Type.Object(
            {
              fixtures: Type.Optional(
                Type.Object(
                  {},
                  {
                    additionalProperties: true,
                    description: 'A fixture document, as in a fixture file (checked by the same rules)'
                  }
                )
              ),
              seed: Type.Optional(
                Type.Integer({
                  minimum: 0,
                  maximum: 2 ** 32 - 1,
                  description: "Seed of the namespace's random choices (default: the server's)"
                })
              )
            },
            { additionalProperties: false }
          )
        ),
        response: { 200: NamespaceSchema, 201: NamespaceSchema, 400: ErrorInfoSchema, 429: ErrorInfoSchema }
      },
      // `curl -X PUT .../namespaces/ci-1` sends no body: the server's fixtures
      preValidation: async (request) => {
        if (request.body === undefined && request.headers['content-type'] === undefined) {
          ;(request as { body: unknown }).body = {}
        }
      }
    },
    async (request, reply) => {
      const { created, namespace } = await app.namespaces.put(request.params.name, request.body ?? {})
      return await reply.code(created ? 201 : 200).send(namespaceView(namespace))
    }
  )

  app.delete(
    '/namespaces/:name',
    {
      config: { operation: 'control' },
      schema: {
        summary: 'Remove a namespace and everything in it',
        tags: ['control'],
        params: NameParams,
        response: { 204: NoContentSchema, 404: ErrorInfoSchema }
      }
    },
    async (request, reply) => {
      if (!(await app.namespaces.delete(request.params.name))) {
        throw new CamaraError(404, 'NOT_FOUND', `no namespace "${request.params.name}"`)
      }
      return await reply.code(204).send(null)
    }
  )
}

export default namespaces
