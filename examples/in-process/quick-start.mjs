import { startEmulator } from 'camara-nv-emulator'

const emulator = await startEmulator() // port 0, fixtures/default.json, silent log
try {
  // The browser leg, in-process: the device is on telco-es's mobile network
  const { code } = await emulator.authorizeDevice({
    clientId: 'demo-app',
    redirectUri: 'http://localhost:3000/callback',
    scope: 'openid dpv:FraudPreventionAndDetection number-verification:verify',
    deviceIp: '142.115.147.143'
  })
  // What your backend does: exchange the code, then verify the number
  const token = await fetch(emulator.urls.token, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://localhost:3000/callback',
      client_id: 'demo-app',
      client_secret: 'demo-secret'
    })
  })
  const { access_token: accessToken } = await token.json()
  const verify = await fetch(emulator.urls.verify, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ phoneNumber: '+34666666666' })
  })
  console.log(await verify.json()) // { devicePhoneNumberVerified: true, assessedAt: '...' }
} finally {
  await emulator.close()
}
