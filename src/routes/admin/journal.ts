// /_emulator/journal: what happened to each request, filterable by flow, correlator, subscriber
// and operation; a server-sent event stream of new entries for live views; clearing.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { NoContentSchema } from '../../schemas/camara.js'
import { EventStream } from './event-stream.js'

export const JournalEntrySchema = Type.Object({
  id: Type.Integer(),
  time: Type.String({ format: 'date-time' }),
  operation: Type.String(),
  method: Type.String(),
  path: Type.String(),
  status: Type.Integer({ description: '0 when a fault broke the connection' }),
  durationMs: Type.Number(),
  flowId: Type.Optional(Type.String()),
  correlator: Type.Optional(Type.String()),
  traceId: Type.Optional(
    Type.String({ pattern: '^[0-9a-f]{32}$', description: 'The OpenTelemetry trace of the request (--otlp-endpoint)' })
  ),
  clientId: Type.Optional(Type.String()),
  msisdn: Type.Optional(Type.String()),
  operatorId: Type.Optional(Type.String()),
  scenarios: Type.Array(Type.String()),
  reason: Type.Optional(Type.String()),
  checks: Type.Optional(
    Type.Array(
      Type.Object({
        rule: Type.String(),
        ok: Type.Boolean(),
        detail: Type.Optional(Type.String()),
        fresh: Type.Optional(
          Type.String({ description: 'A fingerprint of a value the rule wants fresh each time (never the value)' })
        )
      }),
      {
        description:
          'What the request showed of the client against the conformance rules (GET /_emulator/clients/{id}/report)'
      }
    )
  ),
  seed: Type.Integer()
})

const JournalQuerySchema = Type.Object({
  flowId: Type.Optional(Type.String()),
  correlator: Type.Optional(Type.String()),
  msisdn: Type.Optional(Type.String()),
  operation: Type.Optional(Type.String()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  sinceId: Type.Optional(Type.Integer({ minimum: 0 }))
}, { additionalProperties: false })

const journal: FastifyPluginAsyncTypebox = async (app) => {
  // Open event streams, ended when the app closes so shutdown does not wait on them (preClose:
  // server.close() waits for open connections, and onClose hooks run only after it)
  const streams = new Set<() => void>()
  app.addHook('preClose', async () => { for (const end of streams) end() })

  app.get(
    '/journal',
    {
      config: { operation: 'control' },
      schema: {
        summary: 'Journal entries, oldest first',
        description:
          'A bounded ring buffer of every request to the emulated surfaces (control requests excluded). The seed ' +
            'makes a run replayable.',
        tags: ['control'],
        querystring: JournalQuerySchema,
        response: {
          200: Type.Object({ seed: Type.Integer(), capacity: Type.Integer(), entries: Type.Array(JournalEntrySchema) })
        }
      }
    },
    async (request) => {
      const { journal, random } = request.emulator
      const entries = (await request.emulator.journalEntries(request.query)).map(({ checks, ...entry }) => ({
        ...entry,
        scenarios: [...entry.scenarios],
        ...(checks === undefined ? {} : { checks: [...checks] })
      }))
      return { seed: random.seed, capacity: journal.capacity, entries }
    }
  )

  app.get('/journal/stream', {
    config: { operation: 'control' },
    schema: {
      summary: 'Server-sent events: one `entry` event per new journal entry',
      tags: ['control'],
      produces: ['text/event-stream'],
      response: {
        200: {
          description: 'A text/event-stream: `event: entry` with a journal entry as JSON data, per new entry',
          content: { 'text/event-stream': { schema: { type: 'string' } } }
        }
      }
    }
  }, async (request, reply) => {
    reply.hijack()
    const raw = reply.raw
    raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
    // A reader that stops reading is paused, then dropped: it cannot grow the server's memory
    const stream = new EventStream(raw, {
      onDrop: () => {
        request.log.warn('journal stream reader stopped reading; dropped')
        stop()
      }
    })
    stream.send(': camara-nv-emulator journal\n\n')
    const unsubscribe = request.emulator.followJournal((entry) => {
      stream.send(`id: ${entry.id}\nevent: entry\ndata: ${JSON.stringify(entry)}\n\n`)
    })
    const keepAlive = setInterval(() => stream.keepAlive(), 15_000)
    keepAlive.unref()
    const stop = (): void => {
      clearInterval(keepAlive)
      unsubscribe()
      stream.close()
      streams.delete(end)
    }
    const end = (): void => {
      stop()
      raw.end()
    }
    streams.add(end)
    request.raw.once('close', stop)
  })

  app.delete('/journal', {
    config: { operation: 'control' },
    schema: { summary: 'Clear the journal', tags: ['control'], response: { 204: NoContentSchema } }
  }, async (request, reply) => {
    await request.emulator.clearJournal()
    return await reply.code(204).send(null)
  })
}

export default journal
