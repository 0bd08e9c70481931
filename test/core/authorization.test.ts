import t from 'tap'
import {
  candidateAddresses, NETWORK_AMR, pairwiseSubject, PARAMETER_LIMITS, SMS_OTP_AMR, type AuthorizationCode, type Query
} from '../../src/core/authorization.js'
import type { OperatorFixture } from '../../src/core/fixture-schema.js'
import type { Emulator } from '../../src/core/emulator.js'
import { AuthorizeError } from '../../src/core/errors.js'
import { InjectedError, newLeg } from '../../src/core/legs.js'
import { parseKoneraContext, parseLoginHint } from '../../src/core/login-hint.js'
import { parseScope } from '../../src/core/scopes.js'
import {
  authorize,
  authorizeQuery,
  buildEmulator,
  defaultFixtureDocument,
  fixturesFrom,
  interleavingSleep,
  ISSUER,
  PKCE_CHALLENGE,
  PUBLIC_URL,
  REDIRECT_URI,
  rejected,
  SCOPE,
  SEED_IPV4,
  SEED_MSISDN,
  START,
  START_S,
  thrown
} from './support.js'

const STATE = 'af0ifjsldkj'
const UNKNOWN_REQUEST = 'this authorization request is unknown, expired or already completed: start again at the ' +
  'gateway'

interface Outcome {
  error: string
  description: string
  /** Where the browser is sent, or undefined for an error page */
  location: string | undefined
}

function outcome (error: unknown): Outcome {
  if (!(error instanceof AuthorizeError)) throw error
  return { error: error.error, description: error.description, location: error.redirectLocation(ISSUER) }
}

function authorizeError (fn: () => unknown): Outcome {
  return outcome(thrown(fn))
}

async function authorizeRejection (promise: Promise<unknown>): Promise<Outcome> {
  return outcome(await rejected(promise))
}

/** The error page outcome: RFC 6749 forbids redirecting to an untrusted redirect_uri */
function page (error: string, description: string): Outcome {
  return { error, description, location: undefined }
}

/** The redirect outcome, with the state the request carried (null: it carried none) */
function redirect (error: string, description: string, state: string | null = STATE): Outcome {
  const url = new URL(REDIRECT_URI)
  url.searchParams.append('error', error)
  url.searchParams.append('error_description', description)
  if (state !== null) url.searchParams.append('state', state)
  // RFC 9207: the authorization server that answers, on errors as on codes
  url.searchParams.append('iss', ISSUER)
  return { error, description, location: url.toString() }
}

function operator (emulator: Emulator, id: string): OperatorFixture {
  const found = emulator.directory.operator(id)
  if (found === undefined) throw new Error(`no operator ${id}`)
  return found
}

/** Default fixtures plus a number ported to telco-in from the +34 range, and telco-es trusting hints when asked */
function portedFixtures (options: { trustsLoginHint?: boolean, defaultOperator?: string | undefined } = {}) {
  const document = defaultFixtureDocument()
  document.subscribers.push({
    msisdn: '+34611111111',
    operator: 'telco-in',
    ipv4: [],
    ipv6: [],
    connection: 'mobile-data',
    authMethods: ['network']
  })
  document.subscribers.push({
    msisdn: '+34611111112',
    operator: 'telco-es',
    ipv4: [],
    ipv6: [],
    connection: 'mobile-data',
    authMethods: ['network', 'sms-otp']
  })
  if (options.trustsLoginHint === true) {
    const telcoEs = document.operators.find((o) => o.id === 'telco-es')
    if (telcoEs !== undefined) telcoEs.trustsLoginHint = true
  }
  if ('defaultOperator' in options) {
    if (options.defaultOperator === undefined) delete document.defaultOperator
    else document.defaultOperator = options.defaultOperator
  }
  return fixturesFrom(document)
}

t.test('validate', async (t) => {
  const { emulator } = await buildEmulator()
  const validate = (overrides: Query): Outcome =>
    authorizeError(() => emulator.authorization.validate(authorizeQuery(overrides)))

  t.test('accepts a complete request and returns what the operator leg needs', async (t) => {
    const { client, ...request } = emulator.authorization.validate(authorizeQuery({
      prompt: 'none',
      login_hint: 'tel:+34666666666',
      konera_context: 'ipv4:142.115.147.143',
      code_challenge: PKCE_CHALLENGE,
      code_challenge_method: 'S256',
      acr_values: 'anything'
    }))
    t.equal(client.clientId, 'demo-app')
    t.strictSame(request, {
      clientId: 'demo-app',
      redirectUri: REDIRECT_URI,
      state: STATE,
      nonce: 'n-0S6_WzA2Mj',
      scope: parseScope(SCOPE),
      prompt: ['none'],
      loginHint: { kind: 'tel', msisdn: '+34666666666' },
      konera: parseKoneraContext('ipv4:142.115.147.143'),
      codeChallenge: PKCE_CHALLENGE,
      flowScenarios: []
    })
  })

  t.test('collects flow-wide scenarios from emulator_scenario and konera_context, once each', async (t) => {
    t.strictSame(emulator.authorization.validate(authorizeQuery({
      emulator_scenario: 'slow, flaky,,slow',
      konera_context: 'scenario:flaky+timeout'
    })).flowScenarios, ['slow', 'flaky', 'timeout'])
    t.strictSame(validate({ emulator_scenario: ['slow', 'flaky'] }),
      redirect('invalid_request', 'emulator_scenario must not be repeated'))
  })

  t.test('treats empty optional parameters as absent', async (t) => {
    const request = emulator.authorization.validate(authorizeQuery({
      state: undefined,
      nonce: '',
      prompt: '',
      login_hint: '',
      konera_context: '',
      code_challenge: '',
      code_challenge_method: ''
    }))
    t.equal(request.state, undefined)
    t.equal(request.nonce, undefined)
    t.strictSame(request.prompt, [])
    t.equal(request.loginHint, undefined)
    t.equal(request.konera, undefined)
    t.equal(request.codeChallenge, undefined)
  })

  t.test('a missing, empty or repeated client_id gets an error page, never a redirect', async (t) => {
    t.strictSame(validate({ client_id: undefined }), page('invalid_request', 'client_id is required'))
    t.strictSame(validate({ client_id: '' }), page('invalid_request', 'client_id is required'))
    t.strictSame(
      validate({ client_id: ['demo-app', 'demo-app'] }),
      page('invalid_request', 'client_id must not be repeated')
    )
  })

  t.test('an unknown client_id gets an error page', async (t) => {
    t.strictSame(validate({ client_id: 'nobody' }), page('unauthorized_client', 'client_id "nobody" is not registered'))
  })

  t.test('a missing, repeated or unregistered redirect_uri gets an error page', async (t) => {
    t.strictSame(validate({ redirect_uri: undefined }), page('invalid_request', 'redirect_uri is required'))
    t.strictSame(validate({ redirect_uri: '' }), page('invalid_request', 'redirect_uri is required'))
    t.strictSame(validate({ redirect_uri: [REDIRECT_URI, REDIRECT_URI] }),
      page('invalid_request', 'redirect_uri must not be repeated'))
    t.strictSame(validate({ redirect_uri: 'https://attacker.example/callback' }),
      page('invalid_request',
        'redirect_uri "https://attacker.example/callback" is not registered for client "demo-app"'))
    t.strictSame(validate({ redirect_uri: `${REDIRECT_URI}/` }),
      page('invalid_request', `redirect_uri "${REDIRECT_URI}/" is not registered for client "demo-app"`),
      'compared by exact string')
  })

  t.test('any other repeated parameter is reported by redirect', async (t) => {
    t.strictSame(validate({ scope: [SCOPE, SCOPE] }), redirect('invalid_request', 'scope must not be repeated'))
    t.strictSame(validate({ state: ['one', 'two'] }), redirect('invalid_request', 'state must not be repeated', 'one'))
    t.strictSame(validate({ acr_values: ['a', 'b'] }), redirect('invalid_request', 'acr_values must not be repeated'))
  })

  t.test('every parameter kept for the operator leg has a length limit, refused by redirect past it', async (t) => {
    const accepted = (overrides: Query): string => {
      try {
        emulator.authorization.validate(authorizeQuery(overrides))
        return 'accepted'
      } catch (error) {
        return outcome(error).description
      }
    }
    for (const [name, limit] of PARAMETER_LIMITS) {
      const tooLong = 'a'.repeat(limit + 1)
      t.strictSame(validate({ [name]: tooLong }),
        redirect('invalid_request', `${name} must be at most ${limit} characters`, name === 'state' ? null : STATE),
        `${name}: ${limit + 1} characters${name === 'state' ? ', and the state is not echoed' : ''}`)
      t.not(
        accepted({ [name]: 'a'.repeat(limit) }),
        `${name} must be at most ${limit} characters`,
        `${name}: ${limit} pass the length check`
      )
    }
    t.equal(accepted({ state: 'a'.repeat(2048), nonce: 'n'.repeat(512) }), 'accepted')
    t.strictSame(
      authorizeError(() =>
        emulator.authorization.validate(authorizeQuery({ client_id: 'unknown', state: 'a'.repeat(5000) }))
      ),
      page('unauthorized_client', 'client_id "unknown" is not registered'),
      'an untrusted client still gets the page, never a redirect'
    )
  })

  t.test('response_type must be code', async (t) => {
    t.strictSame(validate({ response_type: undefined }), redirect('invalid_request', 'response_type is required'))
    t.strictSame(validate({ response_type: 'token' }),
      redirect('unsupported_response_type', 'response_type "token" is not supported; use code'))
    t.strictSame(validate({ response_type: 'code id_token' }),
      redirect('unsupported_response_type', 'response_type "code id_token" is not supported; use code'))
  })

  t.test('scope must be present and grantable', async (t) => {
    t.strictSame(validate({ scope: undefined }), redirect('invalid_request', 'scope is required'))
    t.strictSame(validate({ scope: '' }), redirect('invalid_request', 'scope is required'))
    t.strictSame(validate({ scope: '   ' }), redirect('invalid_scope', 'scope is empty'))
    t.strictSame(validate({ scope: 'openid dpv:FraudPreventionAndDetection sim-swap:check' }),
      redirect('invalid_scope', 'scope not allowed for this client: sim-swap:check'))
    t.strictSame(validate({ scope: 'openid number-verification:verify' }),
      redirect('invalid_scope', 'a dpv: purpose is required, e.g. dpv:FraudPreventionAndDetection'))
    t.strictSame(validate({ scope: 'dpv:A dpv:B number-verification:verify' }),
      redirect('invalid_scope', 'exactly one dpv: purpose is allowed, got dpv:A dpv:B'))
  })

  t.test('a redirected error has no state when the request had none', async (t) => {
    t.strictSame(validate({ state: undefined, response_type: 'token' }),
      redirect('unsupported_response_type', 'response_type "token" is not supported; use code', null))
  })

  t.test('prompt takes known values, and none alone', async (t) => {
    t.strictSame(validate({ prompt: 'bogus' }), redirect('invalid_request', 'prompt value "bogus" is not supported'))
    t.strictSame(validate({ prompt: 'none login' }),
      redirect('invalid_request', 'prompt=none cannot be combined with other values'))
    t.strictSame(emulator.authorization.validate(authorizeQuery({ prompt: ' login  consent ' })).prompt, [
      'login',
      'consent'
    ])
  })

  t.test('PKCE: S256 only, a well-formed challenge, and required where the client says so', async (t) => {
    t.strictSame(validate({ code_challenge_method: 'S256' }),
      redirect('invalid_request', 'code_challenge_method was sent without code_challenge'))
    t.strictSame(validate({ code_challenge: PKCE_CHALLENGE }),
      redirect('invalid_request', 'code_challenge_method "plain" is not supported; use S256'))
    t.strictSame(validate({ code_challenge: PKCE_CHALLENGE, code_challenge_method: 'plain' }),
      redirect('invalid_request', 'code_challenge_method "plain" is not supported; use S256'))
    t.strictSame(validate({ code_challenge: 'short', code_challenge_method: 'S256' }),
      redirect('invalid_request', 'code_challenge must be 43-128 characters of [A-Za-z0-9-._~]'))
    t.strictSame(validate({ code_challenge: `${PKCE_CHALLENGE.slice(0, 42)}+`, code_challenge_method: 'S256' }),
      redirect('invalid_request', 'code_challenge must be 43-128 characters of [A-Za-z0-9-._~]'))
    t.strictSame(validate({ client_id: 'demo-app-jwt' }),
      redirect('invalid_request',
        'PKCE is required for this client: send code_challenge and code_challenge_method=S256'))
    t.equal(emulator.authorization.validate(authorizeQuery({
      client_id: 'demo-app-jwt',
      code_challenge: PKCE_CHALLENGE,
      code_challenge_method: 'S256'
    })).codeChallenge, PKCE_CHALLENGE)
  })

  t.test('a malformed login_hint or konera_context is reported by redirect', async (t) => {
    t.strictSame(validate({ login_hint: 'tel:666' }),
      redirect('invalid_request', 'login_hint "tel:666" is not tel:+E.164 (e.g. tel:+34666666666)'))
    t.strictSame(validate({ login_hint: 'ipport:1.2.3.4:0' }),
      redirect('invalid_request', 'login_hint "ipport:1.2.3.4:0" is not ipport:IPv4[:port] or ipport:[IPv6][:port]'))
    t.strictSame(validate({ konera_context: 'ipv4:nope' }),
      redirect('invalid_request', 'konera_context ipv4 "nope" is not a valid IPv4 address'))
    t.strictSame(emulator.authorization.validate(authorizeQuery({ login_hint: 'email:someone@example.com' })).loginHint,
      { kind: 'unsupported', value: 'email:someone@example.com' })
  })

  t.test('checks in RFC 6749 order: client, redirect_uri, then the rest by redirect', async (t) => {
    // Everything is wrong at first; each step fixes the error reported and the next one shows
    const query: Query = {
      client_id: undefined,
      redirect_uri: 'https://attacker.example/cb',
      response_type: 'token',
      scope: undefined,
      prompt: 'none login',
      code_challenge_method: 'S256',
      login_hint: 'tel:666',
      state: STATE
    }
    const steps: Array<[Query, Outcome]> = [
      [{}, page('invalid_request', 'client_id is required')],
      [{ client_id: 'nobody' }, page('unauthorized_client', 'client_id "nobody" is not registered')],
      [{ client_id: 'demo-app' },
        page('invalid_request', 'redirect_uri "https://attacker.example/cb" is not registered for client "demo-app"')],
      [{ redirect_uri: REDIRECT_URI, scope: [SCOPE, SCOPE] },
        redirect('invalid_request', 'scope must not be repeated')],
      [{ scope: undefined }, redirect('unsupported_response_type', 'response_type "token" is not supported; use code')],
      [{ response_type: 'code' }, redirect('invalid_request', 'scope is required')],
      [{ scope: 'openid number-verification:verify' },
        redirect('invalid_scope', 'a dpv: purpose is required, e.g. dpv:FraudPreventionAndDetection')],
      [{ scope: SCOPE }, redirect('invalid_request', 'prompt=none cannot be combined with other values')],
      [{ prompt: 'none' }, redirect('invalid_request', 'code_challenge_method was sent without code_challenge')],
      [{ code_challenge_method: undefined },
        redirect('invalid_request', 'login_hint "tel:666" is not tel:+E.164 (e.g. tel:+34666666666)')]
    ]
    for (const [fix, expected] of steps) {
      Object.assign(query, fix)
      t.strictSame(authorizeError(() => emulator.authorization.validate(query)), expected, expected.description)
    }
    query.login_hint = 'tel:+34666666666'
    t.equal(emulator.authorization.validate(query).clientId, 'demo-app', 'valid once all is fixed')
  })

  t.test('does not require a purpose when the settings say so', async (t) => {
    const { emulator } = await buildEmulator({ settings: { requirePurpose: false } })
    const { scope } = emulator.authorization.validate(authorizeQuery({ scope: 'openid number-verification:verify' }))
    t.strictSame(scope.purposes, [])
  })
})

t.test('start routes to an operator and remembers the request for the operator leg', async (t) => {
  const { emulator } = await buildEmulator()
  const { location, pending } = await emulator.authorization.start(authorizeQuery(), '49.36.10.20')
  t.equal(location, `${PUBLIC_URL}/operators/telco-in/authorize?request_id=${pending.id}`)
  t.equal(pending.operatorId, 'telco-in')
  t.equal(pending.gatewaySource, '49.36.10.20')
  t.equal(pending.createdAt, START)
  t.match(pending.id, /^[\w-]{24}$/)
  t.match(pending.flowId, /^[\w-]{12}$/)
  t.strictSame(await emulator.ctx.store.get('pending', pending.id), pending)
  t.not((await emulator.authorization.start(authorizeQuery(), '49.36.10.20')).pending.id, pending.id,
    'each request its own id')
})

t.test('onFlowStart tells each listener of every flow started, until it stops listening', async (t) => {
  const { emulator } = await buildEmulator()
  const seen: Array<[string, string, string | undefined]> = []
  const stop = emulator.authorization.onFlowStart((pending) => seen.push([pending.flowId, pending.clientId,
    pending.state]))
  const again = emulator.authorization.onFlowStart((pending) => seen.push([`again:${pending.flowId}`, pending.clientId,
    pending.state]))
  const first = (await emulator.authorization.start(authorizeQuery({ state: 'one' }), '49.36.10.20')).pending
  t.strictSame(seen, [[first.flowId, 'demo-app', 'one'], [`again:${first.flowId}`, 'demo-app', 'one']])
  stop()
  const second = (await emulator.authorization.start(authorizeQuery({ state: 'two' }), '49.36.10.20')).pending
  t.strictSame(seen.slice(2), [[`again:${second.flowId}`, 'demo-app', 'two']], 'only the listener still subscribed')
  await t.rejects(emulator.authorization.start(authorizeQuery({ client_id: 'nobody' }), '49.36.10.20'), AuthorizeError)
  t.equal(seen.length, 3, 'a refused request starts no flow: the listener still subscribed hears nothing')
  again()
  await emulator.authorization.start(authorizeQuery(), '49.36.10.20')
  t.equal(seen.length, 3, 'nobody listening')
})

t.test('start answers by redirect when no operator can be found', async (t) => {
  const { emulator } = await buildEmulator({ fixtures: portedFixtures({ defaultOperator: undefined }) })
  const description = 'no operator could be found for this device (no address in an operator range, no tel: hint ' +
    'with a known prefix, no default operator)'
  const start = (query: Query): Promise<Outcome> => authorizeRejection(emulator.authorization.start(query,
    '81.40.12.34'))
  t.strictSame(await start(authorizeQuery({ prompt: 'none' })), redirect('login_required', description))
  t.strictSame(await start(authorizeQuery()), redirect('access_denied', description))
  t.strictSame(await start(authorizeQuery({ client_id: 'nobody' })),
    page('unauthorized_client', 'client_id "nobody" is not registered'), 'validation comes first')
})

t.test('telco finder', async (t) => {
  const { emulator } = await buildEmulator({ fixtures: portedFixtures() })
  const route = (konera: string | undefined, hint: string | undefined,
    source: string | undefined): string | undefined =>
    emulator.authorization.routeToOperator(
      konera === undefined ? undefined : parseKoneraContext(konera),
      hint === undefined ? undefined : parseLoginHint(hint),
      source)?.id

  t.test('konera_context ipv4 comes first', async (t) => {
    t.equal(route('ipv4:49.36.10.20,ipv6:2001:4860:7::1', 'ipport:142.115.1.1', '142.115.1.2'), 'telco-in')
    t.equal(route('ipv4:142.115.1.1,ipv6:2401:4900::1', 'ipport:49.36.1.1', '49.36.1.2'), 'telco-es')
  })

  t.test('then konera_context ipv6', async (t) => {
    t.equal(route('ipv4:81.40.12.34,ipv6:2401:4900::1', 'ipport:142.115.1.1', '142.115.1.2'), 'telco-in')
    t.equal(route('ipv6:2001:4860:7::1', 'ipport:49.36.1.1', '49.36.1.2'), 'telco-es')
  })

  t.test('then the ipport: hint', async (t) => {
    t.equal(route('ipv4:81.40.12.34,ipv6:2001:db8::1', 'ipport:49.36.1.1:4000', '142.115.1.2'), 'telco-in')
    t.equal(route(undefined, 'ipport:[2001:4860:7::1]', '49.36.1.2'), 'telco-es')
  })

  t.test('then the address the request came from', async (t) => {
    t.equal(route('ipv4:81.40.12.34', 'ipport:81.40.12.35', '49.36.1.2'), 'telco-in')
    t.equal(route(undefined, undefined, '::ffff:49.36.1.2'), 'telco-in', 'IPv4-mapped source')
    t.equal(route(undefined, undefined, '2401:4900::5'), 'telco-in')
  })

  t.test('an address in a range beats a tel: hint', async (t) => {
    t.equal(route('ipv4:142.115.1.1', 'tel:+919036499174', undefined), 'telco-es')
    t.equal(route(undefined, 'tel:+919036499174', '142.115.1.1'), 'telco-es')
  })

  t.test('then the operator of the subscriber a tel: hint names, even against its number prefix', async (t) => {
    t.equal(route(undefined, 'tel:+34611111111', '81.40.12.34'), 'telco-in', 'a +34 number ported to telco-in')
    t.equal(route('ipv4:81.40.12.34', 'tel:+34611111111', undefined), 'telco-in')
  })

  t.test('then the longest number prefix of the hinted number', async (t) => {
    t.equal(route(undefined, 'tel:+919999999999', '81.40.12.34'), 'telco-in')
    t.equal(route(undefined, '+34999999999', undefined), 'telco-es')
  })

  t.test('then the default operator', async (t) => {
    const { emulator } = await buildEmulator({ fixtures: portedFixtures({ defaultOperator: 'telco-in' }) })
    t.equal(emulator.authorization.routeToOperator(undefined, parseLoginHint('tel:+4412345678'), '81.40.12.34')?.id,
      'telco-in', 'no prefix matches')
    t.equal(emulator.authorization.routeToOperator(undefined, parseLoginHint('operatortoken:abc'), undefined)?.id,
      'telco-in', 'not a tel: hint')
    t.equal(emulator.authorization.routeToOperator(undefined, undefined, 'unparseable')?.id, 'telco-in',
      'an unreadable source is ignored')
  })

  t.test('and nothing without a default operator', async (t) => {
    const { emulator } = await buildEmulator({ fixtures: portedFixtures({ defaultOperator: undefined }) })
    t.equal(emulator.authorization.routeToOperator(undefined, parseLoginHint('tel:+4412345678'), '81.40.12.34'),
      undefined)
    t.equal(emulator.authorization.routeToOperator(undefined, undefined, undefined), undefined)
  })
})

t.test('candidateAddresses lists konera ipv4, konera ipv6, the ipport: hint, then the source', async (t) => {
  const addresses = candidateAddresses(parseKoneraContext('ipv6:2001:db8::1,ipv4:10.0.0.1'),
    parseLoginHint('ipport:10.0.0.2:80'), '::ffff:10.0.0.3')
  t.strictSame(addresses.map((a) => a.text), ['10.0.0.1', '2001:db8::1', '10.0.0.2', '10.0.0.3'])
  t.strictSame(candidateAddresses(undefined, parseLoginHint('tel:+34666666666'), 'not-an-ip'), [])
  t.strictSame(candidateAddresses(undefined, undefined, undefined), [])
})

t.test('pending', async (t) => {
  const { emulator, clock } = await buildEmulator()
  const { pending } = await emulator.authorization.start(authorizeQuery(), SEED_IPV4)
  const refusal = (operatorId: string, requestId: string | undefined): Promise<Outcome> =>
    authorizeRejection(emulator.authorization.pending(operatorId, requestId))

  t.test('finds the request routed to this operator, and names its flow on the leg', async (t) => {
    const leg = newLeg()
    t.strictSame(await emulator.authorization.pending('telco-es', pending.id, leg), pending)
    t.strictSame(leg.flow, { flowId: pending.flowId, clientId: 'demo-app', operatorId: 'telco-es' })
  })

  t.test('refuses without a request_id, with an error page', async (t) => {
    const description = 'request_id is required: start the flow at the gateway authorize endpoint'
    t.strictSame(await refusal('telco-es', undefined), page('invalid_request', description))
    t.strictSame(await refusal('telco-es', ''), page('invalid_request', description))
  })

  t.test('refuses an unknown request', async (t) => {
    t.strictSame(await refusal('telco-es', 'unknown'),
      page('invalid_request', UNKNOWN_REQUEST))
  })

  t.test('refuses a request routed to another operator, and still names its flow', async (t) => {
    const leg = newLeg()
    t.strictSame(await authorizeRejection(emulator.authorization.pending('telco-in', pending.id, leg)),
      page('invalid_request', 'this authorization request was routed to operator "telco-es", not "telco-in"'))
    t.strictSame(leg.flow, { flowId: pending.flowId, clientId: 'demo-app', operatorId: 'telco-es' })
  })

  t.test('expires after the pending time to live', async (t) => {
    clock.advance(emulator.ctx.settings.pendingTtl * 1000 - 1)
    t.equal((await emulator.authorization.pending('telco-es', pending.id)).id, pending.id)
    clock.advance(1)
    t.strictSame(await refusal('telco-es', pending.id),
      page('invalid_request', UNKNOWN_REQUEST))
  })
})

t.test('completeAtOperator', async (t) => {
  t.test('identifies the device, records the grant, stores a code and redirects with it', async (t) => {
    const { emulator } = await buildEmulator()
    const query = authorizeQuery({ code_challenge: PKCE_CHALLENGE, code_challenge_method: 'S256' })
    const { pending } = await emulator.authorization.start(query, SEED_IPV4)
    const leg = newLeg()
    const result = await emulator.authorization.completeAtOperator('telco-es', pending.id, SEED_IPV4, leg)
    const url = new URL(result.location)
    const code = url.searchParams.get('code') ?? ''
    t.equal(`${url.origin}${url.pathname}`, REDIRECT_URI)
    t.strictSame([...url.searchParams.keys()], ['code', 'state', 'iss'])
    t.equal(url.searchParams.get('iss'), ISSUER, 'RFC 9207: the code names the gateway as its issuer')
    t.equal(url.searchParams.get('state'), STATE)
    t.match(code, /^[\w-]{32}$/)
    t.strictSame(result.identification,
      {
        outcome: 'network',
        subscriber: emulator.directory.subscriber(SEED_MSISDN),
        msisdn: SEED_MSISDN,
        via: SEED_IPV4
      })
    t.strictSame(leg.flow,
      { flowId: pending.flowId, clientId: 'demo-app', operatorId: 'telco-es', msisdn: SEED_MSISDN })
    t.strictSame(result.grant, {
      id: result.grant.id,
      flowId: pending.flowId,
      clientId: 'demo-app',
      msisdn: SEED_MSISDN,
      operatorId: 'telco-es',
      sub: pairwiseSubject('camara-nv-emulator', 'demo-app', SEED_MSISDN),
      scopes: ['openid', 'dpv:FraudPreventionAndDetection', 'number-verification:verify'],
      amr: ['nba', 'mnba'],
      authTime: START_S,
      nonce: 'n-0S6_WzA2Mj',
      openid: true,
      offlineAccess: false,
      flowScenarios: [],
      expiresAt: START + 120 * 1000,
      revoked: false
    })
    t.strictSame(await emulator.ctx.store.get('grants', result.grant.id), result.grant)
    const stored: AuthorizationCode = {
      code,
      grantId: result.grant.id,
      clientId: 'demo-app',
      redirectUri: REDIRECT_URI,
      codeChallenge: PKCE_CHALLENGE
    }
    t.strictSame(await emulator.ctx.store.get('codes', code), stored)
    t.strictSame(await emulator.ctx.store.get('codeUses', code), { grantId: result.grant.id },
      'its single use beside it')
    t.equal(await emulator.ctx.store.get('pending', pending.id), undefined, 'the request is spent')
    t.strictSame(await authorizeRejection(emulator.authorization.completeAtOperator('telco-es', pending.id, SEED_IPV4)),
      page('invalid_request', UNKNOWN_REQUEST), 'the request cannot complete twice')
  })

  t.test('keeps the query of a redirect_uri that has one, and omits an absent state', async (t) => {
    const document = defaultFixtureDocument()
    document.clients[0]?.redirectUris.push('http://localhost:3000/callback?tenant=a')
    const { emulator } = await buildEmulator({ fixtures: fixturesFrom(document) })
    const query = authorizeQuery({ redirect_uri: 'http://localhost:3000/callback?tenant=a', state: undefined })
    const { pending } = await emulator.authorization.start(query, SEED_IPV4)
    const url = new URL((await emulator.authorization.completeAtOperator('telco-es', pending.id, SEED_IPV4)).location)
    t.strictSame([...url.searchParams.keys()], ['tenant', 'code', 'iss'])
    t.equal(url.searchParams.get('tenant'), 'a')
  })

  t.test('uses the gateway source when the operator saw none', async (t) => {
    const { emulator } = await buildEmulator()
    const { pending } = await emulator.authorization.start(authorizeQuery(), '49.36.10.20')
    const { grant } = await emulator.authorization.completeAtOperator('telco-in', pending.id, undefined)
    t.equal(grant.msisdn, '+919036499174')
  })

  t.test('the operator source replaces the gateway one', async (t) => {
    const { emulator } = await buildEmulator()
    const { pending } = await emulator.authorization.start(authorizeQuery(), '81.40.12.34')
    const { grant } = await emulator.authorization.completeAtOperator('telco-es', pending.id, '142.115.147.144')
    t.equal(grant.msisdn, '+34666666667')
  })

  t.test('redirects with login_required under prompt=none, access_denied otherwise, and forgets the request',
    async (t) => {
      const { emulator } = await buildEmulator()
      const reason = 'Telco ES (emulated) cannot authenticate +34600000002: the device is on wifi, not mobile data ' +
      'and no fallback method'
      const complete = (requestId: string): Promise<Outcome> =>
        authorizeRejection(emulator.authorization.completeAtOperator('telco-es', requestId, '81.40.12.34'))
      const silent = (await emulator.authorization.start(authorizeQuery({ prompt: 'none' }), '81.40.12.34')).pending
      t.strictSame(await complete(silent.id), redirect('login_required', reason))
      t.equal(await emulator.ctx.store.get('pending', silent.id), undefined, 'a failed request cannot be retried')
      const interactive = (await emulator.authorization.start(authorizeQuery(), '81.40.12.34')).pending
      t.strictSame(await complete(interactive.id), redirect('access_denied', reason))
      t.strictSame(await emulator.ctx.store.sizes(), {
        pending: 0,
        codes: 0,
        codeUses: 0,
        grants: 0,
        accessTokens: 0,
        accessTokenUses: 0,
        accessTokenCalls: 0,
        refreshTokens: 0,
        refreshTokenUses: 0,
        assertionIds: 0,
        requestObjectIds: 0,
        dpopProofIds: 0,
        revocations: 0,
        signingKeys: 0,
        operatorTokens: 0,
        operatorTokenUses: 0,
        cibaRequests: 0,
        cibaUses: 0,
        cibaPolls: 0,
        cibaPollSlots: 0
      }, 'no grant, no code')
    })

  t.test('answers temporarily_unavailable when the operator was removed meanwhile', async (t) => {
    const { emulator } = await buildEmulator()
    const { pending } = await emulator.authorization.start(authorizeQuery(), '49.36.10.20')
    const document = defaultFixtureDocument()
    document.operators = document.operators.filter((o) => o.id !== 'telco-in')
    document.subscribers = document.subscribers.filter((s) => s.operator !== 'telco-in')
    emulator.replaceFixtures(fixturesFrom(document))
    t.strictSame(
      await authorizeRejection(emulator.authorization.completeAtOperator('telco-in', pending.id, '49.36.10.20')),
      redirect('temporarily_unavailable', 'operator "telco-in" is no longer configured')
    )
  })
})

t.test('identifyDevice', async (t) => {
  const { emulator } = await buildEmulator({ fixtures: portedFixtures() })
  const identify = async (overrides: Query, source: string | undefined, operatorId = 'telco-es'): Promise<unknown> => {
    const { pending } = await emulator.authorization.start(authorizeQuery(overrides), source)
    return emulator.authorization.identifyDevice(operator(emulator, operatorId), pending, source)
  }
  const subscriber = (msisdn: string) => emulator.directory.subscriber(msisdn)

  t.test('names the subscriber from its address on the mobile network', async (t) => {
    t.strictSame(await identify({}, SEED_IPV4),
      { outcome: 'network', subscriber: subscriber(SEED_MSISDN), msisdn: SEED_MSISDN, via: SEED_IPV4 })
    t.strictSame(await identify({}, '2001:4860:7:f04::fe'),
      { outcome: 'network', subscriber: subscriber(SEED_MSISDN), msisdn: SEED_MSISDN, via: '2001:4860:7:f04::fe' })
    t.strictSame(await identify({}, '2401:4900:1c0a:2f3::99', 'telco-in'),
      {
        outcome: 'network',
        subscriber: subscriber('+919036499174'),
        msisdn: '+919036499174',
        via: '2401:4900:1c0a:2f3::99'
      }, 'an address in a /64')
    t.strictSame(await identify({ konera_context: 'ipv4:142.115.147.144' }, SEED_IPV4),
      { outcome: 'network', subscriber: subscriber('+34666666667'), msisdn: '+34666666667', via: '142.115.147.144' },
      'konera_context first')
    t.strictSame(await identify({ login_hint: 'ipport:142.115.147.144:5000' }, SEED_IPV4),
      { outcome: 'network', subscriber: subscriber('+34666666667'), msisdn: '+34666666667', via: '142.115.147.144' },
      'then the ipport: hint')
  })

  t.test('a tel: hint never overrides the network identification', async (t) => {
    t.strictSame(await identify({ login_hint: 'tel:+34666666667' }, SEED_IPV4),
      { outcome: 'network', subscriber: subscriber(SEED_MSISDN), msisdn: SEED_MSISDN, via: SEED_IPV4 })
    t.strictSame(await identify({ login_hint: 'tel:+34666666667' }, '81.40.12.99'), {
      outcome: 'failed',
      reason: 'Telco ES (emulated) cannot authenticate +34666666667: address 81.40.12.99 is not its address on the ' +
        'mobile network and no fallback method'
    }, 'nor names a subscriber the network did not see')
    t.strictSame(await identify({ login_hint: 'tel:+34666666667' }, undefined), {
      outcome: 'failed',
      reason: 'Telco ES (emulated) cannot authenticate +34666666667: the device was not seen on the mobile network ' +
        'and no fallback method'
    })
  })

  t.test('skips subscribers of other operators and addresses of no subscriber', async (t) => {
    t.strictSame(await identify({ konera_context: 'ipv4:49.36.10.20' }, '142.115.147.200'), {
      outcome: 'failed',
      reason: 'Telco ES (emulated) cannot identify the device: address 49.36.10.20, 142.115.147.200 is not a ' +
        'subscriber on its mobile network'
    })
    t.strictSame(await identify({}, undefined), {
      outcome: 'failed',
      reason: 'Telco ES (emulated) cannot identify the device: no device address was available is not a subscriber ' +
        'on its mobile network'
    })
  })

  t.test('a subscriber on WiFi cannot be identified and has no fallback', async (t) => {
    const reason = 'Telco ES (emulated) cannot authenticate +34600000002: the device is on wifi, not mobile data ' +
      'and no fallback method'
    t.strictSame(await identify({}, '81.40.12.34'), { outcome: 'failed', reason })
    t.strictSame(await identify({ prompt: 'login' }, '81.40.12.34'), { outcome: 'failed', reason })
  })

  t.test('a barred line has no method at all', async (t) => {
    t.strictSame(await identify({}, '142.115.147.151'), {
      outcome: 'failed',
      reason: 'Telco ES (emulated) cannot authenticate +34600000005: network authentication is not enabled for this ' +
        'subscriber and no fallback method'
    })
  })

  t.test('the SMS OTP fallback applies only when the request allows interaction', async (t) => {
    t.strictSame(await identify({}, '81.40.12.35'),
      { outcome: 'fallback', subscriber: subscriber('+34600000004'), msisdn: '+34600000004', method: 'sms-otp' })
    t.strictSame(await identify({ prompt: 'login consent' }, '81.40.12.35'),
      { outcome: 'fallback', subscriber: subscriber('+34600000004'), msisdn: '+34600000004', method: 'sms-otp' })
    t.strictSame(await identify({ prompt: 'none' }, '81.40.12.35'), {
      outcome: 'failed',
      reason: 'Telco ES (emulated) cannot authenticate +34600000004 by network (the device is on wifi, not mobile ' +
        'data) and its SMS OTP fallback needs interaction, which prompt=none forbids'
    })
    t.strictSame(await identify({}, '142.115.147.150'),
      { outcome: 'fallback', subscriber: subscriber('+34600000003'), msisdn: '+34600000003', method: 'sms-otp' },
      'SMS OTP only')
    t.strictSame(await identify({ prompt: 'none' }, '142.115.147.150'), {
      outcome: 'failed',
      reason: 'Telco ES (emulated) cannot authenticate +34600000003 by network (network authentication is not ' +
        'enabled for this subscriber) and its SMS OTP fallback needs interaction, which prompt=none forbids'
    })
  })

  t.test('a tel: hint names the subscriber for the SMS OTP fallback when the network cannot', async (t) => {
    t.strictSame(await identify({ login_hint: 'tel:+34611111112' }, '81.40.12.99'),
      { outcome: 'fallback', subscriber: subscriber('+34611111112'), msisdn: '+34611111112', method: 'sms-otp' })
    t.strictSame(await identify({ login_hint: 'tel:+34611111112', prompt: 'none' }, undefined), {
      outcome: 'failed',
      reason: 'Telco ES (emulated) cannot authenticate +34611111112 by network (the device was not seen on the ' +
        'mobile network) and its SMS OTP fallback needs interaction, which prompt=none forbids'
    })
    t.strictSame(await identify({ login_hint: 'tel:+34611111111' }, '81.40.12.99'), {
      outcome: 'failed',
      reason: 'Telco ES (emulated) cannot identify the device: address 81.40.12.99 is not a subscriber on its ' +
        'mobile network'
    }, 'a hinted subscriber of another operator is ignored')
  })

  t.test('an operator that trusts hints takes a tel: hint over the network', async (t) => {
    const { emulator } = await buildEmulator({ fixtures: portedFixtures({ trustsLoginHint: true }) })
    const identifyTrusting = async (hint: string, source: string | undefined): Promise<unknown> => {
      const { pending } = await emulator.authorization.start(authorizeQuery({ login_hint: hint }), source)
      return emulator.authorization.identifyDevice(operator(emulator, 'telco-es'), pending, source)
    }
    t.strictSame(await identifyTrusting('tel:+34666666667', SEED_IPV4),
      {
        outcome: 'network',
        subscriber: emulator.directory.subscriber('+34666666667'),
        msisdn: '+34666666667',
        via: 'login_hint (operator trusts hints)'
      })
    t.strictSame(await identifyTrusting('tel:+34699999999', undefined),
      { outcome: 'network', subscriber: undefined, msisdn: '+34699999999', via: 'login_hint (operator trusts hints)' },
      'even a number it does not know')
    t.strictSame(await identifyTrusting('tel:+34611111111', SEED_IPV4),
      {
        outcome: 'network',
        subscriber: emulator.directory.subscriber(SEED_MSISDN),
        msisdn: SEED_MSISDN,
        via: SEED_IPV4
      }, 'but not another operator\'s subscriber')
    t.strictSame(await identifyTrusting('ipport:142.115.147.144', undefined),
      {
        outcome: 'network',
        subscriber: emulator.directory.subscriber('+34666666667'),
        msisdn: '+34666666667',
        via: '142.115.147.144'
      }, 'other hints as usual')
  })
})

t.test('amr says how the subscriber was authenticated', async (t) => {
  const { emulator } = await buildEmulator()
  const grantAmr = async (source: string): Promise<string[]> => {
    const { pending } = await emulator.authorization.start(authorizeQuery(), source)
    return (await emulator.authorization.completeAtOperator(pending.operatorId, pending.id, source)).grant.amr
  }
  t.strictSame(await grantAmr(SEED_IPV4), ['nba', 'mnba'])
  t.strictSame(await grantAmr('81.40.12.35'), ['sms', 'otp'])
  t.strictSame(NETWORK_AMR, ['nba', 'mnba'])
  t.strictSame(SMS_OTP_AMR, ['sms', 'otp'])
})

t.test('the pairwise sub is stable per client, different across clients and subscribers, and not the number',
  async (t) => {
    const { emulator } = await buildEmulator()
    const subOf = async (query: Query, source: string): Promise<string> => {
      const { grantId } = await authorize(emulator, query, source)
      return (await emulator.ctx.store.get('grants', grantId))?.sub ?? ''
    }
    const first = await subOf({}, SEED_IPV4)
    t.equal(await subOf({ scope: 'dpv:FraudPreventionAndDetection number-verification:verify' }, SEED_IPV4), first,
      'same client, same subscriber')
    const other = await subOf({
      client_id: 'demo-app-jwt',
      code_challenge: PKCE_CHALLENGE,
      code_challenge_method: 'S256'
    }, SEED_IPV4)
    t.not(other, first, 'another client gets another sub')
    t.not(await subOf({}, '142.115.147.144'), first, 'another subscriber')
    t.match(first, /^[\w-]{43}$/)
    t.notMatch(first, /666666/)
    t.equal(first, pairwiseSubject('camara-nv-emulator', 'demo-app', SEED_MSISDN))
    t.not(pairwiseSubject('another salt', 'demo-app', SEED_MSISDN), first, 'the salt changes it')

    const salted = await buildEmulator({ settings: { pairwiseSalt: 'another salt' } })
    const { grantId } = await authorize(salted.emulator, {}, SEED_IPV4)
    t.equal((await salted.emulator.ctx.store.get('grants', grantId))?.sub,
      pairwiseSubject('another salt', 'demo-app', SEED_MSISDN))
  })

t.test('a grant lives as long as its code, then as long as the longest token it backs', async (t) => {
  const { emulator, clock } = await buildEmulator({
    settings: { refreshTokenTtl: 1000, accessTokenTtl: 500, codeTtl: 60 }
  })
  const redeem = async (code: string): Promise<void> => {
    await emulator.tokens.token(
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        client_id: 'demo-app',
        client_secret: 'demo-secret'
      },
      undefined
    )
  }
  // A code never redeemed takes its grant with it, offline_access or not
  const unredeemed = await authorize(emulator, {
    scope: 'openid offline_access dpv:FraudPreventionAndDetection number-verification:verify'
  })
  clock.advance(59_999)
  t.not(await emulator.ctx.store.get('grants', unredeemed.grantId), undefined)
  clock.advance(1)
  t.equal(await emulator.ctx.store.get('grants', unredeemed.grantId), undefined, 'gone with its code')
  // Redeemed without offline_access: an access token's lifetime from the redemption
  const plain = await authorize(emulator)
  clock.advance(30_000)
  await redeem(plain.code)
  clock.advance(499_999)
  t.not(await emulator.ctx.store.get('grants', plain.grantId), undefined)
  clock.advance(1)
  t.equal(await emulator.ctx.store.get('grants', plain.grantId), undefined)
  // Redeemed with offline_access: a refresh token's
  const refreshable = await authorize(emulator, {
    scope: 'openid offline_access dpv:FraudPreventionAndDetection number-verification:verify'
  })
  await redeem(refreshable.code)
  clock.advance(999_999)
  t.not(await emulator.ctx.store.get('grants', refreshable.grantId), undefined)
  clock.advance(1)
  t.equal(await emulator.ctx.store.get('grants', refreshable.grantId), undefined)
})

t.test(
  '--max-pending: start refuses by redirect at the cap, and takes requests again as they complete or expire',
  async (t) => {
    const { emulator, clock } = await buildEmulator({ settings: { maxPending: 2 } })
    const start = async (): Promise<string> =>
      (await emulator.authorization.start(authorizeQuery(), SEED_IPV4)).pending.id
    let started = 0
    emulator.authorization.onFlowStart(() => {
      started++
    })
    const first = await start()
    await start()
    const full = redirect(
      'temporarily_unavailable',
      'this emulator keeps at most 2 authorization requests in progress (--max-pending); try again once some have ' +
        'completed or expired'
    )
    t.strictSame(await authorizeRejection(emulator.authorization.start(authorizeQuery(), SEED_IPV4)), full)
    t.strictSame(
      [(await emulator.ctx.store.sizes()).pending, started],
      [2, 2],
      'the refused request is neither kept nor started'
    )
    await emulator.authorization.completeAtOperator('telco-es', first, SEED_IPV4)
    await start()
    t.strictSame(await authorizeRejection(emulator.authorization.start(authorizeQuery(), SEED_IPV4)), full)
    clock.advance(emulator.ctx.settings.pendingTtl * 1000)
    await start()
    await start()
    t.equal((await emulator.ctx.store.sizes()).pending, 2, 'the expired ones made room')
  }
)

t.test('--max-grants: the operator leg refuses by redirect at the cap, and the grant goes with its code', async (t) => {
  const { emulator, clock } = await buildEmulator({ settings: { maxGrants: 1, codeTtl: 60 } })
  await authorize(emulator)
  const { pending } = await emulator.authorization.start(authorizeQuery(), SEED_IPV4)
  t.strictSame(
    await authorizeRejection(emulator.authorization.completeAtOperator('telco-es', pending.id, SEED_IPV4)),
    redirect(
      'temporarily_unavailable',
      'this emulator keeps at most 1 live grants (--max-grants); try again once some have completed or expired'
    )
  )
  t.strictSame((await emulator.ctx.store.sizes()).codes, 1, 'no code for the refused one')
  clock.advance(60_000)
  t.match(await authorize(emulator), { code: /^[\w-]{32}$/ }, 'the unredeemed code took its grant with it')
})

t.test('a pending request keeps what the gateway saw', async (t) => {
  const { emulator } = await buildEmulator()
  const { pending } = await emulator.authorization.start(authorizeQuery({ konera_context: 'ipv4:142.115.147.143' }),
    undefined)
  const stored = await emulator.ctx.store.get('pending', pending.id)
  t.equal(stored?.gatewaySource, undefined)
  t.equal(stored?.konera?.ipv4?.text, '142.115.147.143')
})

t.test('the operator leg under parallel completions of one request_id', async (t) => {
  for (const scenarios of [['slow-operator'], []]) {
    const variant = scenarios.length === 0 ? 'no latency' : 'a latency scenario'
    t.test(`10 parallel completions: one code, 9 refusals (${variant})`, async (t) => {
      const { emulator } = await buildEmulator({ sleep: interleavingSleep })
      const { pending } = await emulator.authorization.start(authorizeQuery(), SEED_IPV4)
      const outcomes = await Promise.allSettled(Array.from({ length: 10 }, async () =>
        await emulator.authorization.completeAtOperator('telco-es', pending.id, SEED_IPV4, newLeg(scenarios))))
      const completed = outcomes.flatMap((outcome) => outcome.status === 'fulfilled' ? [outcome.value] : [])
      t.equal(completed.length, 1)
      const refused = await Promise.all(outcomes.flatMap((outcome) =>
        outcome.status === 'rejected' ? [authorizeRejection(Promise.reject(outcome.reason))] : []))
      t.strictSame(refused, Array(9).fill(page('invalid_request', UNKNOWN_REQUEST)))
      const sizes = await emulator.ctx.store.sizes()
      t.strictSame([sizes.pending, sizes.grants, sizes.codes, sizes.codeUses], [0, 1, 1, 1], 'one grant, one code')
    })
  }
})

t.test('an injected error at the gateway or the operator redirects and leaves the request usable', async (t) => {
  t.test('the gateway leg stores nothing and starts no flow', async (t) => {
    const { emulator } = await buildEmulator()
    let started = 0
    emulator.authorization.onFlowStart(() => { started++ })
    const leg = newLeg(['auth-temporarily-unavailable'])
    const error = await rejected(emulator.authorization.start(authorizeQuery(), SEED_IPV4, leg))
    if (!(error instanceof InjectedError)) throw error
    t.strictSame(error.redirect, { redirectUri: REDIRECT_URI, state: STATE })
    t.strictSame(error.problem, {
      kind: 'authorize',
      scenario: 'auth-temporarily-unavailable',
      error: 'temporarily_unavailable',
      description: 'The authorization server is temporarily unable to handle the request.'
    })
    t.equal(leg.flow.clientId, 'demo-app')
    t.equal(leg.flow.operatorId, 'telco-es')
    t.equal((await emulator.ctx.store.sizes()).pending, 0)
    t.equal(started, 0)
  })

  t.test('the operator leg: the retry without the scenario completes', async (t) => {
    const { emulator } = await buildEmulator()
    const { pending } = await emulator.authorization.start(authorizeQuery(), SEED_IPV4)
    const leg = newLeg(['consent-denied'])
    const error = await rejected(emulator.authorization.completeAtOperator('telco-es', pending.id, SEED_IPV4, leg))
    if (!(error instanceof InjectedError)) throw error
    t.strictSame(error.redirect, { redirectUri: REDIRECT_URI, state: STATE })
    t.strictSame(error.problem,
      {
        kind: 'authorize',
        scenario: 'consent-denied',
        error: 'access_denied',
        description: 'The subscriber denied consent.'
      })
    t.strictSame(leg.flow,
      { flowId: pending.flowId, clientId: 'demo-app', operatorId: 'telco-es', msisdn: SEED_MSISDN })
    t.strictSame(await emulator.ctx.store.get('pending', pending.id), pending, 'still pending')
    const { grant } = await emulator.authorization.completeAtOperator('telco-es', pending.id, SEED_IPV4)
    t.equal(grant.msisdn, SEED_MSISDN)
  })

  t.test('a flow-wide scenario chosen at authorize applies at the operator', async (t) => {
    const { emulator } = await buildEmulator()
    const { pending } = await emulator.authorization.start(authorizeQuery({ emulator_scenario: 'login-required' }),
      SEED_IPV4)
    t.strictSame(pending.flowScenarios, ['login-required'])
    const error = await rejected(emulator.authorization.completeAtOperator('telco-es', pending.id, SEED_IPV4))
    if (!(error instanceof InjectedError)) throw error
    t.equal('error' in error.problem ? error.problem.error : undefined, 'login_required')
  })
})

t.test('the SIM picker of a simulated operator network', async (t) => {
  /** A browser on an address no operator range holds: the default operator (telco-es, with simPicker) gets it */
  const UNPLACED = '10.1.2.3'
  const picker = async (query: Query = {}, source = UNPLACED) => {
    const built = await buildEmulator()
    const { pending } = await built.emulator.authorization.start(authorizeQuery(query), source)
    return { ...built, pending }
  }
  const telcoEsSims = (emulator: Emulator) =>
    emulator.directory.fixtures.subscribers.filter((s) => s.operator === 'telco-es')

  t.test('offers the operator\'s SIMs when it cannot place the device, and marks the request', async (t) => {
    const { emulator, pending } = await picker()
    t.equal(pending.operatorId, 'telco-es')
    const offer = await emulator.authorization.offerSimPicker('telco-es', pending.id, UNPLACED)
    const offered = { ...pending, simPickerOffered: true }
    t.strictSame(offer, { pending: offered, operator: operator(emulator, 'telco-es'), sims: telcoEsSims(emulator) })
    t.strictSame(await emulator.ctx.store.get('pending', pending.id), offered)
    t.strictSame(await emulator.authorization.offerSimPicker('telco-es', pending.id, UNPLACED), offer,
      'offered again as it is')
  })

  t.test('the marked request keeps the lifetime it had', async (t) => {
    const { emulator, pending, clock } = await picker()
    clock.advance(100_000)
    await emulator.authorization.offerSimPicker('telco-es', pending.id, UNPLACED)
    clock.advance(emulator.ctx.settings.pendingTtl * 1000 - 100_001)
    t.not(await emulator.ctx.store.get('pending', pending.id), undefined)
    clock.advance(1)
    t.equal(await emulator.ctx.store.get('pending', pending.id), undefined)
  })

  t.test('offers nothing when the normal operator leg applies', async (t) => {
    const identified = await picker({}, SEED_IPV4)
    t.equal(await identified.emulator.authorization.offerSimPicker('telco-es', identified.pending.id, SEED_IPV4),
      undefined,
      'the network identifies the device')
    const silent = await picker({ prompt: 'none' })
    t.equal(await silent.emulator.authorization.offerSimPicker('telco-es', silent.pending.id, UNPLACED), undefined,
      'prompt=none')
    const hinted = await picker({ login_hint: 'tel:+34600000002' })
    t.equal(await hinted.emulator.authorization.offerSimPicker('telco-es', hinted.pending.id, UNPLACED), undefined,
      'the hint names one of its subscribers, whose identification failed for its own reason')
    const placed = await picker({}, '81.40.12.34')
    t.equal(await placed.emulator.authorization.offerSimPicker('telco-es', placed.pending.id, '81.40.12.34'), undefined,
      'the address names one of its subscribers (on WiFi)')
    const { emulator } = await buildEmulator()
    const other = (await emulator.authorization.start(authorizeQuery(), '49.36.99.99')).pending
    t.equal(await emulator.authorization.offerSimPicker('telco-in', other.id, '49.36.99.99'), undefined,
      'an operator without picker')
  })

  t.test('offers nothing when the operator has no SIM at all', async (t) => {
    const document = defaultFixtureDocument()
    document.subscribers = document.subscribers.filter((s) => s.operator !== 'telco-es')
    const { emulator } = await buildEmulator({ fixtures: fixturesFrom(document) })
    const { pending } = await emulator.authorization.start(authorizeQuery(), UNPLACED)
    t.equal(await emulator.authorization.offerSimPicker('telco-es', pending.id, UNPLACED), undefined)
  })

  t.test('refuses an unknown request like the operator leg does', async (t) => {
    const { emulator } = await buildEmulator()
    t.strictSame(await authorizeRejection(emulator.authorization.offerSimPicker('telco-es', 'unknown', UNPLACED)),
      page('invalid_request', UNKNOWN_REQUEST))
  })

  t.test('the chosen SIM is identified as its fixture says, once', async (t) => {
    const choose = async (msisdn: string | undefined) => {
      const { emulator, pending } = await picker()
      await emulator.authorization.offerSimPicker('telco-es', pending.id, UNPLACED)
      const leg = newLeg()
      const done = emulator.authorization.completeWithChosenSim('telco-es', pending.id, msisdn, leg)
      return { emulator, pending, done, leg }
    }
    const network = await choose(SEED_MSISDN)
    const outcome = await network.done
    t.strictSame(outcome.identification, {
      outcome: 'network',
      subscriber: network.emulator.directory.subscriber(SEED_MSISDN),
      msisdn: SEED_MSISDN,
      via: 'SIM chosen on the simulated operator network'
    })
    t.strictSame(outcome.grant.amr, NETWORK_AMR)
    t.equal(network.leg.flow.msisdn, SEED_MSISDN)
    t.strictSame(await authorizeRejection(network.emulator.authorization.completeWithChosenSim('telco-es',
      network.pending.id, SEED_MSISDN)),
    page('invalid_request', UNKNOWN_REQUEST), 'single use')

    const otp = await choose('+34600000004')
    const fallback = await otp.done
    t.strictSame(fallback.identification,
      {
        outcome: 'fallback',
        subscriber: otp.emulator.directory.subscriber('+34600000004'),
        msisdn: '+34600000004',
        method: 'sms-otp'
      })
    t.strictSame(fallback.grant.amr, SMS_OTP_AMR)

    const failures: Array<[string | undefined, string]> = [
      [undefined,
        'Telco ES (emulated) cannot identify the device: the browser is on none of its SIMs (simulated operator ' +
          'network)'],
      ['+919036499174', 'Telco ES (emulated) has no SIM +919036499174 (simulated operator network)'],
      ['+34699999999', 'Telco ES (emulated) has no SIM +34699999999 (simulated operator network)'],
      ['+34600000002',
        'Telco ES (emulated) cannot authenticate +34600000002: the device is on wifi, not mobile data and no ' +
          'fallback method'],
      ['+34600000005',
        'Telco ES (emulated) cannot authenticate +34600000005: network authentication is not enabled for this ' +
          'subscriber and no fallback method']
    ]
    for (const [msisdn, reason] of failures) {
      t.strictSame(await authorizeRejection((await choose(msisdn)).done), redirect('access_denied', reason),
        msisdn ?? 'none')
    }
  })

  t.test('refuses a choice that was never offered, with an error page', async (t) => {
    const { emulator, pending } = await picker()
    t.strictSame(await authorizeRejection(emulator.authorization.completeWithChosenSim('telco-es', pending.id,
      SEED_MSISDN)),
    page('invalid_request', 'no SIM choice was offered for this authorization request'))
    t.not(await emulator.ctx.store.get('pending', pending.id), undefined, 'the request stays pending')
  })

  t.test('answers temporarily_unavailable when the operator was removed meanwhile', async (t) => {
    const { emulator, pending } = await picker()
    await emulator.authorization.offerSimPicker('telco-es', pending.id, UNPLACED)
    const document = defaultFixtureDocument()
    const telcoEs = document.operators.find((o) => o.id === 'telco-es')
    if (telcoEs !== undefined) telcoEs.id = 'telco-xx'
    document.subscribers = document.subscribers.filter((s) => s.operator !== 'telco-es')
    document.defaultOperator = 'telco-in'
    emulator.replaceFixtures(fixturesFrom(document))
    t.strictSame(await authorizeRejection(emulator.authorization.completeWithChosenSim('telco-es', pending.id,
      SEED_MSISDN)),
    redirect('temporarily_unavailable', 'operator "telco-es" is no longer configured'))
  })
})
