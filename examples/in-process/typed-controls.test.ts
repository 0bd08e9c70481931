// The same in TypeScript, with the package's own types. Run with: node --import tsx --test typed-controls.test.ts
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import {
  startEmulator,
  type JournalEntry,
  type RunningEmulator,
  type Scenario,
  type TokenResponse
} from 'camara-nv-emulator'

let emulator: RunningEmulator

before(async () => { emulator = await startEmulator({ seed: 42 }) })
after(async () => { await emulator.close() })

const slowVerify: Scenario = {
  name: 'slow-verify',
  description: 'verify takes 50 ms longer',
  match: { operations: ['verify'] },
  effects: { latency: { fixedMs: 50 } }
}

test('typed controls: a scenario of our own, a minted token, the journal', async () => {
  emulator.scenarios.define(slowVerify)
  const activationId: string = emulator.scenarios.activate('slow-verify', { remaining: 1 })
  assert.match(activationId, /^activation-/)

  const tokens: TokenResponse = await emulator.mintToken({
    clientId: 'demo-app',
    msisdn: '+919036499174',
    scope: 'openid dpv:FraudPreventionAndDetection number-verification:verify'
  })
  const res = await fetch(emulator.urls.verify, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ phoneNumber: '+919036499174' })
  })
  assert.equal(res.status, 200)

  const [call]: ReadonlyArray<Readonly<JournalEntry>> = emulator.journal.list({ operation: 'verify' })
  assert.deepEqual(call?.scenarios, ['slow-verify'])
  assert.equal(call?.operatorId, 'telco-in')
})
