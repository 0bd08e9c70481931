// The dashboard at /_emulator/ui. The page itself carries data only when no admin token is set
// (a browser navigation cannot send a bearer token); its sections are HTML fragments under
// /_emulator/ui/sections, guarded like the rest of the control API, which the page's script
// fetches with the token the presenter typed. The page's script is a static file (public/), and
// follows the journal stream with a streaming fetch (an EventSource cannot send the token).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyReply } from 'fastify'
import { gradeClient } from '../core/conformance.js'
import type { Emulator } from '../core/emulator.js'
import {
  JOURNAL_ROWS, renderConformance, renderDashboard, renderFlow, renderJournalRows, renderScenarios, renderWorld,
  type ClientConformance
} from './views/dashboard.js'
import type { SafeHtml } from '../views/html.js'
import { newNonce, sendPage } from '../views/layout.js'
import { htmlResponse } from '../schemas/pages.js'
import { readStaticScript } from './assets.js'

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

/**
 * Each fixture client the journal holds requests of, graded as GET /_emulator/clients/{id}/report
 * grades it (the same entries); clients without requests are left out rather than listed as empty
 */
async function conformanceSection (emulator: Emulator, prefix: string): Promise<SafeHtml> {
  const entries = await emulator.journalEntries()
  const active = new Set(entries.map((entry) => entry.clientId))
  const clients: ClientConformance[] = emulator.directory.fixtures.clients
    .filter((client) => active.has(client.clientId))
    .map((client) => ({ name: client.name, report: gradeClient(entries, client.clientId) }))
  return renderConformance(clients, `${prefix}/clients`)
}

/** Fragments are named, so the page's script inserts only the answer of the route it asked */
type FragmentName = 'world' | 'scenarios' | 'journal' | 'flow' | 'conformance'

function sendFragment (reply: FastifyReply, name: FragmentName, fragment: SafeHtml): FastifyReply {
  return reply
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-dashboard-fragment', name)
    .send(fragment.value)
}

const SCRIPT_PATH = '/ui/dashboard.js'

/** GET /_emulator/ui: the page (outside the admin-token guard; it holds no data when a token is set) */
export const dashboardPage: FastifyPluginAsyncTypebox<{ tokenRequired: boolean }> = async (app, options) => {
  const script = readStaticScript('dashboard.js')
  const scriptUrl = `${app.prefix}${SCRIPT_PATH}?v=${script.version}`
  // Public like the page: it holds no data; the URL changes with the content, so it is cached for good
  app.get(
    SCRIPT_PATH,
    {
      config: { operation: 'control' },
      schema: {
        summary: 'Dashboard: its browser script',
        tags: ['control'],
        querystring: Type.Object({ v: Type.Optional(Type.String()) }),
        response: {
          200: { description: 'A JavaScript module', content: { 'text/javascript': { schema: { type: 'string' } } } }
        }
      }
    },
    async (request, reply) => {
      const cache = request.query.v === script.version ? 'public, max-age=31536000, immutable' : 'no-cache'
      return await reply
        .type('text/javascript; charset=utf-8')
        .header('cache-control', cache)
        .header('x-content-type-options', 'nosniff')
        .send(script.body)
    }
  )

  app.get(
    '/ui',
    {
      config: { operation: 'control' },
      schema: {
        summary: 'Dashboard: operators, subscribers, clients, scenario switches, live journal',
        tags: ['control'],
        response: { 200: htmlResponse('HTML page') }
      }
    },
    async (_request, reply) => {
      const { emulator } = app
      const nonce = newNonce()
      const entries = await emulator.journalEntries({ limit: JOURNAL_ROWS })
      const sections = options.tokenRequired
        ? undefined
        : {
            world: worldSection(emulator),
            scenarios: scenariosSection(emulator),
            journal: renderJournalRows(entries),
            conformance: await conformanceSection(emulator, app.prefix),
            lastId: entries.at(-1)?.id ?? 0
          }
      return sendPage(
        reply,
        200,
        renderDashboard({ nonce, tokenRequired: options.tokenRequired, scriptUrl, sections }),
        nonce
      )
    }
  )
}

/** The page's sections, behind the admin token */
const dashboardSections: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/ui/sections/world',
    {
      config: { operation: 'control' },
      schema: {
        summary: 'Dashboard fragment: the emulated world',
        tags: ['control'],
        response: { 200: htmlResponse('HTML fragment') }
      }
    },
    async (_request, reply) => sendFragment(reply, 'world', worldSection(app.emulator))
  )

  app.get(
    '/ui/sections/scenarios',
    {
      config: { operation: 'control' },
      schema: {
        summary: 'Dashboard fragment: scenarios and their switches',
        tags: ['control'],
        response: { 200: htmlResponse('HTML fragment') }
      }
    },
    async (_request, reply) => sendFragment(reply, 'scenarios', scenariosSection(app.emulator))
  )

  app.get('/ui/sections/conformance', {
    config: { operation: 'control' },
    schema: {
      summary: 'Dashboard fragment: each client\'s conformance report, its failures linked to their flows',
      tags: ['control'],
      response: { 200: htmlResponse('HTML fragment') }
    }
  }, async (_request, reply) => sendFragment(reply, 'conformance', await conformanceSection(app.emulator, app.prefix)))

  app.get(
    '/ui/sections/journal',
    {
      config: { operation: 'control' },
      schema: {
        summary: 'Dashboard fragment: journal rows newer than sinceId, newest first',
        tags: ['control'],
        querystring: Type.Object(
          { sinceId: Type.Optional(Type.Integer({ minimum: 0 })) },
          { additionalProperties: false }
        ),
        response: {
          200: {
            ...htmlResponse('Table rows; x-journal-last-id names the newest entry'),
            headers: { 'x-journal-last-id': Type.Integer() }
          },
          204: Type.Null({ description: 'Nothing newer' })
        }
      }
    },
    async (request, reply) => {
      const entries = await app.emulator.journalEntries({ sinceId: request.query.sinceId ?? 0, limit: JOURNAL_ROWS })
      const newest = entries.at(-1)
      if (newest === undefined) return await reply.code(204).header('x-dashboard-fragment', 'journal').send(null)
      return sendFragment(reply.header('x-journal-last-id', String(newest.id)), 'journal', renderJournalRows(entries))
    }
  )

  app.get(
    '/ui/sections/flows/:flowId',
    {
      config: { operation: 'control' },
      schema: {
        summary: 'Dashboard fragment: one flow, hop by hop',
        tags: ['control'],
        params: Type.Object({ flowId: Type.String({ maxLength: 64 }) }),
        response: { 200: htmlResponse('HTML fragment') }
      }
    },
    async (request, reply) =>
      sendFragment(
        reply,
        'flow',
        renderFlow(request.params.flowId, await app.emulator.journalEntries({ flowId: request.params.flowId }))
      )
  )
}

export default dashboardSections
