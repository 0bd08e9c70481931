// What the demo routes share: the OpenAPI description of an HTML page, and the endpoint URLs the
// form explains.
import type { FastifyInstance } from 'fastify'
import { DEMO_CALLBACK_PATH } from './verification.js'
import { htmlResponse, redirectResponse } from '../schemas/pages.js'

export const HtmlPageSchema = htmlResponse('HTML page')

export const SeeOtherSchema = redirectResponse('Redirect: the browser goes to the gateway authorize endpoint')

export function demoEndpoints (app: FastifyInstance): {
  authorize: string
  token: string
  verify: string
  callback: string
} {
  const { urls } = app.emulator
  return {
    authorize: urls.authorizationEndpoint,
    token: urls.tokenEndpoint,
    verify: urls.verify,
    callback: `${urls.publicUrl}${DEMO_CALLBACK_PATH}`
  }
}

/** The form posts here, then the browser is redirected to the gateway at the public URL */
export function formTargets (app: FastifyInstance): { formTargets: string[] } {
  return { formTargets: [new URL(app.emulator.urls.publicUrl).origin] }
}
