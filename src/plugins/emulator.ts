// Exposes the domain (src/core) to every route as `app.emulator`, and closes it with the app.
import fp from 'fastify-plugin'
import type { Emulator } from '../core/emulator.js'

declare module 'fastify' {
  interface FastifyInstance {
    emulator: Emulator
  }
}

export default fp<{ emulator: Emulator }>(async (app, options) => {
  if (options.emulator === undefined) throw new Error('emulator plugin: the emulator option is required')
  app.decorate('emulator', options.emulator)
  app.addHook('onClose', async () => options.emulator.close())
}, { name: 'emulator', fastify: '5.x' })
