// The sample app at /demo: a client of the emulator served by the emulator itself, so a
// presenter can show the whole Number Verification flow from one URL. Its routes are pages for
// people, so they stay out of the journal; the flows they start are journaled like any other.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { addSurfaceHooks } from '../plugins/surface.js'
import { StoreUnavailableError } from '../core/store.js'
import fp from 'fastify-plugin'
import { newNonce, sendPage } from '../views/layout.js'
import { renderDemoProblem } from './views/demo.js'
import { ATTEMPT_TTL_MS, DemoAttempts } from './attempts.js'
import callback from './callback.js'
import type { DemoContext, DemoOptions } from './context.js'
import form from './form.js'
import { JournalClient } from './journal-client.js'
import start from './start.js'
import { DEMO_CLIENT_ID, DemoBackend } from './verification.js'

function demoErrorHandler (dashboard: boolean) {
  return function (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const page = (status: number, text: string, raw = status): FastifyReply => {
      const nonce = newNonce()
      return sendPage(
        reply,
        status,
        renderDemoProblem({ nonce, dashboard, title: 'The demo app could not do that', text, raw: { status: raw } }),
        nonce
      )
    }
    if (error instanceof StoreUnavailableError) {
      return page(503, `The demo app cannot go on: ${StoreUnavailableError.answer}.`)
    }
    const status = (error as FastifyError).statusCode ?? 500
    if (status < 500) return page(status, error.message)
    request.log.error({ err: error }, 'unexpected error in the demo app')
    return page(500, 'The demo app failed unexpectedly; the log has the details.', status)
  }
}

export default fp<DemoOptions>(async (app: FastifyInstance, options) => {
  // The dashboard is linked exactly when the control API, and so its journal, is on
  const journal = new JournalClient(app, { enabled: options.dashboard, adminToken: options.adminToken })
  const context: DemoContext = {
    ...options,
    attempts: new DemoAttempts(options.store),
    backend: new DemoBackend(app, journal)
  }

  // Learn each attempt's flow id when the gateway starts its flow: the timeline needs it. A
  // listener, not an onSend hook, so requests that are not the demo's cost nothing
  const stop = app.emulator.authorization.onFlowStart((pending) => {
    const { state, flowId } = pending
    if (pending.clientId !== DEMO_CLIENT_ID || state === undefined) return
    // A new attempt object for the same state, kept until the original expiry
    context.attempts.get(state).then(async (attempt) => {
      if (attempt === undefined) return
      const ttlMs = attempt.createdAt + ATTEMPT_TTL_MS - app.emulator.ctx.clock.now()
      if (ttlMs > 0) await context.attempts.put(state, { ...attempt, flowId }, ttlMs)
    }).catch((error: unknown) => app.log.error({ err: error }, 'the demo could not record its flow id'))
  })
  app.addHook('onClose', async () => stop())

  await app.register(async (demo) => {
    addSurfaceHooks(demo, { timeoutError: (_request, text) => Object.assign(new Error(text), { statusCode: 408 }) })
    demo.setErrorHandler(demoErrorHandler(options.dashboard))
    await demo.register(form, context)
    await demo.register(start, context)
    await demo.register(callback, context)
  })
}, { name: 'demo', fastify: '5.x', dependencies: ['emulator', 'request-facts'] })
