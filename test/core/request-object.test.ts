// Signed authorization requests (RFC 9101) at the gateway leg: the request object's signature and
// claims, its parameters replacing the query's, the ones the query must repeat, its single use, and
// where each refusal goes (the query's state until the object is trusted, the object's after).
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWTPayload } from 'jose'
import type { Query } from '../../src/core/authorization.js'
import { AuthorizeError } from '../../src/core/errors.js'
import { InjectedError, newLeg } from '../../src/core/legs.js'
import { parseScope } from '../../src/core/scopes.js'
import {
  buildEmulator, demoJwtKey, interleavingSleep, recordingSleep, ISSUER, PKCE_CHALLENGE, REDIRECT_URI, rejected, SCOPE,
  SEED_IPV4, START_S
} from './support.js'

const CLIENT = 'demo-app-jwt'
const QUERY_STATE = 'query-state'
const OBJECT_STATE = 'object-state'

interface Outcome {
  error: string
  description: string
  location: string | undefined
}

function outcome (error: unknown): Outcome {
  if (!(error instanceof AuthorizeError)) throw error
  return { error: error.error, description: error.description, location: error.redirectLocation(ISSUER) }
}

/** The redirect outcome, with the state given (null: none) */
function redirect (error: string, description: string, state: string | null): Outcome {
  const url = new URL(REDIRECT_URI)
  url.searchParams.append('error', error)
  url.searchParams.append('error_description', description)
  if (state !== null) url.searchParams.append('state', state)
  url.searchParams.append('iss', ISSUER)
  return { error, description, location: url.toString() }
}

/** demo-app-jwt's authorization parameters, as the object carries them */
function objectParameters (): JWTPayload {
  return {
    response_type: 'code',
    client_id: CLIENT,
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    state: OBJECT_STATE,
    nonce: 'object-nonce',
    code_challenge: PKCE_CHALLENGE,
    code_challenge_method: 'S256'
  }
}

/** A request object for demo-app-jwt valid at START; `claims` replace or (undefined) drop claims */
async function requestObject (
  claims: JWTPayload = {}, options: { key?: CryptoKey, kid?: string, alg?: string, typ?: unknown } = {}
): Promise<string> {
  const payload: JWTPayload = {
    iss: CLIENT,
    aud: ISSUER,
    iat: START_S,
    exp: START_S + 60,
    jti: randomUUID(),
    ...objectParameters(),
    ...claims
  }
  for (const [name, value] of Object.entries(payload)) {
    if (value === undefined) delete payload[name]
  }
  return await new SignJWT(payload)
    .setProtectedHeader({
      alg: options.alg ?? 'ES256',
      kid: options.kid ?? 'demo-app-jwt-es256',
      ...(options.typ === undefined ? {} : { typ: options.typ as string })
    })
    .sign(options.key ?? await demoJwtKey())
}

/** The plain query sent with the object: the parameters it must repeat, and a state of its own */
function queryWith (request: string | undefined, overrides: Query = {}): Query {
  return {
    response_type: 'code',
    client_id: CLIENT,
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    state: QUERY_STATE,
    ...(request === undefined ? {} : { request }),
    ...overrides
  }
}

t.test('a signed request object starts the flow with its own parameters', async (t) => {
  const { emulator, clock } = await buildEmulator()
  const jti = randomUUID()
  const query = queryWith(await requestObject({ jti, login_hint: `ipport:${SEED_IPV4}` }), {
    nonce: 'query-nonce',
    prompt: 'login',
    login_hint: 'ipport:49.36.10.20'
  })
  const { pending, location } = await emulator.authorization.start(query, undefined)
  t.match(location, /^http:\/\/emulator\.test\/operators\/telco-es\/authorize\?request_id=/, 'routed by the object\'s login_hint')
  t.strictSame({
    clientId: pending.clientId,
    redirectUri: pending.redirectUri,
    state: pending.state,
    nonce: pending.nonce,
    scope: pending.scope,
    prompt: pending.prompt,
    codeChallenge: pending.codeChallenge
  }, {
    clientId: CLIENT,
    redirectUri: REDIRECT_URI,
    state: OBJECT_STATE,
    nonce: 'object-nonce',
    scope: parseScope(SCOPE),
    prompt: [],
    codeChallenge: PKCE_CHALLENGE
  }, 'the object\'s values win, and a query value the object lacks (prompt) is not used (RFC 9101 section 6.3)')
  t.equal(pending.loginHint?.kind, 'ipport')

  t.equal(await emulator.ctx.store.get('requestObjectIds', `${CLIENT}\n${jti}`), true, 'the jti is spent')
  clock.advance(64_000)
  t.equal(await emulator.ctx.store.get('requestObjectIds', `${CLIENT}\n${jti}`), true, 'until exp + 5 s')
  clock.advance(2_000)
  t.equal(await emulator.ctx.store.get('requestObjectIds', `${CLIENT}\n${jti}`), undefined, 'then forgotten')
})

t.test('max_age and claims may keep their JSON types; ' +
  'the query\'s emulator_scenario is used when the object has none', async (t) => {
  const { emulator } = await buildEmulator({ sleep: recordingSleep().sleep })
  const object = await requestObject({ max_age: 300, claims: { id_token: { auth_time: { essential: true } } } })
  const { pending } = await emulator.authorization.start(queryWith(object, { emulator_scenario: 'slow-network' }),
    SEED_IPV4)
  t.strictSame(pending.flowScenarios, ['slow-network'])
  const chosen = await requestObject({ emulator_scenario: 'slow-operator' })
  const second = await emulator.authorization.start(queryWith(chosen, { emulator_scenario: 'slow-network' }), SEED_IPV4)
  t.strictSame(second.pending.flowScenarios, ['slow-operator'], 'the object\'s wins')
})

t.test('an empty request parameter counts as absent', async (t) => {
  const { emulator } = await buildEmulator()
  const { pending } = await emulator.authorization.start(queryWith('', {
    code_challenge: PKCE_CHALLENGE, code_challenge_method: 'S256'
  }), SEED_IPV4)
  t.equal(pending.state, QUERY_STATE, 'the query is the request')
})

t.test('refusals before the object is trusted redirect with the query\'s state', async (t) => {
  const { emulator } = await buildEmulator()
  const refusal = async (query: Query): Promise<Outcome> =>
    outcome(await rejected(emulator.authorization.start(query, SEED_IPV4)))
  const invalid = (description: string): Outcome => redirect('invalid_request_object', description, QUERY_STATE)
  const [header, payload] = (await requestObject()).split('.')
  const other = (await generateKeyPair('ES256')).privateKey
  const iat = START_S

  const cases: Array<{ name: string, query: () => Promise<Query>, expected: Outcome }> = [
    {
      name: 'a client without a JWKS',
      query: async () => queryWith(await requestObject({ client_id: 'demo-app', iss: 'demo-app' }),
        { client_id: 'demo-app' }),
      expected: invalid('client "demo-app" has no registered JWKS to verify a request object with; ' +
        'register jwks, or send the parameters in the query')
    },
    {
      name: 'not a JWT',
      query: async () => queryWith('not-a-jwt'),
      expected: invalid('request is not a signed JWT (compact JWS)')
    },
    {
      name: 'a JWS without its signature part',
      query: async () => queryWith(`${header ?? ''}.${payload ?? ''}`),
      expected: invalid('request is not a signed JWT (compact JWS)')
    },
    {
      name: 'an encrypted (5-part) object',
      query: async () => queryWith(`${header ?? ''}.${payload ?? ''}.iv.ciphertext.tag`),
      expected: invalid('request is not a signed JWT (compact JWS): encrypted request objects are not supported')
    },
    {
      name: 'a bad signature',
      query: async () => queryWith(await requestObject({}, { key: other })),
      expected: invalid('request object rejected: signature verification failed')
    },
    {
      name: 'an unknown kid',
      query: async () => queryWith(await requestObject({}, { kid: 'rotated-away' })),
      expected: invalid('request object rejected: no key of client "demo-app-jwt"\'s JWKS matches its kid ' +
        '"rotated-away" and alg ES256')
    },
    {
      name: 'alg none',
      query: async () => queryWith(
        new UnsecuredJWT({
          iss: CLIENT,
          aud: ISSUER,
          iat,
          exp: iat + 60,
          jti: 'none',
          ...objectParameters()
        }).encode()),
      expected: invalid('request object rejected: its alg is not allowed (allowed: RS256, PS256, ES256, EdDSA)')
    },
    {
      name: 'another JWT type',
      query: async () => queryWith(await requestObject({}, { typ: 'dpop+jwt' })),
      expected: invalid('request object typ "dpop+jwt" is not a request object\'s (use oauth-authz-req+jwt, or none)')
    },
    ...['iss', 'aud', 'iat', 'exp', 'jti'].map((claim) => ({
      name: `a missing ${claim}`,
      query: async () => queryWith(await requestObject({ [claim]: undefined })),
      expected: invalid(`request object rejected: claim "${claim}" is missing`)
    })),
    {
      name: 'another issuer',
      query: async () => queryWith(await requestObject({ iss: 'demo-app' })),
      expected: invalid('request object rejected: claim "iss" is invalid (unexpected "iss" claim value)')
    },
    {
      name: 'another audience',
      query: async () => queryWith(await requestObject({ aud: `${ISSUER}/token` })),
      expected: invalid('request object rejected: claim "aud" is invalid (unexpected "aud" claim value)')
    },
    {
      name: 'a typ that is no string',
      query: async () => queryWith(await requestObject({}, { typ: 5 })),
      expected: invalid('request object typ 5 is not a request object\'s (use oauth-authz-req+jwt, or none)')
    },
    {
      name: 'an audience beside this server',
      query: async () => queryWith(await requestObject({ aud: [ISSUER, 'https://other.example'] })),
      expected: invalid(`request object aud must be this server alone (${ISSUER}/authorize or ${ISSUER}), not 2 values`)
    },
    {
      name: 'a lifetime over 300 s',
      query: async () => queryWith(await requestObject({ exp: iat + 301 })),
      expected: invalid('request object lifetime (exp - iat) is 301 s; at most 300 s is accepted')
    },
    {
      name: 'an iat in the future beyond the 5 s of skew',
      query: async () => queryWith(await requestObject({ iat: iat + 6, exp: iat + 66 })),
      expected: invalid('request object iat lies 6 s in the future; at most 5 s of clock skew is accepted')
    },
    {
      name: 'an expired object',
      query: async () => queryWith(await requestObject({ iat: iat - 60, exp: iat - 6 })),
      expected: invalid('request object rejected: it has expired (exp)')
    },
    {
      name: 'a jti that is no string',
      query: async () => queryWith(await requestObject({ jti: 42 } as unknown as JWTPayload)),
      expected: invalid('request object jti must be a non-empty string')
    },
    {
      name: 'a parameter of the wrong type',
      query: async () => queryWith(await requestObject({ state: 7 })),
      expected: invalid('request object parameter state must be a string')
    },
    {
      name: 'max_age of the wrong type',
      query: async () => queryWith(await requestObject({ max_age: [300] })),
      expected: invalid('request object parameter max_age must be a string or a number')
    },
    {
      name: 'a nested request_uri',
      query: async () => queryWith(await requestObject({ request_uri: 'https://client.example/ro' })),
      expected: invalid('a request object must not contain request_uri (RFC 9101 section 4)')
    },
    {
      name: 'request_uri',
      query: async () => queryWith(undefined, { request_uri: 'https://client.example/request.jwt' }),
      expected: redirect('request_uri_not_supported',
        'request_uri is not supported: send the request object by value in the request parameter', QUERY_STATE)
    },
    {
      name: 'request and request_uri together',
      query: async () => queryWith(await requestObject(), { request_uri: 'https://client.example/request.jwt' }),
      expected: redirect('invalid_request',
        'request and request_uri must not both be sent (RFC 9101 section 5)', QUERY_STATE)
    },
    {
      name: 'a repeated request',
      query: async () => queryWith(undefined, { request: [await requestObject(), await requestObject()] }),
      expected: redirect('invalid_request', 'request must not be repeated', QUERY_STATE)
    },
    {
      name: 'a query state over its limit',
      query: async () => queryWith('not-a-jwt', { state: 's'.repeat(2049) }),
      expected: redirect('invalid_request_object', 'request is not a signed JWT (compact JWS)', null)
    }
  ]
  for (const { name, query, expected } of cases) {
    t.test(name, async (t) => {
      t.strictSame(await refusal(await query()), expected)
    })
  }

  t.test('an expiry within the 5 s of tolerance and an iat 5 s ahead are accepted', async (t) => {
    const late = await emulator.authorization.start(queryWith(await requestObject({ iat: iat - 60, exp: iat - 4 })),
      SEED_IPV4)
    t.equal(late.pending.state, OBJECT_STATE)
    const early = await emulator.authorization.start(queryWith(await requestObject({ iat: iat + 5, exp: iat + 65 })),
      SEED_IPV4)
    t.equal(early.pending.state, OBJECT_STATE)
  })

  t.test('the authorization endpoint as aud (ICM r4.2 recommends it), ' +
    'and typ with its application/ prefix', async (t) => {
    const endpoint = await emulator.authorization.start(queryWith(await requestObject({ aud: `${ISSUER}/authorize` })),
      SEED_IPV4)
    t.equal(endpoint.pending.state, OBJECT_STATE)
    const prefixed = await emulator.authorization.start(
      queryWith(await requestObject({}, { typ: 'application/oauth-authz-req+jwt' })),
      SEED_IPV4
    )
    t.equal(prefixed.pending.state, OBJECT_STATE)
  })

  t.test('an unknown client or redirect_uri gets a page, never a redirect', async (t) => {
    t.strictSame(await refusal(queryWith('not-a-jwt', { client_id: 'nobody' })),
      { error: 'unauthorized_client', description: 'client_id "nobody" is not registered', location: undefined })
    t.strictSame(await refusal(queryWith(await requestObject(), { redirect_uri: undefined })),
      { error: 'invalid_request', description: 'redirect_uri is required', location: undefined },
      'redirect_uri only in the object')
  })
  t.test('no refused object spent its jti (the four accepted did)', async (t) => {
    t.equal((await emulator.ctx.store.sizes()).requestObjectIds, 4)
  })
})

t.test('the parameters the query must repeat: refusals redirect with the object\'s state', async (t) => {
  const { emulator } = await buildEmulator()
  const refusal = async (query: Query): Promise<Outcome> =>
    outcome(await rejected(emulator.authorization.start(query, SEED_IPV4)))
  const objectError = (description: string): Outcome => redirect('invalid_request_object', description, OBJECT_STATE)

  for (const name of ['response_type', 'redirect_uri', 'scope']) {
    t.test(`the object lacks ${name}`, async (t) => {
      t.strictSame(await refusal(queryWith(await requestObject({ [name]: undefined }))),
        objectError(`request object lacks ${name}: it must carry every authorization parameter (RFC 9101 section 4)`))
    })
  }
  t.test('the object lacks client_id', async (t) => {
    t.strictSame(await refusal(queryWith(await requestObject({ client_id: undefined }))),
      objectError('request object lacks client_id: it must carry every authorization parameter (RFC 9101 section 4)'))
  })
  for (const name of ['response_type', 'scope']) {
    t.test(`the query lacks ${name}`, async (t) => {
      t.strictSame(await refusal(queryWith(await requestObject(), { [name]: undefined })),
        redirect('invalid_request',
          `${name} is required in the query too, with the request object's value (OpenID Connect Core 6.1)`,
          OBJECT_STATE))
    })
  }
  t.test('a repeated duplicate', async (t) => {
    t.strictSame(await refusal(queryWith(await requestObject(), { scope: [SCOPE, SCOPE] })),
      redirect('invalid_request', 'scope must not be repeated', OBJECT_STATE))
  })
  const mismatches: Array<[string, JWTPayload]> = [
    ['client_id', { client_id: 'demo-app' }],
    ['response_type', { response_type: 'token' }],
    ['redirect_uri', { redirect_uri: 'https://attacker.example/cb' }],
    ['scope', { scope: 'openid dpv:FraudPreventionAndDetection number-verification:device-phone-number:read' }]
  ]
  for (const [name, claims] of mismatches) {
    t.test(`${name} differs`, async (t) => {
      t.strictSame(await refusal(queryWith(await requestObject(claims))),
        objectError(`${name} in the query differs from the request object's ${name}`))
    })
  }
  t.test('the object\'s parameters are validated as a query\'s would be', async (t) => {
    const withoutPkce = await requestObject({ code_challenge: undefined, code_challenge_method: undefined })
    t.strictSame(
      await refusal(queryWith(withoutPkce, { code_challenge: PKCE_CHALLENGE, code_challenge_method: 'S256' })),
      redirect('invalid_request',
        'PKCE is required for this client: send code_challenge and code_challenge_method=S256', OBJECT_STATE),
      'PKCE in the query only does not count'
    )
    t.strictSame(await refusal(queryWith(await requestObject({ state: undefined, prompt: 'none login' }))),
      redirect('invalid_request', 'prompt=none cannot be combined with other values', null),
      'no state in the object: none echoed')
  })
})

t.test('a jti is accepted once', async (t) => {
  const { emulator } = await buildEmulator()
  const object = await requestObject()
  await emulator.authorization.start(queryWith(object), SEED_IPV4)
  const replay = outcome(await rejected(emulator.authorization.start(queryWith(object), SEED_IPV4)))
  t.strictSame(replay, redirect('invalid_request_object',
    'request object jti was already used: sign a fresh request object for every request', OBJECT_STATE))
  t.equal((await emulator.ctx.store.sizes()).pending, 1, 'no second pending request')
})

t.test('of parallel starts with one object, exactly one succeeds', async (t) => {
  const { emulator } = await buildEmulator({ sleep: interleavingSleep })
  const object = await requestObject({ emulator_scenario: 'slow-network' })
  const results = await Promise.allSettled(Array.from({ length: 8 }, async () =>
    await emulator.authorization.start(queryWith(object), SEED_IPV4)))
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
  const refusals = results.flatMap((r) => r.status === 'rejected' ? [outcome(r.reason)] : [])
  t.strictSame(new Set(refusals.map((r) => r.description)),
    new Set(['request object jti was already used: sign a fresh request object for every request']))
  t.equal((await emulator.ctx.store.sizes()).pending, 1)
})

t.test('an injected error at the gateway leaves the object unspent for the retry', async (t) => {
  const { emulator } = await buildEmulator()
  const object = await requestObject()
  const error = await rejected(emulator.authorization.start(queryWith(object), SEED_IPV4,
    newLeg(['auth-temporarily-unavailable'])))
  if (!(error instanceof InjectedError)) throw error
  t.strictSame(error.redirect, { redirectUri: REDIRECT_URI, state: OBJECT_STATE }, 'the object\'s state')
  t.equal((await emulator.ctx.store.sizes()).requestObjectIds, 0)
  const { pending } = await emulator.authorization.start(queryWith(object), SEED_IPV4)
  t.equal(pending.state, OBJECT_STATE, 'the retry with the same object starts the flow')
})
