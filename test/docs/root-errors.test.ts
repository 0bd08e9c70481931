// Errors raised outside the surfaces (Swagger UI's static files under /docs, /openapi.*, bodies
// sent to unknown paths) answer in the root not-found handler's { status, code, message } shape:
// never Fastify's default { statusCode, error, message }, never a file's content or a stack.
import { request as httpRequest } from 'node:http'
import t from 'tap'
import { buildLoggedTestApp, buildTestApp } from '../helpers/app.js'

const JSON_TYPE = 'application/json; charset=utf-8'
/** What a leak would look like: package.json, /etc/passwd, a stack frame, Fastify's default shape */
const LEAK = /camara-nv-emulator|"dependencies"|root:|\n\s+at |statusCode|"error"/

function refused (method: string, path: string): { status: number, code: string, message: string } {
  return {
    status: 403,
    code: 'PERMISSION_DENIED',
    message: `${method} ${path} is refused: the path leads outside the files served here`
  }
}

function malformed (path: string): { status: number, code: string, message: string } {
  return { status: 400, code: 'INVALID_ARGUMENT', message: `the request URL is malformed: GET ${path}` }
}

t.test('traversal attempts under /docs answer the CAMARA shape and leak no file', async (t) => {
  const { app } = await buildTestApp(t)
  const cases: Array<[string, number, unknown]> = [
    ['/docs/..%2f..%2fetc%2fpasswd', 403, refused('GET', '/docs/..%2f..%2fetc%2fpasswd')],
    ['/docs/..%2f..%2fpackage.json', 403, refused('GET', '/docs/..%2f..%2fpackage.json')],
    ['/docs/%2e%2e%2f%2e%2e%2fpackage.json', 403, refused('GET', '/docs/%2e%2e%2f%2e%2e%2fpackage.json')],
    ['/docs/static/..%5c..%5cpackage.json', 403, refused('GET', '/docs/static/..%5c..%5cpackage.json')],
    ['/docs/static/%00', 400, malformed('/docs/static/%00')],
    ['/docs/static/index.html%00.js', 400, malformed('/docs/static/index.html%00.js')],
    // The router takes no encoded slash as a separator, and light-my-request resolves dot segments
    [
      '/docs/static/..%2f..%2fpackage.json',
      404,
      {
        status: 404,
        code: 'NOT_FOUND',
        message: 'no route GET /docs/static/..%2f..%2fpackage.json; GET /openapi.json lists them'
      }
    ],
    [
      '/openapi.json/..%2f..%2fpackage.json',
      404,
      {
        status: 404,
        code: 'NOT_FOUND',
        message: 'no route GET /openapi.json/..%2f..%2fpackage.json; GET /openapi.json lists them'
      }
    ]
  ]
  for (const [url, status, body] of cases) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, status, url)
    t.equal(res.headers['content-type'], JSON_TYPE, url)
    t.strictSame(res.json(), body, url)
    t.notMatch(res.body, LEAK, url)
  }
})

t.test('dot segments sent as-is over a socket are refused in the CAMARA shape', async (t) => {
  const { app } = await buildTestApp(t)
  // app.inject resolves ".." before Fastify sees it; a real client need not
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const get = async (path: string): Promise<{ status: number | undefined, type: string | undefined, body: string }> =>
    await new Promise((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body }))
      })
        .on('error', reject)
        .end()
    })
  for (const path of [
    '/docs/static/../../package.json',
    '/docs/../../../etc/passwd',
    '/docs/%2e%2e/%2e%2e/etc/passwd',
    '/docs/static/%2e%2e/%2e%2e/package.json'
  ]) {
    const res = await get(path)
    t.equal(res.status, 403, path)
    t.equal(res.type, JSON_TYPE, path)
    t.strictSame(JSON.parse(res.body), refused('GET', path), path)
    t.notMatch(res.body, LEAK, path)
  }
})

t.test('other static refusals keep their status and headers in the CAMARA shape', async (t) => {
  const { app } = await buildTestApp(t)
  const range = await app.inject({ method: 'GET', url: '/docs/static/logo.svg', headers: { range: 'bytes=99999999-' } })
  t.equal(range.statusCode, 416)
  t.match(range.headers['content-range'], /^bytes \*\/\d+$/)
  t.strictSame(range.json(), {
    status: 416,
    code: 'OUT_OF_RANGE',
    message: 'GET /docs/static/logo.svg: the Range header asks for bytes the file does not have'
  })
  const precondition = await app.inject({
    method: 'GET',
    url: '/docs/static/logo.svg',
    headers: { 'if-match': '"not-this-one"' }
  })
  t.equal(precondition.statusCode, 412)
  t.strictSame(precondition.json(), {
    status: 412,
    code: 'FAILED_PRECONDITION',
    message: 'GET /docs/static/logo.svg: a precondition in the request headers does not hold'
  })
})

t.test('a malformed body sent to a path outside the surfaces answers 400 in the CAMARA shape', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({
    method: 'POST',
    url: '/nothing/here',
    headers: { 'content-type': 'application/json' },
    payload: '{'
  })
  t.equal(res.statusCode, 400)
  t.equal(res.headers['content-type'], JSON_TYPE)
  t.strictSame(res.json(), {
    status: 400,
    code: 'INVALID_ARGUMENT',
    message: "Body is not valid JSON but content-type is set to 'application/json'"
  })
})

t.test(
  'the OAuth surface keeps its own shape for a malformed body sent to an unknown path under its prefix',
  async (t) => {
    const { app } = await buildTestApp(t)
    const res = await app.inject({
      method: 'POST',
      url: '/camara/api/auth/v1/nothing',
      headers: { 'content-type': 'application/json' },
      payload: '{'
    })
    t.equal(res.statusCode, 400)
    const body = JSON.parse(res.body) as Record<string, unknown>
    t.equal(body.error, 'invalid_request')
    t.type(body.error_description, 'string')
    t.notOk('status' in body || 'statusCode' in body, "neither the CAMARA nor Fastify's default shape")
  }
)

t.test("Swagger UI's page, its static files and the OpenAPI document still answer 200", async (t) => {
  const { app } = await buildTestApp(t)
  const expected: Array<[string, RegExp]> = [
    ['/docs', /^text\/html/],
    ['/docs/static/swagger-ui.css', /^text\/css/],
    ['/docs/static/swagger-ui-bundle.js', /javascript/],
    ['/docs/static/logo.svg', /^image\/svg\+xml/],
    ['/openapi.json', /^application\/json/],
    ['/openapi.yaml', /^application\/yaml/]
  ]
  for (const [url, type] of expected) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 200, url)
    t.match(res.headers['content-type'], type, url)
    t.ok(res.body.length > 0, url)
  }
  t.equal(JSON.parse((await app.inject({ method: 'GET', url: '/openapi.json' })).body).openapi, '3.1.0')
})

t.test('an unexpected error at the root answers 500 INTERNAL without internals, and is logged', async (t) => {
  const { app, lines } = await buildLoggedTestApp<{
    level: number
    msg?: string
    err?: { message?: string, stack?: string }
  }>(t, 'error')
  // /openapi.json is a root route that calls app.swagger(): make it fail as a bug would
  app.swagger = () => { throw new Error('document generation failed at /secret/internal/path') }
  const res = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(res.statusCode, 500)
  t.equal(res.headers['content-type'], JSON_TYPE)
  t.strictSame(res.json(), {
    status: 500,
    code: 'INTERNAL',
    message: 'the emulator failed unexpectedly; the log has the details'
  })
  t.notMatch(res.body, /secret|\n\s+at /)
  const logged = lines.filter((line) => line.msg === 'unexpected error outside the emulator surfaces')
  t.equal(logged.length, 1)
  t.equal(logged[0]?.level, 50)
  t.equal(logged[0]?.err?.message, 'document generation failed at /secret/internal/path')
  t.match(logged[0]?.err?.stack, /\n\s+at /)
})
