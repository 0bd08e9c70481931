// Each Number Verification release the emulator speaks, against its own API definition (vendored
// in test/camara): /v1 is 1.0.0; /v2 is 2.1.0 by default, 2.0.0 by --nv-v2-release or a client's
// numberVerificationRelease; /vwip is the work in progress after r3.2 with its token rules. The
// answers validate against the release's schemas and read like its examples.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { Ajv } from 'ajv'
import { parse } from 'yaml'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { DEFAULT_FIXTURES, type EmulatorConfig } from '../../../src/config/config.js'
import { RELEASE_RULES, type NvRelease } from '../../../src/core/camara-errors.js'
import { ALREADY_CALLED } from '../../../src/core/token-service.js'
import { WIP_TOKEN_AGE_LIMIT_S } from '../../../src/core/number-verification.js'
import { PATH_FAMILIES, type PathFamily } from '../../../src/routes/number-verification/family.js'
import { buildTestApp } from '../../helpers/app.js'
import { authorizationCode, exchangeCode, obtainTokens, redeemCode } from '../../helpers/flow.js'
import { tempDir } from '../../helpers/temp-dir.js'
import {
  assertCamaraError, getShare, postVerify, RELEASE_MESSAGES, SEED_KONERA, SEED_MSISDN, sha256Hex, SHARE_ONLY_SCOPE,
  SMS_OTP_KONERA
} from './support.js'

const DEFINITIONS = new URL('../../camara/', import.meta.url)

function family (id: string): PathFamily {
  const found = PATH_FAMILIES.find((candidate) => candidate.id === id)
  if (found === undefined) throw new Error(`no family ${id}`)
  return found
}

interface ReleaseUnderTest {
  release: NvRelease
  family: PathFamily
  config: Partial<EmulatorConfig>
}

const RELEASES: ReleaseUnderTest[] = [
  { release: '1.0.0', family: family('camara_v1'), config: {} },
  { release: '2.0.0', family: family('camara_v2'), config: { nvV2Release: '2.0.0' } },
  { release: '2.1.0', family: family('camara_v2'), config: {} },
  { release: 'wip', family: family('camara_vwip'), config: {} }
]

/**
 * Where a release's own test definitions and its YAML's example disagree, the emulator answers
 * with the test definitions' text (what CAMARA's conformance runs compare)
 */
const EXAMPLE_EXCEPTIONS: Partial<Record<NvRelease, string[]>> = {
  // r1.3 Test_Definitions: "The subscription must be identified via the mobile network ..."
  '1.0.0': ['NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK'],
  // r2.4 Test_Definitions: "... using either Network-based authentication or SIM-based authentication ..."
  '2.0.0': ['NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK']
}

interface ErrorBody { status: number, code: string, message: string }
interface Definition {
  document: Record<string, any>
  ajv: Ajv
}

function loadDefinition (release: NvRelease): Definition {
  const document = parse(
    readFileSync(new URL(`number-verification-${release}.yaml`, DEFINITIONS), 'utf8')
  ) as Record<string, any>
  // OpenAPI 3.0's own keywords (example, nullable, ...) are not JSON Schema's: ignored, not refused
  const ajv = new Ajv({ strict: false, allErrors: true })
  ajv.addSchema({ ...document, $id: 'nv' })
  return { document, ajv }
}

function pointer (...segments: string[]): string {
  return segments.map((segment) => segment.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')
}

/** The operation's response for a status, with its $ref followed */
function responseOf (
  definition: Definition, path: string, method: string, status: number
): { ref: string, value: any } {
  const operation = definition.document.paths[path][method]
  let value = operation.responses[String(status)]
  let ref = `nv#/${pointer('paths', path, method, 'responses', String(status))}`
  if (value === undefined) throw new Error(`${method} ${path} has no ${status} response`)
  if (typeof value.$ref === 'string') {
    ref = `nv${value.$ref as string}`
    value = definition.document.components.responses[(value.$ref as string).split('/').pop() as string]
  }
  return { ref, value }
}

/** The answer validates against the release's response schema, and its x-correlator against the header's */
function assertConforms (
  t: Test, definition: Definition, path: string, method: string, res: LightMyRequestResponse
): void {
  const { ref } = responseOf(definition, path, method, res.statusCode)
  const validate = definition.ajv.compile({ $ref: `${ref}/content/application~1json/schema` })
  t.ok(validate(res.json()),
    `${method.toUpperCase()} ${path} ${res.statusCode}: the body validates ${JSON.stringify(validate.errors)}`)
  const header = definition.ajv.compile({ $ref: 'nv#/components/headers/x-correlator/schema' })
  t.ok(header(res.headers['x-correlator']), `x-correlator ${String(res.headers['x-correlator'])} validates`)
}

/** An error answer is one of the examples the release gives for its code, unless listed as an exception */
function assertExample (
  t: Test, definition: Definition, release: NvRelease, path: string, res: LightMyRequestResponse
): void {
  const body = res.json() as ErrorBody
  const examples = Object.values(
    responseOf(definition, path, 'post', res.statusCode).value.content['application/json'].examples ?? {}
  )
    .map((example: any) => example.value as ErrorBody)
    .filter((example) => example.code === body.code)
  t.not(examples.length, 0, `the release has an example for ${body.code}`)
  if (EXAMPLE_EXCEPTIONS[release]?.includes(body.code) === true) {
    t.notOk(examples.some((example) => example.message === body.message),
      `${body.code}: the test definitions' text, not the example's`)
  } else {
    t.ok(examples.some((example) => example.message === body.message && example.status === body.status),
      `${body.code}: "${body.message}" is the example's text`)
  }
}

function fixtureFile (t: Test, clients: Array<Record<string, unknown>>): string {
  const document = JSON.parse(readFileSync(DEFAULT_FIXTURES, 'utf8')) as Record<string, unknown> & {
    clients: Array<Record<string, unknown>>
  }
  delete document.$schema
  document.clients.push(...clients)
  const file = join(tempDir(t, 'nv-releases-'), 'fixtures.json')
  writeFileSync(file, JSON.stringify(document))
  return file
}

/** A client like demo-app that speaks another /v2 release */
function legacyClient (release: string): Record<string, unknown> {
  return {
    clientId: 'legacy-app',
    clientSecret: 'legacy-secret',
    redirectUris: ['http://localhost:3000/callback'],
    scopes: ['number-verification:verify', 'number-verification:device-phone-number:read'],
    tokenEndpointAuthMethods: ['client_secret_post'],
    numberVerificationRelease: release
  }
}

async function token (app: FastifyInstance, options: Parameters<typeof obtainTokens>[1] = {}): Promise<string> {
  return (await obtainTokens(app, { konera: SEED_KONERA, ...options })).access_token
}

/** A token the emulator issued and then revoked: the code's replay revokes what it issued */
async function revokedToken (t: Test, app: FastifyInstance): Promise<string> {
  const code = await authorizationCode(app, { konera: SEED_KONERA })
  const { access_token: revoked } = await redeemCode(app, code)
  t.equal((await exchangeCode(app, code)).statusCode, 400, 'the replay is refused')
  return revoked
}

for (const { release, family: nv, config } of RELEASES) {
  t.test(`${release} (${nv.prefix}${release === '2.0.0' ? ', --nv-v2-release 2.0.0' : ''}) ` +
    'against its API definition', async (t) => {
    const definition = loadDefinition(release)
    const { app } = await buildTestApp(t, config)
    const rules = RELEASE_RULES[release]

    t.test('the definition is the release and Commonalities the emulator says it follows', async (t) => {
      t.equal(String(definition.document.info.version), release)
      t.equal(definition.document.servers[0].url, `{apiRoot}${nv.prefix}`)
      if (release !== 'wip') {
        t.ok(String(definition.document.info['x-camara-commonalities']).startsWith(rules.commonalities))
      }
    })

    t.test('the x-correlator pattern is the definition\'s', async (t) => {
      const schema = definition.document.components.headers['x-correlator'].schema
      const resolved = schema.$ref === undefined ? schema : definition.document.components.schemas.XCorrelator
      if (resolved.pattern === undefined) {
        t.equal(release, '1.0.0', 'only 1.0.0 has no pattern: the emulator applies Commonalities\' 256')
        return
      }
      const theirs = new RegExp(resolved.pattern as string)
      const samples = [
        '', 'abc-123', 'a:b', 'a_b', 'a.b/c', '<x>{y};', 'a b', 'ä', 'a,b', 'x'.repeat(55), 'x'.repeat(56),
        'x'.repeat(256), 'x'.repeat(257)
      ]
      for (const sample of samples) {
        t.equal(rules.correlatorPattern.test(sample), theirs.test(sample),
          `${JSON.stringify(sample.slice(0, 12))} (${sample.length})`)
      }
    })

    const verifyPath = '/verify'
    const sharePath = '/device-phone-number'

    t.test('200s validate: verify by number and by hash, share', async (t) => {
      const verified = await postVerify(app, nv, { token: await token(app), payload: { phoneNumber: SEED_MSISDN } })
      t.equal(verified.statusCode, 200)
      t.strictSame(verified.json(), { devicePhoneNumberVerified: true })
      assertConforms(t, definition, verifyPath, 'post', verified)
      const hashed = await postVerify(app, nv, {
        token: await token(app), payload: { hashedPhoneNumber: sha256Hex('+34600000000') }
      })
      t.strictSame(hashed.json(), { devicePhoneNumberVerified: false })
      assertConforms(t, definition, verifyPath, 'post', hashed)
      const shared = await getShare(app, nv, { token: await token(app), headers: { 'x-correlator': 'share-1' } })
      t.strictSame(shared.json(), { devicePhoneNumber: SEED_MSISDN })
      assertConforms(t, definition, sharePath, 'get', shared)
    })

    t.test('400, 401 and 403 validate and read like the examples', async (t) => {
      const malformed = await postVerify(app, nv, { token: await token(app), payload: { phoneNumber: '34666666666' } })
      t.equal(malformed.statusCode, 400)
      assertConforms(t, definition, verifyPath, 'post', malformed)

      const anonymous = await postVerify(app, nv, { payload: { phoneNumber: SEED_MSISDN } })
      assertCamaraError(t, anonymous, {
        status: 401, code: 'UNAUTHENTICATED', message: RELEASE_MESSAGES[release].unauthenticated
      })
      assertConforms(t, definition, verifyPath, 'post', anonymous)
      assertExample(t, definition, release, verifyPath, anonymous)

      const revoked = await postVerify(app, nv, {
        token: await revokedToken(t, app), payload: { phoneNumber: SEED_MSISDN }
      })
      t.equal(revoked.statusCode, 401)
      t.equal((revoked.json() as ErrorBody).code, rules.noLongerValid, 'a revoked token')
      assertConforms(t, definition, verifyPath, 'post', revoked)
      assertExample(t, definition, release, verifyPath, revoked)

      const scopeless = await postVerify(app, nv, {
        token: await token(app, { scope: SHARE_ONLY_SCOPE }), payload: { phoneNumber: SEED_MSISDN }
      })
      t.equal((scopeless.json() as ErrorBody).code, 'PERMISSION_DENIED')
      assertConforms(t, definition, verifyPath, 'post', scopeless)
      assertExample(t, definition, release, verifyPath, scopeless)

      const bySms = await postVerify(app, nv, {
        token: await token(app, { konera: SMS_OTP_KONERA }), payload: { phoneNumber: SEED_MSISDN }
      })
      assertCamaraError(t, bySms, {
        status: 403,
        code: 'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK',
        message: RELEASE_MESSAGES[release].notNetworkAuthenticated
      })
      assertConforms(t, definition, verifyPath, 'post', bySms)
      assertExample(t, definition, release, verifyPath, bySms)
    })
  })
}

t.test('/v2 in 2.0.0: the narrower x-correlator pattern, by the flag or by the client', async (t) => {
  const v2 = family('camara_v2')
  const colon = { 'x-correlator': 'order:42' }
  const long = { 'x-correlator': 'x'.repeat(56) }
  /** Commonalities' pattern chose the correlator before the release was known: it is echoed */
  const refused = {
    status: 400,
    code: 'INVALID_ARGUMENT',
    message: 'Invalid header: x-correlator must match ^[a-zA-Z0-9-]{0,55}$ (Number Verification 2.0.0)',
    correlator: 'order:42',
    reason: undefined
  }

  t.test('--nv-v2-release 2.0.0 refuses what 2.1.0 accepts', async (t) => {
    const { app } = await buildTestApp(t, { nvV2Release: '2.0.0' })
    const bearer = await token(app)
    const answer = await postVerify(app, v2, { token: bearer, payload: { phoneNumber: SEED_MSISDN }, headers: colon })
    assertCamaraError(t, answer, refused)
    t.equal((await postVerify(app, v2, {
      token: bearer, payload: { phoneNumber: SEED_MSISDN }, headers: long
    })).statusCode, 400)
    t.equal((await postVerify(app, v2, { payload: { phoneNumber: SEED_MSISDN }, headers: colon })).statusCode, 400,
      'also before any token')
    t.equal((await postVerify(app, v2, {
      token: bearer, payload: { phoneNumber: SEED_MSISDN }, headers: { 'x-correlator': 'x'.repeat(55) }
    })).statusCode, 200)
    t.equal((await postVerify(app, family('camara_v1'), {
      token: bearer, payload: { phoneNumber: SEED_MSISDN }, headers: colon
    })).statusCode, 200, '/v1 keeps its own release')
  })

  t.test('a 2.0.0 client on a 2.1.0 server: its calls are checked in 2.0.0, others\' are not', async (t) => {
    const { app } = await buildTestApp(t, { fixtures: [fixtureFile(t, [legacyClient('2.0.0')])] })
    const legacy = await token(app, { clientId: 'legacy-app', clientSecret: 'legacy-secret' })
    const answer = await postVerify(app, v2, { token: legacy, payload: { phoneNumber: SEED_MSISDN }, headers: colon })
    assertCamaraError(t, answer, refused)
    t.equal((await postVerify(app, v2, {
      token: await token(app), payload: { phoneNumber: SEED_MSISDN }, headers: colon
    })).statusCode, 200, 'demo-app speaks 2.1.0')
    t.equal((await postVerify(app, v2, { payload: { phoneNumber: SEED_MSISDN }, headers: colon })).statusCode, 401,
      'without a token, the server\'s release: the header is fine, the token is missing')
    const scopeless = await token(app, {
      clientId: 'legacy-app', clientSecret: 'legacy-secret', scope: SHARE_ONLY_SCOPE
    })
    // A token refused for its scope still named its client: the header is checked in 2.0.0 first
    assertCamaraError(t, await postVerify(app, v2, {
      token: scopeless, payload: { phoneNumber: SEED_MSISDN }, headers: colon
    }), refused)
    const bySms = await postVerify(app, v2, {
      token: await token(app, { clientId: 'legacy-app', clientSecret: 'legacy-secret', konera: SMS_OTP_KONERA }),
      payload: { phoneNumber: SEED_MSISDN }
    })
    t.equal((bySms.json() as ErrorBody).message, RELEASE_MESSAGES['2.0.0'].notNetworkAuthenticated, '2.0.0\'s words')
  })

  t.test('a 2.1.0 client on a 2.0.0 server is checked in 2.1.0 once its token is known', async (t) => {
    const { app } = await buildTestApp(t, { nvV2Release: '2.0.0', fixtures: [fixtureFile(t, [legacyClient('2.1.0')])] })
    const modern = await token(app, { clientId: 'legacy-app', clientSecret: 'legacy-secret' })
    t.equal((await postVerify(app, v2, {
      token: modern, payload: { phoneNumber: SEED_MSISDN }, headers: colon
    })).statusCode, 200)
    t.equal((await postVerify(app, v2, {
      token: await token(app), payload: { phoneNumber: SEED_MSISDN }, headers: colon
    })).statusCode, 400)
  })

  t.test('a fixture with another release is refused at start-up, naming the path and the rule', async (t) => {
    await t.rejects(buildTestApp(t, { fixtures: [fixtureFile(t, [legacyClient('3.0.0')])] }), /numberVerificationRelease/)
  })
})

t.test('/vwip: the token rules of NV after r3.2', async (t) => {
  const vwip = family('camara_vwip')

  t.test('one call per token: the second, on either operation, is 401; a 400 before it spends nothing', async (t) => {
    const { app } = await buildTestApp(t)
    const bearer = await token(app)
    t.equal((await postVerify(app, vwip, { token: bearer, payload: { phoneNumber: 'not-a-number' } })).statusCode, 400)
    t.equal((await postVerify(app, vwip, { token: bearer, payload: { phoneNumber: SEED_MSISDN } })).statusCode, 200)
    assertCamaraError(t, await getShare(app, vwip, { token: bearer, headers: { 'x-correlator': 'again' } }), {
      status: 401,
      code: 'UNAUTHENTICATED',
      message: RELEASE_MESSAGES.wip.unauthenticated,
      reason: ALREADY_CALLED,
      correlator: 'again'
    })
    t.equal((await postVerify(app, family('camara_v2'), {
      token: bearer, payload: { phoneNumber: SEED_MSISDN }
    })).statusCode, 200, '/v2 has no such rule')
  })

  t.test('an injected error leaves the token usable', async (t) => {
    const { app } = await buildTestApp(t)
    const bearer = await token(app)
    const limited = await postVerify(app, vwip, {
      token: bearer, payload: { phoneNumber: SEED_MSISDN }, headers: { 'x-emulator-scenario': 'rate-limited' }
    })
    t.equal(limited.statusCode, 429)
    t.equal((await postVerify(app, vwip, { token: bearer, payload: { phoneNumber: SEED_MSISDN } })).statusCode, 200)
  })

  t.test('10 parallel calls with one token, under latency: one 200, nine 401', async (t) => {
    const { app } = await buildTestApp(t, {}, {
      sleep: async () => await new Promise((resolve) => setTimeout(resolve, 5))
    })
    const bearer = await token(app)
    const answers = await Promise.all(Array.from({ length: 10 }, async () =>
      (await postVerify(app, vwip, {
        token: bearer, payload: { phoneNumber: SEED_MSISDN }, headers: { 'x-emulator-scenario': 'slow-network' }
      })).statusCode))
    t.strictSame(answers.sort(), [200, ...Array(9).fill(401)])
  })

  t.test('a token is refused once more than 300 s old, used or not', async (t) => {
    const { app, clock } = await buildTestApp(t)
    const [first, second] = [await token(app), await token(app)]
    clock.advance(WIP_TOKEN_AGE_LIMIT_S * 1000)
    t.equal(
      (await postVerify(app, vwip, { token: first, payload: { phoneNumber: SEED_MSISDN } })).statusCode,
      200,
      'at 300 s'
    )
    clock.advance(1)
    assertCamaraError(t, await postVerify(app, vwip, { token: second, payload: { phoneNumber: SEED_MSISDN } }), {
      status: 401,
      code: 'UNAUTHENTICATED',
      message: RELEASE_MESSAGES.wip.unauthenticated,
      reason: 'access token was issued more than 300 s ago (NV wip: at most 300 s)'
    })
    t.equal((await postVerify(app, family('camara_v2'), {
      token: second, payload: { phoneNumber: SEED_MSISDN }
    })).statusCode, 200, '/v2: served until the token expires')
  })

  t.test('Commonalities 0.9\'s minimal set: 429 is TOO_MANY_REQUESTS, never QUOTA_EXCEEDED', async (t) => {
    const { app } = await buildTestApp(t)
    const quota = { 'x-emulator-scenario': 'quota-exceeded' }
    assertCamaraError(t, await postVerify(app, vwip, {
      token: await token(app), payload: { phoneNumber: SEED_MSISDN }, headers: quota
    }), {
      status: 429, code: 'TOO_MANY_REQUESTS', message: 'Rate limit reached.', reason: 'scenario quota-exceeded'
    })
    assertCamaraError(t, await postVerify(app, family('camara_v2'), {
      token: await token(app), payload: { phoneNumber: SEED_MSISDN }, headers: quota
    }), {
      status: 429, code: 'QUOTA_EXCEEDED', message: 'Out of resource quota.', reason: 'scenario quota-exceeded'
    })
  })
})
