// GET /demo/callback: where the operator sends the browser back. The app's backend finishes the
// flow (token exchange, verify) and the page shows the verdict and every hop. A state the app
// does not know gets a readable page, never a crash.
import type { FastifyPluginAsync } from 'fastify'
import { Type } from '@sinclair/typebox'
import { renderDemoProblem, renderDemoResult } from './views/demo.js'
import { newNonce, sendPage } from '../views/layout.js'
import { documentOnly } from '../routes/route-options.js'
import { retryUrl } from './choices.js'
import { deviceLabel } from './devices.js'
import type { DemoContext } from './context.js'
import { HtmlPageSchema } from './pages.js'

function single (query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name]
  const first = Array.isArray(value) ? value[0] as unknown : value
  return typeof first === 'string' && first !== '' ? first : undefined
}

const callback: FastifyPluginAsync<DemoContext> = async (app, context) => {
  app.get('/demo/callback', {
    config: { operation: 'docs' },
    schema: {
      summary: 'Demo app: OAuth redirect target; exchanges the code, calls verify, shows the result',
      tags: ['demo'],
      querystring: Type.Object({
        code: Type.Optional(Type.String()),
        state: Type.Optional(Type.String()),
        error: Type.Optional(Type.String()),
        error_description: Type.Optional(Type.String())
      }),
      response: { 200: HtmlPageSchema, 400: HtmlPageSchema }
    },
    validatorCompiler: documentOnly
  }, async (request, reply) => {
    const query = (request.query ?? {}) as Record<string, unknown>
    const parameters = {
      code: single(query, 'code'),
      state: single(query, 'state'),
      error: single(query, 'error'),
      errorDescription: single(query, 'error_description')
    }
    const attempt = parameters.state === undefined ? undefined : await context.attempts.take(parameters.state)
    const nonce = newNonce()
    if (attempt === undefined) {
      const received = {
        ...(parameters.code === undefined ? {} : { code: '(redacted)' }),
        ...(parameters.error === undefined ? {} : { error: parameters.error }),
        ...(parameters.errorDescription === undefined ? {} : { error_description: parameters.errorDescription }),
        state: parameters.state ?? null
      }
      return sendPage(
        reply,
        400,
        renderDemoProblem({
          nonce,
          dashboard: context.dashboard,
          title: 'This verification is unknown or expired',
          text: 'The app has no record of this attempt: its state is missing, was already used, or is older than 10 ' +
            'minutes. Start a new verification.',
          raw: received
        }),
        nonce
      )
    }
    const outcome = await context.backend.finish(attempt, parameters)
    const { choices } = attempt
    return sendPage(
      reply,
      200,
      renderDemoResult({
        ...outcome,
        nonce,
        dashboard: context.dashboard,
        deviceLabel: deviceLabel(app.emulator.directory, choices),
        retryUrl: retryUrl(choices)
      }),
      nonce
    )
  })
}

export default callback
