// POST /demo/start: remember the presenter's choices under a fresh state, nonce and PKCE verifier,
// then send the browser to the gateway's authorize endpoint, as a real app does.
import type { FastifyPluginAsync } from 'fastify'
import formbody from '@fastify/formbody'
import { Type } from '@sinclair/typebox'
import { appendQuery } from '../core/errors.js'
import { FLOW_SCENARIO_PARAMETER } from '../core/authorization.js'
import { renderDemoForm, renderDemoResult } from './views/demo.js'
import { newNonce, sendPage } from '../views/layout.js'
import { documentOnly } from '../routes/route-options.js'
import { pkceS256 } from '../core/token-service.js'
import { ATTEMPT_TTL_MS, DemoAttemptsFullError, newAttempt } from './attempts.js'
import { formLists, readChoices, retryUrl } from './choices.js'
import { deviceLabel, deviceParameters } from './devices.js'
import { missingClientProblem } from './form.js'
import type { DemoContext } from './context.js'
import { demoEndpoints, formTargets, HtmlPageSchema, SeeOtherSchema } from './pages.js'
import { DEMO_CALLBACK_PATH, DEMO_CLIENT_ID, DEMO_SCOPE } from './verification.js'

const start: FastifyPluginAsync<DemoContext> = async (app, context) => {
  await app.register(formbody)
  app.post(
    '/demo/start',
    {
      config: { operation: 'docs' },
      schema: {
        summary: 'Demo app: start a verification (redirects the browser to the gateway authorize endpoint)',
        tags: ['demo'],
        consumes: ['application/x-www-form-urlencoded'],
        body: Type.Object({
          device: Type.String({ description: 'A fixture MSISDN, or "browser" for the address the emulator sees' }),
          claimed: Type.String({ description: 'The number the user claims (E.164)' }),
          hint: Type.Optional(
            Type.String({
              description:
                'konera (konera_context), ipport (login_hint=ipport:), or operator-token: the Wi-Fi path (operator ' +
                  'token, CIBA), answered with the result page'
            })
          ),
          scenario: Type.Optional(Type.String({ description: 'A scenario for the whole flow' })),
          promptNone: Type.Optional(Type.String({ description: 'Present: send prompt=none' }))
        }),
        response: { 200: HtmlPageSchema, 303: SeeOtherSchema, 400: HtmlPageSchema, 503: HtmlPageSchema }
      },
      validatorCompiler: documentOnly
    },
    async (request, reply) => {
      const input =
        typeof request.body === 'object' && request.body !== null ? (request.body as Record<string, unknown>) : {}
      const { values, errors } = readChoices(app.emulator, input, { lenient: false })
      errors.push(...missingClientProblem(app))
      if (errors.length > 0) {
        const nonce = newNonce()
        return sendPage(
          reply,
          400,
          renderDemoForm({
            nonce,
            dashboard: context.dashboard,
            values,
            errors,
            ...formLists(app.emulator),
            endpoints: demoEndpoints(app)
          }),
          nonce,
          formTargets(app)
        )
      }
      if (values.hint === 'operator-token') {
        // The Wi-Fi path has no browser leg: the backend's calls are the whole flow
        const outcome = await context.backend.verifyOverWifi(values)
        const nonce = newNonce()
        return sendPage(
          reply.header('cache-control', 'no-store'),
          200,
          renderDemoResult({
            ...outcome,
            nonce,
            dashboard: context.dashboard,
            deviceLabel: deviceLabel(app.emulator.directory, values),
            retryUrl: retryUrl(values)
          }),
          nonce
        )
      }
      const redirectUri = `${app.emulator.urls.publicUrl}${DEMO_CALLBACK_PATH}`
      const attempt = newAttempt(values, redirectUri, app.emulator.ctx.clock.now())
      try {
        await context.attempts.put(attempt.state, attempt, ATTEMPT_TTL_MS)
      } catch (error) {
        if (!(error instanceof DemoAttemptsFullError)) throw error
        // A clear refusal on the form, instead of forgetting an attempt a presenter may still finish
        const nonce = newNonce()
        const view = {
          nonce,
          dashboard: context.dashboard,
          values,
          errors: [error.message],
          ...formLists(app.emulator),
          endpoints: demoEndpoints(app)
        }
        return sendPage(
          reply.header('retry-after', String(ATTEMPT_TTL_MS / 1000)),
          503,
          renderDemoForm(view),
          nonce,
          formTargets(app)
        )
      }
      const location = appendQuery(app.emulator.urls.authorizationEndpoint, {
        response_type: 'code',
        client_id: DEMO_CLIENT_ID,
        redirect_uri: redirectUri,
        scope: DEMO_SCOPE,
        state: attempt.state,
        nonce: attempt.nonce,
        code_challenge: pkceS256(attempt.codeVerifier),
        code_challenge_method: 'S256',
        ...(values.promptNone ? { prompt: 'none' } : {}),
        ...deviceParameters(app.emulator.directory, values),
        ...(values.scenario === '' ? {} : { [FLOW_SCENARIO_PARAMETER]: values.scenario })
      })
      return await reply.header('cache-control', 'no-store').redirect(location, 303)
    }
  )
}

export default start
