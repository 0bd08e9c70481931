// Signed CIBA authentication requests (CIBA Core section 7.1.1; ICM r4.2 "Authentication Request":
// the server MUST support them): the parameters in a JWT signed by a key of the client's JWKS.
import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { SignJWT, type JWTPayload } from 'jose'
import type { ManualClock } from '../../../src/core/clock.js'
import { buildTestApp, ISSUER } from '../../helpers/app.js'
import { TOKEN_PATH } from './flow.js'
import {
  BC_AUTHORIZE_PATH,
  CIBA_GRANT,
  clientAssertion,
  demoAppKey,
  operatorToken,
  postForm,
  verifyV2,
  WIFI_MSISDN
} from './sim-based.js'

const CLIENT = 'demo-app-jwt'
const BC_ENDPOINT = `${ISSUER}/bc-authorize`
const SCOPE = 'openid dpv:FraudPreventionAndDetection number-verification:verify'
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** A signed authentication request of demo-app-jwt; null drops a claim */
async function signedRequest (
  clock: ManualClock,
  loginHint: string,
  overrides: Record<string, unknown> = {}
): Promise<string> {
  const now = Math.floor(clock.now() / 1000)
  const claims: Record<string, unknown> = {
    iss: CLIENT,
    aud: BC_ENDPOINT,
    iat: now,
    nbf: now,
    exp: now + 60,
    jti: randomUUID(),
    scope: SCOPE,
    login_hint: loginHint,
    ...overrides
  }
  const payload = Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== null)) as JWTPayload
  return await new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', kid: 'demo-app-jwt-es256' })
    .sign(await demoAppKey())
}

async function bcAuthorize (
  app: FastifyInstance,
  clock: ManualClock,
  request: string,
  extra: Record<string, string> = {}
): Promise<LightMyRequestResponse> {
  return await postForm(app, BC_AUTHORIZE_PATH, {
    client_id: CLIENT,
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: await clientAssertion(clock, ISSUER),
    request,
    ...extra
  })
}

function assertInvalid (t: Test, res: LightMyRequestResponse, description: string): void {
  t.equal(res.statusCode, 400)
  t.strictSame(res.json(), { error: 'invalid_request', error_description: description })
}

t.test('a signed request runs the flow: auth_req_id, tokens, the device verified', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const hint = `operatortoken:${await operatorToken(app, WIFI_MSISDN, CLIENT)}`
  const accepted = await bcAuthorize(app, clock, await signedRequest(clock, hint))
  t.equal(accepted.statusCode, 200, accepted.body)
  const { auth_req_id: id } = accepted.json<{ auth_req_id: string }>()
  const issued = await postForm(app, TOKEN_PATH, {
    grant_type: CIBA_GRANT,
    auth_req_id: id,
    client_id: CLIENT,
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: await clientAssertion(clock)
  })
  t.equal(issued.statusCode, 200, issued.body)
  t.strictSame((await verifyV2(app, issued.json<{ access_token: string }>().access_token, WIFI_MSISDN)).json(), {
    devicePhoneNumberVerified: true
  })
  const issuerAud = await bcAuthorize(
    app,
    clock,
    await signedRequest(clock, `operatortoken:${await operatorToken(app, WIFI_MSISDN, CLIENT)}`, { aud: ISSUER })
  )
  t.equal(issuerAud.statusCode, 200, 'the issuer is accepted as aud too')
})

t.test('refusals are invalid_request naming what is wrong', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const hint = `operatortoken:${await operatorToken(app, WIFI_MSISDN, CLIENT)}`
  assertInvalid(
    t,
    await bcAuthorize(app, clock, await signedRequest(clock, hint), { scope: SCOPE }),
    'a signed authentication request carries every parameter: send scope inside the request object only (CIBA Core ' +
      'section 7.1.1)'
  )
  assertInvalid(
    t,
    await bcAuthorize(app, clock, await signedRequest(clock, hint, { nbf: null })),
    'request object rejected: claim "nbf" is missing'
  )
  assertInvalid(t, await bcAuthorize(app, clock, await signedRequest(clock, hint, { aud: `${ISSUER}/token` })),
    'request object rejected: claim "aud" is invalid (unexpected "aud" claim value)')
  assertInvalid(
    t,
    await bcAuthorize(app, clock, await signedRequest(clock, hint, { exp: Math.floor(clock.now() / 1000) + 301 })),
    'request object lifetime (exp - iat) is 301 s; at most 300 s is accepted'
  )
  assertInvalid(t, await bcAuthorize(app, clock, 'not-a-jwt'), 'request is not a signed JWT (compact JWS)')
  // None of those spent the operator token or a jti: the same hint still works
  const jti = randomUUID()
  t.equal((await bcAuthorize(app, clock, await signedRequest(clock, hint, { jti }))).statusCode, 200)
  assertInvalid(
    t,
    await bcAuthorize(
      app,
      clock,
      await signedRequest(clock, `operatortoken:${await operatorToken(app, WIFI_MSISDN, CLIENT)}`, { jti })
    ),
    'request object jti was already used: sign a fresh request object for every request'
  )
})

t.test('of 10 parallel requests with one signed request, one is accepted', async (t) => {
  const { app, clock } = await buildTestApp(t)
  const request = await signedRequest(clock, `operatortoken:${await operatorToken(app, WIFI_MSISDN, CLIENT)}`)
  const answers = await Promise.all(
    Array.from({ length: 10 }, async () => (await bcAuthorize(app, clock, request)).statusCode)
  )
  t.strictSame(answers.sort(), [200, ...Array<number>(9).fill(400)])
})
