// Every Number Verification path family (the seed's, the aggregator docs', CAMARA's v1, v2, vwip),
// each an encapsulated plugin that answers everything, 404 and 405 included, as CAMARA ErrorInfo.
import type { FastifyInstance } from 'fastify'
import { CamaraError } from '../../core/errors.js'
import devicePhoneNumber from './device-phone-number.js'
import { camaraErrorHandler, checkBodyBinding, PATH_FAMILIES, type PathFamily } from './family.js'
import { addSurfaceHooks, camaraTimeoutError } from '../../plugins/surface.js'
import verify from './verify.js'
import type { AuthenticatedCall } from '../../core/number-verification.js'
import { pathOf } from '../../core/urls.js'

const ALLOWED: Record<string, string> = { '/verify': 'POST', '/device-phone-number': 'GET, HEAD' }

async function family (app: FastifyInstance, { family }: { family: PathFamily }): Promise<void> {
  app.setErrorHandler(camaraErrorHandler(family.version))
  app.setNotFoundHandler(async (request) => {
    request.facts.operation = 'other'
    throw new CamaraError(
      404,
      'NOT_FOUND',
      `The specified resource is not found: ${request.method} ${pathOf(request.url)}`
    )
  })
  await app.register(verify, { family })
  await app.register(devicePhoneNumber, { family })
  for (const [path, allow] of Object.entries(ALLOWED)) {
    const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].filter((m) => !allow.includes(m))
    app.route({
      method: methods,
      url: path,
      schema: { hide: true },
      handler: async (_request, reply) => {
        reply.header('allow', allow)
        throw new CamaraError(
          405,
          'METHOD_NOT_ALLOWED',
          `The requested method is not allowed on this resource; allowed: ${allow}`
        )
      }
    })
  }
}

export default async function numberVerification (app: FastifyInstance): Promise<void> {
  // Set by authorizeCall; null until then (the error handler reads which release to answer in)
  app.decorateRequest('call', null as unknown as AuthenticatedCall)
  app.decorateRequest('rawBody', undefined)
  // Fastify's own JSON parser, fed the bytes this keeps for camara:bh (DPoP proofs, ICM r4.2)
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    request.rawBody = body as Buffer
    parseJson(request, (body as Buffer).toString('utf8'), done)
  })
  app.addHook('preValidation', checkBodyBinding)
  addSurfaceHooks(app, { timeoutError: camaraTimeoutError })
  for (const pathFamily of PATH_FAMILIES) {
    await app.register(family, { prefix: pathFamily.prefix, family: pathFamily })
  }
}
