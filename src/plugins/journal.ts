// Records every request of the emulated surfaces in the journal as its response is sent, with
// the facts the routes learnt and the scenarios applied. Control and docs requests are left out,
// so a dashboard polling the journal does not fill it with itself.
import fp from 'fastify-plugin'
import { journalRecordOf } from './journal-record.js'
import { outgoingBody } from './scenarios.js'

const UNJOURNALED = new Set(['control', 'docs'])

export default fp(async (app) => {
  // The one onSend hook (each hook costs every request): the scenarios' body fault, if any, then
  // the journal entry. Recorded as the response goes out, so the entry exists by the time the
  // client reads the answer, and with no onResponse hook Fastify does not watch every response
  // for its end (~5% of a /verify call). durationMs is the time to the response, injected latency
  // included; a slow-body fault's dribbling comes after it.
  app.addHook('onSend', (request, reply, payload, done) => {
    const body = outgoingBody(request, reply, payload, app.emulator.ctx.legs.sleep)
    if (!UNJOURNALED.has(request.facts.operation)) {
      app.emulator.journal.append(journalRecordOf(request, { status: reply.statusCode, durationMs: Math.round(reply.elapsedTime * 100) / 100 }))
    }
    done(null, body)
  })
}, { name: 'journal', fastify: '5.x', dependencies: ['request-facts', 'correlation', 'scenarios'] })
