// GET /_emulator/metrics: the process's Prometheus metrics (src/plugins/metrics.ts), guarded like
// the rest of the control API (scrape it with the admin token as a bearer token when one is set).
// Served at the root only: one process, one set of metrics, whatever namespaces it serves.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

const metrics: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/metrics', {
    config: { operation: 'control' },
    schema: {
      summary: 'Prometheus metrics of this process',
      description: 'Requests per leg, status and client, their durations, scenarios applied, flows started and ' +
        'completed, store entries per collection, and the process\'s own metrics; the text exposition format.',
      tags: ['control'],
      produces: ['text/plain'],
      response: { 200: Type.String({ description: 'Prometheus text exposition format 0.0.4' }) }
    }
  }, async (_request, reply) => {
    const text = await app.metrics.text()
    return await reply.type(app.metrics.contentType).send(text)
  })
}

export default metrics
