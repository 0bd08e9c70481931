// The whole flow on every path family, as a client does it: authorize at the gateway, the operator
// identifies the device by its network address, the code is exchanged, then verify (plain and
// hashed, matching and not) and share. Subscribers of both default operators.
import t from 'tap'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { ManualClock } from '../../src/core/clock.js'
import type { PathFamily } from '../../src/routes/number-verification/family.js'
import { buildTestApp, REDIRECT_URI, SCOPE } from '../helpers/app.js'
import { authorizeDevice, NV_SCOPES, obtainTokens } from '../helpers/flow.js'
import {
  getShare, INDIA_KONERA, INDIA_MSISDN, JSON_UTF8, OTHER_MSISDN, postVerify, SEED_KONERA, SEED_MSISDN, sha256Hex
} from '../routes/number-verification/support.js'
import { REUSABLE_TOKEN_FAMILIES } from '../routes/number-verification/support.js'

interface Subscriber {
  name: string
  msisdn: string
  konera: string
  operator: string
  /** A number of someone else, for the false answers */
  other: string
}

const SUBSCRIBERS: Subscriber[] = [
  {
    name: 'the seed subscriber on telco-es',
    msisdn: SEED_MSISDN,
    konera: SEED_KONERA,
    operator: 'telco-es',
    other: OTHER_MSISDN
  },
  {
    name: 'the second operator subscriber on telco-in',
    msisdn: INDIA_MSISDN,
    konera: INDIA_KONERA,
    operator: 'telco-in',
    other: SEED_MSISDN
  }
]

async function runFlow (
  t: Test,
  app: FastifyInstance,
  clock: ManualClock,
  family: PathFamily,
  subscriber: Subscriber
): Promise<void> {
  // The device goes through its own operator: the gateway's telco finder routes by address
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: 'demo-app',
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    state: 's',
    konera_context: subscriber.konera
  })
  const gateway = await app.inject({ method: 'GET', url: `/camara/api/auth/v1/authorize?${query.toString()}` })
  t.equal(gateway.statusCode, 302)
  t.match(
    String(gateway.headers.location),
    new RegExp(`/operators/${subscriber.operator}/authorize\\?`),
    'routed to the subscriber operator'
  )

  const tokens = await obtainTokens(app, { konera: subscriber.konera })
  t.equal(tokens.token_type, 'Bearer')
  t.equal(tokens.scope, NV_SCOPES)
  const token = tokens.access_token
  const assessedAt = new Date(clock.now()).toISOString()
  const answer = (verified: boolean): Record<string, unknown> =>
    family.flavor === 'aggregator'
      ? { devicePhoneNumberVerified: verified, assessedAt }
      : { devicePhoneNumberVerified: verified }

  const cases: Array<[string, Record<string, string>, boolean]> = [
    ['its own number', { phoneNumber: subscriber.msisdn }, true],
    ['another number', { phoneNumber: subscriber.other }, false],
    ['the hash of its own number', { hashedPhoneNumber: sha256Hex(subscriber.msisdn) }, true],
    [
      'the hash of its own number in upper case',
      { hashedPhoneNumber: sha256Hex(subscriber.msisdn).toUpperCase() },
      true
    ],
    ['the hash of another number', { hashedPhoneNumber: sha256Hex(subscriber.other) }, false],
    ['the hash of its own number without the +', { hashedPhoneNumber: sha256Hex(subscriber.msisdn.slice(1)) }, false],
    [
      'its own number with one digit changed',
      { phoneNumber: subscriber.msisdn.slice(0, -1) + String((Number(subscriber.msisdn.at(-1)) + 1) % 10) },
      false
    ]
  ]
  for (const [name, payload, verified] of cases) {
    const res = await postVerify(app, family, { token, payload, headers: { 'x-correlator': 'flow-1' } })
    t.equal(res.statusCode, 200, name)
    t.strictSame(res.json(), answer(verified), name)
    t.equal(res.headers['content-type'], JSON_UTF8, name)
    t.equal(res.headers['x-correlator'], 'flow-1', name)
  }

  // The default flow asks for both NV scopes: the same token shares
  const shared = await getShare(app, family, { token, headers: { 'x-correlator': 'flow-3' } })
  t.equal(shared.statusCode, 200)
  t.strictSame(shared.json(), { devicePhoneNumber: subscriber.msisdn })
  t.equal(shared.headers['content-type'], JSON_UTF8)
  t.equal(shared.headers['x-correlator'], 'flow-3')
}

for (const family of REUSABLE_TOKEN_FAMILIES) {
  t.test(`${family.prefix} (${family.label})`, async (t) => {
    for (const subscriber of SUBSCRIBERS) {
      t.test(`${subscriber.name}: verify true, false, hashed true, hashed false, share`, async (t) => {
        const { app, clock } = await buildTestApp(t)
        await runFlow(t, app, clock, family, subscriber)
      })
    }

    t.test('two devices hold tokens at once and each verifies only its own number', async (t) => {
      const { app } = await buildTestApp(t)
      const first = await obtainTokens(app, { konera: SEED_KONERA })
      const second = await obtainTokens(app, { konera: 'ipv4:142.115.147.144' })
      for (const [token, own, other] of [
        [first.access_token, SEED_MSISDN, OTHER_MSISDN],
        [second.access_token, OTHER_MSISDN, SEED_MSISDN]
      ] as const) {
        const yes = await postVerify(app, family, { token, payload: { phoneNumber: own } })
        const no = await postVerify(app, family, { token, payload: { phoneNumber: other } })
        t.equal((yes.json() as { devicePhoneNumberVerified: boolean }).devicePhoneNumberVerified, true, own)
        t.equal((no.json() as { devicePhoneNumberVerified: boolean }).devicePhoneNumberVerified, false, own)
        const share = await getShare(app, family, { token })
        t.strictSame(share.json(), { devicePhoneNumber: own })
      }
    })

    t.test('the device identified by its IPv6 address (konera_context ipv6) is bound the same way', async (t) => {
      const { app } = await buildTestApp(t)
      const tokens = await obtainTokens(app, { konera: 'ipv6:2001:4860:7:f04::fe' })
      const res = await postVerify(app, family, { token: tokens.access_token, payload: { phoneNumber: SEED_MSISDN } })
      t.equal(res.statusCode, 200)
      t.equal((res.json() as { devicePhoneNumberVerified: boolean }).devicePhoneNumberVerified, true)
      const callback = await authorizeDevice(app, { konera: 'ipv4:81.40.12.34' })
      t.equal(callback.searchParams.get('code'), null, 'a device on WiFi gets no code, so no token to verify with')
    })

    if (family.flavor === 'aggregator') {
      t.test('assessedAt is the time of the verify call on the injected clock', async (t) => {
        const { app, clock } = await buildTestApp(t)
        const { access_token: token } = await obtainTokens(app, { konera: SEED_KONERA })
        clock.advance(90_500)
        const res = await postVerify(app, family, { token, payload: { phoneNumber: SEED_MSISDN } })
        t.strictSame(res.json(), { devicePhoneNumberVerified: true, assessedAt: '2026-11-25T12:01:30.500Z' })
      })
    }
  })
}
