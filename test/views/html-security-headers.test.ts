// Every HTML answer carries the security headers, whichever surface renders it; other answers
// are left alone.
import t from 'tap'
import { buildTestApp, REDIRECT_URI } from '../helpers/app.js'
import { browse, startDemo } from '../demo/support.js'
import { DEFAULT_HTML_POLICY } from '../../src/views/html-security-headers.js'

const HTML = 'text/html,application/xhtml+xml'
const COMMON = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' }

function securityHeaders (headers: Record<string, unknown>): Record<string, unknown> {
  const names = ['content-security-policy', 'x-content-type-options', 'referrer-policy', 'x-frame-options']
  return Object.fromEntries(names.filter((name) => headers[name] !== undefined).map((name) => [name, headers[name]]))
}

const NONCE_POLICY =
  /^default-src 'self'; script-src 'nonce-[A-Za-z0-9+/=]+'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'( [^;]+)?; frame-ancestors 'none'$/

t.test('the pages rendered here: a nonce policy with form-action and frame-ancestors', async (t) => {
  const { app } = await buildTestApp(t)
  for (const url of ['/demo', '/_emulator/ui', '/demo/callback?state=unknown']) {
    const res = await app.inject({ method: 'GET', url, headers: { accept: HTML } })
    t.match(res.headers['content-type'], /^text\/html/, url)
    t.match(securityHeaders(res.headers), { ...COMMON, 'content-security-policy': NONCE_POLICY }, url)
  }
  const demo = await app.inject({ method: 'GET', url: '/demo' })
  t.match(demo.headers['content-security-policy'], "form-action 'self' http://emulator.test;", 'the form leads to the gateway at the public URL')
})

t.test('pages that set no policy get the default one: the authorize error page, Swagger UI', async (t) => {
  const { app } = await buildTestApp(t)
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: 'nobody',
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    state: 's'
  })
  const errorPage = await app.inject({
    method: 'GET',
    url: `/camara/api/auth/v1/authorize?${query.toString()}`,
    headers: { accept: HTML }
  })
  t.equal(errorPage.statusCode, 400)
  t.match(errorPage.headers['content-type'], /^text\/html/)
  t.strictSame(securityHeaders(errorPage.headers), { 'content-security-policy': DEFAULT_HTML_POLICY, ...COMMON })

  const docs = await app.inject({ method: 'GET', url: '/docs/' })
  const page = docs.statusCode === 302 ? await app.inject({ method: 'GET', url: String(docs.headers.location) }) : docs
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  t.strictSame(securityHeaders(page.headers), { 'content-security-policy': DEFAULT_HTML_POLICY, ...COMMON })
})

t.test('the SIM picker may lead to the client it answers', async (t) => {
  const { app } = await buildTestApp(t)
  const { res } = await browse(app, (await startDemo(app, { device: 'browser', claimed: '+34666666666' })).toString())
  t.match(res.body, 'Which SIM is this browser on?')
  t.match(res.headers['content-security-policy'], "form-action 'self' http://emulator.test; frame-ancestors 'none'")
})

t.test('answers that are not HTML are left alone', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/camara/api/auth/v1/.well-known/openid-configuration' })
  t.equal(res.statusCode, 200)
  t.strictSame(securityHeaders(res.headers), {})
})
