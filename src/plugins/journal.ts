// Records every request of the emulated surfaces in the journal once its response is sent, with
// the facts the routes learnt and the scenarios applied. Control and docs requests are left out,
// so a dashboard polling the journal does not fill it with itself.
import fp from 'fastify-plugin'

const UNJOURNALED = new Set(['control', 'docs'])

export default fp(async (app) => {
  app.addHook('onResponse', (request, reply, done) => {
    const { facts } = request
    if (UNJOURNALED.has(facts.operation)) return done()
    const durationMs = Math.round(reply.elapsedTime * 100) / 100
    app.emulator.journal.record({
      operation: facts.operation,
      method: request.method,
      path: request.url.split('?')[0] ?? request.url,
      status: reply.statusCode,
      durationMs,
      startedAt: facts.startedAt,
      flowId: facts.flowId,
      correlator: request.correlator,
      clientId: facts.clientId,
      msisdn: facts.msisdn,
      operatorId: facts.operatorId,
      scenarios: request.appliedScenarios,
      reason: facts.reason
    })
    done()
  })
}, { name: 'journal', fastify: '5.x', dependencies: ['request-facts', 'correlation', 'scenarios'] })
