// Operator tokens (SIM-based authentication, TS.43 emulated), called directly: the device leg and
// the control API's minting by each operator's settings, every refusal, the checks of a
// redemption (binding to operator, subscriber and app; expiry by the manual clock), the single
// use under parallel redemptions, and the --max-pending cap.
import t from 'tap'
import { OAuthError } from '../../src/core/errors.js'
import type { Emulator } from '../../src/core/emulator.js'
import type { OperatorFixture, SubscriberFixture } from '../../src/core/fixture-schema.js'
import { InjectedError, newLeg } from '../../src/core/legs.js'
import { OperatorTokenRefusal, SIM_AMR, type OperatorTokenProblem } from '../../src/core/operator-tokens.js'
import { buildEmulator, recordingSleep, rejected, SEED_IPV4, SEED_MSISDN, START } from './support.js'

const CLIENT_ID = 'demo-app-jwt'
/** telco-es's subscriber on Wi-Fi with SIM-based authentication */
const WIFI_MSISDN = '+34600000002'
const WIFI_IPV4 = '81.40.12.34'
const TOKEN = /^[\w-]{43}$/

interface Failure {
  error: string
  description: string
  statusCode: number
}

async function failure (promise: Promise<unknown>): Promise<Failure> {
  const error = await rejected(promise)
  if (!(error instanceof OAuthError)) throw error
  return { error: error.error, description: error.description, statusCode: error.statusCode }
}

interface Refusal {
  problem: OperatorTokenProblem
  message: string
  flowId: string | undefined
}

async function refusal (promise: Promise<unknown>): Promise<Refusal> {
  const error = await rejected(promise)
  if (!(error instanceof OperatorTokenRefusal)) throw error
  return { problem: error.problem, message: error.message, flowId: error.flowId }
}

function subscriberOf (emulator: Emulator, msisdn: string): SubscriberFixture {
  const subscriber = emulator.directory.subscriber(msisdn)
  if (subscriber === undefined) throw new Error(`no subscriber ${msisdn} in the default fixtures`)
  return subscriber
}

function changeOperator (emulator: Emulator, id: string, change: (operator: OperatorFixture) => OperatorFixture): void {
  emulator.changeFixtures('test', (current) => ({
    ...current,
    operators: current.operators.map((operator) => operator.id === id ? change(operator) : operator)
  }))
}

const SIM_UNAVAILABLE: Failure = {
  error: 'access_denied',
  description: 'the SIM of +34666666667 cannot do SIM-based authentication (TS.43 is not provisioned for it)',
  statusCode: 403
}
const NO_OPERATOR_TOKENS: Failure = {
  error: 'access_denied',
  description: 'Telco IN (emulated) does not offer SIM-based authentication (no operator tokens)',
  statusCode: 403
}
const UNREGISTERED_APP: Failure = {
  error: 'unauthorized_client',
  description: 'the app "nobody" is not registered: operator tokens are issued for a registered client_id',
  statusCode: 403
}

t.test('SIM_AMR names the smart card and the hardware-secured key (RFC 8176)', async (t) => {
  t.strictSame(SIM_AMR, ['sc', 'hwk'])
})

t.test('acquire: the device leg', async (t) => {
  t.test('the device named by its number gets an opaque token bound to operator, subscriber and app', async (t) => {
    const { emulator } = await buildEmulator()
    const leg = newLeg()
    const issued = await emulator.operatorTokens.acquire(
      'telco-es', { clientId: CLIENT_ID, msisdn: WIFI_MSISDN }, undefined, leg
    )
    t.match(issued.operatorToken, TOKEN)
    t.match(issued.flowId, /\S/)
    t.strictSame(issued, {
      operatorToken: issued.operatorToken,
      expiresIn: 300,
      expiresAt: new Date(START + 300_000).toISOString(),
      operatorId: 'telco-es',
      flowId: issued.flowId
    })
    t.strictSame(leg.flow, { operatorId: 'telco-es', clientId: CLIENT_ID, msisdn: WIFI_MSISDN, flowId: issued.flowId })
    t.strictSame(await emulator.ctx.store.get('operatorTokens', issued.operatorToken), {
      operatorId: 'telco-es',
      msisdn: WIFI_MSISDN,
      clientId: CLIENT_ID,
      flowId: issued.flowId,
      issuedAt: START,
      expiresAt: START + 300_000
    })
    t.strictSame(await emulator.ctx.store.get('operatorTokenUses', issued.operatorToken), { flowId: issued.flowId })
  })

  t.test('each token is new: another token, another flow', async (t) => {
    const { emulator } = await buildEmulator()
    const request = { clientId: CLIENT_ID, msisdn: WIFI_MSISDN }
    const [a, b] = [await emulator.operatorTokens.acquire('telco-es', request, undefined),
      await emulator.operatorTokens.acquire('telco-es', request, undefined)]
    t.not(a?.operatorToken, b?.operatorToken)
    t.not(a?.flowId, b?.flowId)
  })

  t.test('the device named by its address, else by where the request came from', async (t) => {
    const { emulator } = await buildEmulator()
    const msisdnOf = async (
      request: { address?: string, msisdn?: string }, source: string | undefined
    ): Promise<string | undefined> => {
      const { operatorToken } = await emulator.operatorTokens.acquire(
        'telco-es', { clientId: CLIENT_ID, ...request }, source
      )
      return (await emulator.ctx.store.get('operatorTokens', operatorToken))?.msisdn
    }
    t.equal(await msisdnOf({ address: WIFI_IPV4 }, undefined), WIFI_MSISDN)
    t.equal(await msisdnOf({}, SEED_IPV4), SEED_MSISDN)
    t.equal(await msisdnOf({ address: WIFI_IPV4 }, SEED_IPV4), WIFI_MSISDN, 'the address named wins over the source')
    t.equal(await msisdnOf({ msisdn: WIFI_MSISDN, address: SEED_IPV4 }, SEED_IPV4), WIFI_MSISDN,
      'the number wins over both')
  })

  t.test('every refusal of the entitlement server', async (t) => {
    const { emulator } = await buildEmulator()
    const acquire = async (operatorId: string, request: { clientId?: string, msisdn?: string, address?: string },
      source?: string): Promise<Failure> =>
      await failure(emulator.operatorTokens.acquire(operatorId, { clientId: CLIENT_ID, ...request }, source))
    const cases: Array<[string, Promise<Failure>, Failure]> = [
      ['an unknown operator', acquire('nowhere', { msisdn: WIFI_MSISDN }),
        { error: 'invalid_request', description: 'no operator "nowhere"', statusCode: 404 }],
      ['a malformed address', acquire('telco-es', { address: 'here' }),
        { error: 'invalid_request', description: 'address "here" is not an IPv4 or IPv6 address', statusCode: 400 }],
      ['an unknown number', acquire('telco-es', { msisdn: '+34999999999' }), {
        error: 'access_denied',
        description: 'Telco ES (emulated) cannot authenticate the device (+34999999999): no SIM of its subscribers',
        statusCode: 403
      }],
      ['an address no subscriber has', acquire('telco-es', { address: '10.1.2.3' }), {
        error: 'access_denied',
        description: 'Telco ES (emulated) cannot authenticate the device (address 10.1.2.3): no SIM of its subscribers',
        statusCode: 403
      }],
      ['a source that is no address', acquire('telco-es', {}, 'unix-socket'), {
        error: 'access_denied',
        description: 'Telco ES (emulated) cannot authenticate the device (address unix-socket): ' +
          'no SIM of its subscribers',
        statusCode: 403
      }],
      ['nothing naming the device', acquire('telco-es', {}), {
        error: 'access_denied',
        description: 'Telco ES (emulated) cannot authenticate the device (address (none)): no SIM of its subscribers',
        statusCode: 403
      }],
      ['a device of another operator', acquire('telco-es', { msisdn: '+919036499174' }), {
        error: 'access_denied',
        description: 'the device +919036499174 has a SIM of another operator ("telco-in"): ' +
          'ask that operator\'s entitlement server',
        statusCode: 403
      }],
      ['an operator that issues no operator tokens', acquire('telco-in', { msisdn: '+919036499174' }),
        NO_OPERATOR_TOKENS],
      ['a SIM that cannot', acquire('telco-es', { msisdn: '+34666666667' }), SIM_UNAVAILABLE],
      ['an app that is not registered', acquire('telco-es', { clientId: 'nobody', msisdn: WIFI_MSISDN }),
        UNREGISTERED_APP]
    ]
    for (const [name, refused, expected] of cases) t.strictSame(await refused, expected, name)
    t.equal(await emulator.ctx.store.size('operatorTokens'), 0, 'no refusal left a token behind')
  })

  t.test('a refusal still files what it knew on the leg', async (t) => {
    const { emulator } = await buildEmulator()
    const leg = newLeg()
    await failure(emulator.operatorTokens.acquire(
      'nowhere', { clientId: CLIENT_ID, msisdn: WIFI_MSISDN }, undefined, leg
    ))
    t.strictSame(leg.flow, { operatorId: 'nowhere', clientId: CLIENT_ID })
  })

  t.test('an injected error issues no token', async (t) => {
    const { emulator } = await buildEmulator()
    const error = await rejected(emulator.operatorTokens.acquire(
      'telco-es', { clientId: CLIENT_ID, msisdn: WIFI_MSISDN }, undefined, newLeg(['entitlement-server-unavailable'])
    ))
    t.type(error, InjectedError)
    t.equal((error as InjectedError).message, 'scenario entitlement-server-unavailable')
    t.equal(await emulator.ctx.store.size('operatorTokens'), 0)
  })

  t.test('injected latency is waited before the token is issued', async (t) => {
    const { sleep, waits } = recordingSleep()
    const { emulator } = await buildEmulator({ sleep })
    const leg = newLeg(['slow-network'])
    const issued = await emulator.operatorTokens.acquire(
      'telco-es', { clientId: CLIENT_ID, msisdn: WIFI_MSISDN }, undefined, leg
    )
    t.match(issued.operatorToken, TOKEN)
    t.equal(waits.length, 1, 'one wait')
    t.ok((waits[0] ?? 0) > 0, `waited ${String(waits[0])} ms`)
  })
})

t.test('mint: the control API, by the same rules', async (t) => {
  t.test('the operator\'s lifetime by default, the request\'s when given', async (t) => {
    const { emulator } = await buildEmulator()
    const byDefault = await emulator.operatorTokens.mint({ clientId: CLIENT_ID, msisdn: SEED_MSISDN })
    t.strictSame(byDefault, {
      operatorToken: byDefault.operatorToken,
      expiresIn: 300,
      expiresAt: new Date(START + 300_000).toISOString(),
      operatorId: 'telco-es',
      flowId: byDefault.flowId
    })
    const short = await emulator.operatorTokens.mint({ clientId: CLIENT_ID, msisdn: SEED_MSISDN, lifetimeSeconds: 30 })
    t.strictSame([short.expiresIn, short.expiresAt], [30, new Date(START + 30_000).toISOString()])
    t.equal((await emulator.ctx.store.get('operatorTokens', short.operatorToken))?.expiresAt, START + 30_000)
  })

  t.test('the token\'s lifetime, length and prefix follow the operator\'s settings', async (t) => {
    const { emulator } = await buildEmulator()
    changeOperator(emulator, 'telco-es', (operator) => ({
      ...operator, operatorTokens: { lifetimeSeconds: 120, length: 20, prefix: 'tes.' }
    }))
    const issued = await emulator.operatorTokens.mint({ clientId: CLIENT_ID, msisdn: WIFI_MSISDN })
    t.match(issued.operatorToken, /^tes\.[\w-]{20}$/)
    t.strictSame([issued.expiresIn, issued.expiresAt], [120, new Date(START + 120_000).toISOString()])
    changeOperator(emulator, 'telco-es', (operator) => ({
      ...operator, operatorTokens: { lifetimeSeconds: 3600, length: 256, prefix: '' }
    }))
    const long = await emulator.operatorTokens.mint({ clientId: CLIENT_ID, msisdn: WIFI_MSISDN })
    t.match(long.operatorToken, /^[\w-]{256}$/)
    t.equal(long.expiresIn, 3600)
  })

  t.test('every refusal', async (t) => {
    const { emulator } = await buildEmulator()
    const mint = async (msisdn: string, clientId = CLIENT_ID): Promise<Failure> =>
      await failure(emulator.operatorTokens.mint({ clientId, msisdn }))
    t.strictSame(await mint('+34999999999'), {
      error: 'invalid_request', description: 'no subscriber +34999999999', statusCode: 400
    })
    t.strictSame(await mint('+34666666667'), SIM_UNAVAILABLE)
    t.strictSame(await mint('+919036499174'), NO_OPERATOR_TOKENS)
    t.strictSame(await mint(WIFI_MSISDN, 'nobody'), UNREGISTERED_APP)
    const fixtures = structuredClone(emulator.directory.fixtures)
    emulator.replaceFixtures({
      ...fixtures, operators: fixtures.operators.filter((operator) => operator.id !== 'telco-in')
    })
    t.strictSame(await mint('+919036499174'),
      { error: 'invalid_request', description: 'the operator of +919036499174 is not configured', statusCode: 400 })
  })
})

t.test('check: every rule of a redemption but the single use', async (t) => {
  t.test('a fresh token of this app passes, with its record and subscriber, and stays unspent', async (t) => {
    const { emulator } = await buildEmulator()
    const { operatorToken, flowId } = await emulator.operatorTokens.mint({ clientId: CLIENT_ID, msisdn: WIFI_MSISDN })
    t.strictSame(await emulator.operatorTokens.check(operatorToken, CLIENT_ID), {
      token: operatorToken,
      record: {
        operatorId: 'telco-es',
        msisdn: WIFI_MSISDN,
        clientId: CLIENT_ID,
        flowId,
        issuedAt: START,
        expiresAt: START + 300_000
      },
      subscriber: subscriberOf(emulator, WIFI_MSISDN)
    })
    t.strictSame(await emulator.ctx.store.get('operatorTokenUses', operatorToken), { flowId })
  })

  t.test('an unknown token', async (t) => {
    const { emulator } = await buildEmulator()
    t.strictSame(await refusal(emulator.operatorTokens.check('nope', CLIENT_ID)),
      { problem: 'unknown', message: 'the operator token is unknown', flowId: undefined })
  })

  t.test('expiry by the manual clock; the refusal says why for 600 s more, then the token is unknown', async (t) => {
    const { emulator, clock } = await buildEmulator()
    const { operatorToken, flowId } = await emulator.operatorTokens.mint({ clientId: CLIENT_ID, msisdn: WIFI_MSISDN })
    clock.advance(299_999)
    t.equal((await emulator.operatorTokens.check(operatorToken, CLIENT_ID)).token, operatorToken, '1 ms before expiry')
    clock.advance(1)
    const expired: Refusal = { problem: 'expired', message: 'the operator token has expired', flowId }
    t.strictSame(await refusal(emulator.operatorTokens.check(operatorToken, CLIENT_ID)), expired, 'at expiry')
    t.equal(await emulator.operatorTokens.spend(operatorToken), false, 'an expired token cannot be spent either')
    clock.advance(599_999)
    t.strictSame(await refusal(emulator.operatorTokens.check(operatorToken, CLIENT_ID)), expired, 'still known')
    clock.advance(1)
    t.strictSame(await refusal(emulator.operatorTokens.check(operatorToken, CLIENT_ID)),
      { problem: 'unknown', message: 'the operator token is unknown', flowId: undefined }, 'forgotten')
  })

  t.test('a spent token', async (t) => {
    const { emulator } = await buildEmulator()
    const { operatorToken, flowId } = await emulator.operatorTokens.mint({ clientId: CLIENT_ID, msisdn: WIFI_MSISDN })
    t.equal(await emulator.operatorTokens.spend(operatorToken), true)
    t.strictSame(await refusal(emulator.operatorTokens.check(operatorToken, CLIENT_ID)),
      { problem: 'used', message: 'the operator token was already used', flowId })
  })

  t.test('another app\'s redemption is refused and does not spend the token', async (t) => {
    const { emulator } = await buildEmulator()
    const { operatorToken, flowId } = await emulator.operatorTokens.mint({ clientId: 'demo-app', msisdn: WIFI_MSISDN })
    t.strictSame(await refusal(emulator.operatorTokens.check(operatorToken, CLIENT_ID)),
      { problem: 'other-client', message: 'the operator token was issued for another app', flowId })
    t.equal((await rejected(emulator.operatorTokens.check(operatorToken, CLIENT_ID)) as OperatorTokenRefusal).detail,
      'the operator token was issued for another app ("demo-app")', 'the journal\'s detail names the app')
    t.strictSame(await emulator.ctx.store.get('operatorTokenUses', operatorToken), { flowId })
    t.equal((await emulator.operatorTokens.check(operatorToken, 'demo-app')).record.clientId, 'demo-app',
      'the app it was issued for still redeems it')
    t.equal(await emulator.operatorTokens.spend(operatorToken), true)
  })

  t.test('another app learns only that the token is not its own: not whether it is spent or expired', async (t) => {
    const { emulator, clock } = await buildEmulator()
    const spent = await emulator.operatorTokens.mint({ clientId: 'demo-app', msisdn: WIFI_MSISDN })
    await emulator.operatorTokens.spend(spent.operatorToken)
    t.equal((await refusal(emulator.operatorTokens.check(spent.operatorToken, CLIENT_ID))).problem, 'other-client')
    t.equal((await refusal(emulator.operatorTokens.check(spent.operatorToken, 'demo-app'))).problem, 'used',
      'its own app is told it is spent')
    const expiring = await emulator.operatorTokens.mint({ clientId: 'demo-app', msisdn: WIFI_MSISDN })
    clock.advance(expiring.expiresIn * 1000)
    t.equal((await refusal(emulator.operatorTokens.check(expiring.operatorToken, CLIENT_ID))).problem, 'other-client')
    t.equal((await refusal(emulator.operatorTokens.check(expiring.operatorToken, 'demo-app'))).problem, 'expired')
  })

  t.test('the subscriber moved to another operator, or gone', async (t) => {
    const { emulator } = await buildEmulator()
    const { operatorToken, flowId } = await emulator.operatorTokens.mint({ clientId: CLIENT_ID, msisdn: WIFI_MSISDN })
    const foreign: Refusal = {
      problem: 'foreign-operator',
      message: `the operator token is telco-es's, which no longer serves ${WIFI_MSISDN}`,
      flowId
    }
    emulator.upsertSubscriber({ ...subscriberOf(emulator, WIFI_MSISDN), operator: 'telco-in' })
    t.strictSame(await refusal(emulator.operatorTokens.check(operatorToken, CLIENT_ID)), foreign, 'ported')
    t.equal(emulator.removeSubscriber(WIFI_MSISDN), true)
    t.strictSame(await refusal(emulator.operatorTokens.check(operatorToken, CLIENT_ID)), foreign, 'removed')
  })

  t.test('SIM-based authentication withdrawn from the subscriber or the operator', async (t) => {
    const { emulator } = await buildEmulator()
    const { operatorToken, flowId } = await emulator.operatorTokens.mint({ clientId: CLIENT_ID, msisdn: WIFI_MSISDN })
    const noSim: Refusal = {
      problem: 'no-sim-support', message: `SIM-based authentication is no longer available for ${WIFI_MSISDN}`, flowId
    }
    const subscriber = subscriberOf(emulator, WIFI_MSISDN)
    emulator.upsertSubscriber({ ...subscriber, authMethods: ['network'] })
    t.strictSame(await refusal(emulator.operatorTokens.check(operatorToken, CLIENT_ID)), noSim, 'the SIM')
    emulator.upsertSubscriber(subscriber)
    changeOperator(emulator, 'telco-es', ({ operatorTokens: _dropped, ...operator }) => operator)
    t.strictSame(await refusal(emulator.operatorTokens.check(operatorToken, CLIENT_ID)), noSim, 'the operator')
  })

  t.test('the refusal is an Error with its own name', async (t) => {
    const { emulator } = await buildEmulator()
    const error = await rejected(emulator.operatorTokens.check('nope', CLIENT_ID))
    t.type(error, Error)
    t.equal((error as Error).name, 'OperatorTokenRefusal')
  })
})

t.test('spend: a single use', async (t) => {
  t.test('once, then never again; an unknown token has none', async (t) => {
    const { emulator } = await buildEmulator()
    const { operatorToken } = await emulator.operatorTokens.mint({ clientId: CLIENT_ID, msisdn: WIFI_MSISDN })
    t.strictSame(
      [await emulator.operatorTokens.spend(operatorToken), await emulator.operatorTokens.spend(operatorToken)],
      [true, false]
    )
    t.equal(await emulator.operatorTokens.spend('nope'), false)
  })

  t.test('of ten parallel redemptions (check, then spend) exactly one succeeds', async (t) => {
    const { emulator } = await buildEmulator()
    const { operatorToken } = await emulator.operatorTokens.mint({ clientId: CLIENT_ID, msisdn: WIFI_MSISDN })
    const redeem = async (): Promise<boolean> => {
      await emulator.operatorTokens.check(operatorToken, CLIENT_ID)
      return await emulator.operatorTokens.spend(operatorToken)
    }
    const results = await Promise.all(Array.from({ length: 10 }, redeem))
    t.equal(results.filter((won) => won).length, 1, `results: ${results.join(', ')}`)
    t.equal((await refusal(emulator.operatorTokens.check(operatorToken, CLIENT_ID))).problem, 'used')
  })
})

t.test('--max-pending caps the operator tokens the store keeps', async (t) => {
  t.test('a clear 503 refusal once full, for minting and for the device leg, storing nothing', async (t) => {
    const { emulator } = await buildEmulator({ settings: { maxPending: 2 } })
    await emulator.operatorTokens.mint({ clientId: CLIENT_ID, msisdn: WIFI_MSISDN })
    await emulator.operatorTokens.acquire('telco-es', { clientId: CLIENT_ID, msisdn: WIFI_MSISDN }, undefined)
    const full: Failure = {
      error: 'temporarily_unavailable',
      description: 'this emulator keeps at most 2 operator tokens (--max-pending); ' +
        'a token\'s place frees 600 s after it expires (kept to answer an expired token)',
      statusCode: 503
    }
    t.strictSame(await failure(emulator.operatorTokens.mint({ clientId: CLIENT_ID, msisdn: WIFI_MSISDN })), full)
    t.strictSame(await failure(emulator.operatorTokens.acquire(
      'telco-es', { clientId: CLIENT_ID, msisdn: WIFI_MSISDN }, undefined
    )), full)
    t.equal(await emulator.ctx.store.size('operatorTokens'), 2)
  })

  t.test('a spent or expired token holds its place until it is forgotten, 600 s after expiry', async (t) => {
    const { emulator, clock } = await buildEmulator({ settings: { maxPending: 1 } })
    const { operatorToken } = await emulator.operatorTokens.mint({
      clientId: CLIENT_ID, msisdn: WIFI_MSISDN, lifetimeSeconds: 30
    })
    t.equal(await emulator.operatorTokens.spend(operatorToken), true)
    const mint = async (): Promise<string> =>
      (await emulator.operatorTokens.mint({ clientId: CLIENT_ID, msisdn: WIFI_MSISDN }).then(
        () => 'issued',
        (error: unknown) => error instanceof OAuthError ? error.error : 'other'
      ))
    t.equal(await mint(), 'temporarily_unavailable', 'spent')
    clock.advance(30_000)
    t.equal(await mint(), 'temporarily_unavailable', 'expired')
    clock.advance(599_999)
    t.equal(await mint(), 'temporarily_unavailable', 'still kept')
    clock.advance(1)
    t.equal(await mint(), 'issued', 'forgotten')
  })
})
