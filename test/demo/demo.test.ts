import t from 'tap'
import { BASE_URL, buildTestApp } from '../helpers/app.js'
import { pkceS256 } from '../../src/core/token-service.js'
import { MAX_ATTEMPTS } from '../../src/demo/attempts.js'
import { browse, HTML_ACCEPT, pathOf, postForm, runDemo, startDemo, textOf } from './support.js'

const SEED = '+34666666666'
const SECOND = '+34666666667'
const SCOPE = 'openid dpv:FraudPreventionAndDetection number-verification:verify'

function cspNonce (header: unknown): string {
  const match = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(String(header))
  if (match === null) throw new Error(`no nonce in ${String(header)}`)
  return match[1] as string
}

t.test('GET /demo', async (t) => {
  const { app } = await buildTestApp(t)

  t.test(
    'is a page with every subscriber, the browser choice and the scenarios, prefilled with the first subscriber',
    async (t) => {
      const res = await app.inject({ method: 'GET', url: '/demo' })
      t.equal(res.statusCode, 200)
      t.equal(res.headers['content-type'], 'text/html; charset=utf-8')
      t.equal(res.headers['cache-control'], 'no-store')
      t.equal(res.headers['x-content-type-options'], 'nosniff')
      t.equal(res.headers['referrer-policy'], 'no-referrer')
      const nonce = cspNonce(res.headers['content-security-policy'])
      t.match(res.body, `<script nonce="${nonce}">`, 'the inline script carries the response nonce')
      for (const msisdn of [
        '+34666666666',
        '+34666666667',
        '+919036499174',
        '+34600000002',
        '+34600000003',
        '+34600000004',
        '+34600000005'
      ]) {
        t.match(res.body, `<option value="${msisdn}" data-msisdn="${msisdn}"`, msisdn)
      }
      t.match(res.body, '<option value="browser"  >This browser&#39;s own address')
      t.match(res.body, '<option value="+34666666666" data-msisdn="+34666666666" selected>')
      t.match(res.body, `id="claimed" name="claimed" value="${SEED}"`)
      t.match(
        res.body,
        '<option value="consent-denied" >consent-denied: the operator redirects to the client with ' +
          'error=access_denied</option>'
      )
      t.match(res.body, '<optgroup label="Operator leg">')
      t.match(res.body, '<a href="/_emulator/ui" >Dashboard</a>', 'links the dashboard')
      t.match(textOf(res.body), 'GET http://emulator.test/camara/api/auth/v1/authorize')
    }
  )

  t.test('takes its values from the query, escaped, and ignores unknown devices and scenarios', async (t) => {
    const res = await app.inject({
      method: 'GET',
      url: `/demo?${new URLSearchParams({
        device: SECOND,
        claimed: '"><script>x</script>',
        hint: 'ipport',
        scenario: 'operator-unavailable',
        promptNone: '1'
      }).toString()}`
    })
    t.equal(res.statusCode, 200)
    t.match(res.body, `<option value="${SECOND}" data-msisdn="${SECOND}" selected>`)
    t.match(res.body, 'value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"')
    t.notMatch(res.body, '<script>x')
    t.match(res.body, 'id="hint-ipport" name="hint" value="ipport" checked')
    t.match(res.body, '<option value="operator-unavailable" selected>')
    t.match(res.body, 'name="promptNone" value="1" checked')

    const unknown = await app.inject({ method: 'GET', url: '/demo?device=%2B10000000000&scenario=nope' })
    t.match(unknown.body, `<option value="${SEED}" data-msisdn="${SEED}" selected>`)
    t.match(unknown.body, '<option value="" selected>None')
  })
})

t.test('the dashboard link is left out when the control API is off', async (t) => {
  const { app } = await buildTestApp(t, { admin: false })
  const res = await app.inject({ method: 'GET', url: '/demo' })
  t.equal(res.statusCode, 200)
  t.notMatch(res.body, '/_emulator/ui')
})

t.test('POST /demo/start', async (t) => {
  const { app } = await buildTestApp(t)

  t.test('sends the browser to the gateway with the demo client, PKCE, and the device in konera_context', async (t) => {
    const location = await startDemo(app, { device: SEED, claimed: SEED, hint: 'konera' })
    t.equal(location.origin + location.pathname, `${BASE_URL}/camara/api/auth/v1/authorize`)
    const query = Object.fromEntries(location.searchParams)
    t.match(query, {
      response_type: 'code',
      client_id: 'demo-web',
      redirect_uri: `${BASE_URL}/demo/callback`,
      scope: SCOPE,
      state: /^[A-Za-z0-9_-]{32}$/,
      nonce: /^[A-Za-z0-9_-]{32}$/,
      code_challenge: /^[A-Za-z0-9_-]{43}$/,
      code_challenge_method: 'S256',
      konera_context: 'ipv4:142.115.147.143,ipv6:2001:4860:7:f04::fe'
    })
    t.strictSame(Object.keys(query).sort(), [
      'client_id',
      'code_challenge',
      'code_challenge_method',
      'konera_context',
      'nonce',
      'redirect_uri',
      'response_type',
      'scope',
      'state'
    ])
  })

  t.test('names the device by login_hint=ipport:, adds prompt=none and the flow scenario when asked', async (t) => {
    const query = (
      await startDemo(app, {
        device: '+919036499174',
        claimed: '+919036499174',
        hint: 'ipport',
        promptNone: '1',
        scenario: 'consent-denied'
      })
    ).searchParams
    t.equal(query.get('login_hint'), 'ipport:49.36.10.20')
    t.equal(query.get('konera_context'), null)
    t.equal(query.get('prompt'), 'none')
    t.equal(query.get('emulator_scenario'), 'consent-denied')
  })

  t.test("the browser's own address sends no device hint", async (t) => {
    const query = (await startDemo(app, { device: 'browser', claimed: SEED })).searchParams
    t.equal(query.get('konera_context'), null)
    t.equal(query.get('login_hint'), null)
    t.equal(query.get('prompt'), null)
  })

  t.test('a form with problems is shown again with each problem, escaped, and no redirect', async (t) => {
    const res = await postForm(app, '/demo/start', {
      device: '+10000000000',
      claimed: '<b>12</b>',
      scenario: '<i>x</i>'
    })
    t.equal(res.statusCode, 400)
    t.equal(res.headers['content-type'], 'text/html; charset=utf-8')
    t.equal(res.headers.location, undefined)
    t.match(res.body, '<div class="errors" role="alert">')
    t.match(textOf(res.body), 'There is no subscriber +10000000000 in the fixtures.')
    t.match(textOf(res.body), '"<b>12</b>" is not a phone number in international format (like +34666666666).')
    t.match(textOf(res.body), 'There is no scenario "<i>x</i>".')
    t.notMatch(res.body, '<b>12</b>')
    t.notMatch(res.body, '<i>x</i>')

    const empty = await postForm(app, '/demo/start', {})
    t.equal(empty.statusCode, 400)
    t.match(textOf(empty.body), 'Choose a simulated device.')
    t.match(textOf(empty.body), 'Enter the phone number the user claims.')
  })
})

t.test(
  'with every attempt slot taken, a new verification is refused on the form, and the others still finish',
  async (t) => {
    const { app } = await buildTestApp(t)
    const first = await startDemo(app, { device: SEED, claimed: SEED })
    for (let i = 1; i < MAX_ATTEMPTS; i++) await startDemo(app, { device: SEED, claimed: SEED })
    const refused = await postForm(app, '/demo/start', { device: SEED, claimed: SEED })
    t.equal(refused.statusCode, 503)
    t.equal(refused.headers.location, undefined)
    t.equal(refused.headers['retry-after'], '600')
    t.match(
      textOf(refused.body),
      `Please fix: ${MAX_ATTEMPTS} verifications are already in progress: finish one, or wait up to 10 minutes`
    )
    const { res } = await browse(app, first.toString())
    t.match(res.body, 'data-outcome="verified"', 'the oldest attempt was kept and finishes')
    t.equal(
      (await postForm(app, '/demo/start', { device: SEED, claimed: SEED })).statusCode,
      303,
      'its slot is free again'
    )
  }
)

t.test('the demo client redirect URI is relative: it follows the public URL', async (t) => {
  const { app } = await buildTestApp(t)
  const query = (redirectUri: string): string =>
    `/camara/api/auth/v1/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: 'demo-web',
      redirect_uri: redirectUri,
      scope: SCOPE,
      state: 's',
      code_challenge: pkceS256('v'.repeat(43)),
      code_challenge_method: 'S256'
    }).toString()}`
  const absolute = await app.inject({ method: 'GET', url: query(`${BASE_URL}/demo/callback`) })
  t.equal(absolute.statusCode, 302)
  t.match(absolute.headers.location, /^http:\/\/emulator\.test\/operators\/telco-es\/authorize\?request_id=/)

  const literal = await app.inject({ method: 'GET', url: query('/demo/callback') })
  t.equal(literal.statusCode, 400, 'the registered path itself is not a redirect URI')
  t.match(literal.body, 'redirect_uri &quot;/demo/callback&quot; is not registered for client &quot;demo-web&quot;')

  app.emulator.urls.setBase('http://localhost:4321')
  const moved = await app.inject({ method: 'GET', url: query('http://localhost:4321/demo/callback') })
  t.equal(moved.statusCode, 302)
  const stale = await app.inject({ method: 'GET', url: query(`${BASE_URL}/demo/callback`) })
  t.equal(stale.statusCode, 400, 'the old public URL no longer matches')
})

t.test('a verification that ends true', async (t) => {
  const { app } = await buildTestApp(t)
  const { res, path } = await runDemo(app, { device: SEED, claimed: SEED })
  t.match(path, /^\/demo\/callback\?code=[^&]+&state=/)
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'text/html; charset=utf-8')
  t.match(res.body, '<section class="verdict ok" aria-labelledby="verdict-title" data-outcome="verified">')
  const text = textOf(res.body)
  t.match(
    text,
    '✓ Number verified +34666666666 is the number of this device: the mobile network confirmed it, no code needed.'
  )
  t.match(text, 'Number claimed +34666666666 Number the network identified +34666666666 same')
  t.match(text, 'signature and claims verified against the JWKS, issuer, audience and nonce')
  t.match(text, 'amr ["nba","mnba"] network-based authentication')
  t.match(text, 'aud "demo-web"')
  t.match(res.body, /&quot;access_token&quot;: &quot;[A-Za-z0-9_-]{4}… \(redacted, \d+ characters\)&quot;/)
  t.match(text, '"devicePhoneNumberVerified": true')
  t.match(text, '"authorization": "Bearer (the access token)"')

  // The timeline is the journal of this flow: the browser's two legs, then the backend's calls
  const flowId = /Flow <\/dt><dd><code>([A-Za-z0-9_-]+)<\/code>|<dt>Flow<\/dt><dd><code>([A-Za-z0-9_-]+)<\/code>/.exec(
    res.body
  )
  const id = flowId?.[1] ?? flowId?.[2]
  t.ok(id, 'the page names the flow')
  const journal = app.emulator.journal.list({ flowId: id })
  t.strictSame(journal.map((e) => [e.operation, e.method, e.path, e.status]), [
    ['authorize', 'GET', '/camara/api/auth/v1/authorize', 302],
    ['operator', 'GET', '/operators/telco-es/authorize', 302],
    ['token', 'POST', '/camara/api/auth/v1/token', 200],
    ['verify', 'POST', '/camara/api/number-verification/v1/verify', 200]
  ])
  const rows = res.body.split('<table class="timeline">')[1]?.split('</table>')[0] ?? ''
  t.equal(rows.match(/<tr class="">/g)?.length, 4, 'one timeline row per hop')
  t.match(rows, /Gateway authorize[\s\S]*Operator[\s\S]*Token endpoint[\s\S]*Verify/)
  t.equal(
    app.emulator.journal.list().filter((e) => e.path.startsWith('/demo')).length,
    0,
    'the demo pages stay out of the journal'
  )
  t.match(
    res.body,
    'href="/demo?device=%2B34666666666&amp;claimed=%2B34666666666&amp;hint=konera"',
    'verify again keeps the choices'
  )
})

t.test('a verification that ends false shows both numbers', async (t) => {
  const { app } = await buildTestApp(t)
  const { res } = await runDemo(app, { device: SECOND, claimed: SEED, hint: 'ipport' })
  t.equal(res.statusCode, 200)
  t.match(res.body, 'data-outcome="not-verified"')
  const text = textOf(res.body)
  t.match(text, '✗ Number not verified The mobile network says this device is not +34666666666.')
  t.match(text, 'Number claimed +34666666666 Number the network identified +34666666667 different')
  t.match(text, '"devicePhoneNumberVerified": false')
})

t.test('errors are shown as the user sees them, with the raw error beside', async (t) => {
  const { app } = await buildTestApp(t)

  t.test('consent denied at the operator (scenario)', async (t) => {
    const { res, path } = await runDemo(app, { device: SEED, claimed: SEED, scenario: 'consent-denied' })
    t.match(path, /^\/demo\/callback\?error=access_denied&error_description=The\+subscriber\+denied\+consent\.&state=/)
    t.equal(res.statusCode, 200)
    t.match(res.body, 'data-outcome="error"')
    const text = textOf(res.body)
    t.match(text, '! Verification was declined Your mobile operator did not confirm this device.')
    t.match(text, 'Raw error Redirect from the operator back to the app (OAuth error)')
    t.match(text, '"error": "access_denied", "error_description": "The subscriber denied consent."')
    t.match(text, 'Number the network identified none (no token)')
    t.match(text, 'consent-denied', 'the timeline shows the scenario')
    t.notMatch(text, 'Token endpoint', 'no token exchange was attempted')
  })

  t.test('the operator is down at verify (scenario)', async (t) => {
    const { res } = await runDemo(app, { device: SEED, claimed: SEED, scenario: 'operator-unavailable' })
    const text = textOf(res.body)
    t.match(text, '! Your mobile operator is not answering Number verification is temporarily unavailable.')
    t.match(text, 'POST http://emulator.test/camara/api/number-verification/v1/verify · HTTP 503')
    t.match(text, '"status": 503, "code": "UNAVAILABLE"')
    t.match(text, 'Number the network identified +34666666666', 'the token was issued before the failure')
  })

  t.test('the token endpoint fails (scenario)', async (t) => {
    const { res } = await runDemo(app, { device: SEED, claimed: SEED, scenario: 'token-server-error' })
    const text = textOf(res.body)
    t.match(text, '! Number verification is unavailable right now')
    t.match(text, 'POST http://emulator.test/camara/api/auth/v1/token · HTTP 500')
    t.match(text, '"error": "server_error"')
  })

  t.test('a device on Wi-Fi with prompt=none: login_required', async (t) => {
    const { res } = await runDemo(app, { device: '+34600000002', claimed: '+34600000002', promptNone: '1' })
    const text = textOf(res.body)
    t.match(text, '! We could not confirm your number automatically')
    t.match(
      text,
      '"error": "login_required", "error_description": "Telco ES (emulated) cannot authenticate +34600000002: the ' +
        'device is on wifi, not mobile data and no fallback method"'
    )
  })

  t.test('an SMS OTP subscriber: the API refuses a token not obtained by the network', async (t) => {
    const { res } = await runDemo(app, { device: '+34600000003', claimed: '+34600000003' })
    const text = textOf(res.body)
    t.match(text, '! Use mobile data to verify')
    t.match(text, '"code": "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK"')
    t.match(text, 'amr ["sms","otp"]')
  })
})

t.test('the callback with a state the app does not know is a readable page', async (t) => {
  const { app, clock } = await buildTestApp(t)

  t.test('unknown state, escaped, code redacted', async (t) => {
    const res = await app.inject({
      method: 'GET',
      url: '/demo/callback?code=secret-code&state=%3Cscript%3Ealert(1)%3C%2Fscript%3E'
    })
    t.equal(res.statusCode, 400)
    t.equal(res.headers['content-type'], 'text/html; charset=utf-8')
    const text = textOf(res.body)
    t.match(text, '! This verification is unknown or expired The app has no record of this attempt')
    t.match(text, '"code": "(redacted)"')
    t.notMatch(res.body, 'secret-code')
    t.notMatch(res.body, '<script>alert(1)')
    t.match(res.body, '&lt;script&gt;alert(1)&lt;/script&gt;')
  })

  t.test('no state at all', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/demo/callback?error=access_denied' })
    t.equal(res.statusCode, 400)
    t.match(textOf(res.body), '"error": "access_denied", "state": null')
  })

  t.test('a state answers one callback only', async (t) => {
    const { res, path } = await runDemo(app, { device: SEED, claimed: SEED })
    t.equal(res.statusCode, 200)
    const again = await app.inject({ method: 'GET', url: path })
    t.equal(again.statusCode, 400)
    t.match(textOf(again.body), 'This verification is unknown or expired')
  })

  t.test('an attempt older than 10 minutes has expired', async (t) => {
    const authorize = await startDemo(app, { device: SEED, claimed: SEED })
    clock.advance(10 * 60 * 1000)
    const res = await app.inject({
      method: 'GET',
      url: `/demo/callback?code=x&state=${authorize.searchParams.get('state') ?? ''}`
    })
    t.equal(res.statusCode, 400)
  })
})

t.test('without the demo-web client the demo says so', async (t) => {
  const { app } = await buildTestApp(t, { fixtures: ['fixtures/presets/sandbox-last-digit.json'] })
  const page = await app.inject({ method: 'GET', url: '/demo' })
  t.equal(page.statusCode, 200)
  t.match(textOf(page.body), 'The fixtures have no client "demo-web"')
  const start = await postForm(app, '/demo/start', { device: 'browser', claimed: SEED })
  t.equal(start.statusCode, 400)
  t.match(textOf(start.body), 'The fixtures have no client "demo-web"')
})

t.test("the browser's own address goes through the simulated operator network", async (t) => {
  const { app } = await buildTestApp(t)
  const authorize = await startDemo(app, { device: 'browser', claimed: SEED })
  const picker = await browse(app, authorize.toString())
  t.equal(picker.res.statusCode, 200)
  t.match(picker.path, /^\/operators\/telco-es\/authorize\?request_id=/)
  t.match(textOf(picker.res.body), 'Which SIM is this browser on?')
  const requestId = new URLSearchParams(picker.path.split('?')[1]).get('request_id') ?? ''
  const choice = await postForm(app, '/operators/telco-es/sim-picker', { request_id: requestId, msisdn: SEED })
  t.equal(choice.statusCode, 302)
  const callback = await app.inject({
    method: 'GET',
    url: pathOf(choice.headers.location as string),
    headers: { accept: HTML_ACCEPT }
  })
  t.equal(callback.statusCode, 200)
  const text = textOf(callback.body)
  t.match(text, '✓ Number verified')
  t.match(text, "Simulated device This browser's own address")
  t.match(text, 'Number the network identified +34666666666 same')
})

t.test('the app learns the identified number and the hops from the journal API, as a client', async (t) => {
  t.test('with an admin token it sends the token', async (t) => {
    const { app } = await buildTestApp(t, { adminToken: 'let-me-in' })
    const { res } = await runDemo(app, { device: SECOND, claimed: SEED })
    const text = textOf(res.body)
    t.match(text, 'Number claimed +34666666666 Number the network identified +34666666667 different')
    t.match(text, /1 Gateway authorize .* 2 Operator .* 3 Token endpoint .* 4 Verify/)
    // No share call to learn the number: it would spend a camara-strict token and add a hop
    t.strictSame(app.emulator.journal.list().map((e) => e.operation), ['authorize', 'operator', 'token', 'verify'])
  })

  t.test('with the control API off the verdict stands and the page says what it cannot read', async (t) => {
    const { app } = await buildTestApp(t, { admin: false })
    const { res } = await runDemo(app, { device: SEED, claimed: SEED })
    t.match(res.body, 'data-outcome="verified"')
    const text = textOf(res.body)
    t.match(
      text,
      'Number the network identified unknown: the control API is off (--no-admin), so the app cannot read the journal'
    )
    t.match(
      text,
      "Every hop From the emulator's journal: the browser's legs, then the app backend's calls. The hops are not " +
        'shown: the control API is off (--no-admin), so the app cannot read the journal.'
    )
  })
})
