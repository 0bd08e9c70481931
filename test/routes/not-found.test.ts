// Requests no route takes, and URLs Fastify refuses before routing, answer in the format of the
// surface the path belongs to, never in Fastify's default shape.
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'

const LONG = 'x'.repeat(150)

t.test('unknown paths answer 404 in their surface format', async (t) => {
  const { app } = await buildTestApp(t)
  const cases: Array<[string, unknown]> = [
    [
      '/camara/api/auth/v1/nope',
      {
        error: 'invalid_request',
        error_description:
          'no endpoint GET /camara/api/auth/v1/nope: see /camara/api/auth/v1/.well-known/openid-configuration'
      }
    ],
    [
      '/_emulator/nope',
      { status: 404, code: 'NOT_FOUND', message: 'no control route GET /_emulator/nope; GET /openapi.json lists them' }
    ],
    [
      '/nothing/here?x=1',
      { status: 404, code: 'NOT_FOUND', message: 'no route GET /nothing/here; GET /openapi.json lists them' }
    ],
    [
      '/number-verification/v1/nope',
      {
        status: 404,
        code: 'NOT_FOUND',
        message: 'The specified resource is not found: GET /number-verification/v1/nope'
      }
    ]
  ]
  for (const [url, body] of cases) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 404, url)
    t.strictSame(res.json(), body, url)
  }
})

t.test('a path parameter over the router limit answers 414 in the surface format', async (t) => {
  const { app } = await buildTestApp(t)
  const page = await app.inject({ method: 'GET', url: `/operators/${LONG}/authorize` })
  t.equal(page.statusCode, 414)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.body, /a path segment is too long/)
  const control = await app.inject({ method: 'POST', url: `/_emulator/scenarios/${LONG}/activate` })
  t.equal(control.statusCode, 414)
  t.strictSame(control.json(), { status: 414, code: 'INVALID_ARGUMENT', message: 'a path segment is too long' })
  const subscriber = await app.inject({ method: 'DELETE', url: `/_emulator/subscribers/${LONG}` })
  t.equal(subscriber.statusCode, 414)
  t.strictSame(subscriber.json(), { status: 414, code: 'INVALID_ARGUMENT', message: 'a path segment is too long' })
})
