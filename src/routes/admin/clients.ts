// GET /_emulator/clients/{id}/report: "would a strict operator accept my client?", graded from what
// the client did (its journal entries, so it resets with the journal and covers every replica), as
// JSON or as JUnit XML (?format=junit) for a CI job to publish.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { gradeClient, junitOf } from '../../core/conformance.js'
import { CamaraError } from '../../core/errors.js'
import { ErrorInfoSchema } from '../../schemas/camara.js'

const FailureSchema = Type.Object({
  entryId: Type.Integer({ description: 'The journal entry (GET /_emulator/journal?flowId=... shows its flow)' }),
  time: Type.String({ format: 'date-time' }),
  operation: Type.String(),
  flowId: Type.Optional(Type.String()),
  correlator: Type.Optional(Type.String()),
  detail: Type.String()
})

const RuleSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  source: Type.String({ description: 'The CAMARA document and release, or the RFC, the rule comes from' }),
  status: Type.Union([Type.Literal('pass'), Type.Literal('fail'), Type.Literal('not-seen')]),
  passed: Type.Integer(),
  failed: Type.Integer(),
  failures: Type.Array(FailureSchema, { description: 'The first failures, oldest first (at most 20)' })
})

const ReportSchema = Type.Object({
  clientId: Type.String(),
  flowId: Type.Optional(Type.String()),
  verdict: Type.Union([Type.Literal('pass'), Type.Literal('fail'), Type.Literal('no-requests')]),
  requests: Type.Integer({ description: "The client's journal entries graded" }),
  journal: Type.Object(
    { capacity: Type.Integer(), entries: Type.Integer() },
    { description: 'The window graded: the journal keeps its newest `capacity` entries' }
  ),
  rules: Type.Array(RuleSchema),
  notGraded: Type.Array(Type.String(), { description: "What only the client's own tests can show" })
})

const clients: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/clients/:id/report',
    {
      config: { operation: 'control' },
      schema: {
        summary: 'Conformance report of a client',
        description:
          'Grades what the client did, as the journal holds it, against the rules a strict CAMARA operator applies, ' +
          'each with its source. ?flowId= grades one flow; ?format=junit answers JUnit XML (one test case per rule: ' +
            'failed, ' +
          'passed, or skipped when not seen). Reset with the journal.',
        tags: ['control'],
        params: Type.Object({ id: Type.String({ maxLength: 256 }) }),
        querystring: Type.Object(
          {
            flowId: Type.Optional(Type.String({ maxLength: 64 })),
            format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('junit')], { default: 'json' }))
          },
          { additionalProperties: false }
        ),
        produces: ['application/json', 'application/xml'],
        response: {
          200: {
            description: 'The report',
            content: {
              'application/json': { schema: ReportSchema },
              'application/xml': { schema: Type.String({ description: 'JUnit XML (?format=junit)' }) }
            }
          },
          404: ErrorInfoSchema
        }
      }
    },
    async (request, reply) => {
      const { id } = request.params
      const { flowId, format } = request.query
      const emulator = request.emulator
      const entries = await emulator.journalEntries()
      if (emulator.directory.client(id) === undefined && !entries.some((entry) => entry.clientId === id)) {
        throw new CamaraError(
          404,
          'NOT_FOUND',
          `no client "${id}" in the fixtures or the journal; GET /_emulator/fixtures lists them`
        )
      }
      const report = gradeClient(entries, id, flowId)
      if (format === 'junit') return await reply.type('application/xml; charset=utf-8').send(junitOf(report))
      return await reply.type('application/json; charset=utf-8').send({
        ...report,
        notGraded: [...report.notGraded],
        journal: { capacity: emulator.journal.capacity, entries: entries.length }
      })
    }
  )
}

export default clients
