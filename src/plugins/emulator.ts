// Exposes the domain (src/core) to the surfaces: `app.emulator` is the root world, and
// `request.emulator` the world a request is served by (the root's, or a namespace's under
// /ns/<name>, which the surface's onRequest hook resolves). Closes them with the app.
import fp from 'fastify-plugin'
import type { Emulator } from '../core/emulator.js'
import type { Namespaces } from '../core/namespaces.js'

declare module 'fastify' {
  interface FastifyInstance {
    emulator: Emulator
    namespaces: Namespaces
  }
  interface FastifyRequest {
    /** The world serving the request; null until the surface's onRequest hook has found it */
    emulator: Emulator
  }
}

export default fp<{ emulator: Emulator, namespaces: Namespaces }>(async (app, options) => {
  if (options.emulator === undefined) throw new Error('emulator plugin: the emulator option is required')
  app.decorate('emulator', options.emulator)
  app.decorate('namespaces', options.namespaces)
  app.decorateRequest('emulator', null as unknown as Emulator)
  app.addHook('onClose', async () => {
    await options.namespaces.close()
    await options.emulator.close()
  })
}, { name: 'emulator', fastify: '5.x' })
