import t from 'tap'
import type { Emulator } from '../../src/core/emulator.js'
import { CamaraError } from '../../src/core/errors.js'
import { InjectedError, InjectedFault, newLeg } from '../../src/core/legs.js'
import { versionedMessage } from '../../src/core/camara-errors.js'
import {
  describeVerifyBody, WIP_TOKEN_AGE_LIMIT_S, type ApiVersion, type AuthorizedCall
} from '../../src/core/number-verification.js'
import { hashPhoneNumber } from '../../src/core/phone-number.js'
import { ALREADY_CALLED, ALREADY_USED, type MintRequest } from '../../src/core/token-service.js'
import {
  buildEmulator, defaultFixtureDocument, fixturesFrom, interleavingSleep, rejected, SEED_MSISDN
} from './support.js'

const VERIFY = 'number-verification:verify'
const SHARE = 'number-verification:device-phone-number:read'
const MINT: MintRequest = {
  clientId: 'demo-app',
  msisdn: SEED_MSISDN,
  scope: `dpv:FraudPreventionAndDetection ${VERIFY} ${SHARE}`
}

const UNAUTHENTICATED = {
  v1: 'Request not authenticated due to missing, invalid, or expired credentials.',
  v2: 'Request not authenticated due to missing, invalid, or expired credentials. A new authentication is required.'
}
const NOT_BY_NETWORK = {
  v1: 'The subscription must be identified via the mobile network to use this service.',
  v2: 'Client must authenticate via the mobile network to use this service'
}
const NOT_BY_NETWORK_CODE = 'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK'
const PERMISSION_DENIED = 'Client does not have sufficient permissions to perform this action.'
type Version = 'v1' | 'v2'
const VERSIONS: Version[] = ['v1', 'v2']
/** The release each path version speaks by default */
const RELEASE = { v1: '1.0.0', v2: '2.1.0' } as const

interface Refusal {
  status: number
  code: string
  message: string
  reason: string
}

async function refusal (promise: Promise<unknown>): Promise<Refusal> {
  const error = await rejected(promise)
  if (!(error instanceof CamaraError)) throw error
  return { status: error.status, code: error.code, message: error.message, reason: error.reason }
}

async function bearer (emulator: Emulator, request: Partial<MintRequest> = {}): Promise<string> {
  return `Bearer ${(await emulator.tokens.mint({ ...MINT, ...request })).access_token}`
}

async function call (
  emulator: Emulator, request: Partial<MintRequest> = {}, version: ApiVersion = 'v2'
): Promise<AuthorizedCall> {
  return await emulator.numberVerification.authorize(await bearer(emulator, request), VERIFY, version)
}

t.test('authorize', async (t) => {
  const { emulator } = await buildEmulator()
  const service = emulator.numberVerification

  t.test('accepts a network-authenticated token with the scope, and names its flow on the leg', async (t) => {
    const minted = await emulator.tokens.mint(MINT)
    const leg = newLeg()
    const authorized = await service.authorize(`Bearer ${minted.access_token}`, VERIFY, 'v1', leg)
    const record = await emulator.ctx.store.get('accessTokens', minted.access_token)
    t.strictSame(authorized, { accessToken: minted.access_token, token: record, msisdn: SEED_MSISDN, release: '1.0.0' })
    t.strictSame(leg.flow, { flowId: minted.flowId, clientId: 'demo-app', msisdn: SEED_MSISDN, operatorId: 'telco-es' })
  })

  t.test('reads the scheme in any case and allows trailing spaces', async (t) => {
    const minted = await emulator.tokens.mint(MINT)
    t.equal((await service.authorize(`bearer   ${minted.access_token}  `, SHARE, 'v2')).accessToken,
      minted.access_token)
  })

  for (const version of VERSIONS) {
    const unauthenticated = (reason: string): Refusal => ({
      status: 401,
      code: 'UNAUTHENTICATED',
      message: UNAUTHENTICATED[version],
      reason
    })

    t.test(`${version}: 401 UNAUTHENTICATED for any token problem, with the reason for the journal`, async (t) => {
      const authorize = (header: string | undefined): Promise<Refusal> =>
        refusal(service.authorize(header, VERIFY, version))
      t.strictSame(await authorize(undefined), unauthenticated('no Authorization header'))
      t.strictSame(await authorize('Basic ZGVtby1hcHA6ZGVtby1zZWNyZXQ='),
        unauthenticated('Authorization header is not "Bearer <token>"'))
      t.strictSame(await authorize('Bearer'), unauthenticated('Authorization header is not "Bearer <token>"'))
      t.strictSame(await authorize('Bearer a b'), unauthenticated('Authorization header is not "Bearer <token>"'))
      t.strictSame(await authorize('Bearer never-issued'), unauthenticated('access token is unknown or expired'))
    })

    t.test(`${version}: 401 for a token whose grant was revoked, and names the flow all the same`, async (t) => {
      const minted = await emulator.tokens.mint(MINT)
      const record = await emulator.ctx.store.get('accessTokens', minted.access_token)
      const grant = record === undefined ? undefined : await emulator.ctx.store.get('grants', record.grantId)
      if (grant === undefined) throw new Error('no grant')
      await emulator.ctx.store.put('grants', grant.id, { ...grant, revoked: true, revokedReason: 'test revocation' },
        60_000)
      const leg = newLeg()
      t.strictSame(await refusal(service.authorize(`Bearer ${minted.access_token}`, VERIFY, version, leg)),
        unauthenticated('access token was revoked (test revocation)'))
      t.equal(leg.flow.flowId, minted.flowId)
      await emulator.ctx.store.put('grants', grant.id, { ...grant, revoked: true }, 60_000)
      t.strictSame(await refusal(service.authorize(`Bearer ${minted.access_token}`, VERIFY, version)),
        unauthenticated('access token was revoked'), 'no reason recorded')
      await emulator.ctx.store.delete('grants', grant.id)
      t.strictSame(await refusal(service.authorize(`Bearer ${minted.access_token}`, VERIFY, version)),
        unauthenticated('access token was revoked'), 'the grant is gone')
    })

    t.test(`${version}: 403 PERMISSION_DENIED for a missing scope`, async (t) => {
      const header = await bearer(emulator, { scope: `dpv:FraudPreventionAndDetection ${VERIFY}` })
      t.strictSame(await refusal(service.authorize(header, SHARE, version)), {
        status: 403,
        code: 'PERMISSION_DENIED',
        message: PERMISSION_DENIED,
        reason: `access token scopes "dpv:FraudPreventionAndDetection ${VERIFY}" lack ${SHARE}`
      })
    })

    t.test(`${version}: 403 ${NOT_BY_NETWORK_CODE} without a network amr`, async (t) => {
      const code = NOT_BY_NETWORK_CODE
      const withAmr = async (amr: string[]): Promise<AuthorizedCall> =>
        await service.authorize(await bearer(emulator, { amr }), VERIFY, version)
      const refused = (reason: string): Refusal => ({ status: 403, code, message: NOT_BY_NETWORK[version], reason })
      t.strictSame(await refusal(withAmr(['sms', 'otp'])),
        refused('the user was authenticated by sms+otp, not by the mobile network nor by the SIM'))
      t.strictSame(await refusal(withAmr([])),
        refused('the number was asserted by the client (tel:), not authenticated by the mobile network nor by the SIM'))
      t.equal((await withAmr(['pwd', 'mnba'])).msisdn, SEED_MSISDN, 'one network method is enough')
      t.equal((await withAmr(['sc', 'hwk'])).msisdn, SEED_MSISDN, 'SIM-based authentication is accepted too')
    })
  }

  t.test('a token that names no subscriber: v1 403 INVALID_TOKEN_CONTEXT, v2 403 PERMISSION_DENIED', async (t) => {
    const { msisdn: _msisdn, ...twoLegged } = MINT
    const header = `Bearer ${(await emulator.tokens.mint(twoLegged)).access_token}`
    t.strictSame(await refusal(service.authorize(header, VERIFY, 'v1')), {
      status: 403,
      code: 'INVALID_TOKEN_CONTEXT',
      message: 'Phone number cannot be deducted from access token context.',
      reason: 'the access token identifies no subscriber (client_credentials?)'
    })
    t.strictSame(await refusal(service.authorize(header, VERIFY, 'v2')), {
      status: 403,
      code: 'PERMISSION_DENIED',
      message: PERMISSION_DENIED,
      reason: 'the access token identifies no subscriber: a three-legged token (authorization code flow) is required'
    })
  })
})

t.test('verifyNumber', async (t) => {
  const { emulator } = await buildEmulator()
  const verify = async (input: { phoneNumber: string } | { hashedPhoneNumber: string }, scenarios: string[] = []) =>
    await emulator.numberVerification.verifyNumber(await call(emulator), input, newLeg(scenarios))

  t.test('compares a plain number with the one the network bound to the token', async (t) => {
    t.equal(await verify({ phoneNumber: SEED_MSISDN }), true)
    t.equal(await verify({ phoneNumber: '+34666666667' }), false)
    t.equal(await verify({ phoneNumber: '34666666666' }), false, 'exactly, with its +')
  })

  t.test('compares a hashed number in lower or upper case hex', async (t) => {
    const hash = hashPhoneNumber(SEED_MSISDN)
    t.match(hash, /^[0-9a-f]{64}$/)
    t.equal(await verify({ hashedPhoneNumber: hash }), true)
    t.equal(await verify({ hashedPhoneNumber: hash.toUpperCase() }), true)
    t.equal(await verify({ hashedPhoneNumber: hashPhoneNumber('+34666666667') }), false)
    t.equal(await verify({ hashedPhoneNumber: hashPhoneNumber('+34666666667').toUpperCase() }), false)
  })

  t.test('a forced result wins over the comparison, and is recorded on the leg', async (t) => {
    t.equal(await verify({ phoneNumber: SEED_MSISDN }, ['verify-always-false']), false)
    t.equal(await verify({ hashedPhoneNumber: hashPhoneNumber('+34666666667') }, ['verify-always-true']), true)
    const leg = newLeg(['verify-always-false'])
    t.equal(await emulator.numberVerification.verifyNumber(await call(emulator), { phoneNumber: SEED_MSISDN }, leg),
      false)
    t.strictSame(leg.decision?.applied, [{ name: 'verify-always-false', source: 'header' }])
    t.equal(leg.decision?.verifiedResult, false)
  })

  t.test('a claimedNumber scenario sees the plain number only', async (t) => {
    emulator.scenarios.define({
      name: 'magic-seed',
      description: 'the seed number is always verified false',
      match: { claimedNumber: '^\\+34666666666$' },
      effects: { verifiedResult: false }
    })
    t.equal(await verify({ phoneNumber: SEED_MSISDN }, ['magic-seed']), false)
    t.equal(await verify({ hashedPhoneNumber: hashPhoneNumber(SEED_MSISDN) }, ['magic-seed']), true)
  })

  t.test('the flow\'s scenarios apply to its API calls', async (t) => {
    const authorized = await call(emulator, { scenarios: ['verify-always-false'] })
    t.equal(await emulator.numberVerification.verifyNumber(authorized, { phoneNumber: SEED_MSISDN }), false)
  })

  t.test('an injected error fails the call', async (t) => {
    const error = await rejected(verify({ phoneNumber: SEED_MSISDN }, ['operator-unavailable']))
    if (!(error instanceof InjectedError)) throw error
    t.strictSame(error.problem, { kind: 'camara', scenario: 'operator-unavailable', status: 503, code: 'UNAVAILABLE' })
  })

  t.test('verify() compares without any scenario step', async (t) => {
    const authorized = await call(emulator)
    t.equal(emulator.numberVerification.verify(authorized, { phoneNumber: SEED_MSISDN }), true)
    t.equal(emulator.numberVerification.verify(authorized, { hashedPhoneNumber: 'ab'.repeat(32) }), false)
  })
})

t.test('shareNumber answers the number the network bound to the token', async (t) => {
  const { emulator } = await buildEmulator()
  const authorized = await emulator.numberVerification.authorize(await bearer(emulator), SHARE, 'v1')
  const leg = newLeg(['slow-network'])
  t.equal(await emulator.numberVerification.shareNumber(authorized, leg), SEED_MSISDN)
  t.strictSame(leg.decision?.applied, [{ name: 'slow-network', source: 'header' }])
  t.equal(await emulator.numberVerification.shareNumber(authorized), SEED_MSISDN, 'again: the token is not single use')
  await t.rejects(emulator.numberVerification.shareNumber(authorized, newLeg(['internal-error'])), InjectedError)
})

t.test('camara-strict: one API call per token', async (t) => {
  const build = async () => await buildEmulator({ settings: { profile: 'camara-strict' }, sleep: interleavingSleep })

  t.test('a second call with the token is refused with 401, in the version\'s words', async (t) => {
    const { emulator } = await build()
    for (const version of VERSIONS) {
      const authorized = await call(emulator, {}, version)
      t.equal(await emulator.numberVerification.shareNumber(authorized), SEED_MSISDN)
      t.strictSame(await refusal(emulator.numberVerification.verifyNumber(authorized, { phoneNumber: SEED_MSISDN })),
        { status: 401, code: 'UNAUTHENTICATED', message: UNAUTHENTICATED[version], reason: ALREADY_USED })
      const header = `Bearer ${authorized.accessToken}`
      t.strictSame(await refusal(emulator.numberVerification.authorize(header, VERIFY, version)),
        { status: 401, code: 'UNAUTHENTICATED', message: UNAUTHENTICATED[version], reason: ALREADY_USED })
    }
  })

  t.test('an injected error leaves the token usable: the retry succeeds', async (t) => {
    const { emulator } = await build()
    const authorized = await call(emulator)
    const verify = (scenarios: string[]) =>
      emulator.numberVerification.verifyNumber(authorized, { phoneNumber: SEED_MSISDN }, newLeg(scenarios))
    await t.rejects(verify(['rate-limited']), InjectedError)
    await t.rejects(verify(['connection-reset']), InjectedFault)
    t.equal(await emulator.numberVerification.verifyNumber(authorized, { phoneNumber: SEED_MSISDN }), true)
    t.strictSame(await refusal(emulator.numberVerification.verifyNumber(authorized, { phoneNumber: SEED_MSISDN })),
      { status: 401, code: 'UNAUTHENTICATED', message: UNAUTHENTICATED.v2, reason: ALREADY_USED }, 'then it is spent')
  })

  for (const scenarios of [['slow-network'], []]) {
    const variant = scenarios.length === 0 ? 'no latency' : 'latency'
    t.test(`10 parallel calls with one token: one success, 9 refused (${variant})`, async (t) => {
      const { emulator } = await build()
      const header = await bearer(emulator)
      const outcomes = await Promise.allSettled(Array.from({ length: 10 }, async () => {
        const authorized = await emulator.numberVerification.authorize(header, VERIFY, 'v2')
        return await emulator.numberVerification.verifyNumber(authorized, { phoneNumber: SEED_MSISDN },
          newLeg(scenarios))
      }))
      const answers = outcomes.map((outcome) => {
        if (outcome.status === 'fulfilled') return outcome.value
        if (!(outcome.reason instanceof CamaraError)) throw outcome.reason
        return { status: outcome.reason.status, reason: outcome.reason.reason }
      })
      t.strictSame(answers.filter((answer) => answer === true), [true])
      t.strictSame(answers.filter((answer) => answer !== true), Array(9).fill({ status: 401, reason: ALREADY_USED }))
    })
  }
})

t.test('an injected error\'s text reads like the real refusal in each version; a custom text stays', async (t) => {
  const code = 'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK'
  t.equal(versionedMessage('UNAUTHENTICATED', RELEASE.v1, undefined), UNAUTHENTICATED.v1)
  t.equal(versionedMessage('UNAUTHENTICATED', RELEASE.v2, undefined), UNAUTHENTICATED.v2)
  t.equal(versionedMessage('UNAUTHENTICATED', RELEASE.v1, UNAUTHENTICATED.v2), UNAUTHENTICATED.v1)
  t.equal(versionedMessage('UNAUTHENTICATED', RELEASE.v2, UNAUTHENTICATED.v1), UNAUTHENTICATED.v2)
  t.equal(versionedMessage('UNAUTHENTICATED', RELEASE.v2, UNAUTHENTICATED.v2.replace(/\.$/, '')), UNAUTHENTICATED.v2,
    'a final stop aside')
  t.equal(versionedMessage(code, RELEASE.v1, `${NOT_BY_NETWORK.v2}.`), NOT_BY_NETWORK.v1)
  t.equal(versionedMessage(code, RELEASE.v2, NOT_BY_NETWORK.v1), NOT_BY_NETWORK.v2)
  t.equal(
    versionedMessage('UNAUTHENTICATED', RELEASE.v1, 'Token revoked by the operator.'),
    'Token revoked by the operator.'
  )
  t.equal(versionedMessage('PERMISSION_DENIED', RELEASE.v1, UNAUTHENTICATED.v2), UNAUTHENTICATED.v2,
    'another code\'s text is custom')
})

t.test('describeVerifyBody names what is wrong with each body shape', async (t) => {
  const BODY_REQUIRED = 'the request body is required: { "phoneNumber": "+34666666666" } or ' +
    '{ "hashedPhoneNumber": "<sha256 hex>" }'
  const cases: Array<[unknown, string]> = [
    [undefined, BODY_REQUIRED],
    [null, BODY_REQUIRED],
    ['+34666666666', 'the request body must be a JSON object'],
    [42, 'the request body must be a JSON object'],
    [[{ phoneNumber: SEED_MSISDN }], 'the request body must be a JSON object'],
    [{ phoneNumber: SEED_MSISDN, hashedPhoneNumber: hashPhoneNumber(SEED_MSISDN) },
      'send exactly one of phoneNumber or hashedPhoneNumber, not both'],
    [{}, 'phoneNumber or hashedPhoneNumber is required'],
    [{ phone: SEED_MSISDN }, 'phoneNumber or hashedPhoneNumber is required (unknown properties: "phone")'],
    [{ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7 },
      'phoneNumber or hashedPhoneNumber is required (unknown properties: "a", "b", "c", "d", "e" and 2 more)'],
    [{ [`${'k'.repeat(45)}`]: 1 },
      `phoneNumber or hashedPhoneNumber is required (unknown properties: "${'k'.repeat(40)}...")`],
    [{ phoneNumber: SEED_MSISDN, extra: true },
      'only phoneNumber or hashedPhoneNumber may be sent (unknown properties: "extra")'],
    [{ hashedPhoneNumber: 'ab', x: 1, y: 2 },
      'only phoneNumber or hashedPhoneNumber may be sent (unknown properties: "x", "y")'],
    [{ phoneNumber: '34666666666' }, 'phoneNumber must be E.164 with a leading + (pattern ^\\+[1-9][0-9]{4,14}$)'],
    [{ phoneNumber: 34666666666 }, 'phoneNumber must be E.164 with a leading + (pattern ^\\+[1-9][0-9]{4,14}$)'],
    [{ hashedPhoneNumber: 'xyz' },
      'hashedPhoneNumber must be the SHA-256 hex (64 characters) of the E.164 number including its +']
  ]
  for (const [body, expected] of cases) t.equal(describeVerifyBody(body), expected, JSON.stringify(body) ?? 'undefined')
})

t.test('releases: /v2 speaks --nv-v2-release or the client\'s own; /vwip applies the token rules', async (t) => {
  const revoke = async (emulator: Emulator, header: string): Promise<void> => {
    const record = await emulator.ctx.store.get('accessTokens', header.slice('Bearer '.length))
    const grant = record === undefined ? undefined : await emulator.ctx.store.get('grants', record.grantId)
    if (grant === undefined) throw new Error('no grant')
    await emulator.ctx.store.put('grants', grant.id, { ...grant, revoked: true }, 60_000)
  }

  t.test(
    '2.1.0 by default; 2.0.0 by the setting: its texts and AUTHENTICATION_REQUIRED for a revoked token',
    async (t) => {
      const { emulator: byDefault } = await buildEmulator()
      t.equal(byDefault.numberVerification.releaseFor('v2'), '2.1.0')
      t.equal(byDefault.numberVerification.releaseFor('v1'), '1.0.0')
      t.equal(byDefault.numberVerification.releaseFor('vwip'), 'wip')
      const header = await bearer(byDefault)
      await revoke(byDefault, header)
      t.strictSame(await refusal(byDefault.numberVerification.authorize(header, VERIFY, 'v2')), {
        status: 401,
        code: 'UNAUTHENTICATED',
        message: UNAUTHENTICATED.v2,
        reason: 'access token was revoked'
      })

      const { emulator } = await buildEmulator({ settings: { nvV2Release: '2.0.0' } })
      t.equal(emulator.numberVerification.releaseFor('v2'), '2.0.0')
      t.strictSame(
        await refusal(emulator.numberVerification.authorize('Bearer never-issued', VERIFY, 'v2')),
        {
          status: 401,
          code: 'UNAUTHENTICATED',
          message: UNAUTHENTICATED.v1,
          reason: 'access token is unknown or expired'
        },
        '2.0.0 says the short text'
      )
      const revoked = await bearer(emulator)
      await revoke(emulator, revoked)
      t.strictSame(await refusal(emulator.numberVerification.authorize(revoked, VERIFY, 'v2')), {
        status: 401,
        code: 'AUTHENTICATION_REQUIRED',
        message: 'New authentication is required.',
        reason: 'access token was revoked'
      })
      t.strictSame(
        await refusal(emulator.numberVerification.authorize(await bearer(emulator, { amr: ['sms'] }), VERIFY, 'v2')),
        {
          status: 403,
          code: NOT_BY_NETWORK_CODE,
          message:
            'The subscription must be identified using either Network-based authentication or SIM-based ' +
              'authentication to access this service.',
          reason: 'the user was authenticated by sms, not by the mobile network nor by the SIM'
        }
      )
    }
  )

  t.test('a client\'s numberVerificationRelease wins over the setting, for its tokens only', async (t) => {
    const document = defaultFixtureDocument()
    document.clients = document.clients?.map((client) =>
      client.clientId === 'demo-app' ? { ...client, numberVerificationRelease: '2.0.0' } : client)
    const { emulator } = await buildEmulator({ fixtures: fixturesFrom(document) })
    t.equal(emulator.numberVerification.releaseFor('v2', 'demo-app'), '2.0.0')
    t.equal(emulator.numberVerification.releaseFor('v2', 'demo-app-jwt'), '2.1.0')
    t.equal(emulator.numberVerification.releaseFor('v2'), '2.1.0', 'no client yet: the setting')
    t.equal(emulator.numberVerification.releaseFor('v1', 'demo-app'), '1.0.0', '/v1 has one release')
    t.equal((await call(emulator)).release, '2.0.0')
    t.equal((await call(emulator, { clientId: 'demo-app-jwt' })).release, '2.1.0')
  })

  t.test('/vwip: one call per token, also without camara-strict; an injected error leaves it usable', async (t) => {
    const { emulator } = await buildEmulator()
    const authorized = await call(emulator, {}, 'vwip')
    t.equal(authorized.release, 'wip')
    await t.rejects(
      emulator.numberVerification.verifyNumber(authorized, { phoneNumber: SEED_MSISDN }, newLeg(['rate-limited'])),
      InjectedError
    )
    t.equal(await emulator.numberVerification.verifyNumber(authorized, { phoneNumber: SEED_MSISDN }), true)
    const spent = { status: 401, code: 'UNAUTHENTICATED', message: UNAUTHENTICATED.v2, reason: ALREADY_CALLED }
    t.strictSame(await refusal(emulator.numberVerification.shareNumber(authorized)), spent, 'the same call object')
    t.strictSame(
      await refusal(emulator.numberVerification.authorize(`Bearer ${authorized.accessToken}`, VERIFY, 'vwip')),
      spent,
      'a new call'
    )
    t.equal((await emulator.numberVerification.authorize(`Bearer ${authorized.accessToken}`, VERIFY, 'v2')).msisdn,
      SEED_MSISDN, '/v2 has no such rule: the token still serves there')
  })

  t.test('/vwip: 10 parallel calls with one token, with latency: one success', async (t) => {
    const { emulator } = await buildEmulator({ sleep: interleavingSleep })
    const header = await bearer(emulator)
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, async () => {
      const authorized = await emulator.numberVerification.authorize(header, VERIFY, 'vwip')
      return await emulator.numberVerification.verifyNumber(
        authorized,
        { phoneNumber: SEED_MSISDN },
        newLeg(['slow-network'])
      )
    }))
    t.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1)
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') t.equal((outcome.reason as CamaraError).reason, ALREADY_CALLED)
    }
  })

  t.test('/vwip: a token older than 300 s is refused', async (t) => {
    const { emulator, clock } = await buildEmulator({ settings: { accessTokenTtl: 3600 } })
    const header = await bearer(emulator)
    clock.advance(WIP_TOKEN_AGE_LIMIT_S * 1000)
    t.equal((await emulator.numberVerification.authorize(header, VERIFY, 'vwip')).release, 'wip', 'at 300 s: served')
    clock.advance(1)
    t.strictSame(await refusal(emulator.numberVerification.authorize(header, VERIFY, 'vwip')), {
      status: 401,
      code: 'UNAUTHENTICATED',
      message: UNAUTHENTICATED.v2,
      reason: 'access token was issued more than 300 s ago (NV wip: at most 300 s)'
    })
    t.equal((await emulator.numberVerification.authorize(header, VERIFY, 'v2')).release, '2.1.0', '/v2: still served')
  })
})
