// The dashboard at /_emulator/ui. The page itself carries data only when no admin token is set
// (a browser navigation cannot send a bearer token); its sections are HTML fragments under
// /_emulator/ui/sections, guarded like the rest of the control API, which the page's script
// fetches with the token the presenter typed. The journal is polled (an EventSource cannot send
// the token).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyReply } from 'fastify'
import type { Emulator } from '../core/emulator.js'
import { JOURNAL_ROWS, renderDashboard, renderFlow, renderJournalRows, renderScenarios, renderWorld } from './views/dashboard.js'
import type { SafeHtml } from '../views/html.js'
import { newNonce, sendPage } from '../views/layout.js'
import { htmlResponse } from '../schemas/pages.js'

function worldSection (emulator: Emulator): SafeHtml {
  return renderWorld({
    fixtures: emulator.directory.fixtures,
    issuer: emulator.urls.issuer,
    publicUrl: emulator.urls.publicUrl,
    seed: emulator.random.seed,
    profile: emulator.ctx.settings.profile
  })
}

function scenariosSection (emulator: Emulator): SafeHtml {
  return renderScenarios(emulator.scenarios.list(), emulator.scenarios.activations())
}

function sendFragment (reply: FastifyReply, fragment: SafeHtml): FastifyReply {
  return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').header('x-content-type-options', 'nosniff').send(fragment.value)
}

/** GET /_emulator/ui: the page (outside the admin-token guard; it holds no data when a token is set) */
export const dashboardPage: FastifyPluginAsyncTypebox<{ tokenRequired: boolean }> = async (app, options) => {
  app.get('/ui', {
    config: { operation: 'control' },
    schema: { summary: 'Dashboard: operators, subscribers, clients, scenario switches, live journal', tags: ['control'], response: { 200: htmlResponse('HTML page') } }
  }, async (_request, reply) => {
    const { emulator } = app
    const nonce = newNonce()
    const entries = emulator.journal.list({ limit: JOURNAL_ROWS })
    const sections = options.tokenRequired
      ? undefined
      : { world: worldSection(emulator), scenarios: scenariosSection(emulator), journal: renderJournalRows(entries), lastId: entries.at(-1)?.id ?? 0 }
    return sendPage(reply, 200, renderDashboard({ nonce, tokenRequired: options.tokenRequired, sections }), nonce)
  })
}

/** The page's sections, behind the admin token */
const dashboardSections: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/ui/sections/world', {
    config: { operation: 'control' },
    schema: { summary: 'Dashboard fragment: the emulated world', tags: ['control'], response: { 200: htmlResponse('HTML fragment') } }
  }, async (_request, reply) => sendFragment(reply, worldSection(app.emulator)))

  app.get('/ui/sections/scenarios', {
    config: { operation: 'control' },
    schema: { summary: 'Dashboard fragment: scenarios and their switches', tags: ['control'], response: { 200: htmlResponse('HTML fragment') } }
  }, async (_request, reply) => sendFragment(reply, scenariosSection(app.emulator)))

  app.get('/ui/sections/journal', {
    config: { operation: 'control' },
    schema: {
      summary: 'Dashboard fragment: journal rows newer than sinceId, newest first',
      tags: ['control'],
      querystring: Type.Object({ sinceId: Type.Optional(Type.Integer({ minimum: 0 })) }, { additionalProperties: false }),
      response: {
        200: { ...htmlResponse('Table rows; x-journal-last-id names the newest entry'), headers: { 'x-journal-last-id': Type.Integer() } },
        204: Type.Null({ description: 'Nothing newer' })
      }
    }
  }, async (request, reply) => {
    const entries = app.emulator.journal.list({ sinceId: request.query.sinceId ?? 0, limit: JOURNAL_ROWS })
    const newest = entries.at(-1)
    if (newest === undefined) return await reply.code(204).send(null)
    return sendFragment(reply.header('x-journal-last-id', String(newest.id)), renderJournalRows(entries))
  })

  app.get('/ui/sections/flows/:flowId', {
    config: { operation: 'control' },
    schema: {
      summary: 'Dashboard fragment: one flow, hop by hop',
      tags: ['control'],
      params: Type.Object({ flowId: Type.String({ maxLength: 64 }) }),
      response: { 200: htmlResponse('HTML fragment') }
    }
  }, async (request, reply) => sendFragment(reply, renderFlow(request.params.flowId, app.emulator.journal.list({ flowId: request.params.flowId }))))
}

export default dashboardSections
