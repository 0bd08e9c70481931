// What the demo routes share: the OpenAPI description of an HTML page, and the endpoint URLs the
// form explains.
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { DEMO_CALLBACK_PATH } from './verification.js'

export const HtmlPageSchema = {
  description: 'HTML page',
  content: { 'text/html': { schema: Type.String() } }
}

export const SeeOtherSchema = Type.Null({
  description: 'Redirect: the browser goes to the gateway authorize endpoint',
  headers: { Location: Type.String({ description: 'Where the browser goes next' }) }
})

export function demoEndpoints (app: FastifyInstance): { authorize: string, token: string, verify: string, callback: string } {
  const { urls } = app.emulator
  return { authorize: urls.authorizationEndpoint, token: urls.tokenEndpoint, verify: urls.verify, callback: `${urls.publicUrl}${DEMO_CALLBACK_PATH}` }
}
