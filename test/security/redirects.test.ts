// Open redirects and header injection at the browser surface: only a registered redirect_uri,
// compared exactly, ever becomes a Location; anything the client sends reaches a header only
// URL-encoded inside that Location.
import t, { type Test } from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { buildTestApp, REDIRECT_URI } from '../helpers/app.js'
import { SEED_KONERA } from '../helpers/flow.js'
import { authorizeParams, runAuthorization } from '../routes/gateway/flow.js'
import { gateway } from './support.js'

function assertErrorPage (t: Test, res: LightMyRequestResponse, label: string): void {
  t.equal(res.statusCode, 400, `${label}: 400`)
  t.equal(res.headers.location, undefined, `${label}: no Location`)
  t.match(res.headers['content-type'], /^text\/html/, `${label}: an HTML page`)
}

function assertNoInjectedHeader (t: Test, res: LightMyRequestResponse, label: string): void {
  t.equal(res.headers['set-cookie'], undefined, `${label}: no Set-Cookie header appeared`)
  t.equal(res.headers['x-injected'], undefined, `${label}: no X-Injected header appeared`)
  for (const [name, value] of Object.entries(res.headers)) {
    t.notMatch(String(value), /[\r\n]/, `${label}: header ${name} holds no CR/LF`)
  }
}

t.test('an unregistered redirect_uri gets the error page, never a Location', async (t) => {
  const { app } = await buildTestApp(t)
  for (const redirectUri of ['https://evil.example/callback', 'http://localhost:3001/callback', 'javascript:alert(1)', '//evil.example/callback']) {
    assertErrorPage(t, await gateway(app, { redirect_uri: redirectUri }), redirectUri)
  }
  // The same holds when the error is a later one that would otherwise redirect
  assertErrorPage(t, await gateway(app, { redirect_uri: 'https://evil.example/callback', response_type: 'token' }), 'unregistered with another error')
  assertErrorPage(
    t,
    await gateway(app, { client_id: 'unknown-client' }),
    'unknown client with a registered URI of another client'
  )
})

t.test('a redirect_uri that only starts like the registered one is refused', async (t) => {
  const { app } = await buildTestApp(t)
  for (const redirectUri of [
    `${REDIRECT_URI}.evil.example`,
    `${REDIRECT_URI}x`,
    `${REDIRECT_URI}/../../evil`,
    `${REDIRECT_URI}/extra`,
    `${REDIRECT_URI}?next=https://evil.example`,
    'http://localhost:3000@evil.example/callback',
    'http://localhost:3000.evil.example/callback'
  ]) {
    assertErrorPage(t, await gateway(app, { redirect_uri: redirectUri }), redirectUri)
  }
})

t.test('a differently-encoded redirect_uri is refused, not normalised into the registered one', async (t) => {
  const { app } = await buildTestApp(t)
  for (const redirectUri of [
    'http://localhost:3000/%63allback',
    'http://LOCALHOST:3000/callback',
    'HTTP://localhost:3000/callback',
    'http://localhost:3000/callback/',
    'http://localhost:3000/callback%2F',
    'http://localhost:3000//callback',
    'http://localhost:3000/./callback',
    'http://localhost:3000/callback#fragment',
    'http://localhost:3000/callback%00',
    ' http://localhost:3000/callback',
    'http://127.0.0.1:3000/callback',
    encodeURIComponent(REDIRECT_URI)
  ]) {
    assertErrorPage(t, await gateway(app, { redirect_uri: redirectUri }), JSON.stringify(redirectUri))
  }
})

t.test('CR/LF in state reaches the response only URL-encoded inside the Location', async (t) => {
  const { app } = await buildTestApp(t)
  const state = 'st\r\nSet-Cookie: injected=1\r\nX-Injected: 1'
  // The gateway's 302 to the operator, then the code redirect: neither carries a header of its own
  const {
    gateway: toOperator,
    operator: toApp,
    callback
  } = await runAuthorization(app, authorizeParams({ state, konera_context: SEED_KONERA }))
  assertNoInjectedHeader(t, toOperator, 'gateway redirect to the operator')
  assertNoInjectedHeader(t, toApp, 'operator redirect to the app')
  t.equal(callback.searchParams.get('state'), state, 'the client gets its state back intact')
  t.ok(callback.searchParams.get('code'), 'and a code')
  // An error redirect carries the state too
  const error = await gateway(app, { state, response_type: 'token' })
  t.equal(error.statusCode, 302)
  assertNoInjectedHeader(t, error, 'error redirect')
  t.equal(
    new URL(error.headers.location as string).searchParams.get('state'),
    state,
    'the error redirect returns the state intact'
  )
  // A hint echoed in error_description
  const hint = await gateway(app, { konera_context: 'ipv4:1.2.3.4\r\nX-Injected: 1' })
  assertNoInjectedHeader(t, hint, 'error_description with CR/LF')
  t.equal(new URL(hint.headers.location as string).searchParams.get('error'), 'invalid_request')
})

t.test('CR/LF in redirect_uri never reaches a response header', async (t) => {
  const { app } = await buildTestApp(t)
  for (const redirectUri of [
    `${REDIRECT_URI}\r\nSet-Cookie: injected=1`,
    `${REDIRECT_URI}%0d%0aX-Injected: 1`,
    `${REDIRECT_URI}\nX-Injected: 1`
  ]) {
    const res = await gateway(app, { redirect_uri: redirectUri })
    assertErrorPage(t, res, JSON.stringify(redirectUri))
    assertNoInjectedHeader(t, res, JSON.stringify(redirectUri))
  }
})

t.test('the error page escapes what the client sent', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await gateway(app, { client_id: '<script>alert(1)</script>' })
  assertErrorPage(t, res, 'script in client_id')
  t.notMatch(res.body, '<script>alert(1)</script>', 'no live script')
  t.match(res.body, '&lt;script&gt;alert(1)&lt;/script&gt;', 'shown escaped')
})
