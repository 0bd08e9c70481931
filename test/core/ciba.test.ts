// The CIBA service itself (src/core/ciba.ts), called directly on a MemoryStore and a manual clock:
// bc-authorize's checks and the request it records, the operator's decision as the scenarios fix
// it, and the ciba grant's find / poll / spend / grantOf with every answer a poll can get.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { SignJWT, type JWTPayload } from 'jose'
import { NETWORK_AMR, pairwiseSubject } from '../../src/core/authorization.js'
import {
  ALREADY_REDEEMED, BackchannelAuthentication, CIBA_GRANT, type BackchannelResponse
} from '../../src/core/ciba.js'
import { JWT_BEARER_ASSERTION, type AuthenticatedClient, type Form } from '../../src/core/client-authentication.js'
import type { Emulator } from '../../src/core/emulator.js'
import { OAuthError } from '../../src/core/errors.js'
import { InjectedError, LegScenarios, newLeg, type Leg, type LegInput } from '../../src/core/legs.js'
import {
  OperatorTokenService, SIM_AMR, type RedeemableOperatorToken
} from '../../src/core/operator-tokens.js'
import type { Check } from '../../src/core/conformance.js'
import type { CibaRequest } from '../../src/core/records.js'
import type { Decision } from '../../src/core/scenarios/engine.js'
import {
  buildEmulator, clientAssertion, defaultFixtureDocument, demoJwtKey, fixturesFrom, ISSUER, recordingSleep, rejected,
  SCOPE, SEED_IPV4, SEED_MSISDN, START, START_S
} from './support.js'

const DEMO_SECRET: Form = { client_id: 'demo-app', client_secret: 'demo-secret' }
/** A SIM-capable subscriber on Wi-Fi: the back-end flows' user */
const WIFI_MSISDN = '+34600000002'
const SCOPES = ['openid', 'dpv:FraudPreventionAndDetection', 'number-verification:verify']
const BC_ENDPOINT = `${ISSUER}/bc-authorize`
const PENDING = 'the user has not been authenticated yet'
const EXPIRED = 'auth_req_id has expired: make a new authentication request'
const LOGIN_HINT_ONLY = 'is not used in CAMARA: send login_hint only (ICM r4.2 "Authentication Request")'

interface Failure {
  error: string
  description: string
  statusCode: number
}

async function oauthFailure (promise: Promise<unknown>): Promise<Failure> {
  const error = await rejected(promise)
  if (!(error instanceof OAuthError)) throw error
  return { error: error.error, description: error.description, statusCode: error.statusCode }
}

/** The failure and the reason the journal gets, which may say more than the description */
async function oauthReason (promise: Promise<unknown>): Promise<Failure & { reason: string }> {
  const error = await rejected(promise)
  if (!(error instanceof OAuthError)) throw error
  return { error: error.error, description: error.description, statusCode: error.statusCode, reason: error.reason }
}

function failure (error: string, description: string, statusCode = 400): Failure {
  return { error, description, statusCode }
}

function bcForm (loginHint: string | undefined, extra: Form = {}): Form {
  return { ...DEMO_SECRET, scope: SCOPE, login_hint: loginHint, ...extra }
}

async function accept (emulator: Emulator, loginHint: string, extra: Form = {},
  leg?: Leg): Promise<BackchannelResponse> {
  return await emulator.tokens.backchannel.authorize(bcForm(loginHint, extra), undefined, leg)
}

/** The checks the leg saw of one conformance rule (client authentication adds its own) */
function checks (leg: Leg, rule: Check['rule']): Check[] {
  return (leg.checks ?? []).filter((check) => check.rule === rule)
}

async function demoApp (emulator: Emulator): Promise<AuthenticatedClient> {
  return await emulator.tokens.clients.authenticate(DEMO_SECRET, undefined)
}

async function stored (emulator: Emulator, id: string): Promise<CibaRequest> {
  const request = await emulator.ctx.store.get('cibaRequests', id)
  if (request === undefined) throw new Error(`no CIBA request ${id}`)
  return request
}

/** One poll as the ciba grant makes it, without its scenarios: find, then poll */
async function poll (emulator: Emulator, id: string, leg: Leg = newLeg()): Promise<CibaRequest> {
  const backchannel = emulator.tokens.backchannel
  const request = await backchannel.find({ auth_req_id: id }, await demoApp(emulator), leg)
  await backchannel.poll(request)
  return request
}

async function operatorToken (emulator: Emulator, clientId = 'demo-app', msisdn = WIFI_MSISDN): Promise<{
  token: string
  flowId: string
}> {
  const issued = await emulator.operatorTokens.mint({ clientId, msisdn })
  return { token: issued.operatorToken, flowId: issued.flowId }
}

/** A signed authentication request of demo-app-jwt, valid now; undefined drops a claim */
async function signedRequest (nowMs: number, claims: JWTPayload = {}): Promise<string> {
  const now = Math.floor(nowMs / 1000)
  const payload: JWTPayload = {
    iss: 'demo-app-jwt', aud: BC_ENDPOINT, iat: now, nbf: now, exp: now + 60, jti: randomUUID(), scope: SCOPE, ...claims
  }
  for (const [name, value] of Object.entries(payload)) {
    if (value === undefined) delete payload[name]
  }
  return await new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', kid: 'demo-app-jwt-es256' })
    .sign(await demoJwtKey())
}

async function jwtClientForm (nowMs: number, extra: Form): Promise<Form> {
  return {
    client_assertion_type: JWT_BEARER_ASSERTION,
    client_assertion: await clientAssertion(nowMs, { aud: ISSUER }),
    ...extra
  }
}

t.test('bc-authorize with a tel: hint answers the auth_req_id and records the request the ciba grant redeems',
  async (t) => {
    const { emulator } = await buildEmulator()
    const leg = newLeg()
    const answer = await accept(emulator, `tel:${WIFI_MSISDN}`, {}, leg)
    t.match(answer.auth_req_id, /^[\w-]{32}$/)
    t.strictSame(answer, { auth_req_id: answer.auth_req_id, expires_in: 120, interval: 5 })
    const flowId = leg.flow.flowId
    t.type(flowId, 'string', 'a new flow')
    t.strictSame(leg.flow, { clientId: 'demo-app', msisdn: WIFI_MSISDN, operatorId: 'telco-es', flowId })
    t.strictSame(checks(leg, 'purpose'), [{ rule: 'purpose', ok: true, detail: '1 dpv: purposes in the scope' }])
    t.strictSame(await stored(emulator, answer.auth_req_id), {
      id: answer.auth_req_id,
      flowId,
      clientId: 'demo-app',
      msisdn: WIFI_MSISDN,
      operatorId: 'telco-es',
      subjectKind: 'tel',
      scopes: SCOPES,
      // The client asserted the number: nothing was authenticated
      amr: [],
      openid: true,
      offlineAccess: false,
      flowScenarios: [],
      expiresAt: START + 120_000,
      decidesAt: START,
      decision: { outcome: 'approved' },
      decidedBy: [],
      createdAt: START
    })
    t.strictSame(await emulator.ctx.store.get('cibaUses', answer.auth_req_id), { flowId })
  })

t.test('the answer\'s expires_in and interval, and the request\'s expiry, follow the settings', async (t) => {
  const { emulator } = await buildEmulator({ settings: { cibaInterval: 2, cibaExpiresIn: 30 } })
  const answer = await accept(emulator, `tel:${WIFI_MSISDN}`)
  t.strictSame(answer, { auth_req_id: answer.auth_req_id, expires_in: 30, interval: 2 })
  t.equal((await stored(emulator, answer.auth_req_id)).expiresAt, START + 30_000)
})

t.test('an operatortoken: hint continues the token\'s flow with SIM amr and spends the token', async (t) => {
  const { emulator } = await buildEmulator()
  const { token, flowId } = await operatorToken(emulator)
  const leg = newLeg()
  const answer = await accept(emulator, `operatortoken:${token}`, {}, leg)
  t.strictSame(leg.flow, { clientId: 'demo-app', msisdn: WIFI_MSISDN, operatorId: 'telco-es', flowId })
  t.strictSame(checks(leg, 'operator-token-once'),
    [{ rule: 'operator-token-once', ok: true, detail: 'the operator token was redeemed twice at once' }])
  const request = await stored(emulator, answer.auth_req_id)
  t.strictSame([request.flowId, request.subjectKind, request.amr, request.msisdn],
    [flowId, 'operatortoken', SIM_AMR, WIFI_MSISDN])

  const again = newLeg()
  t.strictSame(await oauthFailure(accept(emulator, `operatortoken:${token}`, {}, again)),
    failure('unknown_user_id', 'login_hint: the operator token was already used'))
  t.equal(again.flow.flowId, flowId, 'the refusal is journalled in the token\'s flow')
  t.strictSame(checks(again, 'operator-token-once'),
    [{ rule: 'operator-token-once', ok: false, detail: 'the operator token was redeemed again' }])
})

t.test('an ipport: hint names the subscriber on the mobile network at that address, network-authenticated',
  async (t) => {
    const { emulator } = await buildEmulator()
    const answer = await accept(emulator, `ipport:${SEED_IPV4}:16790`)
    const request = await stored(emulator, answer.auth_req_id)
    t.strictSame([request.subjectKind, request.msisdn, request.operatorId, request.amr],
      ['ipport', SEED_MSISDN, 'telco-es', NETWORK_AMR])
  })

t.test('bc-authorize refusals as ICM r4.2 Appendix A lists them, none recording a request', async (t) => {
  const document = defaultFixtureDocument()
  for (const client of document.clients) {
    if (client.clientId === 'demo-web') delete client.backendGrants
  }
  const { emulator, clock } = await buildEmulator({ fixtures: fixturesFrom(document) })
  const otherApps = await operatorToken(emulator, 'demo-app-jwt')
  const expiring = (await emulator.operatorTokens.mint({
    clientId: 'demo-app', msisdn: WIFI_MSISDN, lifetimeSeconds: 1
  })).operatorToken
  const simLost = await operatorToken(emulator)
  const moved = await operatorToken(emulator, 'demo-app', '+34666666666')
  clock.advance(1000)
  emulator.changeFixtures('test', (current) => ({
    ...current,
    subscribers: current.subscribers.map((s) => {
      if (s.msisdn === WIFI_MSISDN) return { ...s, authMethods: ['network'] as const }
      if (s.msisdn === SEED_MSISDN) return { ...s, operator: 'telco-in' }
      return s
    })
  }))
  const cases: Array<[string, Form, Failure]> = [
    ['a client without the ciba grant',
      { ...bcForm(`tel:${SEED_MSISDN}`), client_id: 'demo-web', client_secret: 'demo-web-secret' },
      failure('unauthorized_client', 'client "demo-web" is not allowed to use CIBA')],
    ['a wrong secret', bcForm(`tel:${SEED_MSISDN}`, { client_secret: 'wrong' }),
      failure('invalid_client', 'client authentication failed', 401)],
    ['a login_hint_token', bcForm(`tel:${SEED_MSISDN}`, { login_hint_token: 'x' }),
      failure('invalid_request', `login_hint_token ${LOGIN_HINT_ONLY}`)],
    ['an id_token_hint', bcForm(undefined, { id_token_hint: 'x' }),
      failure('invalid_request', `id_token_hint ${LOGIN_HINT_ONLY}`)],
    ['no scope', bcForm(`tel:${SEED_MSISDN}`, { scope: undefined }),
      failure('invalid_request', 'scope is required (openid, a dpv: purpose and the API scopes)')],
    ['no openid', bcForm(`tel:${SEED_MSISDN}`, { scope: 'dpv:FraudPreventionAndDetection number-verification:verify' }),
      failure('invalid_scope', 'a CIBA request\'s scope must contain openid (CIBA Core section 7.1)')],
    ['an API scope the client lacks', bcForm(`tel:${SEED_MSISDN}`, { scope: `${SCOPE} sim-swap:check` }),
      failure('invalid_scope', 'scope not allowed for this client: sim-swap:check')],
    ['no purpose', bcForm(`tel:${SEED_MSISDN}`, { scope: 'openid number-verification:verify' }),
      failure('invalid_scope', 'a dpv: purpose is required, e.g. dpv:FraudPreventionAndDetection')],
    ['no login_hint', bcForm(undefined),
      failure('invalid_request', 'login_hint is required (tel:+E164, ipport:IP[:port] or operatortoken:<token>)')],
    ['a malformed tel:', bcForm('tel:0034'),
      failure('invalid_request', 'login_hint "tel:0034" is not tel:+E.164 (e.g. tel:+34666666666)')],
    ['a malformed ipport:', bcForm('ipport:999.1.1.1'),
      failure('invalid_request', 'login_hint "ipport:999.1.1.1" is not ipport:IPv4[:port] or ipport:[IPv6][:port]')],
    ['a hint of no CAMARA form', bcForm('sub:1234'),
      failure('unknown_user_id',
        'login_hint "sub:1234" is none of tel:, ipport:, operatortoken: (ICM r4.2 "Format of login_hint")')],
    ['an unknown number', bcForm('tel:+4915100000000'),
      failure('unknown_user_id', 'login_hint: +4915100000000 is not a subscriber of this gateway\'s operators')],
    ['an address of no subscriber', bcForm('ipport:10.0.0.1'),
      failure('unknown_user_id', 'login_hint: no subscriber is on an operator\'s mobile network at 10.0.0.1')],
    ['an address on Wi-Fi', bcForm('ipport:81.40.12.35'),
      failure('unknown_user_id', 'login_hint: no subscriber is on an operator\'s mobile network at 81.40.12.35')],
    ['a mobile-data address without network authentication', bcForm('ipport:142.115.147.150'),
      failure('unknown_user_id', 'login_hint: no subscriber is on an operator\'s mobile network at 142.115.147.150')],
    ['an unknown operator token', bcForm('operatortoken:nope'),
      failure('unknown_user_id', 'login_hint: the operator token is unknown')],
    ['an expired operator token', bcForm(`operatortoken:${expiring}`),
      failure('unknown_user_id', 'login_hint: the operator token has expired')],
    ['another app\'s operator token', bcForm(`operatortoken:${otherApps.token}`),
      failure('access_denied', 'login_hint: the operator token was issued for another app', 403)],
    ['a token of a SIM no longer provisioned', bcForm(`operatortoken:${simLost.token}`),
      failure('access_denied', `login_hint: SIM-based authentication is no longer available for ${WIFI_MSISDN}`, 403)],
    ['a token of an operator that lost the subscriber', bcForm(`operatortoken:${moved.token}`),
      failure('unknown_user_id', `login_hint: the operator token is telco-es's, which no longer serves ${SEED_MSISDN}`)]
  ]
  for (const [name, form, expected] of cases) {
    t.strictSame(await oauthFailure(emulator.tokens.backchannel.authorize(form, undefined)), expected, name)
  }
  t.equal(await emulator.ctx.store.size('cibaRequests'), 0)
})

t.test('a refused operator token names its flow on the leg, for the journal', async (t) => {
  const { emulator } = await buildEmulator()
  const { token, flowId } = await operatorToken(emulator, 'demo-app-jwt')
  const leg = newLeg()
  t.strictSame(await oauthReason(accept(emulator, `operatortoken:${token}`, {}, leg)), {
    ...failure('access_denied', 'login_hint: the operator token was issued for another app', 403),
    reason: 'login_hint: the operator token was issued for another app ("demo-app-jwt")'
  }, 'the answer does not name the app the token is for; the journal\'s reason does')
  t.strictSame(leg.flow, { clientId: 'demo-app', flowId })
})

t.test('a store failure while checking the operator token is not turned into a refusal', async (t) => {
  const { emulator } = await buildEmulator()
  class UnreachableStore extends OperatorTokenService {
    override async check (): Promise<RedeemableOperatorToken> {
      throw new Error('store unreachable')
    }
  }
  const backchannel = new BackchannelAuthentication(emulator.ctx, emulator.tokens.clients,
    new UnreachableStore(emulator.ctx))
  const error = await rejected(backchannel.authorize(bcForm('operatortoken:whatever'), undefined))
  t.notOk(error instanceof OAuthError)
  t.equal((error as Error).message, 'store unreachable')
})

t.test('without a required purpose, a scope of none is accepted and the conformance check fails', async (t) => {
  const { emulator } = await buildEmulator({ settings: { requirePurpose: false } })
  const leg = newLeg()
  const answer = await accept(emulator, `tel:${WIFI_MSISDN}`, { scope: 'openid number-verification:verify' }, leg)
  t.strictSame(checks(leg, 'purpose'), [{ rule: 'purpose', ok: false, detail: '0 dpv: purposes in the scope' }])
  t.strictSame((await stored(emulator, answer.auth_req_id)).scopes, ['openid', 'number-verification:verify'])
})

t.test('offline_access is recorded on the request', async (t) => {
  const { emulator } = await buildEmulator()
  const answer = await accept(emulator, `tel:${WIFI_MSISDN}`, { scope: `${SCOPE} offline_access` })
  const request = await stored(emulator, answer.auth_req_id)
  t.strictSame([request.offlineAccess, request.openid], [true, true])
})

t.test('at --max-pending requests, 503 temporarily_unavailable, the operator token kept, until one is forgotten',
  async (t) => {
    const { emulator, clock } = await buildEmulator({ settings: { maxPending: 1 } })
    await accept(emulator, `tel:${WIFI_MSISDN}`)
    // It outlives the wait below, which would otherwise be why it is refused
    const token = (await emulator.operatorTokens.mint({
      clientId: 'demo-app', msisdn: WIFI_MSISDN, lifetimeSeconds: 900
    })).operatorToken
    const full = failure(
      'temporarily_unavailable',
      "this emulator keeps at most 1 CIBA requests (--max-pending); a request's place frees 600 s after it expires " +
        '(kept to answer expired_token)',
      503
    )
    t.strictSame(await oauthFailure(accept(emulator, `operatortoken:${token}`)), full)
    // The expired request stays known for 600 s so that a late poll is told expired_token
    clock.advance((120 + 600) * 1000)
    const answer = await accept(emulator, `operatortoken:${token}`)
    t.equal((await stored(emulator, answer.auth_req_id)).subjectKind, 'operatortoken')
  })

t.test('the operator\'s decision as the scenarios fix it', async (t) => {
  const document = defaultFixtureDocument()
  document.scenarios.push({
    name: 'ciba-garbled-answer',
    description: 'the CIBA answer is malformed JSON: a body fault, not a silent device',
    match: { operations: ['ciba-decision'] },
    effects: { fault: { type: 'malformed-json' } }
  })
  const { emulator } = await buildEmulator({ fixtures: fixturesFrom(document) })
  const decided = async (scenario: string): Promise<Pick<CibaRequest, 'decision' | 'decidedBy' | 'decidesAt'>> => {
    const { decision, decidedBy, decidesAt } = await stored(emulator,
      (await accept(emulator, `tel:${WIFI_MSISDN}`, {}, newLeg([scenario]))).auth_req_id)
    return { decision, decidedBy, decidesAt }
  }
  t.strictSame(await decided('ciba-slow-operator'),
    { decision: { outcome: 'approved' }, decidedBy: ['ciba-slow-operator'], decidesAt: START + 3000 })
  t.strictSame(await decided('ciba-device-never-answers'),
    { decision: { outcome: 'never' }, decidedBy: ['ciba-device-never-answers'], decidesAt: START })
  t.strictSame(await decided('ciba-consent-denied'), {
    decision: { outcome: 'denied', error: 'access_denied', description: 'The user denied consent.', status: 400 },
    decidedBy: ['ciba-consent-denied'],
    decidesAt: START
  })
  t.strictSame(await decided('ciba-garbled-answer'),
    { decision: { outcome: 'approved' }, decidedBy: ['ciba-garbled-answer'], decidesAt: START })
})

t.test('an operator\'s refusal that is no OAuth error becomes the standard access_denied', async (t) => {
  const { emulator } = await buildEmulator()
  // The engine gives ciba-decision OAuth errors only: the decision is forced around it
  class CamaraRefusal extends LegScenarios {
    override async decide (leg: Leg, input: LegInput): Promise<Decision> {
      const decision = await super.decide(leg, input)
      if (input.operation !== 'ciba-decision') return decision
      return { ...decision, error: { kind: 'camara', scenario: 'forced', status: 503, code: 'UNAVAILABLE' } }
    }
  }
  const legs = new CamaraRefusal(emulator.scenarios, () => emulator.directory, async () => {})
  const backchannel = new BackchannelAuthentication({ ...emulator.ctx, legs }, emulator.tokens.clients,
    emulator.operatorTokens)
  const { auth_req_id: id } = await backchannel.authorize(bcForm(`tel:${WIFI_MSISDN}`), undefined)
  t.strictSame((await stored(emulator, id)).decision,
    {
      outcome: 'denied',
      error: 'access_denied',
      description: 'The user denied the authorization request.',
      status: 400
    })
})

t.test('emulator_scenario chooses the scenarios of the whole flow, unless callers may not choose', async (t) => {
  const open = (await buildEmulator()).emulator
  const chosen = await stored(open,
    (await accept(open, `tel:${WIFI_MSISDN}`, { emulator_scenario: 'ciba-consent-denied' })).auth_req_id)
  t.strictSame([chosen.flowScenarios, chosen.decision.outcome], [['ciba-consent-denied'], 'denied'])

  const closed = (await buildEmulator({ settings: { userScenarios: false } })).emulator
  const ignored = await stored(closed,
    (await accept(closed, `tel:${WIFI_MSISDN}`, { emulator_scenario: 'ciba-consent-denied' })).auth_req_id)
  t.strictSame([ignored.flowScenarios, ignored.decision.outcome], [[], 'approved'])
})

t.test('an unknown scenario name fails bc-authorize before anything is recorded', async (t) => {
  const { emulator } = await buildEmulator()
  const error = await rejected(accept(emulator, `tel:${WIFI_MSISDN}`, {}, newLeg(['no-such-scenario'])))
  t.ok(error instanceof InjectedError)
  t.strictSame((error as InjectedError).problem, { unknown: ['no-such-scenario'] })
  t.equal(await emulator.ctx.store.size('cibaRequests'), 0)
})

t.test('an injected bc-authorize error is decided before the take: the operator token stays usable', async (t) => {
  const { emulator } = await buildEmulator()
  const { token } = await operatorToken(emulator)
  const error = await rejected(accept(emulator, `operatortoken:${token}`, {}, newLeg(['ciba-unknown-user'])))
  t.ok(error instanceof InjectedError)
  t.match((error as InjectedError).problem, { kind: 'oauth', error: 'unknown_user_id', scenario: 'ciba-unknown-user' })
  t.equal(await emulator.ctx.store.size('cibaRequests'), 0)
  const answer = await accept(emulator, `operatortoken:${token}`)
  t.equal((await stored(emulator, answer.auth_req_id)).subjectKind, 'operatortoken')
})

t.test('bc-authorize waits its own latency; the operator\'s latency is not waited but delays its decision',
  async (t) => {
    const document = defaultFixtureDocument()
    document.scenarios.push({
      name: 'slow-ciba',
      description: 'bc-authorize and the operator\'s decision take 700 ms each',
      match: { operations: ['bc-authorize', 'ciba-decision'] },
      effects: { latency: { fixedMs: 700 } }
    })
    const { sleep, waits } = recordingSleep()
    const { emulator } = await buildEmulator({ fixtures: fixturesFrom(document), sleep })
    const { auth_req_id: id } = await accept(emulator, `tel:${WIFI_MSISDN}`, {}, newLeg(['slow-ciba']))
    t.strictSame(waits, [700])
    t.equal((await stored(emulator, id)).decidesAt, START + 700)
  })

t.test('of ten parallel bc-authorize with one operator token, exactly one is accepted', async (t) => {
  const { emulator } = await buildEmulator()
  const { token } = await operatorToken(emulator)
  const legs = Array.from({ length: 10 }, () => newLeg())
  const outcomes = await Promise.allSettled(legs.map(async (leg) =>
    await accept(emulator, `operatortoken:${token}`, {}, leg)))
  const accepted = outcomes.filter((outcome) => outcome.status === 'fulfilled')
  t.equal(accepted.length, 1)
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled') continue
    t.strictSame(await oauthFailure(Promise.reject(outcome.reason)),
      failure('unknown_user_id', 'login_hint: the operator token was already used'))
  }
  t.equal(await emulator.ctx.store.size('cibaRequests'), 1)
  // The losers passed the check in parallel and lost the take: the conformance report sees a race
  t.strictSame(legs.map((leg) => checks(leg, 'operator-token-once').map((check) => check.ok)).sort(),
    [[false], [false], [false], [false], [false], [false], [false], [false], [false], [true]])
})

t.test('signed authentication requests (CIBA Core 7.1.1)', async (t) => {
  t.test('the parameters come from the object; emulator_scenario may come beside it', async (t) => {
    const { emulator, clock } = await buildEmulator()
    const { token } = await operatorToken(emulator, 'demo-app-jwt')
    const request = await signedRequest(clock.now(),
      { login_hint: `operatortoken:${token}`, scope: `${SCOPE} offline_access` })
    const form = await jwtClientForm(clock.now(), { request, emulator_scenario: 'ciba-slow-operator' })
    const answer = await emulator.tokens.backchannel.authorize(form, undefined)
    const recorded = await stored(emulator, answer.auth_req_id)
    const { clientId, msisdn, offlineAccess, flowScenarios, decidesAt } = recorded
    t.strictSame([clientId, msisdn, offlineAccess, flowScenarios, decidesAt],
      ['demo-app-jwt', WIFI_MSISDN, true, ['ciba-slow-operator'], START + 3000])
  })

  t.test('refusals are invalid_request, and none spends the jti or the operator token', async (t) => {
    const { emulator, clock } = await buildEmulator()
    const { token } = await operatorToken(emulator, 'demo-app-jwt')
    const hint = `operatortoken:${token}`
    const jti = randomUUID()
    /** bc-authorize with a signed request carrying these claims, and these form fields beside it */
    const send = async (claims: JWTPayload, beside: Form = {}, leg?: Leg): Promise<BackchannelResponse> => {
      const form = await jwtClientForm(clock.now(), { request: await signedRequest(clock.now(), claims), ...beside })
      return await emulator.tokens.backchannel.authorize(form, undefined, leg)
    }
    t.strictSame(await oauthFailure(send({ login_hint: hint, jti }, { scope: SCOPE, acr_values: 'x' })),
      failure('invalid_request', 'a signed authentication request carries every parameter: send scope, acr_values ' +
        'inside the request object only (CIBA Core section 7.1.1)'))
    t.strictSame(await oauthFailure(send({ login_hint: hint, jti, nbf: undefined })),
      failure('invalid_request', 'request object rejected: claim "nbf" is missing'))
    t.strictSame(await oauthFailure(emulator.tokens.backchannel.authorize(
      await jwtClientForm(clock.now(), { request: 'not-a-jwt' }), undefined)),
    failure('invalid_request', 'request is not a signed JWT (compact JWS)'))
    t.strictSame(await oauthFailure(send({ login_hint: `tel:${WIFI_MSISDN}`, login_hint_token: 'x' })),
      failure('invalid_request', `login_hint_token ${LOGIN_HINT_ONLY}`),
      'the object\'s parameters are checked as a form\'s')
    const injected = await rejected(send({ login_hint: hint, jti }, {}, newLeg(['ciba-unknown-user'])))
    t.ok(injected instanceof InjectedError, 'an injected error, decided before the jti is spent')

    const accepted = await send({ login_hint: hint, jti })
    t.equal((await stored(emulator, accepted.auth_req_id)).subjectKind, 'operatortoken')
    const { token: fresh } = await operatorToken(emulator, 'demo-app-jwt')
    t.strictSame(await oauthFailure(send({ login_hint: `operatortoken:${fresh}`, jti })),
      failure('invalid_request', 'request object jti was already used: sign a fresh request object for every request'))
    const retried = await send({ login_hint: `operatortoken:${fresh}` })
    t.equal((await stored(emulator, retried.auth_req_id)).subjectKind, 'operatortoken',
      'the jti refusal left the operator token usable')
  })

  t.test('a client without a JWKS cannot sign one', async (t) => {
    const { emulator, clock } = await buildEmulator()
    const request = await signedRequest(clock.now(), { iss: 'demo-app', login_hint: `tel:${WIFI_MSISDN}` })
    t.strictSame(await oauthFailure(emulator.tokens.backchannel.authorize({ ...DEMO_SECRET, request }, undefined)),
      failure('invalid_request', 'client "demo-app" has no registered JWKS to verify a request object with; ' +
        'register jwks, or send the parameters in the query'))
  })
})

t.test('find: the request an auth_req_id names, for this client, unexpired and unredeemed', async (t) => {
  const { emulator, clock } = await buildEmulator()
  const backchannel = emulator.tokens.backchannel
  const client = await demoApp(emulator)
  const { auth_req_id: id } = await accept(emulator, `tel:${WIFI_MSISDN}`)
  const leg = newLeg()
  const found = await backchannel.find({ auth_req_id: id }, client, leg)
  t.strictSame(found, await stored(emulator, id))
  t.strictSame(leg.flow, { flowId: found.flowId, clientId: 'demo-app', msisdn: WIFI_MSISDN, operatorId: 'telco-es' })

  t.strictSame(await oauthFailure(backchannel.find({}, client, newLeg())),
    failure('invalid_request', 'auth_req_id is required with the ciba grant'))
  t.strictSame(await oauthFailure(backchannel.find({ auth_req_id: 'nope' }, client, newLeg())),
    failure('invalid_grant', 'auth_req_id is unknown'))
  const other = await emulator.tokens.clients.authenticate(await jwtClientForm(clock.now(), {}), undefined)
  const foreign = newLeg()
  t.strictSame(await oauthFailure(backchannel.find({ auth_req_id: id }, other, foreign)),
    failure('invalid_grant', 'auth_req_id was issued to another client'))
  t.strictSame(foreign.flow, {}, 'another client\'s request is not revealed on its leg')

  t.equal(await backchannel.spend(found), true)
  t.strictSame(await oauthFailure(backchannel.find({ auth_req_id: id }, client, newLeg())),
    failure('invalid_grant', ALREADY_REDEEMED))
})

t.test('expiry by the clock: found until expires_in, expired_token then, unknown once forgotten', async (t) => {
  const { emulator, clock } = await buildEmulator()
  const { auth_req_id: id } = await accept(emulator, `tel:${WIFI_MSISDN}`, {}, newLeg(['ciba-device-never-answers']))
  clock.advance(119_999)
  t.strictSame(await oauthFailure(poll(emulator, id)), failure('authorization_pending', PENDING))
  clock.advance(1)
  const leg = newLeg()
  t.strictSame(await oauthFailure(poll(emulator, id, leg)), failure('expired_token', EXPIRED))
  t.equal(leg.flow.msisdn, WIFI_MSISDN, 'the expired poll is journalled in its flow')
  // An approved request is expired too when never redeemed in time: its single use lapsed with it
  const { auth_req_id: late } = await accept(emulator, `tel:${WIFI_MSISDN}`)
  clock.advance(120_000)
  t.strictSame(await oauthFailure(poll(emulator, late)), failure('expired_token', EXPIRED))
  clock.advance(600_000)
  t.strictSame(await oauthFailure(poll(emulator, late)), failure('invalid_grant', 'auth_req_id is unknown'))
})

t.test('poll: an approved request passes at once, as often as it is polled at the interval', async (t) => {
  const { emulator, clock } = await buildEmulator()
  const { auth_req_id: id } = await accept(emulator, `tel:${WIFI_MSISDN}`)
  const request = await poll(emulator, id)
  t.strictSame(await emulator.ctx.store.get('cibaPolls', id), { lastPolledAt: START, interval: 5 })
  clock.advance(5000)
  t.equal(await emulator.tokens.backchannel.poll(request), undefined)
  t.strictSame(await emulator.ctx.store.get('cibaPolls', id), { lastPolledAt: START + 5000, interval: 5 })
})

t.test('poll: authorization_pending until the operator decides, saying when', async (t) => {
  const { emulator, clock } = await buildEmulator({ settings: { cibaInterval: 1 } })
  const { auth_req_id: id } = await accept(emulator, `tel:${WIFI_MSISDN}`, {}, newLeg(['ciba-slow-operator']))
  t.strictSame(await oauthReason(poll(emulator, id)),
    { ...failure('authorization_pending', PENDING), reason: 'the operator decides in 3 s' })
  clock.advance(1500)
  t.strictSame(await oauthReason(poll(emulator, id)),
    { ...failure('authorization_pending', PENDING), reason: 'the operator decides in 2 s' }, 'rounded up')
  clock.advance(1499)
  t.strictSame(await oauthReason(poll(emulator, id)),
    { ...failure('authorization_pending', PENDING), reason: 'the operator decides in 1 s' })
  clock.advance(1000)
  t.equal((await poll(emulator, id)).id, id, 'decided at decidesAt')
})

t.test('poll: slow_down when polled within the interval, which grows by 5 s for every later poll', async (t) => {
  const { emulator, clock } = await buildEmulator()
  const { auth_req_id: id } = await accept(emulator, `tel:${WIFI_MSISDN}`, {}, newLeg(['ciba-slow-operator']))
  t.strictSame(await oauthFailure(poll(emulator, id)), failure('authorization_pending', PENDING))
  clock.advance(1000)
  t.strictSame(await oauthFailure(poll(emulator, id)),
    failure('slow_down', 'polled 1 s after the last poll; wait at least 10 s between polls'))
  t.strictSame(await emulator.ctx.store.get('cibaPolls', id), { lastPolledAt: START + 1000, interval: 10 })
  clock.advance(9950)
  t.strictSame(await oauthFailure(poll(emulator, id)),
    failure('slow_down', 'polled 10 s after the last poll; wait at least 15 s between polls'), 'tenths of a second')
  clock.advance(15_000)
  t.equal((await poll(emulator, id)).id, id, 'a poll at the grown interval is answered')
  t.strictSame(await emulator.ctx.store.get('cibaPolls', id), { lastPolledAt: START + 25_950, interval: 15 },
    'and the grown interval is kept')
  clock.advance(14_950)
  t.strictSame(await oauthFailure(poll(emulator, id)),
    failure('slow_down', 'polled 15 s after the last poll; wait at least 20 s between polls'))
  clock.advance(50)
  t.strictSame(await oauthFailure(poll(emulator, id)),
    failure('slow_down', 'polled 0.1 s after the last poll; wait at least 25 s between polls'),
    'a slow_down poll counts as the last poll')
})

t.test('poll: a device that never answers is pending with the scenario named, until expired_token', async (t) => {
  const { emulator, clock } = await buildEmulator()
  const { auth_req_id: id } = await accept(emulator, `tel:${WIFI_MSISDN}`, {}, newLeg(['ciba-device-never-answers']))
  const reason = 'the user\'s device never answers (scenario ciba-device-never-answers)'
  t.strictSame(await oauthReason(poll(emulator, id)), { ...failure('authorization_pending', PENDING), reason })
  clock.advance(60_000)
  t.strictSame(await oauthReason(poll(emulator, id)), { ...failure('authorization_pending', PENDING), reason })
  clock.advance(60_000)
  t.strictSame(await oauthFailure(poll(emulator, id)), failure('expired_token', EXPIRED))
})

t.test('poll: a refusal answers its error at every poll and never lets the request be redeemed', async (t) => {
  const { emulator, clock } = await buildEmulator()
  const { auth_req_id: id } = await accept(emulator, `tel:${WIFI_MSISDN}`, {}, newLeg(['ciba-consent-denied']))
  const denied = {
    ...failure('access_denied', 'The user denied consent.'),
    reason: 'the operator refused (scenario ciba-consent-denied)'
  }
  t.strictSame(await oauthReason(poll(emulator, id)), denied)
  clock.advance(5000)
  t.strictSame(await oauthReason(poll(emulator, id)), denied)
  t.strictSame(await emulator.ctx.store.get('cibaUses', id), { flowId: (await stored(emulator, id)).flowId })
})

t.test('poll: a refusal with its own status keeps it', async (t) => {
  const document = defaultFixtureDocument()
  document.scenarios.push({
    name: 'ciba-barred',
    description: 'the operator refuses with 403',
    match: { operations: ['ciba-decision'] },
    effects: { error: { oauth: { error: 'access_denied', description: 'Barred line.', status: 403 } } }
  })
  const { emulator } = await buildEmulator({ fixtures: fixturesFrom(document) })
  const { auth_req_id: id } = await accept(emulator, `tel:${WIFI_MSISDN}`, {}, newLeg(['ciba-barred']))
  t.strictSame(await oauthFailure(poll(emulator, id)), failure('access_denied', 'Barred line.', 403))
})

t.test('spend: the request\'s single redemption, taken by exactly one of ten parallel spends', async (t) => {
  const { emulator } = await buildEmulator()
  const { auth_req_id: id } = await accept(emulator, `tel:${WIFI_MSISDN}`)
  const request = await poll(emulator, id)
  const won = await Promise.all(Array.from({ length: 10 }, async () =>
    await emulator.tokens.backchannel.spend(request)))
  t.strictSame(won.filter((spent) => spent).length, 1)
  t.equal(await emulator.tokens.backchannel.spend(request), false, 'and none later')
  t.equal(await emulator.ctx.store.get('cibaUses', id), undefined)
})

t.test('ten parallel ciba grants of one approved auth_req_id: exactly one gets tokens', async (t) => {
  const { emulator } = await buildEmulator()
  const { auth_req_id: id } = await accept(emulator, `tel:${WIFI_MSISDN}`)
  const form: Form = { grant_type: CIBA_GRANT, auth_req_id: id, ...DEMO_SECRET }
  const outcomes = await Promise.allSettled(Array.from({ length: 10 }, async () =>
    await emulator.tokens.token(form, undefined)))
  const issued = outcomes.filter((outcome) => outcome.status === 'fulfilled')
  t.equal(issued.length, 1)
  const losers = outcomes.flatMap((outcome) => outcome.status === 'rejected' ? [outcome.reason as unknown] : [])
  t.equal(losers.length, 9)
  // Sent together, nine polls came within the interval of the one on time: slow_down, atomically
  // (reading the last poll, then writing it, let them all through to lose the take instead)
  t.strictSame(
    losers.map((loser) => (loser instanceof OAuthError ? loser.error : String(loser))),
    Array(9).fill('slow_down')
  )
  t.equal(await emulator.ctx.store.size('grants'), 1, 'one grant')
  t.strictSame(await oauthFailure(emulator.tokens.token(form, undefined)), failure('invalid_grant', ALREADY_REDEEMED))
})

t.test('an injected token error is decided before the poll: the request stays usable and unpolled', async (t) => {
  const { emulator } = await buildEmulator()
  const { auth_req_id: id } = await accept(emulator, `tel:${WIFI_MSISDN}`)
  const form: Form = { grant_type: CIBA_GRANT, auth_req_id: id, ...DEMO_SECRET }
  const error = await rejected(emulator.tokens.token(form, undefined, newLeg(['token-server-error'])))
  t.ok(error instanceof InjectedError)
  t.equal(await emulator.ctx.store.get('cibaPolls', id), undefined, 'no poll was counted: no slow_down next')
  const { response } = await emulator.tokens.token(form, undefined)
  t.equal(response.token_type, 'Bearer')
})

t.test('grantOf: the grant an approved request gives, as long as its access token', async (t) => {
  const { emulator, clock } = await buildEmulator()
  const { auth_req_id: id } = await accept(emulator, `tel:${WIFI_MSISDN}`, {}, newLeg(['ciba-slow-operator']))
  clock.advance(4000)
  const request = await poll(emulator, id)
  const grant = emulator.tokens.backchannel.grantOf(request)
  t.match(grant.id, /^[\w-]{16}$/)
  t.strictSame(grant, {
    id: grant.id,
    flowId: request.flowId,
    clientId: 'demo-app',
    msisdn: WIFI_MSISDN,
    operatorId: 'telco-es',
    sub: pairwiseSubject('camara-nv-emulator', 'demo-app', WIFI_MSISDN),
    scopes: SCOPES,
    amr: [],
    // When the operator decided, not when the client polled
    authTime: START_S + 3,
    nonce: undefined,
    openid: true,
    offlineAccess: false,
    flowScenarios: [],
    expiresAt: START + 4000 + 3600_000,
    revoked: false
  })
  t.not(emulator.tokens.backchannel.grantOf(request).id, grant.id, 'a new grant each time')
})

t.test('grantOf: with offline_access the grant lasts as its refresh token, or its access token if longer',
  async (t) => {
    const long = await buildEmulator({ settings: { refreshTokenTtl: 7200, accessTokenTtl: 600 } })
    const offline = await poll(long.emulator,
      (await accept(long.emulator, `tel:${WIFI_MSISDN}`, { scope: `${SCOPE} offline_access` })).auth_req_id)
    t.strictSame([offline.offlineAccess, long.emulator.tokens.backchannel.grantOf(offline).expiresAt],
      [true, START + 7200_000])

    const short = await buildEmulator({ settings: { refreshTokenTtl: 100, accessTokenTtl: 600 } })
    const request = await poll(short.emulator,
      (await accept(short.emulator, `tel:${WIFI_MSISDN}`, { scope: `${SCOPE} offline_access` })).auth_req_id)
    t.equal(short.emulator.tokens.backchannel.grantOf(request).expiresAt, START + 600_000)
  })
