// Every surface registers the per-request hooks in its own scope (src/plugins/surface.ts), and
// the root registers none: each surface's answers carry the correlation header, HTML answers
// carry the security headers, protocol requests (a wrong path included) reach the journal, and a
// stalled body is refused in the format of the surface it was sent to.
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import t from 'tap'
import { bodyTimeoutHook } from '../../src/plugins/body-timeout.js'
import { addSurfaceHooks, camaraTimeoutError } from '../../src/plugins/surface.js'
import { buildTestApp } from '../helpers/app.js'

const SURFACES: Array<[string, string]> = [
  ['gateway', '/camara/api/auth/v1/.well-known/openid-configuration'],
  ['operator', '/operators/op-a/authorize'],
  ['number verification', '/camara/api/number-verification/v1/verify'],
  ['control', '/_emulator/health'],
  ['demo', '/demo'],
  ['docs', '/openapi.json'],
  ['outside every surface', '/no/such/path']
]

t.test('each surface echoes the caller\'s correlator: its onRequest hook ran', async (t) => {
  const { app } = await buildTestApp(t)
  for (const [surface, url] of SURFACES) {
    const res = await app.inject({ method: 'GET', url, headers: { 'x-correlator': `c-${surface.replace(/ /g, '-')}` } })
    t.equal(
      res.headers['x-correlator'],
      `c-${surface.replace(/ /g, '-')}`,
      `${surface}: ${url} answered ${res.statusCode}`
    )
  }
})

t.test('HTML answers carry the security headers on every surface that sends HTML', async (t) => {
  const { app } = await buildTestApp(t)
  const pages: Array<[string, string]> = [
    ['the authorize error page', '/camara/api/auth/v1/authorize'],
    ['the operator page', '/operators/op-a/authorize'],
    ['the demo', '/demo'],
    ['Swagger UI', '/docs/']
  ]
  for (const [name, url] of pages) {
    const first = await app.inject({ method: 'GET', url, headers: { accept: 'text/html' } })
    const res =
      first.statusCode === 302 ? await app.inject({ method: 'GET', url: String(first.headers.location) }) : first
    t.match(res.headers['content-type'], /^text\/html/, `${name} is HTML`)
    t.type(res.headers['content-security-policy'], 'string', `${name} has a CSP`)
    t.equal(res.headers['x-content-type-options'], 'nosniff', name)
  }
})

t.test('a request to a wrong path is journaled like any protocol request; docs and control are not', async (t) => {
  const { app } = await buildTestApp(t)
  await app.inject({
    method: 'POST',
    url: '/camara/api/number-verification/v9/verify',
    headers: { 'x-correlator': 'wrong-path' }
  })
  await app.inject({ method: 'GET', url: '/openapi.json', headers: { 'x-correlator': 'docs' } })
  await app.inject({ method: 'GET', url: '/_emulator/health', headers: { 'x-correlator': 'control' } })
  const entries = app.emulator.journal.list({})
  t.strictSame(
    entries.map((entry) => [entry.correlator, entry.operation, entry.status]),
    [['wrong-path', 'other', 404]]
  )
})

t.test('the stalled-body refusal is the surface\'s own', async (t) => {
  const request = {} as FastifyRequest
  const error = camaraTimeoutError(request, 'too slow')
  t.match(error, { status: 408, code: 'REQUEST_TIMEOUT', message: 'too slow' })
  t.equal(bodyTimeoutHook(0, camaraTimeoutError), undefined, 'no hook without a limit')
  t.type(bodyTimeoutHook(1000, camaraTimeoutError), 'function')
})

t.test('addSurfaceHooks adds one hook per phase, and onResponse only when requests are logged', async (t) => {
  const added: string[] = []
  const fake = {
    bodyTimeout: 1000,
    emulator: {
      journal: {},
      ctx: { legs: { sleep: async () => {} }, clock: { now: () => 0 }, settings: { userScenarios: true } }
    },
    log: { level: 'warn' },
    addHook (
      name: string,
      _hook: (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void
    ) {
      added.push(name)
    }
  }
  addSurfaceHooks(fake as never, { timeoutError: camaraTimeoutError })
  t.strictSame(added, ['onRequest', 'preParsing', 'onSend'])
  added.length = 0
  addSurfaceHooks({ ...fake, bodyTimeout: 0, log: { level: 'info' } } as never, { timeoutError: camaraTimeoutError })
  t.strictSame(added, ['onRequest', 'onSend', 'onResponse'])
})
