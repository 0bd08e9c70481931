// GET /demo: the sample app's form (device, claimed number, scenario), prefilled from the query
// when coming back from a result.
import type { FastifyPluginAsync } from 'fastify'
import { Type } from '@sinclair/typebox'
import { renderDemoForm } from './views/demo.js'
import { newNonce, sendPage } from '../views/layout.js'
import { documentOnly } from '../routes/route-options.js'
import { formLists, readChoices } from './choices.js'
import type { DemoContext } from './context.js'
import { demoEndpoints, formTargets, HtmlPageSchema } from './pages.js'
import { DEMO_CLIENT_ID } from './verification.js'

const form: FastifyPluginAsync<DemoContext> = async (app, context) => {
  app.get('/demo', {
    config: { operation: 'docs' },
    schema: {
      summary: 'Demo app: choose a simulated device, a claimed number and a scenario',
      tags: ['demo'],
      querystring: Type.Object({
        device: Type.Optional(Type.String({ description: 'A fixture MSISDN, or "browser"' })),
        claimed: Type.Optional(Type.String()),
        hint: Type.Optional(Type.String({ description: 'konera or ipport' })),
        scenario: Type.Optional(Type.String()),
        promptNone: Type.Optional(Type.String())
      }),
      response: { 200: HtmlPageSchema }
    },
    validatorCompiler: documentOnly
  }, async (request, reply) => {
    const { values } = readChoices(app.emulator, (request.query ?? {}) as Record<string, unknown>, { lenient: true })
    const nonce = newNonce()
    const errors = missingClientProblem(app)
    return sendPage(reply, 200, renderDemoForm({
      nonce,
      dashboard: context.dashboard,
      values,
      errors,
      ...formLists(app.emulator),
      endpoints: demoEndpoints(app)
    }), nonce, formTargets(app))
  })
}

/** The demo needs its client in the fixtures; say so instead of failing at authorize */
export function missingClientProblem (app: Parameters<FastifyPluginAsync>[0]): string[] {
  return app.emulator.directory.client(DEMO_CLIENT_ID) === undefined
    ? [`The fixtures have no client "${DEMO_CLIENT_ID}": load fixtures/default.json too ` +
        '(e.g. --fixtures fixtures/default.json,my.json) to use the demo app.']
    : []
}

export default form
