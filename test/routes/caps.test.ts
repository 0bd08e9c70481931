// What a caller gets over HTTP when a cap on what unauthenticated traffic can make the emulator
// hold is reached: the OAuth answer of the surface (a redirect at authorize, JSON at the token
// endpoint), never a crash and never an error page for a client the emulator knows.
import t from 'tap'
import { buildTestApp, ISSUER } from '../helpers/app.js'
import {
  authorizationCode,
  FORM,
  gatewayLeg,
  operatorLeg,
  redirectOf,
  SEED_KONERA,
  TOKEN_PATH
} from '../helpers/flow.js'

const REDIRECT_URI = 'http://localhost:3000/callback'

function errorOf (location: URL): Record<string, string> {
  t.equal(`${location.origin}${location.pathname}`, REDIRECT_URI, 'back to the client')
  return Object.fromEntries(location.searchParams)
}

t.test('a parameter over its length limit is refused by redirect, its own value not echoed', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await gatewayLeg(app, { extraQuery: { nonce: 'n'.repeat(513) } })
  t.strictSame(errorOf(redirectOf(res, 'authorize')), {
    error: 'invalid_request',
    error_description: 'nonce must be at most 512 characters',
    state: 'state-1',
    iss: ISSUER
  })
  const state = await gatewayLeg(app, { extraQuery: { state: 's'.repeat(6 * 1024) } })
  t.strictSame(errorOf(redirectOf(state, 'authorize')),
    { error: 'invalid_request', error_description: 'state must be at most 2048 characters', iss: ISSUER })
})

t.test('--max-pending: the gateway redirects with temporarily_unavailable at the cap', async (t) => {
  const { app } = await buildTestApp(t, { maxPending: 1 })
  const first = await gatewayLeg(app)
  t.equal(first.statusCode, 302)
  t.match(errorOf(redirectOf(await gatewayLeg(app), 'authorize')), {
    error: 'temporarily_unavailable',
    error_description:
      'this emulator keeps at most 1 authorization requests in progress (--max-pending); try again once some have ' +
        'completed or expired'
  })
  const operator = await operatorLeg(app, first)
  t.equal(operator.statusCode, 302, 'the request in progress completes')
  t.match(
    redirectOf(await gatewayLeg(app), 'authorize').searchParams.get('request_id'),
    /\S/,
    'then room again: on to the operator'
  )
})

t.test('--max-grants: the operator redirects, the token endpoint answers 503 JSON', async (t) => {
  const { app } = await buildTestApp(t, { maxGrants: 1 })
  await authorizationCode(app, { konera: SEED_KONERA })
  const refused = await operatorLeg(app, await gatewayLeg(app, { konera: SEED_KONERA }))
  t.match(errorOf(redirectOf(refused, 'operator')), {
    error: 'temporarily_unavailable',
    error_description:
      'this emulator keeps at most 1 live grants (--max-grants); try again once some have completed or expired',
    iss: ISSUER
  })
  const token = await app.inject({
    method: 'POST',
    url: TOKEN_PATH,
    headers: { 'content-type': FORM },
    payload: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: 'dpv:FraudPreventionAndDetection number-verification:verify',
      client_id: 'demo-app',
      client_secret: 'demo-secret'
    }).toString()
  })
  t.equal(token.statusCode, 503)
  t.equal(token.headers['cache-control'], 'no-store')
  t.strictSame(token.json(), {
    error: 'temporarily_unavailable',
    error_description: 'this emulator keeps at most 1 live grants (--max-grants); try again once some have expired'
  })
})
