// Request correlation: CAMARA's x-correlator and the aggregator's x-correlation-id are echoed on
// every response when sent; a UUID is generated when absent. The CAMARA surface rejects a value
// that breaks CAMARA's pattern (request.correlatorProblem tells it so).
import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'

export const CORRELATOR_PATTERN = /^[a-zA-Z0-9-_:;./<>{}]{0,256}$/
const HEADERS = ['x-correlator', 'x-correlation-id'] as const

declare module 'fastify' {
  interface FastifyRequest {
    correlator: string
    /** Set when a correlation header was sent but breaks CAMARA's pattern */
    correlatorProblem: string | undefined
  }
}

export default fp(async (app) => {
  app.decorateRequest('correlator', '')
  app.decorateRequest('correlatorProblem', undefined)

  app.addHook('onRequest', async (request, reply) => {
    let sent = false
    for (const name of HEADERS) {
      const value = request.headers[name]
      if (value === undefined) continue
      sent = true
      const text = Array.isArray(value) ? value.join(',') : value
      if (!CORRELATOR_PATTERN.test(text)) {
        request.correlatorProblem = `${name} must match ^[a-zA-Z0-9-_:;.\\/<>{}]{0,256}$`
        continue
      }
      reply.header(name, text)
      if (request.correlator === '') request.correlator = text
    }
    if (request.correlator === '') {
      request.correlator = randomUUID()
      // Answer in the header family the client used; CAMARA's by default
      if (!sent) reply.header('x-correlator', request.correlator)
      else if (request.correlatorProblem !== undefined) reply.header('x-correlator', request.correlator)
    }
    request.log = request.log.child({ correlator: request.correlator })
  })
}, { name: 'correlation', fastify: '5.x' })
