// The OpenAPI document is generated from the route schemas: it must list every route the app
// serves (collected from the app itself, not from the document), each with declared responses,
// and be served as JSON and YAML with Swagger UI at /docs.
import t from 'tap'
import type { FastifyInstance, HTTPMethods } from 'fastify'
import { PATH_FAMILIES } from '../../src/routes/number-verification/family.js'
import { buildTestApp } from '../helpers/app.js'
import { servedRoutes } from '../helpers/routes.js'
import { parse as parseYaml } from 'yaml'

interface Operation {
  operationId?: string
  summary?: string
  responses?: Record<
    string,
    { description?: string, content?: Record<string, { schema?: unknown }>, headers?: Record<string, unknown> }
  >
}
interface OpenApiDocument {
  openapi: string
  paths: Record<string, Record<string, Operation>>
}

/** Routes the document leaves out on purpose: the documentation itself and the 405 answers */
async function isHidden (app: FastifyInstance, route: string): Promise<boolean> {
  const [method, path] = route.split(' ') as [HTTPMethods, string]
  if (path.startsWith('/docs') || path.startsWith('/openapi.')) return true
  // The 405 handlers live in the Number Verification families; one says so to any request
  if (!PATH_FAMILIES.some((family) => path.startsWith(`${family.prefix}/`))) return false
  const res = await app.inject({ method, url: path })
  return res.statusCode === 405
}

function documented (doc: OpenApiDocument): Set<string> {
  const operations = new Set<string>()
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const method of Object.keys(methods)) {
      operations.add(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`)
    }
  }
  return operations
}

t.test('GET /openapi.json lists exactly the routes the app serves', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const doc = res.json() as OpenApiDocument
  t.match(doc.openapi, /^3\./)

  const served = servedRoutes(app)
  const visible = new Set<string>()
  for (const route of served) if (!await isHidden(app, route)) visible.add(route)
  t.strictSame(
    [...documented(doc)].sort(),
    [...visible].sort(),
    'documented operations = served routes minus docs and 405 handlers'
  )

  // The comparison above is only as good as the route collection: these must be among them
  const required = [
    'GET /camara/api/auth/v1/authorize',
    'POST /camara/api/auth/v1/token',
    'GET /camara/api/auth/v1/.well-known/openid-configuration',
    'GET /camara/api/auth/v1/jwks',
    'GET /operators/:operatorId/authorize',
    'GET /_emulator/health',
    ...PATH_FAMILIES.flatMap((family) => [`POST ${family.prefix}/verify`, `GET ${family.prefix}/device-phone-number`])
  ]
  for (const route of required) {
    t.ok(visible.has(route), `${route} is served`)
    t.ok(documented(doc).has(route), `${route} is documented`)
  }
  t.notOk(documented(doc).has(`GET ${PATH_FAMILIES[0]?.prefix ?? ''}/verify`), 'the 405 handlers are not documented')
})

t.test('every documented operation declares its responses, with schemas', async (t) => {
  const { app } = await buildTestApp(t)
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as OpenApiDocument
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const name = `${method.toUpperCase()} ${path}`
      const responses = Object.entries(operation.responses ?? {})
      t.ok(responses.length > 0, `${name} has responses`)
      for (const [status, response] of responses) {
        // A route that declares no response gets @fastify/swagger's bare 200 placeholder
        const described =
          response.content !== undefined ||
          response.headers !== undefined ||
          (status === '204' && response.description !== 'Default Response')
        t.ok(described, `${name} ${status} has a body schema or headers`)
      }
      t.ok(typeof operation.summary === 'string' && operation.summary !== '', `${name} has a summary`)
    }
  }
  for (const family of PATH_FAMILIES) {
    for (const [method, path] of [
      ['post', `${family.prefix}/verify`],
      ['get', `${family.prefix}/device-phone-number`]
    ] as const) {
      const responses = doc.paths[path]?.[method]?.responses ?? {}
      t.strictSame(
        Object.keys(responses).sort(),
        ['200', '400', '401', '403', '406', '415', '429', '500', '502', '503', '504'],
        `${method} ${path} statuses`
      )
      for (const status of ['400', '401', '403']) {
        t.match(
          responses[status]?.content?.['application/json']?.schema,
          { required: ['status', 'code', 'message'] },
          `${method} ${path} ${status} is ErrorInfo`
        )
      }
    }
    const verify200 = doc.paths[`${family.prefix}/verify`]?.post?.responses?.['200']?.content?.['application/json']
      ?.schema as { properties?: Record<string, unknown> } | undefined
    t.strictSame(
      Object.keys(verify200?.properties ?? {}).sort(),
      family.flavor === 'aggregator' ? ['assessedAt', 'devicePhoneNumberVerified'] : ['devicePhoneNumberVerified'],
      `${family.prefix}/verify 200 body`
    )
  }
})

t.test('GET /openapi.yaml is the same document in YAML', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/openapi.yaml' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/yaml; charset=utf-8')
  t.match(res.body, /^openapi: 3\.1\.0\n/)
  for (const family of PATH_FAMILIES) {
    t.match(res.body, `\n  ${family.prefix}/verify:\n`, `${family.prefix}/verify in the YAML`)
  }
  const json = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.strictSame(parseYaml(res.body), json.json(), 'parsed, the YAML is the JSON document')
})

t.test('GET /docs/ serves Swagger UI as HTML', async (t) => {
  const { app } = await buildTestApp(t)
  for (const url of ['/docs/', '/docs']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 200, url)
    t.equal(res.headers['content-type'], 'text/html; charset=utf-8', url)
    t.match(res.body, /<!DOCTYPE html>/i, url)
    t.match(res.body, /swagger-ui/, url)
  }
})
