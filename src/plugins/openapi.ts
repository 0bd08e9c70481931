// OpenAPI document generated from the route schemas (@fastify/swagger), served as JSON and YAML,
// with Swagger UI at /docs. Registered before the routes so it sees all of them.
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import swaggerUi from '@fastify/swagger-ui'
import { ErrorInfoSchema } from '../schemas/camara.js'
import { OAuthErrorSchema } from '../schemas/oauth.js'
import { addSurfaceHooks, camaraTimeoutError } from './surface.js'

export default fp<{ version: string }>(async (app, options) => {
  app.addSchema(ErrorInfoSchema)
  app.addSchema(OAuthErrorSchema)
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'camara-nv-emulator',
        version: options.version,
        description:
          'Offline emulator of a CAMARA Number Verification gateway (aggregator) and the mobile operators behind it: ' +
            'OIDC authorization code flow with network-based authentication, token endpoint, Number Verification ' +
              'verify and share on the aggregator and CAMARA paths, and the emulator control surface.'
      },
      tags: [
        { name: 'gateway', description: 'The aggregator OIDC surface' },
        { name: 'operator', description: 'Emulated operator authorization servers' },
        { name: 'number-verification (aggregator)', description: 'The aggregator paths (seed and docs)' },
        { name: 'number-verification (CAMARA)', description: 'CAMARA standard paths' },
        { name: 'control', description: 'Emulator control surface' }
      ],
      components: {
        securitySchemes: {
          openId: { type: 'openIdConnect', openIdConnectUrl: '/camara/api/auth/v1/.well-known/openid-configuration' }
        }
      }
    }
  })
  // Its static files and logo named explicitly: the bundled CLI (dist/server.js) holds the plugin's
  // code but not its files, which stay in node_modules
  const uiFiles = join(dirname(createRequire(import.meta.url).resolve('@fastify/swagger-ui')), 'static')
  const logo = await readFile(join(uiFiles, 'logo.svg'))
  // The documents and Swagger UI are a surface of their own (never journaled: operation docs)
  await app.register(async (docs) => {
    addSurfaceHooks(docs, { timeoutError: camaraTimeoutError })
    await docs.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { deepLinking: true },
      baseDir: uiFiles,
      logo: { type: 'image/svg+xml', content: logo }
    })
    docs.get('/openapi.json', { schema: { hide: true }, config: { operation: 'docs' } }, async () => app.swagger())
    docs.get('/openapi.yaml', { schema: { hide: true }, config: { operation: 'docs' } }, async (_request, reply) => {
      return await reply.type('application/yaml; charset=utf-8').send(app.swagger({ yaml: true }))
    })
  })
}, { name: 'openapi', fastify: '5.x' })
