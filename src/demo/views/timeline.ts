// A flow's hops as read from the journal: which leg, the request, its status and how long it
// took, drawn against the flow's start. Shared by the demo result and the dashboard drill-down.
import type { JournalEntry } from '../../core/journal.js'
import { html, type SafeHtml } from '../../views/html.js'

const LEGS: Record<string, string> = {
  authorize: 'Gateway authorize',
  operator: 'Operator',
  token: 'Token endpoint',
  verify: 'Verify',
  share: 'Device phone number',
  discovery: 'Discovery',
  jwks: 'JWKS',
  'operator-token': 'Entitlement server (operator token)',
  'bc-authorize': 'CIBA bc-authorize',
  other: 'Other'
}

export function legName (operation: string): string {
  return LEGS[operation] ?? operation
}

/** ok: 2xx and 3xx; warn: 4xx; bad: 5xx and broken connections (status 0) */
export function statusBadge (status: number): SafeHtml {
  const tone = status === 0 || status >= 500 ? 'bad' : status >= 400 ? 'warn' : 'ok'
  const text = status === 0 ? 'no response' : String(status)
  return html`<span class="badge ${tone}">${text}</span>`
}

export function formatMs (ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`
}

export function renderTimeline (
  entries: ReadonlyArray<Readonly<JournalEntry>>,
  options: { caption?: string } = {}
): SafeHtml {
  if (entries.length === 0) return html`<p class="empty">No journal entries for this flow.</p>`
  const start = Math.min(...entries.map((e) => Date.parse(e.time)))
  const end = Math.max(...entries.map((e) => Date.parse(e.time) + e.durationMs))
  const span = Math.max(end - start, 1)
  const rows = entries.map((entry, i) => {
    const offset = Date.parse(entry.time) - start
    const left = (offset / span) * 100
    const width = Math.max((entry.durationMs / span) * 100, 0.5)
    const tone = entry.status === 0 || entry.status >= 500 ? 'status-err' : ''
    return html`<tr class="${tone}">
<td class="num">${i + 1}</td>
<td>${legName(entry.operation)}</td>
<td class="nowrap"><code>${entry.method} ${entry.path}</code></td>
<td>${statusBadge(entry.status)}</td>
<td class="num">${formatMs(entry.durationMs)}</td>
<td class="num">+${formatMs(offset)}</td>
<td style="min-width:8rem"><div class="bar-track" role="presentation">\
<div class="bar-fill" style="margin-left:${left.toFixed(2)}%;width:${width.toFixed(2)}%"></div></div></td>
<td>${entry.scenarios.length === 0
? ''
: entry.scenarios.map((s) => html`<span class="badge info">${s}</span>\
`)}${entry.reason === undefined ? '' : html`<div class="muted"><small>${entry.reason}</small></div>`}</td>
</tr>`
  })
  return html`<div class="table-wrap"><table class="timeline">
${options.caption === undefined ? '' : html`<caption class="sr-only">${options.caption}</caption>`}
<thead><tr><th class="num" scope="col">#</th><th scope="col">Leg</th><th scope="col">Request</th><th scope="col">\
Status</th><th class="num" scope="col">Duration</th><th class="num" scope="col">Started</th><th scope="col">\
<span class="sr-only">Time line</span></th><th scope="col">Scenarios and notes</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`
}
