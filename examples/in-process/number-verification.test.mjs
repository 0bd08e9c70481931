// Run with: node --test number-verification.test.mjs   (after: npm install --save-dev camara-nv-emulator)
// Your backend would make these token and verify calls; here fetch stands in for it.
import assert from 'node:assert/strict'
import { after, before, beforeEach, test } from 'node:test'
import { startEmulator } from 'camara-nv-emulator'

const client = { clientId: 'demo-app', clientSecret: 'demo-secret', redirectUri: 'http://localhost:3000/callback' }
let emulator

before(async () => { emulator = await startEmulator() }) // port 0, fixtures/default.json, silent
after(async () => { await emulator.close() })
beforeEach(() => emulator.reset())

/** The browser leg in-process (the device is on telco-es's mobile network), then the code exchange */
async function accessTokenFor (deviceIp) {
  const { code, error } = await emulator.authorizeDevice({
    clientId: client.clientId,
    redirectUri: client.redirectUri,
    scope: 'openid dpv:FraudPreventionAndDetection number-verification:verify',
    deviceIp
  })
  assert.equal(error, undefined)
  const res = await fetch(emulator.urls.token, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: client.redirectUri,
      client_id: client.clientId,
      client_secret: client.clientSecret
    })
  })
  return (await res.json()).access_token
}

async function verify (accessToken, phoneNumber) {
  const res = await fetch(emulator.urls.verify, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ phoneNumber })
  })
  return { status: res.status, body: await res.json() }
}

test('the device verifies its own number, not another one', async () => {
  const accessToken = await accessTokenFor('142.115.147.143')
  assert.equal((await verify(accessToken, '+34666666666')).body.devicePhoneNumberVerified, true)
  assert.equal((await verify(accessToken, '+34666666667')).body.devicePhoneNumberVerified, false)
})

test('a subscriber added for one test (reset() removes it)', async () => {
  emulator.fixtures.upsertSubscriber({
    msisdn: '+34611111111',
    operator: 'telco-es',
    ipv4: ['142.115.1.1'],
    connection: 'mobile-data'
  })
  const accessToken = await accessTokenFor('142.115.1.1')
  assert.equal((await verify(accessToken, '+34611111111')).body.devicePhoneNumberVerified, true)
})

test('the operator is down for the next call only', async () => {
  const accessToken = await accessTokenFor('142.115.147.143')
  emulator.scenarios.activate('operator-unavailable', { remaining: 1 })
  const down = await verify(accessToken, '+34666666666')
  assert.equal(down.status, 503)
  assert.equal(down.body.code, 'UNAVAILABLE')
  assert.equal((await verify(accessToken, '+34666666666')).status, 200)
})

test('a token minted without the browser leg, then the journal of the call', async () => {
  const { access_token: accessToken } = await emulator.mintToken({
    clientId: 'demo-app',
    msisdn: '+34666666666',
    scope: 'openid dpv:FraudPreventionAndDetection number-verification:verify'
  })
  assert.equal((await verify(accessToken, '+34666666666')).status, 200)
  const [call] = emulator.journal.list({ operation: 'verify' })
  assert.equal(call.status, 200)
  assert.equal(call.msisdn, '+34666666666')
})
