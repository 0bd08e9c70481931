import t from 'tap'
import { buildTestApp } from '../../helpers/app.js'
import { obtainTokens } from '../../helpers/flow.js'

t.test('a network-identified token verifies its own number and not another', async (t) => {
  const { app } = await buildTestApp(t)
  const tokens = await obtainTokens(app, { konera: 'ipv4:142.115.147.143' })
  const ask = async (phoneNumber: string) => await app.inject({
    method: 'POST',
    url: '/number-verification/v1/verify',
    headers: { authorization: `Bearer ${tokens.access_token}`, 'x-correlator': 'smoke-1' },
    payload: { phoneNumber }
  })
  const yes = await ask('+34666666666')
  t.equal(yes.statusCode, 200)
  t.strictSame(yes.json(), { devicePhoneNumberVerified: true })
  t.equal(yes.headers['x-correlator'], 'smoke-1')
  const no = await ask('+34666666667')
  t.strictSame(no.json(), { devicePhoneNumberVerified: false })
})
