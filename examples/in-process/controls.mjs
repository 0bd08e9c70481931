import { startEmulator } from 'camara-nv-emulator'

const emulator = await startEmulator({ seed: 42 })
const scope = 'openid dpv:FraudPreventionAndDetection number-verification:verify'

// Fixtures: the emulated world as it is now; subscribers added or replaced by the fixture rules
emulator.fixtures.get() // { files, defaultOperator, operators, clients, subscribers }
emulator.fixtures.upsertSubscriber({
  msisdn: '+34611111111',
  operator: 'telco-es',
  ipv4: ['142.115.1.1'],
  connection: 'mobile-data'
}) // { created: true }
emulator.fixtures.removeSubscriber('+34611111111') // true

// Scenarios: the catalogue, fixture and runtime ones; activate for every request, the next N, or a while
emulator.scenarios.list() // [{ name, description, origin, active, scenario }, ...]
emulator.scenarios.define({
  name: 'slow-verify',
  description: 'verify takes 2 s',
  match: { operations: ['verify'] },
  effects: { latency: { fixedMs: 2000 } }
})
const id = emulator.scenarios.activate('rate-limited', { remaining: 2, expiresInSeconds: 60 }) // 'activation-1'
emulator.scenarios.deactivate(id) // 1 (a scenario name ends all its activations)

// Tokens without the browser leg, as if the whole flow had run for this subscriber
const { access_token: accessToken } = await emulator.mintToken({ clientId: 'demo-app', msisdn: '+34666666666', scope })
await fetch(emulator.urls.verify, {
  method: 'POST',
  headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
  body: JSON.stringify({ phoneNumber: '+34666666666' })
})

// Journal: what happened to each request, linked by flow id
emulator.journal.list({ operation: 'verify' }) // [{ id, time, operation: 'verify', status: 200, msisdn, flowId, ... }]
emulator.journal.clear()

emulator.reset() // codes, tokens, runtime scenarios, activations, journal, runtime subscribers; seed restarted

// a namespace: an isolated world under /ns/<name>, with the same controls and URLs
const ns = await emulator.namespace('worker-1', undefined, { seed: 7 }) // or namespace(name, fixtureDocument)
await fetch(`${ns.urls.issuer}/.well-known/openid-configuration`) // issuer http://127.0.0.1:<port>/ns/worker-1/camara/api/auth/v1
ns.scenarios.activate('rate-limited') // applies in worker-1 only
await ns.delete()
await emulator.close()
