// The sample app's pages: the form where the presenter picks a device, a claimed number and a
// scenario; the result with the verdict as a user sees it and everything a developer wants to
// see behind it (numbers, id_token claims, token response, the API exchange, the hop timeline).
import type { JournalEntry } from '../../core/journal.js'
import { html, jsonBlock, type SafeHtml } from '../../views/html.js'
import { renderPage } from '../../views/layout.js'
import { renderTimeline } from './timeline.js'

export interface DemoFormValues {
  /** A fixture subscriber's MSISDN, or 'browser': the address the emulator sees */
  device: string
  /** The number the user claims, sent to verify */
  claimed: string
  /**
   * How the app names the device: konera_context (the aggregator) or login_hint=ipport: (CAMARA) in
   * the browser flow; or the Wi-Fi path: an operator token from the device, then CIBA from the backend
   */
  hint: 'konera' | 'ipport' | 'operator-token'
  /** A scenario for the whole flow (emulator_scenario), '' for none */
  scenario: string
  /** Send prompt=none (no interaction, so no SIM picker) */
  promptNone: boolean
}

export interface DemoFormView {
  nonce: string
  dashboard: boolean
  devices: Array<{ value: string, label: string, msisdn?: string, group?: string }>
  scenarios: Array<{ name: string, description: string, group: string }>
  values: DemoFormValues
  errors: string[]
  endpoints: { authorize: string, token: string, verify: string, callback: string }
}

const FORM_SCRIPT = `
(function () {
  var device = document.getElementById('device');
  var claimed = document.getElementById('claimed');
  if (!device || !claimed) return;
  var lastFilled = claimed.value;
  device.addEventListener('change', function () {
    var option = device.options[device.selectedIndex];
    var number = option ? option.getAttribute('data-msisdn') : null;
    if (number && (claimed.value === '' || claimed.value === lastFilled)) {
      claimed.value = number;
      lastFilled = number;
    }
  });
  var form = document.getElementById('verify-form');
  form.addEventListener('submit', function () {
    var button = form.querySelector('button[type=submit]');
    button.setAttribute('aria-busy', 'true');
    button.textContent = 'Verifying…';
  });
})();
`

/** Options, grouped by operator in their fixture order; ungrouped ones first */
function deviceChoices (devices: DemoFormView['devices'], selected: string): SafeHtml {
  const option = (d: DemoFormView['devices'][number]): SafeHtml =>
    html`<option value="${d.value}" ${d.msisdn === undefined ? '' : html`data-msisdn="${d.msisdn}"`} ${
      d.value === selected ? 'selected' : ''
    }>${d.label}</option>`
  const groups = new Map<string, SafeHtml[]>()
  for (const device of devices) {
    if (device.group !== undefined) groups.set(device.group, [...(groups.get(device.group) ?? []), option(device)])
  }
  return html`${devices.filter((d) => d.group === undefined).map(option)}${[...groups].map(([group, options]) =>
    html`<optgroup label="${group}">${options}</optgroup>`)}`
}

export function renderDemoForm (view: DemoFormView): SafeHtml {
  const { values } = view
  const groups = new Map<string, DemoFormView['scenarios']>()
  for (const scenario of view.scenarios) groups.set(scenario.group, [...(groups.get(scenario.group) ?? []), scenario])
  const body = html`
<h1>Sample app: verify a phone number</h1>
<p class="lead">This page plays a client app of the Number Verification API. Press <strong>Verify</strong> \
and your browser really
goes through the gateway's authorize endpoint and the emulated operator; the app's backend then exchanges the code \
for tokens
and calls verify, and shows what happened at every hop.</p>
<div class="grid">
<form class="card" id="verify-form" method="post" action="/demo/start" novalidate>
<h2>Verify</h2>
${view.errors.length === 0
    ? ''
    : html`<div class="errors" role="alert"><strong>Please fix:</strong><ul>${view.errors.map((e) =>
      html`<li>${e}</li>`)}</ul></div>`}
<div class="field">
<label for="device">Simulated device</label>
<select id="device" name="device" aria-describedby="device-hint">
${deviceChoices(view.devices, values.device)}
</select>
<p class="hint" id="device-hint">Which phone this browser pretends to be. \
The emulator sees your browser at its real address, \
so the app names the device by its network address.</p>
</div>
<div class="field">
<label for="claimed">Phone number the user claims</label>
<input type="tel" id="claimed" name="claimed" value="${values.claimed}" autocomplete="off" inputmode="tel" \
placeholder="+34666666666" aria-describedby="claimed-hint" required>
<p class="hint" id="claimed-hint">International format (E.164), e.g. <code>+34666666666</code>. \
Claim another device's number to see a <em>false</em> verdict.</p>
</div>
<fieldset>
<legend>How the app names the device</legend>
<div class="choice"><input type="radio" id="hint-konera" name="hint" value="konera" \
${values.hint === 'konera' ? 'checked' : ''}><label for="hint-konera"><code>konera_context=ipv4:…,ipv6:…</code> \
(the aggregator)</label></div>
<div class="choice"><input type="radio" id="hint-ipport" name="hint" value="ipport" \
${values.hint === 'ipport' ? 'checked' : ''}><label for="hint-ipport"><code>login_hint=ipport:…</code> \
(CAMARA)</label></div>
<div class="choice"><input type="radio" id="hint-operator-token" name="hint" value="operator-token" \
${values.hint === 'operator-token' ? 'checked' : ''}><label for="hint-operator-token">On Wi-Fi: the phone gets an \
operator token (TS.43), the backend runs CIBA with <code>login_hint=operatortoken:…</code></label></div>
</fieldset>
<div class="field">
<label for="scenario">Scenario <span class="muted">(optional)</span></label>
<select id="scenario" name="scenario" aria-describedby="scenario-hint">
<option value="" ${values.scenario === '' ? 'selected' : ''}>None: the network answers as the fixtures say</option>
${[...groups].map(([group, scenarios]) => html`<optgroup label="${group}">${scenarios.map((s) =>
    html`<option value="${s.name}" ${s.name === values.scenario ? 'selected' : ''}>${s.name}: ${s.description}</option>`
  )}</optgroup>`)}
</select>
<p class="hint" id="scenario-hint">Applied to the whole flow (<code>emulator_scenario</code>): \
authorize, operator, token and verify.</p>
</div>
<div class="field choice">
<input type="checkbox" id="prompt-none" name="promptNone" value="1" ${values.promptNone ? 'checked' : ''} \
aria-describedby="prompt-hint">
<div><label for="prompt-none">Silent check only (<code>prompt=none</code>)</label>
<p class="hint" id="prompt-hint">Number Verification apps usually send it. Leave it off and the simulated operator \
network asks which SIM this browser is on when it cannot place the device.</p></div>
</div>
<div class="actions"><button type="submit">Verify</button></div>
</form>
<aside class="card" aria-labelledby="how">
<h2 id="how">What happens</h2>
<ol>
<li>The app redirects the browser to the gateway: <code>GET ${view.endpoints.authorize}</code></li>
<li>The gateway's telco finder sends it on to the operator, which identifies the device from its network address.</li>
<li>The operator redirects back to the app: <code>${view.endpoints.callback}?code=…</code></li>
<li>The app's backend exchanges the code: <code>POST ${view.endpoints.token}</code></li>
<li>and asks the question: <code>POST ${view.endpoints.verify}</code></li>
</ol>
<h3>Try</h3>
<ul>
<li><code>+34666666666</code> claiming its own number: <strong>verified</strong>.</li>
<li><code>+34666666667</code> claiming <code>+34666666666</code>: <strong>not verified</strong>.</li>
<li><code>+34600000002</code> (on Wi-Fi): the operator cannot authenticate it.</li>
<li>Scenario <code>consent-denied</code> or <code>operator-unavailable</code>: the errors users see.</li>
<li>This browser's own address, without <code>prompt=none</code>: pick the SIM on the simulated operator network.</li>
</ul>
</aside>
</div>`
  return renderPage({
    title: 'Demo app', section: 'demo', body, nonce: view.nonce, dashboard: view.dashboard, script: FORM_SCRIPT
  })
}

export interface UserMessageView {
  title: string
  text: string
}

export interface RawError {
  /** Which exchange failed, e.g. 'Redirect from the operator' */
  where: string
  status?: number
  body: unknown
}

export interface IdTokenView {
  claims: Record<string, unknown>
  header: Record<string, unknown>
  /** Why the signature or claims check failed; undefined when it passed */
  problem?: string
}

export interface DemoResultView {
  nonce: string
  dashboard: boolean
  outcome: 'verified' | 'not-verified' | 'error'
  message: UserMessageView
  deviceLabel: string
  claimed: string
  networkNumber?: string
  /** Why the number is not shown although a token was issued (the journal could not be read) */
  networkNumberUnknown?: string
  scenario: string
  rawError?: RawError
  idToken?: IdTokenView
  tokenResponse?: Record<string, unknown>
  verifyExchange?: { request: unknown, status: number, body: unknown }
  timeline: ReadonlyArray<Readonly<JournalEntry>>
  /** Why the hops are not shown (the journal could not be read) */
  timelineUnavailable?: string
  flowId?: string
  retryUrl: string
}

function verdictBanner (view: DemoResultView): SafeHtml {
  const tone = view.outcome === 'verified' ? 'ok' : view.outcome === 'not-verified' ? 'bad' : 'warn'
  const icon = view.outcome === 'verified' ? '✓' : view.outcome === 'not-verified' ? '✗' : '!'
  return html`<section class="verdict ${tone}" aria-labelledby="verdict-title" data-outcome="${view.outcome}">
<h1 id="verdict-title"><span aria-hidden="true">${icon}</span> ${view.message.title}</h1>
<p>${view.message.text}</p>
</section>`
}

export function renderDemoResult (view: DemoResultView): SafeHtml {
  const numbers = html`<dl class="facts">
<dt>Simulated device</dt><dd>${view.deviceLabel}</dd>
<dt>Number claimed</dt><dd><code>${view.claimed}</code></dd>
<dt>Number the network identified</dt><dd>${view.networkNumber === undefined
    ? html`<span class="muted">${view.networkNumberUnknown === undefined
      ? 'none (no token)'
      : `unknown: ${view.networkNumberUnknown}`}</span>`
    : html`<code>${view.networkNumber}</code> ${view.networkNumber === view.claimed
      ? html`<span class="badge ok">same</span>`
      : html`<span class="badge bad">different</span>`}`}</dd>
<dt>Scenario</dt><dd>${view.scenario === ''
    ? html`<span class="muted">none</span>`
    : html`<code>${view.scenario}</code>`}</dd>
${view.flowId === undefined
    ? ''
    : html`<dt>Flow</dt><dd><code>${view.flowId}</code>${view.dashboard
      ? html` · <a href="/_emulator/ui#flow=${encodeURIComponent(view.flowId)}">open in the dashboard</a>`
      : ''}</dd>`}
</dl>`
  const raw = view.rawError === undefined
    ? ''
    : html`<section class="card" aria-labelledby="raw-error"><h2 id="raw-error">Raw error</h2>
<p class="muted">${view.rawError.where}${view.rawError.status === undefined
    ? ''
    : html` · HTTP <strong>${view.rawError.status}</strong>`}</p>
${jsonBlock(view.rawError.body)}</section>`
  const idToken = view.idToken === undefined
    ? ''
    : html`<section class="card" aria-labelledby="id-token"><h2 id="id-token">id_token claims</h2>
<p>${view.idToken.problem === undefined
      ? html`<span class="badge ok">signature and claims verified</span> \
<span class="muted">against the JWKS, issuer, audience and nonce</span>`
      : html`<span class="badge bad">not valid</span> ${view.idToken.problem}`}</p>
<div class="table-wrap"><table><thead><tr><th scope="col">Claim</th><th scope="col">Value</th></tr></thead><tbody>
${Object.entries(view.idToken.claims).map(([name, value]) => html`<tr><th scope="row"><code>${name}</code></th><td>\
<code>${JSON.stringify(value)}</code>${describeClaim(name, value)}</td></tr>`)}
</tbody></table></div>
<h3>Header</h3>${jsonBlock(view.idToken.header)}</section>`
  const token = view.tokenResponse === undefined
    ? ''
    : html`<section class="card" aria-labelledby="token-response"><h2 id="token-response">Token response \
<span class="muted">(secrets redacted)</span></h2>${jsonBlock(view.tokenResponse)}</section>`
  const verify = view.verifyExchange === undefined
    ? ''
    : html`<section class="card" aria-labelledby="verify-exchange"><h2 id="verify-exchange">Verify call</h2>
<h3>Request</h3>${jsonBlock(view.verifyExchange.request)}
<h3>Response · HTTP ${view.verifyExchange.status}</h3>${jsonBlock(view.verifyExchange.body)}</section>`
  const body = html`
${verdictBanner(view)}
<div class="actions" style="margin:0 0 1.25rem"><a class="button" href="${view.retryUrl}">Verify again</a>\
<a class="button secondary" href="/demo">New verification</a></div>
<div class="grid">
<section class="card" aria-labelledby="numbers"><h2 id="numbers">Claimed and identified</h2>${numbers}</section>
${raw}
</div>
<section class="card" aria-labelledby="timeline"><h2 id="timeline">Every hop</h2>
<p class="muted">From the emulator's journal: the browser's legs, then the app backend's calls.</p>
${view.timelineUnavailable === undefined
    ? renderTimeline(view.timeline, { caption: 'Requests of this flow, in order' })
    : html`<p class="empty">The hops are not shown: ${view.timelineUnavailable}.</p>`}</section>
<div class="grid">${idToken}${token}</div>
${verify}`
  return renderPage({ title: view.message.title, section: 'demo', body, nonce: view.nonce, dashboard: view.dashboard })
}

function describeClaim (name: string, value: unknown): SafeHtml {
  if ((name === 'iat' || name === 'exp' || name === 'auth_time') && typeof value === 'number') {
    return html` <span class="muted">${new Date(value * 1000).toISOString()}</span>`
  }
  if (name === 'amr' && Array.isArray(value) && value.includes('nba')) {
    return html` <span class="muted">network-based authentication</span>`
  }
  if (name === 'amr' && Array.isArray(value) && value.includes('sc')) {
    return html` <span class="muted">SIM-based authentication (operator token)</span>`
  }
  if (name === 'sub') return html` <span class="muted">pairwise: not the phone number</span>`
  return html``
}

export function renderDemoProblem (options: {
  nonce: string, dashboard: boolean, title: string, text: string, raw: unknown
}): SafeHtml {
  const body = html`
<section class="verdict warn" aria-labelledby="problem-title">\
<h1 id="problem-title"><span aria-hidden="true">!</span> ${options.title}</h1><p>${options.text}</p></section>
<div class="actions" style="margin:0 0 1.25rem"><a class="button" href="/demo">Start a new verification</a></div>
<section class="card" aria-labelledby="raw"><h2 id="raw">What the app received</h2>${jsonBlock(options.raw)}</section>`
  return renderPage({ title: options.title, section: 'demo', body, nonce: options.nonce, dashboard: options.dashboard })
}
