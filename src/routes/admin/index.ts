// The control surface under /_emulator: health always; everything else unless --no-admin, only
// for requests a web page cannot forge (request-guard.ts), and behind --admin-token when set.
// Errors answer { status, code, message }.
import type { FastifyInstance } from 'fastify'
import { CamaraError } from '../../core/errors.js'
import { controlErrorHandler, requireAdminToken } from './control-errors.js'
import clients from './clients.js'
import fixtures from './fixtures.js'
import health from './health.js'
import { refuseForeignRequests } from './request-guard.js'
import journal from './journal.js'
import metrics from './metrics.js'
import namespaces from './namespaces.js'
import reset from './reset.js'
import scenarios from './scenarios.js'
import subscribers from './subscribers.js'
import tokens from './tokens.js'
import operatorTokens from './operator-tokens.js'
import dashboardSections, { dashboardPage } from '../../demo/dashboard.js'
import { pathOf } from '../../core/urls.js'
import { addSurfaceHooks, camaraTimeoutError } from '../../plugins/surface.js'

export interface ControlOptions {
  enabled: boolean
  adminToken: string | undefined
  /** The address the server listens on */
  listenHost: string
  /** More host names the control API answers to (--allowed-hosts) */
  allowedHosts: readonly string[]
}

export default async function control (app: FastifyInstance, options: ControlOptions): Promise<void> {
  addSurfaceHooks(app, { timeoutError: camaraTimeoutError })
  await app.register(health)
  if (!options.enabled) return
  const { listenHost, allowedHosts } = options
  const foreign = refuseForeignRequests({ urls: app.emulator.urls, listenHost, allowedHosts })
  await app.register(async (page) => {
    // The page carries the world's data when no admin token is set
    page.addHook('onRequest', foreign)
    await page.register(dashboardPage, { tokenRequired: options.adminToken !== undefined })
  }, { prefix: '/_emulator' })
  await app.register(async (guarded) => {
    guarded.setErrorHandler(controlErrorHandler)
    guarded.setNotFoundHandler(async (request) => {
      throw new CamaraError(
        404,
        'NOT_FOUND',
        `no control route ${request.method} ${pathOf(request.url)}; GET /openapi.json lists them`
      )
    })
    guarded.addHook('onRequest', foreign)
    guarded.addHook('onRequest', requireAdminToken(options.adminToken))
    await guarded.register(fixtures)
    await guarded.register(subscribers)
    await guarded.register(reset)
    await guarded.register(tokens)
    await guarded.register(operatorTokens)
    await guarded.register(scenarios)
    await guarded.register(journal)
    await guarded.register(namespaces)
    await guarded.register(metrics)
    await guarded.register(clients)
    await guarded.register(dashboardSections)
  }, { prefix: '/_emulator' })
}
