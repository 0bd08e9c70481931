// /_emulator/scenarios: list the catalogue and fixture scenarios, define and remove scenarios at
// runtime, and activate them globally or for the next N matching requests, with an expiry.
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { CamaraError } from '../../core/errors.js'
import { MAX_EXPIRES_IN_SECONDS, type ScenarioEngine } from '../../core/scenarios/engine.js'
import { ScenarioMatchSchema, ScenarioSchema, validateScenario } from '../../core/scenarios/scenario-schema.js'
import { ErrorInfoSchema, NoContentSchema } from '../../schemas/camara.js'

/** The ScenarioError validateScenario raises for a body the schema refused */
function scenarioProblem (body: unknown): Error {
  try {
    validateScenario(body, 'body')
  } catch (error) {
    return error as Error
  }
  return new CamaraError(400, 'INVALID_SCENARIO', 'the scenario does not match its schema')
}

const NameParams = Type.Object({ name: Type.String() })

const ActivationSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  activatedAt: Type.String({ format: 'date-time' }),
  remaining: Type.Optional(Type.Integer()),
  expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
  match: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  appliedCount: Type.Integer()
})

const ListingSchema = Type.Object({
  name: Type.String(),
  description: Type.String(),
  origin: Type.Union([Type.Literal('catalogue'), Type.Literal('fixture'), Type.Literal('control')]),
  file: Type.Optional(Type.String()),
  active: Type.Boolean(),
  scenario: Type.Record(Type.String(), Type.Unknown())
})

const scenarios: FastifyPluginAsyncTypebox = async (app) => {
  const engine = (request: FastifyRequest): ScenarioEngine => request.emulator.scenarios
  const activationView = (a: ReturnType<ScenarioEngine['activations']>[number]) => ({
    ...a,
    activatedAt: new Date(a.activatedAt).toISOString(),
    expiresAt: a.expiresAt === undefined ? undefined : new Date(a.expiresAt).toISOString()
  })

  app.get(
    '/scenarios',
    {
      config: { operation: 'control' },
      schema: {
        summary: 'List scenarios (catalogue, fixtures, runtime) and live activations',
        tags: ['control'],
        response: {
          200: Type.Object({ scenarios: Type.Array(ListingSchema), activations: Type.Array(ActivationSchema) })
        }
      }
    },
    async (request) => {
      const activations = await request.emulator.liveActivations()
      return { scenarios: engine(request).list(), activations: activations.map(activationView) }
    }
  )

  app.post('/scenarios', {
    // The route schema decides; a refusal is worded by the fixture loader's rules (JSON path and rule)
    config: { operation: 'control', describeInvalidBody: scenarioProblem },
    schema: {
      summary: 'Define a scenario at runtime (or replace one defined at runtime)',
      description: '429 QUOTA_EXCEEDED past --max-runtime-scenarios definitions made at runtime.',
      tags: ['control'],
      body: ScenarioSchema,
      response: { 201: ListingSchema, 400: ErrorInfoSchema, 409: ErrorInfoSchema, 429: ErrorInfoSchema }
    }
  }, async (request, reply) => {
    // The cross-field rules the schema cannot state (e.g. an error's status matching its code)
    const scenario = validateScenario(request.body, 'body')
    return await reply.code(201).send(await request.emulator.changeRuntime((scenarios) => scenarios.define(scenario)))
  })

  app.delete(
    '/scenarios/:name',
    {
      config: { operation: 'control' },
      schema: {
        summary: 'Remove a scenario defined at runtime',
        tags: ['control'],
        params: NameParams,
        response: { 204: NoContentSchema, 404: ErrorInfoSchema, 409: ErrorInfoSchema }
      }
    },
    async (request, reply) => {
      if (!(await request.emulator.changeRuntime((scenarios) => scenarios.remove(request.params.name)))) {
        throw new CamaraError(404, 'NOT_FOUND', `unknown scenario "${request.params.name}"`)
      }
      return await reply.code(204).send(null)
    }
  )

  app.post(
    '/scenarios/:name/activate',
    {
      config: { operation: 'control' },
      schema: {
        summary: 'Activate a scenario for every matching request, or the next N, optionally until an expiry',
        description: '429 QUOTA_EXCEEDED past --max-activations live activations.',
        tags: ['control'],
        params: NameParams,
        body: Type.Optional(
          Type.Object(
            {
              remaining: Type.Optional(Type.Integer({ minimum: 1, description: 'Only the next N matching requests' })),
              // The engine's own bounds, so the OpenAPI document states them and the answer names the body field
              expiresInSeconds: Type.Optional(
                Type.Number({
                  exclusiveMinimum: 0,
                  maximum: MAX_EXPIRES_IN_SECONDS,
                  description: 'Deactivate after this long'
                })
              ),
              match: Type.Optional(
                Type.Partial(ScenarioMatchSchema, {
                  description: "Replaces the scenario's match rules for this activation"
                })
              )
            },
            { additionalProperties: false }
          )
        ),
        response: { 201: ActivationSchema, 400: ErrorInfoSchema, 404: ErrorInfoSchema, 429: ErrorInfoSchema }
      },
      // `curl -X POST .../activate` sends no body at all: validate it as {} (Fastify checks a body
      // schema even when the request has none)
      preValidation: async (request) => {
        if (request.body === undefined && request.headers['content-type'] === undefined) {
          ;(request as { body: unknown }).body = {}
        }
      }
    },
    async (request, reply) => {
      const activation = await request.emulator.activateScenario(request.params.name, request.body ?? {})
      return await reply.code(201).send(activationView(activation))
    }
  )

  app.delete(
    '/scenarios/:name/activate',
    {
      config: { operation: 'control' },
      schema: {
        summary: 'Deactivate every activation of a scenario',
        tags: ['control'],
        params: NameParams,
        response: { 204: NoContentSchema, 404: ErrorInfoSchema }
      }
    },
    async (request, reply) => {
      if ((await request.emulator.changeRuntime((scenarios) => scenarios.deactivate(request.params.name))) === 0) {
        throw new CamaraError(404, 'NOT_FOUND', `scenario "${request.params.name}" has no live activation`)
      }
      return await reply.code(204).send(null)
    }
  )

  app.delete(
    '/activations/:id',
    {
      config: { operation: 'control' },
      schema: {
        summary: 'Deactivate one activation',
        tags: ['control'],
        params: Type.Object({ id: Type.String() }),
        response: { 204: NoContentSchema, 404: ErrorInfoSchema }
      }
    },
    async (request, reply) => {
      if ((await request.emulator.changeRuntime((scenarios) => scenarios.deactivate(request.params.id))) === 0) {
        throw new CamaraError(404, 'NOT_FOUND', `no live activation "${request.params.id}"`)
      }
      return await reply.code(204).send(null)
    }
  )

  app.delete('/activations', {
    config: { operation: 'control' },
    schema: { summary: 'Deactivate every scenario', tags: ['control'], response: { 204: NoContentSchema } }
  }, async (request, reply) => {
    await request.emulator.changeRuntime((scenarios) => {
      for (const activation of scenarios.activations()) scenarios.deactivate(activation.id)
    })
    return await reply.code(204).send(null)
  })
}

export default scenarios
