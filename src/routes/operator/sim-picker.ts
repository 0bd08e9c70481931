// The simulated operator network (operators with "simPicker": true): when the operator cannot
// place a browser's device and the request allows interaction, the operator leg shows a page to
// pick which of its SIMs the browser is on; POST .../sim-picker completes the leg with that SIM.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import formbody from '@fastify/formbody'
import { Type } from '@sinclair/typebox'
import { candidateAddresses, type SimPickerOffer } from '../../core/authorization.js'
import { renderSimPicker } from '../../views/sim-picker.js'
import { newNonce, sendPage } from '../../views/layout.js'
import { browserErrorHandler } from '../gateway/index.js'
import { addSurfaceHooks } from '../../plugins/surface.js'
import { AuthorizeError } from '../../core/errors.js'
import { documentOnly } from '../route-options.js'
import { ErrorPageSchema, RedirectResponseSchema } from '../../schemas/oauth.js'
import { htmlResponse } from '../../schemas/pages.js'

export const SimPickerPageSchema = htmlResponse(
  'Simulated operator network: a page to pick which of the operator SIMs the browser is on (operators with ' +
    'simPicker, interactive requests from a browser)'
)

/** Only a browser can be shown a page; HTTP clients following redirects get the protocol error */
export function acceptsHtml (accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept)
}

/** Renders the picker for an offer from AuthorizationService.offerSimPicker */
export async function showSimPicker (request: FastifyRequest, reply: FastifyReply,
  offer: SimPickerOffer): Promise<FastifyReply> {
  const { pending, operator, sims } = offer
  request.facts.reason = 'the operator cannot place the device: SIM picker shown'
  const client = request.emulator.directory.client(pending.clientId)
  const seen = candidateAddresses(pending.konera, pending.loginHint, request.ip).map((a) => a.text)
  const nonce = newNonce()
  return sendPage(reply, 200, renderSimPicker({
    nonce,
    operatorId: operator.id,
    operatorName: operator.name,
    clientName: client?.name ?? pending.clientId,
    requestId: pending.id,
    sims,
    seen: seen.length === 0 ? 'this device' : `address ${seen.join(', ')}`
  }), nonce, { formTargets: [new URL(pending.redirectUri).origin] })
}

/** The operator's browser pages render only authorization errors (as a 400 page) */
export function browserTimeoutError (_request: FastifyRequest, text: string): Error {
  return new AuthorizeError('invalid_request', text, undefined, 'Send the form again.')
}

const simPicker: FastifyPluginAsyncTypebox = async (app) => {
  addSurfaceHooks(app, { timeoutError: browserTimeoutError })
  app.setErrorHandler(browserErrorHandler)
  await app.register(formbody)
  app.post('/operators/:operatorId/sim-picker', {
    schema: {
      summary: 'Simulated operator network: the SIM this browser is on (completes the operator leg)',
      tags: ['operator'],
      consumes: ['application/x-www-form-urlencoded'],
      params: Type.Object({ operatorId: Type.String() }),
      body: Type.Object({
        request_id: Type.String({ description: 'The request the SIM picker was shown for' }),
        msisdn: Type.Optional(Type.String({ description: 'The chosen SIM; empty or absent: none of them' }))
      }),
      response: { 302: RedirectResponseSchema, 400: ErrorPageSchema }
    },
    validatorCompiler: documentOnly,
    config: { operation: 'operator' }
  }, async (request, reply) => {
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<
      string,
      unknown
    >
    const requestId = typeof body.request_id === 'string' ? body.request_id : undefined
    const msisdn = typeof body.msisdn === 'string' && body.msisdn !== '' ? body.msisdn : undefined
    const { leg } = request.facts
    leg.flow = { operatorId: request.params.operatorId }
    const { location } = await request.emulator.authorization.completeWithChosenSim(
      request.params.operatorId,
      requestId,
      msisdn,
      leg
    )
    return await reply.redirect(location, 302)
  })
}

export default simPicker
