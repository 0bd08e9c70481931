// A web page cannot drive the control API: an HTML form (cross-site, form or text body) is refused,
// a request whose Host is not the emulator's (DNS rebinding) is refused, and same-origin requests
// from the dashboard, curl and test code still work. Refusals are { status, code, message }.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../../helpers/app.js'

const EVIL = 'http://evil.example'

const REBINDING = {
  status: 403,
  code: 'PERMISSION_DENIED',
  message: 'the control API does not answer Host attacker.example: it answers localhost, 127.0.0.1, [::1], ' +
    'the --public-url host and the names in --allowed-hosts (a page on another name may be DNS rebinding)'
}

function crossOrigin (origin: string): { status: number, code: string, message: string } {
  return {
    status: 403,
    code: 'PERMISSION_DENIED',
    message: `the control API refuses changes from another origin (Origin ${origin}): send them from the dashboard, ` +
      'curl or your test code'
  }
}

async function testApp (t: Test, overrides: Parameters<typeof buildTestApp>[1] = {}): Promise<FastifyInstance> {
  const { app } = await buildTestApp(t, overrides)
  return app
}

t.test('an HTML form posted from another site cannot activate a scenario', async (t) => {
  const app = await testApp(t)
  for (const [type, body] of [
    ['application/x-www-form-urlencoded', 'remaining=1'],
    ['text/plain', '{"remaining":1}'],
    ['multipart/form-data; boundary=x', '--x--']
  ] as const) {
    const res = await app.inject({
      method: 'POST',
      url: '/_emulator/scenarios/verify-always-true/activate',
      headers: { host: 'localhost:9091', origin: EVIL, 'content-type': type },
      payload: body
    })
    t.equal(res.statusCode, 403, type)
    t.strictSame(res.json(), crossOrigin(EVIL), type)
  }
  t.strictSame(app.emulator.scenarios.activations(), [], 'nothing was activated')
})

t.test('a form or text body is refused even without an Origin (415)', async (t) => {
  const app = await testApp(t)
  for (const type of ['application/x-www-form-urlencoded', 'text/plain']) {
    const res = await app.inject({
      method: 'POST',
      url: '/_emulator/scenarios/verify-always-true/activate',
      headers: { 'content-type': type },
      payload: 'remaining=1'
    })
    t.equal(res.statusCode, 415, type)
    t.strictSame(res.json(), {
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: `the control API takes JSON bodies: send content-type: application/json (got ${type})`
    })
  }
  const bare = await app.inject({
    method: 'POST',
    url: '/_emulator/tokens',
    payload: Buffer.from('{"clientId":"demo-app"}')
  })
  t.equal(bare.statusCode, 415)
  t.strictSame(bare.json(), {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message:
      'the control API takes JSON bodies: send content-type: application/json (got a body without a content type)'
  })
  t.strictSame(app.emulator.scenarios.activations(), [])
})

t.test('a cross-site request is refused whatever it sends: JSON, no body, DELETE', async (t) => {
  const app = await testApp(t)
  app.emulator.scenarios.activate('hang')
  const requests = [
    {
      method: 'POST',
      url: '/_emulator/scenarios/verify-always-true/activate',
      headers: { origin: EVIL, 'content-type': 'application/json' },
      payload: '{}'
    },
    // fetch(url, { method: 'POST', mode: 'no-cors' }) sends no body and no content type
    { method: 'POST', url: '/_emulator/reset', headers: { origin: EVIL } },
    { method: 'DELETE', url: '/_emulator/activations', headers: { origin: 'null' } },
    {
      method: 'PUT',
      url: '/_emulator/subscribers/%2B34611111111',
      headers: { origin: 'http://localhost:3000', 'content-type': 'application/json' },
      payload: '{}'
    }
  ] as const
  for (const request of requests) {
    const res = await app.inject(request)
    t.equal(res.statusCode, 403, `${request.method} ${request.url}`)
    t.strictSame(res.json(), crossOrigin(request.headers.origin))
  }
  t.equal(app.emulator.scenarios.activations().length, 1, 'the activation is still there')
})

t.test('a Host that is not the emulator\'s is refused, reads included (DNS rebinding)', async (t) => {
  const app = await testApp(t)
  for (const url of ['/_emulator/fixtures', '/_emulator/journal', '/_emulator/ui', '/_emulator/ui/sections/world']) {
    const res = await app.inject({ method: 'GET', url, headers: { host: 'attacker.example' } })
    t.equal(res.statusCode, 403, url)
    t.strictSame(res.json(), REBINDING, url)
    t.notMatch(res.body, /demo-secret/, 'no client secret leaks')
  }
  const withPort = await app.inject({
    method: 'GET',
    url: '/_emulator/fixtures',
    headers: { host: 'attacker.example:9091' }
  })
  t.equal(withPort.statusCode, 403)
  const posted = await app.inject({ method: 'POST', url: '/_emulator/reset', headers: { host: 'attacker.example', origin: 'http://attacker.example' } })
  t.strictSame(posted.json(), REBINDING, 'the page is same-origin with itself, but its Host gives it away')
  const health = await app.inject({ method: 'GET', url: '/_emulator/health', headers: { host: 'attacker.example' } })
  t.equal(health.statusCode, 200, 'health stays open (no secrets; container checks use any name)')
})

t.test('curl-style and same-origin requests still work', async (t) => {
  const app = await testApp(t)
  const allowed = [
    // curl -X POST .../activate: no body, no content type, no Origin
    { method: 'POST', url: '/_emulator/scenarios/hang/activate', headers: { host: '127.0.0.1:9091' }, status: 201 },
    {
      method: 'POST',
      url: '/_emulator/scenarios/hang/activate',
      headers: { host: '[::1]:9091', 'content-type': 'application/json; charset=utf-8' },
      payload: '{"remaining":1}',
      status: 201
    },
    // the dashboard's fetch: Origin and Host agree
    {
      method: 'DELETE',
      url: '/_emulator/activations',
      headers: { host: 'localhost:9091', origin: 'http://localhost:9091' },
      status: 204
    },
    {
      method: 'POST',
      url: '/_emulator/scenarios/hang/activate',
      headers: { host: 'LOCALHOST', origin: 'http://localhost' },
      status: 201
    },
    // the page as served under --public-url (http://emulator.test in these tests), behind a proxy
    {
      method: 'POST',
      url: '/_emulator/reset',
      headers: { host: 'emulator.test', origin: 'http://emulator.test' },
      status: 204
    },
    {
      method: 'POST',
      url: '/_emulator/reset',
      headers: { host: 'localhost:9091', origin: 'http://emulator.test' },
      status: 204
    },
    { method: 'GET', url: '/_emulator/fixtures', headers: { host: 'emulator.test:8443', origin: EVIL }, status: 200 }
  ]
  for (const { status, ...request } of allowed) {
    const res = await app.inject(request)
    t.equal(res.statusCode, status, `${request.method} ${request.url} ${JSON.stringify(request.headers)}: ${res.body}`)
  }
  const otherPort = await app.inject({ method: 'POST', url: '/_emulator/reset', headers: { host: 'localhost:9091', origin: 'http://localhost:9092' } })
  t.strictSame(otherPort.json(), crossOrigin('http://localhost:9092'), 'another port is another origin')
})

t.test('--allowed-hosts and the listen address add names; * turns the Host check off', async (t) => {
  const app = await testApp(t, { allowedHosts: ['emulator', 'CI-Runner.local'], host: '10.1.2.3' })
  for (const host of ['emulator:9091', 'ci-runner.local', '10.1.2.3:9091']) {
    t.equal((await app.inject({ method: 'GET', url: '/_emulator/fixtures', headers: { host } })).statusCode, 200, host)
  }
  t.equal(
    (await app.inject({ method: 'GET', url: '/_emulator/fixtures', headers: { host: 'attacker.example' } })).statusCode,
    403
  )
  const open = await testApp(t, { allowedHosts: ['*'] })
  t.equal(
    (await open.inject({ method: 'GET', url: '/_emulator/fixtures', headers: { host: 'attacker.example' } }))
      .statusCode,
    200
  )
  const crossSite = await open.inject({
    method: 'POST',
    url: '/_emulator/reset',
    headers: { host: 'anything', origin: EVIL }
  })
  t.equal(crossSite.statusCode, 403, 'the Origin check stays')
})
