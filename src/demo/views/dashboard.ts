// The dashboard at /_emulator/ui: the emulated world (operators, subscribers, clients), the
// scenario catalogue with switches, the live journal with a drill-down per flow, and each client's
// conformance report with its failures linked to their flows. The page is a shell; each section is
// a server-rendered fragment the script fetches with the admin token.
import type { ClientReport, RuleResult } from '../../core/conformance.js'
import type { Fixtures } from '../../core/fixtures.js'
import type { JournalEntry } from '../../core/journal.js'
import type { Activation, ScenarioListing } from '../../core/scenarios/engine.js'
import { html, type SafeHtml } from '../../views/html.js'
import { renderPage } from '../../views/layout.js'
import { formatMs, legName, renderTimeline, statusBadge } from './timeline.js'

export const JOURNAL_ROWS = 200

export interface WorldView {
  fixtures: Fixtures
  issuer: string
  publicUrl: string
  seed: number
  profile: string
}

function list (values: readonly string[], empty = 'none'): SafeHtml {
  return values.length === 0
    ? html`<span class="muted">${empty}</span>`
    : html`${values.map((v, i) => html`${i > 0 ? ', ' : ''}<code>${v}</code>`)}`
}

function table (caption: string, head: string[], rows: SafeHtml[], empty: string): SafeHtml {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`
  return html`<div class="table-wrap"><table><caption class="sr-only">${caption}</caption>
<thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>${rows}</tbody></table></div>`
}

export function renderWorld (view: WorldView): SafeHtml {
  const { fixtures } = view
  const operatorNames = new Map(fixtures.operators.map((o) => [o.id, o.name]))
  const operators = fixtures.operators.map((o) => html`<tr>
<td><code>${o.id}</code>${fixtures.defaultOperator === o.id ? html` <span class="badge info">default</span>` : ''}</td>
<td>${o.name}</td><td>${list(o.numberPrefixes)}</td><td>${list(o.ipRanges)}</td>
<td>${o.trustsLoginHint ? html`<span class="badge warn">trusts tel: hints</span>` : ''}${
  o.simPicker === true ? html`<span class="badge info">SIM picker</span>` : ''}${
  o.operatorTokens === undefined
    ? ''
    : html`<span class="badge ok">operator tokens (${o.operatorTokens.lifetimeSeconds} s)</span>`}${
  list(o.scenarios ?? [], '')}</td></tr>`)
  const subscribers = fixtures.subscribers.map((s) => {
    const networkReady = s.connection === 'mobile-data' && s.authMethods.includes('network')
    return html`<tr>
<td><code>${s.msisdn}</code>${s.name === undefined ? '' : html`<div class="muted"><small>${s.name}</small></div>`}</td>
<td>${operatorNames.get(s.operator) ?? s.operator}</td>
<td>${list([...s.ipv4, ...s.ipv6])}</td>
<td><span class="badge ${
  networkReady ? 'ok' : s.connection === 'mobile-data' ? 'info' : 'warn'}">${s.connection}</span></td>
<td>${s.authMethods.length === 0
  ? html`<span class="badge bad">none</span>`
  : s.authMethods.map((m) => html`<span class="badge ${m === 'network' ? 'ok' : 'info'}">${m}</span>`)}</td>
<td>${list(s.scenarios ?? [], '')}</td></tr>`
  })
  const clients = fixtures.clients.map((c) => html`<tr>
<td><code>${c.clientId}</code>${
  c.name === undefined ? '' : html`<div class="muted"><small>${c.name}</small></div>`}</td>
<td>${c.tokenEndpointAuthMethods.map((m) => html`<span class="badge">${m}</span>`)}${
  c.requirePkce ? html`<span class="badge info">PKCE required</span>` : ''}${
  (c.backendGrants ?? []).map((g) => html`<span class="badge info">${g}</span>`)}${
  c.telSubjectTrusted === true ? html`<span class="badge warn">trusted tel: subjects</span>` : ''}</td>
<td>${c.redirectUris.map((uri) => html`<div><code>${uri}</code>${
  uri.startsWith('/') ? html` <span class="muted"><small>= ${view.publicUrl}${uri}</small></span>` : ''}</div>`)}</td>
<td>${list(c.scopes)}</td></tr>`)
  return html`<dl class="facts" style="margin-bottom:1rem">
<dt>Issuer</dt><dd><code>${view.issuer}</code></dd>
<dt>Profile</dt><dd>${view.profile}</dd>
<dt>Seed</dt><dd><code>${view.seed}</code></dd>
<dt>Fixture files</dt><dd>${list(fixtures.files)}</dd>
</dl>
<h3 id="operators">Operators</h3>
${table('Operators', ['Id', 'Name', 'Number prefixes', 'IP ranges', 'Behaviour'], operators, 'No operators.')}
<h3 id="subscribers">Subscribers</h3>
${table('Subscribers', ['MSISDN', 'Operator', 'Addresses', 'Connection', 'Auth methods', 'Scenarios'],
  subscribers, 'No subscribers.')}
<h3 id="clients">Clients</h3>
${table('Clients (secrets are not shown)', ['Client', 'Token endpoint auth', 'Redirect URIs', 'Scopes'],
  clients, 'No clients.')}`
}

export function renderScenarios (listings: ScenarioListing[], activations: Activation[]): SafeHtml {
  // Grouped in one pass: copying each group as it grew made 50k activations block for 22 s
  const byName = new Map<string, Activation[]>()
  for (const a of activations) {
    const group = byName.get(a.name)
    if (group === undefined) byName.set(a.name, [a])
    else group.push(a)
  }
  const rows = listings.map((listing, i) => {
    const live = byName.get(listing.name) ?? []
    const applied = live.reduce((sum, a) => sum + a.appliedCount, 0)
    const remaining = live.map((a) => a.remaining).filter((r) => r !== undefined)
    const operations = listing.scenario.match?.operations
    return html`<tr data-scenario-row="${listing.name}">
<td><label class="switch"><input type="checkbox" role="switch" data-scenario="${listing.name}" ${
  listing.active ? 'checked' : ''} aria-labelledby="scenario-${i}" aria-describedby="scenario-${i}-about"></label></td>
<td><strong id="scenario-${i}"><code>${listing.name}</code></strong><div class="muted" id="scenario-${
  i}-about"><small>${listing.description}</small></div></td>
<td>${operations === undefined
  ? html`<span class="muted">every leg</span>`
  : operations.map((op) => html`<span class="badge">${op}</span>`)}</td>
<td>${listing.origin}${
  listing.file === undefined ? '' : html`<div class="muted"><small>${listing.file}</small></div>`}</td>
<td>${live.length === 0
  ? ''
  : html`<span class="badge ok">active</span> <small>applied ${applied}×${
    remaining.length === 0 ? '' : html`, ${remaining.join(' + ')} left`}</small>`}</td>
</tr>`
  })
  return html`<p class="muted">A switch activates the scenario for every matching request from now on \
(<code>POST /_emulator/scenarios/{name}/activate</code>), at once; off deactivates it.</p>
${table('Scenarios', ['On', 'Scenario', 'Legs', 'Origin', 'Live'], rows, 'No scenarios.')}`
}

function clock (iso: string): string {
  return iso.slice(11, 23)
}

export function renderJournalRows (entries: ReadonlyArray<Readonly<JournalEntry>>): SafeHtml {
  // Newest first: the live view adds rows at the top
  return html`${[...entries].reverse().map((e) => html`<tr data-entry="${e.id}">
<td class="num"><time datetime="${e.time}">${clock(e.time)}</time></td>
<td>${legName(e.operation)}</td>
<td class="nowrap"><code>${e.method} ${e.path}</code></td>
<td>${statusBadge(e.status)}</td>
<td class="num">${formatMs(e.durationMs)}</td>
<td class="nowrap">${e.flowId === undefined
  ? ''
  : html`<a href="#flow=${encodeURIComponent(e.flowId)}" data-flow="${e.flowId}"><code>${e.flowId}</code></a>`}${
  e.clientId === undefined
    ? ''
    : html`<div class="muted" data-client="${e.clientId}"><small>${e.clientId}</small></div>`}</td>
<td class="nowrap">${e.msisdn === undefined ? '' : html`<code>${e.msisdn}</code>`}</td>
<td>${e.scenarios.map((s) => html`<span class="badge info">${s}</span>`)}${
  e.reason === undefined ? '' : html`<div class="muted"><small>${e.reason}</small></div>`}</td>
</tr>`)}`
}

export function renderFlow (flowId: string, entries: ReadonlyArray<Readonly<JournalEntry>>): SafeHtml {
  const first = entries[0]
  const facts = (pick: (e: Readonly<JournalEntry>) => string | undefined): string[] =>
    [...new Set(entries.map(pick).filter((v) => v !== undefined))]
  const total = entries.reduce((sum, e) => sum + e.durationMs, 0)
  return html`<h3 id="flow-title" tabindex="-1">Flow <code>${flowId}</code></h3>
${first === undefined
    ? html`<p class="empty">No journal entries for this flow: it is older than the journal keeps, \
or the journal was cleared.</p>`
    : html`<dl class="facts" style="margin-bottom:.75rem">
<dt>Started</dt><dd><time datetime="${first.time}">${first.time}</time></dd>
<dt>Client</dt><dd>${list(facts((e) => e.clientId))}</dd>
<dt>Subscriber</dt><dd>${list(facts((e) => e.msisdn))}</dd>
<dt>Operator</dt><dd>${list(facts((e) => e.operatorId))}</dd>
<dt>Scenarios</dt><dd>${list([...new Set(entries.flatMap((e) => e.scenarios))])}</dd>
<dt>Time in the emulator</dt><dd>${formatMs(total)} over ${entries.length} requests</dd>
</dl>
${renderTimeline(entries, { caption: `Requests of flow ${flowId}` })}`}`
}

/** One client's report, with what the fixtures call it */
export interface ClientConformance {
  name?: string | undefined
  report: ClientReport
}

const VERDICT_TONES: Record<ClientReport['verdict'], string> = { pass: 'ok', fail: 'bad', 'no-requests': 'info' }

function flowLink (flowId: string | undefined): SafeHtml {
  // The same anchor as a journal row's: the script opens the flow view on the hash change
  return flowId === undefined
    ? html`<span class="muted">no flow</span>`
    : html`<a href="#flow=${encodeURIComponent(flowId)}" data-flow="${flowId}">flow <code>${flowId}</code></a>`
}

function renderFailedRule (rule: RuleResult): SafeHtml {
  const unshown = rule.failed - rule.failures.length
  return html`<li data-rule="${rule.id}"><strong><code>${rule.id}</code></strong> ${rule.title}
<div class="muted"><small>${rule.source}</small></div>
<div><span class="badge bad">${rule.failed} of ${rule.passed + rule.failed} requests broke it</span></div>
<ul>${rule.failures.map((f) => html`<li data-failure="${f.entryId}">journal entry <code>${f.entryId}</code>, ${
  legName(f.operation)}: ${f.detail} (${flowLink(f.flowId)})</li>`)}${
  unshown > 0 ? html`<li class="muted">and ${unshown} more</li>` : ''}</ul></li>`
}

function renderClientConformance ({ name, report }: ClientConformance, reportsUrl: string): SafeHtml {
  const count = (status: RuleResult['status']): number => report.rules.filter((rule) => rule.status === status).length
  const failed = report.rules.filter((rule) => rule.status === 'fail')
  const url = `${reportsUrl}/${encodeURIComponent(report.clientId)}/report`
  return html`<article data-client-report="${report.clientId}">
<h3><code>${report.clientId}</code> <span class="badge ${VERDICT_TONES[report.verdict]}" data-verdict="${
  report.verdict}">${report.verdict}</span></h3>
${name === undefined ? '' : html`<p class="muted"><small>${name}</small></p>`}
<p>${report.requests} requests graded: ${failed.length} rules failed, ${count('pass')} passed, ${
  count('not-seen')} not seen.
The report as <a href="${url}">JSON</a> or <a href="${`${url}?format=junit`}">JUnit XML</a>.</p>
${failed.length === 0 ? '' : html`<ul class="failed-rules">${failed.map(renderFailedRule)}</ul>`}
</article>`
}

/** Each client with journal entries, graded: its verdict, and each failed rule with the entries that broke it */
export function renderConformance (clients: readonly ClientConformance[], reportsUrl: string): SafeHtml {
  return html`<p class="muted">What a strict CAMARA operator would say of each client, graded from its journal entries
(so it resets with the journal). The report URLs are the control API's: with <code>--admin-token</code>,
send it as a bearer token.</p>
${clients.length === 0
    ? html`<p class="empty">No client has made a request yet.</p>`
    : clients.map((client) => renderClientConformance(client, reportsUrl))}`
}

export interface DashboardPageView {
  nonce: string
  tokenRequired: boolean
  /** Where the page's script is served (a static file, versioned by its content) */
  scriptUrl: string
  /** Pre-rendered sections (no admin token: the page can carry its data) */
  sections?: { world: SafeHtml, scenarios: SafeHtml, journal: SafeHtml, conformance: SafeHtml, lastId: number }
}

export function renderDashboard (view: DashboardPageView): SafeHtml {
  const waiting = html`<p class="empty">Enter the admin token to load this section.</p>`
  const body = html`<div id="dashboard" data-token-required="${
  view.tokenRequired ? 'true' : 'false'}" data-journal-rows="${JOURNAL_ROWS}">
<h1>Emulator dashboard</h1>
<nav class="sections" aria-label="Dashboard sections"><ul>
<li><a href="#journal">Live journal</a></li><li><a href="#flow">Flow detail</a></li>\
<li><a href="#conformance">Conformance</a></li><li><a href="#scenarios">Scenarios</a></li>\
<li><a href="#world">Operators, subscribers, clients</a></li>
</ul></nav>
<p id="status" class="muted" role="status" aria-live="polite"></p>
<form id="token-form" class="card" ${view.tokenRequired ? '' : 'hidden'}>
<h2>Admin token</h2>
<p>This emulator runs with <code>--admin-token</code>. The dashboard sends it as <code>Authorization: Bearer</code> \
on every control API call and keeps it in this tab's session storage only.</p>
<div class="field"><label for="admin-token">Admin token</label>\
<input type="password" id="admin-token" autocomplete="current-password" required></div>
<p id="token-error" class="errors" role="alert" hidden></p>
<button type="submit">Connect</button>
</form>
<section class="card" aria-labelledby="journal"><h2 id="journal">Live journal</h2>
<div class="toolbar"><span class="muted">Every request to the gateway, the operators and the API, newest first, live \
(the journal stream; polled each second while the stream is not open).</span><span class="spacer"></span>
<button type="button" class="secondary" id="pause" aria-pressed="false">Pause</button>
<button type="button" class="secondary" id="clear-journal">Clear</button></div>
<div class="table-wrap journal"><table class="compact"><caption class="sr-only">Journal entries, newest first</caption>
<thead><tr><th class="num" scope="col">Time</th><th scope="col">Leg</th><th scope="col">Request</th>\
<th scope="col">Status</th><th class="num" scope="col">Duration</th><th scope="col">Flow and client</th>\
<th scope="col">Subscriber</th><th scope="col">Scenarios and notes</th></tr></thead>
<tbody id="journal-rows" data-last-id="${view.sections?.lastId ?? 0}">${
  view.sections?.journal ?? ''}</tbody></table></div>
<p id="journal-empty" class="empty" ${
  view.sections !== undefined && view.sections.lastId > 0 && view.sections.journal.value !== '' ? 'hidden' : ''
}>No requests yet: run a flow (the <a href="/demo">demo app</a> is one).</p>
</section>
<section class="card" aria-labelledby="flow"><h2 id="flow">Flow detail</h2>
<div id="flow-section"><p class="empty">Choose a flow id in the journal to see its hops.</p></div></section>
<section class="card" aria-labelledby="conformance"><h2 id="conformance">Conformance</h2>
<div id="conformance-section">${view.sections?.conformance ?? waiting}</div></section>
<section class="card" aria-labelledby="scenarios"><h2 id="scenarios">Scenarios</h2>
<div class="toolbar"><span class="spacer"></span>\
<button type="button" class="secondary" id="deactivate-all">Turn every scenario off</button></div>
<div id="scenarios-section">${view.sections?.scenarios ?? waiting}</div></section>
<section class="card" aria-labelledby="world"><h2 id="world">Operators, subscribers, clients</h2>
<div id="world-section">${view.sections?.world ?? waiting}</div></section>
</div>`
  return renderPage({ title: 'Dashboard', section: 'dashboard', body, nonce: view.nonce, scriptSrc: view.scriptUrl })
}
