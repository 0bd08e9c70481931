import { readFileSync } from 'node:fs'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { gradeClient } from '../../src/core/conformance.js'
import { renderConformance, renderScenarios } from '../../src/demo/views/dashboard.js'
import { buildTestApp } from '../helpers/app.js'
import { obtainTokens, SEED_KONERA, VERIFY_PATH } from '../helpers/flow.js'
import { runDemo, textOf } from './support.js'

const SEED = '+34666666666'

/** demo-app as a sloppy client: no PKCE, no prompt, no nonce, no x-correlator; the flow's id */
async function sloppyFlow (app: FastifyInstance, body: object = { phoneNumber: SEED }): Promise<string> {
  const { access_token: token } = await obtainTokens(app, { konera: SEED_KONERA })
  await app.inject({ method: 'POST', url: VERIFY_PATH, headers: { authorization: `Bearer ${token}` }, payload: body })
  const flowId = app.emulator.journal.list().at(-1)?.flowId
  if (flowId === undefined) throw new Error('the flow left no flow id')
  return flowId
}

/** One client's part of the conformance fragment */
function clientReport (fragment: string, clientId: string): string {
  return fragment.split(`<article data-client-report="${clientId}">`)[1]?.split('</article>')[0] ?? ''
}

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
  t.match(
    text,
    '+919036499174 Seed verify example: second operator, IPv6 /64 prefix Telco IN (emulated) 49.36.10.20 , ' +
      '2401:4900:1c0a:2f3::/64 mobile-data network'
  )
  t.match(text, 'demo-web The sample app served at /demo (its redirect URI follows the emulator\'s public URL) client_secret_post PKCE required ciba /demo/callback = http://emulator.test/demo/callback')
  t.notMatch(res.body, 'demo-secret', 'no client secret is shown')
  t.notMatch(res.body, 'demo-web-secret')
  // Scenario switches
  t.match(
    res.body,
    /<input type="checkbox" role="switch" data-scenario="operator-unavailable" {2}aria-labelledby="scenario-0"/
  )
  // The journal: the demo flow's four requests, newest first, each linked to its flow
  const rows = [...res.body.matchAll(/<tr data-entry="(\d+)">/g)].map((m) => Number(m[1]))
  t.strictSame(rows, [4, 3, 2, 1])
  t.match(res.body, '<tbody id="journal-rows" data-last-id="4">')
  const flowId = app.emulator.journal.list()[0]?.flowId ?? ''
  const journalRows = res.body.split('<tbody id="journal-rows"')[1]?.split('</tbody>')[0] ?? ''
  t.equal(journalRows.split(`data-flow="${flowId}"`).length - 1, 4, 'every row links to the flow drill-down')
  t.match(res.body, '<p id="journal-empty" class="empty" hidden>')
  t.equal(app.emulator.journal.list().length, 4, 'the dashboard is not journaled')
  // The conformance reports: the demo's client only, graded from those four requests
  const conformance = res.body.split('<div id="conformance-section">')[1]?.split('</section>')[0] ?? ''
  t.strictSame([...conformance.matchAll(/<article data-client-report="([^"]+)">/g)].map((m) => m[1]), ['demo-web'])
  const demoWeb = textOf(clientReport(conformance, 'demo-web'))
  t.match(demoWeb, /^demo-web fail The sample app served at \/demo .* 4 requests graded: /)
  t.match(res.body, '<li><a href="#conformance">Conformance</a></li>')
})

t.test('an empty journal says so', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/_emulator/ui' })
  t.match(res.body, '<tbody id="journal-rows" data-last-id="0"></tbody>')
  t.match(res.body, '<p id="journal-empty" class="empty" >No requests yet')
  t.match(res.body, '<div id="conformance-section"><p class="muted">')
  const conformance = textOf(res.body.split('<div id="conformance-section">')[1] ?? '')
  t.match(conformance, /^What a strict CAMARA operator .* No client has made a request yet\./)
})

t.test('the conformance section', async (t) => {
  const { app } = await buildTestApp(t)

  t.test('nothing to grade yet: no client is listed', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/_emulator/ui/sections/conformance' })
    t.equal(res.statusCode, 200)
    t.equal(res.headers['content-type'], 'text/html; charset=utf-8')
    t.equal(res.headers['cache-control'], 'no-store')
    t.equal(res.headers['x-dashboard-fragment'], 'conformance')
    t.notMatch(res.body, 'data-client-report=')
    t.match(textOf(res.body), 'No client has made a request yet.')
  })

  t.test('a sloppy flow by demo-app fails, pkce among its rules, each failure linked to its flow', async (t) => {
    const flowId = await sloppyFlow(app)
    const res = await app.inject({ method: 'GET', url: '/_emulator/ui/sections/conformance' })
    t.equal(res.statusCode, 200)
    t.strictSame([...res.body.matchAll(/<article data-client-report="([^"]+)">/g)].map((m) => m[1]), ['demo-app'],
      'demo-app-jwt and demo-web made no request: they are not listed')
    const report = clientReport(res.body, 'demo-app')
    t.match(report, '<span class="badge bad" data-verdict="fail">fail</span>')

    // The same rules, counts and failures as the control API's report
    const graded = gradeClient(app.emulator.journal.list(), 'demo-app')
    const failed = graded.rules.filter((rule) => rule.status === 'fail')
    t.ok(failed.length > 1, 'more than one rule failed')
    t.strictSame([...report.matchAll(/<li data-rule="([^"]+)">/g)].map((m) => m[1]), failed.map((rule) => rule.id))
    const passed = graded.rules.filter((rule) => rule.status === 'pass').length
    const notSeen = graded.rules.filter((rule) => rule.status === 'not-seen').length
    t.match(textOf(report), `4 requests graded: ${failed.length} rules failed, ${passed} passed, ${notSeen} not seen.`)

    const pkce = report.split('<li data-rule="pkce">')[1]?.split('</ul></li>')[0] ?? ''
    const entry = app.emulator.journal.list().find((e) => e.operation === 'authorize')?.id ?? -1
    t.equal(textOf(pkce), 'pkce PKCE with S256 on every authorization request ' +
      'CAMARA ICM r4.2, CAMARA-Security-Interoperability.md "Cross-Site Request Forgery Protection"; ' +
      'RFC 9700 section 2.1.1 ' +
      `1 of 1 requests broke it journal entry ${entry} , Gateway authorize: no code_challenge ( flow ${flowId} )`)
    t.match(pkce, `<a href="#flow=${flowId}" data-flow="${flowId}">flow <code>${flowId}</code></a>`,
      'the same link as a journal row: the script opens the flow view')
    const links = [...report.matchAll(/data-flow="([^"]+)"/g)].map((m) => m[1])
    t.equal(links.length, failed.reduce((sum, rule) => sum + rule.failures.length, 0), 'every failure links its flow')
    t.strictSame([...new Set(links)], [flowId])

    t.match(report, 'The report as <a href="/_emulator/clients/demo-app/report">JSON</a> or ' +
      '<a href="/_emulator/clients/demo-app/report?format=junit">JUnit XML</a>.')
    const junit = await app.inject({ method: 'GET', url: '/_emulator/clients/demo-app/report?format=junit' })
    t.equal(junit.statusCode, 200, 'the JUnit link answers')
  })

  t.test('a failure\'s words are escaped', async (t) => {
    await sloppyFlow(app, { phoneNumber: SEED, '<img src=x onerror=alert(1)>': true })
    const res = await app.inject({ method: 'GET', url: '/_emulator/ui/sections/conformance' })
    const declared = clientReport(res.body, 'demo-app').split('<li data-rule="declared-properties">')[1] ?? ''
    t.notMatch(res.body, '<img src=x')
    t.match(declared, 'undeclared properties: &lt;img src=x onerror=alert(1)&gt;')
  })

  t.test('cleared with the journal', async (t) => {
    t.equal((await app.inject({ method: 'DELETE', url: '/_emulator/journal' })).statusCode, 204)
    const res = await app.inject({ method: 'GET', url: '/_emulator/ui/sections/conformance' })
    t.notMatch(res.body, 'data-client-report=')
  })
})

t.test('the conformance fragment escapes what a report carries', async (t) => {
  const evil = '"><script>alert(1)</script>'
  const entries = [{
    id: 7,
    time: '2026-01-01T00:00:00.000Z',
    operation: '<b>op</b>',
    status: 200,
    flowId: evil,
    clientId: evil,
    checks: [{ rule: 'pkce' as const, ok: false, detail: '<i>detail</i>' }]
  }]
  const report = gradeClient(entries, evil)
  const fragment = renderConformance([{ name: '<u>name</u>', report }], '/_emulator/clients').value
  t.notMatch(fragment, /<script|<b>|<i>|<u>/)
  t.match(fragment, '<article data-client-report="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">')
  t.match(fragment, 'href="/_emulator/clients/%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E/report"')
  t.match(fragment, '<a href="#flow=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E" ' +
    'data-flow="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">')
  t.match(fragment, 'journal entry <code>7</code>, &lt;b&gt;op&lt;/b&gt;: &lt;i&gt;detail&lt;/i&gt;')
  t.match(fragment, '<small>&lt;u&gt;name&lt;/u&gt;</small>')
})

t.test('a rule broken more often than the report keeps says how many more', async (t) => {
  const entries = Array.from({ length: 25 }, (_, i) => ({
    id: i + 1,
    time: '2026-01-01T00:00:00.000Z',
    operation: 'authorize',
    status: 302,
    clientId: 'c',
    checks: [{ rule: 'pkce' as const, ok: false }]
  }))
  const fragment = renderConformance([{ report: gradeClient(entries, 'c') }], '/_emulator/clients').value
  t.equal([...fragment.matchAll(/<li data-failure="/g)].length, 20)
  t.match(textOf(fragment), '25 of 25 requests broke it')
  t.match(fragment, '<li class="muted">and 5 more</li>')
  t.match(fragment, '<span class="muted">no flow</span>', 'a failure without a flow says so')
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
    t.match(
      text,
      /1 Gateway authorize GET \/camara\/api\/auth\/v1\/authorize 302 .* 2 Operator GET \/operators\/telco-es\/authorize 302 .* 3 Token endpoint POST \/camara\/api\/auth\/v1\/token 200 .* 4 Verify POST \/camara\/api\/number-verification\/v1\/verify 200/
    )
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
    t.match(
      textOf(applied.body.split('<tr data-scenario-row="consent-denied">')[1]?.split('</tr>')[0] ?? ''),
      'active applied 1×'
    )

    t.equal(
      (await app.inject({ method: 'DELETE', url: '/_emulator/scenarios/consent-denied/activate' })).statusCode,
      204
    )
    const off = await app.inject({ method: 'GET', url: '/_emulator/ui/sections/scenarios' })
    t.notMatch(off.body, /data-scenario="consent-denied" checked/)
  })

  t.test('the world, escaped', async (t) => {
    const put = await app.inject({
      method: 'PUT',
      url: '/_emulator/subscribers/%2B34611111111',
      payload: {
        msisdn: '+34611111111',
        operator: 'telco-es',
        name: '<img src=x onerror=alert(1)>',
        ipv4: ['142.115.1.1'],
        connection: 'mobile-data'
      }
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
    t.notMatch(res.body, 'data-client-report=')
    const waiting = '<p class="empty">Enter the admin token to load this section.</p>'
    t.match(res.body, `<div id="conformance-section">${waiting}</div>`)
  })

  t.test('every section needs the bearer token', async (t) => {
    const sections = ['world', 'scenarios', 'journal', 'flows/x', 'conformance']
    const urls = sections.map((section) => `/_emulator/ui/sections/${section}`)
    for (const url of urls) {
      for (const authorization of [undefined, 'Bearer wrong', 'let-me-in']) {
        const res = await app.inject({
          method: 'GET',
          url,
          headers: authorization === undefined ? {} : { authorization }
        })
        t.equal(res.statusCode, 401, `${url} with ${authorization ?? 'no header'}`)
        t.strictSame(res.json(), {
          status: 401,
          code: 'UNAUTHENTICATED',
          message: 'the control API requires Authorization: Bearer <admin token> (--admin-token)'
        })
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

t.test(
  'the script is a static file: served with its content type, cached by version, loaded with the nonce',
  async (t) => {
    const { app } = await buildTestApp(t, { adminToken: 'let-me-in' })
    const page = await app.inject({ method: 'GET', url: '/_emulator/ui' })
    const nonce =
      /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(String(page.headers['content-security-policy']))?.[1] ?? ''
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
  }
)

t.test('fragments are named, so the script inserts only the one it asked for', async (t) => {
  const { app } = await buildTestApp(t)
  const names: Record<string, string> = {
    '/_emulator/ui/sections/world': 'world',
    '/_emulator/ui/sections/scenarios': 'scenarios',
    '/_emulator/ui/sections/journal': 'journal',
    '/_emulator/ui/sections/flows/abc': 'flow',
    '/_emulator/ui/sections/conformance': 'conformance'
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
  const activations = Array.from({ length: 100_000 }, (_, i) => ({
    id: String(i),
    name: 'consent-denied',
    activatedAt: 0,
    appliedCount: 1,
    remaining: 1
  }))
  const { app } = await buildTestApp(t)
  const section = renderScenarios(app.emulator.scenarios.list(), activations)
  const row = section.value.split('<tr data-scenario-row="consent-denied">')[1]?.split('</tr>')[0] ?? ''
  t.match(textOf(row), 'active applied 100000×')
})
