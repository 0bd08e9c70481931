import { readFileSync } from 'node:fs'
import t from 'tap'
import { renderScenarios } from '../../src/demo/views/dashboard.js'
import { buildTestApp } from '../helpers/app.js'
import { runDemo, textOf } from './support.js'

const SEED = '+34666666666'

t.test('without an admin token the page carries its sections', async (t) => {
  const { app } = await buildTestApp(t)
  await runDemo(app, { device: SEED, claimed: SEED })
  const res = await app.inject({ method: 'GET', url: '/_emulator/ui' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'text/html; charset=utf-8')
  t.equal(res.headers['cache-control'], 'no-store')
  t.match(res.headers['content-security-policy'], /script-src 'nonce-[A-Za-z0-9+/=]+'/)
  t.match(res.body, '<div id="dashboard" data-token-required="false" data-journal-rows="200">')
  t.match(res.body, '<form id="token-form" class="card" hidden>')

  const text = textOf(res.body)
  // Operators, subscribers (addresses, connection, auth methods), clients
  t.match(text, 'telco-es default Telco ES (emulated) +34 142.115.0.0/16 , 2001:4860:7::/48 SIM picker')
  t.match(text, '+34600000004 On WiFi with SMS OTP fallback Telco ES (emulated) 81.40.12.35 wifi network sms-otp')
  t.match(text, '+919036499174 Seed verify example: second operator, IPv6 /64 prefix Telco IN (emulated) 49.36.10.20 , 2401:4900:1c0a:2f3::/64 mobile-data network')
  t.match(text, 'demo-web The sample app served at /demo (its redirect URI follows the emulator\'s public URL) client_secret_post PKCE required ciba /demo/callback = http://emulator.test/demo/callback')
  t.notMatch(res.body, 'demo-secret', 'no client secret is shown')
  t.notMatch(res.body, 'demo-web-secret')
  // Scenario switches
  t.match(res.body, /<input type="checkbox" role="switch" data-scenario="operator-unavailable" {2}aria-labelledby="scenario-0"/)
  // The journal: the demo flow's four requests, newest first, each linked to its flow
  const rows = [...res.body.matchAll(/<tr data-entry="(\d+)">/g)].map((m) => Number(m[1]))
  t.strictSame(rows, [4, 3, 2, 1])
  t.match(res.body, '<tbody id="journal-rows" data-last-id="4">')
  const flowId = app.emulator.journal.list()[0]?.flowId ?? ''
  t.equal(res.body.split(`data-flow="${flowId}"`).length - 1, 4, 'every row links to the flow drill-down')
  t.match(res.body, '<p id="journal-empty" class="empty" hidden>')
  t.equal(app.emulator.journal.list().length, 4, 'the dashboard is not journaled')
})

t.test('an empty journal says so', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/_emulator/ui' })
  t.match(res.body, '<tbody id="journal-rows" data-last-id="0"></tbody>')
  t.match(res.body, '<p id="journal-empty" class="empty" >No requests yet')
})

t.test('the sections', async (t) => {
  const { app } = await buildTestApp(t)

  t.test('journal rows newer than sinceId, with the newest id; 204 when there is nothing new', async (t) => {
    const nothing = await app.inject({ method: 'GET', url: '/_emulator/ui/sections/journal?sinceId=0' })
    t.equal(nothing.statusCode, 204)
    t.equal(nothing.body, '')
    await runDemo(app, { device: SEED, claimed: SEED })
    const all = await app.inject({ method: 'GET', url: '/_emulator/ui/sections/journal' })
    t.equal(all.statusCode, 200)
    t.equal(all.headers['content-type'], 'text/html; charset=utf-8')
    t.equal(all.headers['x-journal-last-id'], '4')
    t.strictSame([...all.body.matchAll(/<tr data-entry="(\d+)">/g)].map((m) => m[1]), ['4', '3', '2', '1'])
    const newer = await app.inject({ method: 'GET', url: '/_emulator/ui/sections/journal?sinceId=2' })
    t.strictSame([...newer.body.matchAll(/<tr data-entry="(\d+)">/g)].map((m) => m[1]), ['4', '3'])
    t.equal((await app.inject({ method: 'GET', url: '/_emulator/ui/sections/journal?sinceId=4' })).statusCode, 204)
  })

  t.test('a bad sinceId is the control API error', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/_emulator/ui/sections/journal?sinceId=-1' })
    t.equal(res.statusCode, 400)
    t.match(res.json(), { status: 400, code: 'INVALID_ARGUMENT' })
  })

  t.test('one flow, hop by hop', async (t) => {
    const flowId = app.emulator.journal.list()[0]?.flowId ?? ''
    const res = await app.inject({ method: 'GET', url: `/_emulator/ui/sections/flows/${flowId}` })
    t.equal(res.statusCode, 200)
    const text = textOf(res.body)
    t.match(text, `Flow ${flowId} Started`)
    t.match(text, 'Client demo-web Subscriber +34666666666 Operator telco-es Scenarios none')
    t.match(text, /1 Gateway authorize GET \/camara\/api\/auth\/v1\/authorize 302 .* 2 Operator GET \/operators\/telco-es\/authorize 302 .* 3 Token endpoint POST \/camara\/api\/auth\/v1\/token 200 .* 4 Verify POST \/camara\/api\/number-verification\/v1\/verify 200/)
  })

  t.test('an unknown flow, escaped', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/_emulator/ui/sections/flows/%3Cb%3Ex%3C%2Fb%3E' })
    t.equal(res.statusCode, 200)
    t.match(res.body, 'Flow <code>&lt;b&gt;x&lt;/b&gt;</code>')
    t.match(textOf(res.body), 'No journal entries for this flow')
  })

  t.test('the scenario switches follow the activations at once', async (t) => {
    const activate = await app.inject({ method: 'POST', url: '/_emulator/scenarios/consent-denied/activate' })
    t.equal(activate.statusCode, 201)
    const on = await app.inject({ method: 'GET', url: '/_emulator/ui/sections/scenarios' })
    t.equal(on.statusCode, 200)
    t.match(on.body, /data-scenario="consent-denied" checked/)
    t.notMatch(on.body, /data-scenario="operator-unavailable" checked/)
    const row = on.body.split('<tr data-scenario-row="consent-denied">')[1]?.split('</tr>')[0] ?? ''
    t.match(textOf(row), 'active applied 0×')

    const { res } = await runDemo(app, { device: SEED, claimed: SEED })
    t.match(textOf(res.body), 'Verification was declined', 'the next flow is refused')
    const applied = await app.inject({ method: 'GET', url: '/_emulator/ui/sections/scenarios' })
    t.match(textOf(applied.body.split('<tr data-scenario-row="consent-denied">')[1]?.split('</tr>')[0] ?? ''), 'active applied 1×')

    t.equal((await app.inject({ method: 'DELETE', url: '/_emulator/scenarios/consent-denied/activate' })).statusCode, 204)
    const off = await app.inject({ method: 'GET', url: '/_emulator/ui/sections/scenarios' })
    t.notMatch(off.body, /data-scenario="consent-denied" checked/)
  })

  t.test('the world, escaped', async (t) => {
    const put = await app.inject({
      method: 'PUT',
      url: '/_emulator/subscribers/%2B34611111111',
      payload: { msisdn: '+34611111111', operator: 'telco-es', name: '<img src=x onerror=alert(1)>', ipv4: ['142.115.1.1'], connection: 'mobile-data' }
    })
    t.equal(put.statusCode, 201)
    const res = await app.inject({ method: 'GET', url: '/_emulator/ui/sections/world' })
    t.equal(res.statusCode, 200)
    t.notMatch(res.body, '<img src=x')
    t.match(res.body, '&lt;img src=x onerror=alert(1)&gt;')
    t.match(textOf(res.body), 'Issuer http://emulator.test/camara/api/auth/v1 Profile default Seed 1')
  })

  t.test('scenario descriptions are escaped too', async (t) => {
    const define = await app.inject({
      method: 'POST',
      url: '/_emulator/scenarios',
      payload: { name: 'x-script', description: '<script>alert(1)</script>', effects: { latency: { fixedMs: 1 } } }
    })
    t.equal(define.statusCode, 201)
    const res = await app.inject({ method: 'GET', url: '/_emulator/ui/sections/scenarios' })
    t.notMatch(res.body, '<script>alert(1)')
    t.match(res.body, '&lt;script&gt;alert(1)&lt;/script&gt;')
  })
})

t.test('with an admin token', async (t) => {
  const { app } = await buildTestApp(t, { adminToken: 'let-me-in' })
  await runDemo(app, { device: SEED, claimed: SEED })

  t.test('the page is a shell that asks for the token and holds no data', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/_emulator/ui' })
    t.equal(res.statusCode, 200)
    t.match(res.body, '<div id="dashboard" data-token-required="true" data-journal-rows="200">')
    t.match(res.body, '<form id="token-form" class="card" >')
    t.match(res.body, '<label for="admin-token">Admin token</label><input type="password" id="admin-token"')
    t.notMatch(res.body, SEED)
    t.notMatch(res.body, 'data-entry=')
    t.notMatch(res.body, /data-scenario="[a-z]/)
  })

  t.test('every section needs the bearer token', async (t) => {
    for (const url of ['/_emulator/ui/sections/world', '/_emulator/ui/sections/scenarios', '/_emulator/ui/sections/journal', '/_emulator/ui/sections/flows/x']) {
      for (const authorization of [undefined, 'Bearer wrong', 'let-me-in']) {
        const res = await app.inject({ method: 'GET', url, headers: authorization === undefined ? {} : { authorization } })
        t.equal(res.statusCode, 401, `${url} with ${authorization ?? 'no header'}`)
        t.strictSame(res.json(), { status: 401, code: 'UNAUTHENTICATED', message: 'the control API requires Authorization: Bearer <admin token> (--admin-token)' })
      }
      const ok = await app.inject({ method: 'GET', url, headers: { authorization: 'Bearer let-me-in' } })
      t.equal(ok.statusCode, 200, `${url} with the token`)
    }
  })
})

t.test('no dashboard when the control API is off', async (t) => {
  const { app } = await buildTestApp(t, { admin: false })
  for (const url of ['/_emulator/ui', '/_emulator/ui/sections/world']) {
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 404, url)
  }
})

t.test('the script is a static file: served with its content type, cached by version, loaded with the nonce', async (t) => {
  const { app } = await buildTestApp(t, { adminToken: 'let-me-in' })
  const page = await app.inject({ method: 'GET', url: '/_emulator/ui' })
  const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(String(page.headers['content-security-policy']))?.[1] ?? ''
  const tag = /<script type="module" nonce="([^"]+)" src="([^"]+)"><\/script>/.exec(page.body)
  t.equal(tag?.[1], nonce, 'the tag carries the response nonce')
  t.notMatch(page.body, /<script nonce/, 'no inline script')
  const src = tag?.[2] ?? ''
  t.match(src, /^\/_emulator\/ui\/dashboard\.js\?v=[A-Za-z0-9_-]{12}$/)
  const script = await app.inject({ method: 'GET', url: src })
  t.equal(script.statusCode, 200, 'outside the admin-token guard, like the page')
  t.equal(script.headers['content-type'], 'text/javascript; charset=utf-8')
  t.equal(script.headers['cache-control'], 'public, max-age=31536000, immutable')
  t.equal(script.headers['x-content-type-options'], 'nosniff')
  t.strictSame(script.body, readFileSync(new URL('../../src/demo/public/dashboard.js', import.meta.url), 'utf8'))
  const unversioned = await app.inject({ method: 'GET', url: '/_emulator/ui/dashboard.js' })
  t.equal(unversioned.headers['cache-control'], 'no-cache', 'another version is revalidated')
})

t.test('fragments are named, so the script inserts only the one it asked for', async (t) => {
  const { app } = await buildTestApp(t)
  const names: Record<string, string> = {
    '/_emulator/ui/sections/world': 'world',
    '/_emulator/ui/sections/scenarios': 'scenarios',
    '/_emulator/ui/sections/journal': 'journal',
    '/_emulator/ui/sections/flows/abc': 'flow'
  }
  for (const [url, name] of Object.entries(names)) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.headers['x-dashboard-fragment'], name, url)
  }
  const journal = await app.inject({ method: 'GET', url: '/_emulator/journal' })
  t.equal(journal.headers['x-dashboard-fragment'], undefined, 'the journal API is not a fragment')
})

t.test('the scenario section renders many activations in linear time', async (t) => {
  // 100k activations of one scenario: copying the group as it grew took minutes (22 s for 50k)
  const activations = Array.from({ length: 100_000 }, (_, i) => ({ id: String(i), name: 'consent-denied', activatedAt: 0, appliedCount: 1, remaining: 1 }))
  const { app } = await buildTestApp(t)
  const section = renderScenarios(app.emulator.scenarios.list(), activations)
  const row = section.value.split('<tr data-scenario-row="consent-denied">')[1]?.split('</tr>')[0] ?? ''
  t.match(textOf(row), 'active applied 100000×')
})
