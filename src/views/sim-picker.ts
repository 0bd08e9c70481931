// The simulated operator network's page: the operator could not place the device on its network,
// so it asks the presenter which of its SIMs this browser is on.
import type { SubscriberFixture } from '../core/fixture-schema.js'
import { html, type SafeHtml } from './html.js'
import { renderPage } from './layout.js'

export interface SimPickerView {
  nonce: string
  operatorId: string
  operatorName: string
  clientName: string
  requestId: string
  sims: SubscriberFixture[]
  /** The addresses the operator saw, for the explanation */
  seen: string
}

function describeSim (sim: SubscriberFixture): string {
  const connection =
    sim.connection === 'mobile-data' ? 'mobile data' : sim.connection === 'wifi' ? 'Wi-Fi' : sim.connection
  const methods =
    sim.authMethods.length === 0
      ? 'no authentication method'
      : sim.authMethods.map((m) => (m === 'network' ? 'network' : m === 'sim' ? 'SIM-based' : 'SMS OTP')).join(' + ')
  return `${connection} · ${methods}`
}

export function renderSimPicker (view: SimPickerView): SafeHtml {
  const body = html`
<h1>Which SIM is this browser on?</h1>
<p class="lead"><strong>${view.clientName}</strong> asked <strong>\
${view.operatorName}</strong> to confirm this device's phone number.
The operator could not find ${view.seen} on its mobile network, so this simulated network lets you choose the SIM the \
browser is using.
A SIM on mobile data with network authentication is confirmed by the network; the others behave as their fixtures \
say.</p>
<form class="card" method="post" action="/operators/${encodeURIComponent(view.operatorId)}/sim-picker">
<input type="hidden" name="request_id" value="${view.requestId}">
<h2 id="sims-title">${view.operatorName} SIMs</h2>
<ul class="sims" aria-labelledby="sims-title">
${view.sims.map((sim) => html`<li><button type="submit" name="msisdn" value="${sim.msisdn}"><span>\
<span class="msisdn">${sim.msisdn}</span>${sim.name === undefined
? ''
: html`<br><span class="about">\
${sim.name}</span>`}</span>\
<span class="badge ${sim.connection === 'mobile-data' && sim.authMethods.includes('network') ? 'ok' : 'warn'}">\
${describeSim(sim)}</span></button></li>`)}
</ul>
<div class="actions"><button type="submit" name="msisdn" value="" class="secondary">\
None of these: this browser is not on ${view.operatorName}</button></div>
</form>
<p class="muted"><small>Shown because the operator's fixture sets <code>\
"simPicker": true</code> and the request allows interaction (no <code>prompt=none</code>\
). Real operators identify the device from its address on their network, with no page at all.</small></p>`
  return renderPage({
    title: `${view.operatorName}: choose a SIM`,
    section: 'operator',
    brand: view.operatorName,
    body,
    nonce: view.nonce
  })
}
