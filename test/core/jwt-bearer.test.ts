// The JWT-bearer grant's validation (RFC 7523 section 2.1 as CAMARA ICM r4.2 "JWT Bearer Flow"
// profiles it), called directly: who the client is, every claim rule of the assertion, the two
// subject forms (operatortoken: and a trusted client's tel:) and the grant it yields.
import t from 'tap'
import { generateKeyPair, SignJWT, UnsecuredJWT, type JWTPayload } from 'jose'
import { pairwiseSubject } from '../../src/core/authorization.js'
import { JWT_BEARER_ASSERTION, type Form } from '../../src/core/client-authentication.js'
import type { Emulator } from '../../src/core/emulator.js'
import { OAuthError } from '../../src/core/errors.js'
import type { ClientFixture } from '../../src/core/fixture-schema.js'
import { JWT_BEARER_GRANT, JwtBearerGrant } from '../../src/core/jwt-bearer.js'
import { newLeg } from '../../src/core/legs.js'
import type { OperatorTokenService } from '../../src/core/operator-tokens.js'
import {
  buildEmulator, clientAssertion, demoJwtKey, ISSUER, rejected, START, START_S, TOKEN_ENDPOINT, type EmulatorChoices
} from './support.js'

const CLIENT_ID = 'demo-app-jwt'
const NV_SCOPE = 'dpv:FraudPreventionAndDetection number-verification:verify'
/** telco-es's subscriber on Wi-Fi with SIM-based authentication */
const WIFI_MSISDN = '+34600000002'
const ALLOWED_ALGS = 'RS256, PS256, ES256, EdDSA'

interface Failure {
  error: string
  description: string
  statusCode: number
  reason: string
}

async function failure (promise: Promise<unknown>): Promise<Failure> {
  const error = await rejected(promise)
  if (!(error instanceof OAuthError)) throw error
  return { error: error.error, description: error.description, statusCode: error.statusCode, reason: error.reason }
}

function invalidGrant (description: string): Failure {
  return { error: 'invalid_grant', description, statusCode: 400, reason: description }
}

async function setup (choices: EmulatorChoices = {}): Promise<Awaited<ReturnType<typeof buildEmulator>> & {
  grant: JwtBearerGrant
}> {
  const built = await buildEmulator(choices)
  const { emulator } = built
  return { ...built, grant: new JwtBearerGrant(emulator.ctx, emulator.tokens.clients, emulator.operatorTokens) }
}

/** A grant assertion of demo-app-jwt for `sub`, valid at `nowMs` unless claims say otherwise */
async function grantAssertion (nowMs: number, sub: string | undefined, claims: JWTPayload = {},
  options: Parameters<typeof clientAssertion>[2] = {}): Promise<string> {
  return await clientAssertion(nowMs, { sub, scope: NV_SCOPE, ...claims }, options)
}

function bearerForm (assertion: string | undefined, extra: Form = {}): Form {
  return { grant_type: JWT_BEARER_GRANT, assertion, ...extra }
}

async function mintFor (emulator: Emulator, clientId = CLIENT_ID, msisdn = WIFI_MSISDN): Promise<{
  token: string, flowId: string
}> {
  const issued = await emulator.operatorTokens.mint({ clientId, msisdn })
  return { token: issued.operatorToken, flowId: issued.flowId }
}

function changeClient (emulator: Emulator, clientId: string, change: (client: ClientFixture) => ClientFixture): void {
  emulator.changeFixtures('test', (current) => ({
    ...current,
    clients: current.clients.map((client) => client.clientId === clientId ? change(client) : client)
  }))
}

/**
 * demo-app (client_secret_post) allowed the jwt-bearer grant and tel: subjects, with demo-app-jwt's JWKS when
 * `withJwks`
 */
function secretClientWithJwtBearer (emulator: Emulator, withJwks: boolean): void {
  const jwks = emulator.directory.client(CLIENT_ID)?.jwks
  changeClient(emulator, 'demo-app', (client) => ({
    ...client,
    backendGrants: ['jwt-bearer'],
    telSubjectTrusted: true,
    ...(withJwks ? { jwks } : {})
  }))
}

t.test('an operatortoken: subject yields a SIM-authenticated grant for the token\'s subscriber, unspent', async (t) => {
  const { emulator, grant } = await setup()
  const { token, flowId } = await mintFor(emulator)
  const leg = newLeg()
  const redemption = await grant.validate(
    bearerForm(await grantAssertion(START, `operatortoken:${token}`)), undefined, leg
  )
  t.match(redemption.grant.id, /^[\w-]{16}$/)
  t.strictSame(redemption, {
    client: { client: emulator.directory.client(CLIENT_ID), method: 'private_key_jwt' },
    operatorToken: {
      token,
      record: {
        operatorId: 'telco-es',
        msisdn: WIFI_MSISDN,
        clientId: CLIENT_ID,
        flowId,
        issuedAt: START,
        expiresAt: START + 300_000
      },
      subscriber: emulator.directory.subscriber(WIFI_MSISDN)
    },
    grant: {
      id: redemption.grant.id,
      flowId,
      clientId: CLIENT_ID,
      msisdn: WIFI_MSISDN,
      operatorId: 'telco-es',
      sub: pairwiseSubject(emulator.ctx.settings.pairwiseSalt, CLIENT_ID, WIFI_MSISDN),
      scopes: ['dpv:FraudPreventionAndDetection', 'number-verification:verify'],
      amr: ['sc', 'hwk'],
      authTime: START_S,
      nonce: undefined,
      openid: false,
      offlineAccess: false,
      flowScenarios: [],
      expiresAt: START + 3600_000,
      revoked: false
    }
  })
  t.strictSame(leg.flow, { clientId: CLIENT_ID })
  t.strictSame(leg.checks, [
    { rule: 'private-key-jwt', ok: true, detail: 'authenticated by the signed jwt-bearer assertion' },
    { rule: 'assertion-scope', ok: true, detail: 'a scope parameter was sent with the jwt-bearer grant' },
    { rule: 'assertion-lifetime', ok: true, detail: 'jwt-bearer assertion lifetime 60 s' },
    { rule: 'assertion-jti', ok: true, detail: 'jwt-bearer assertion jti already used' },
    { rule: 'purpose', ok: true, detail: '1 dpv: purposes in the assertion\'s scope' }
  ])
  t.strictSame(await emulator.ctx.store.get('operatorTokenUses', token), { flowId },
    'validation leaves the single use to the token service')
})

t.test('a trusted client\'s tel: subject yields a grant with no amr, on the subscriber\'s own operator', async (t) => {
  const { emulator, grant } = await setup({ settings: { accessTokenTtl: 300 } })
  const redemption = await grant.validate(
    bearerForm(await grantAssertion(START, 'tel:+919036499174')), undefined, newLeg()
  )
  t.equal(redemption.operatorToken, undefined)
  t.match(redemption.grant.flowId, /\S/)
  t.strictSame(redemption.grant, {
    ...redemption.grant,
    msisdn: '+919036499174',
    operatorId: 'telco-in',
    sub: pairwiseSubject(emulator.ctx.settings.pairwiseSalt, CLIENT_ID, '+919036499174'),
    amr: [],
    expiresAt: START + 300_000
  })
})

t.test('the grant never carries openid nor offline_access: no id_token, no refresh token (ICM)', async (t) => {
  const { emulator, grant } = await setup()
  const scope = `openid offline_access ${NV_SCOPE}`
  const redemption = await grant.validate(bearerForm(await grantAssertion(START, `tel:${WIFI_MSISDN}`, { scope })),
    undefined, newLeg())
  t.strictSame([redemption.grant.openid, redemption.grant.offlineAccess], [false, false])
  const { response } = await emulator.tokens.token(
    bearerForm(await grantAssertion(START, `tel:${WIFI_MSISDN}`, { scope })),
    undefined
  )
  t.strictSame(response, { access_token: response.access_token, token_type: 'Bearer', expires_in: 3600, scope })
})

t.test('the issuer URL is an accepted audience too', async (t) => {
  const { grant } = await setup()
  const redemption = await grant.validate(
    bearerForm(await grantAssertion(START, `tel:${WIFI_MSISDN}`, { aud: ISSUER })),
    undefined, newLeg()
  )
  t.equal(redemption.grant.msisdn, WIFI_MSISDN)
})

t.test('who the client is', async (t) => {
  t.test('a client_assertion of its own authenticates the client; the grant assertion must then be its', async (t) => {
    const { grant } = await setup()
    const clientAuth: Form = {
      client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: await clientAssertion(START)
    }
    const leg = newLeg()
    const redemption = await grant.validate(bearerForm(await grantAssertion(START, `tel:${WIFI_MSISDN}`), clientAuth),
      undefined, leg)
    t.equal(redemption.client.method, 'private_key_jwt')
    t.strictSame(leg.checks?.filter((check) => check.rule === 'private-key-jwt'),
      [{ rule: 'private-key-jwt', ok: true, detail: 'authenticated with private_key_jwt' }])
    const otherIssuer = await grantAssertion(START, `tel:${WIFI_MSISDN}`, { iss: 'demo-app' })
    t.strictSame(await failure(grant.validate(bearerForm(otherIssuer, {
      client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: await clientAssertion(START)
    }), undefined, newLeg())), invalidGrant(
      'assertion rejected: claim "iss" is invalid (unexpected "iss" claim value)'
    ))
  })

  t.test('a client authenticated by its secret has its assertion checked against its JWKS', async (t) => {
    const { emulator, grant } = await setup()
    secretClientWithJwtBearer(emulator, true)
    const secret: Form = { client_id: 'demo-app', client_secret: 'demo-secret' }
    const redemption = await grant.validate(
      bearerForm(await grantAssertion(START, `tel:${WIFI_MSISDN}`, { iss: 'demo-app' }), secret),
      undefined, newLeg()
    )
    t.strictSame([redemption.client.client.clientId, redemption.client.method, redemption.grant.clientId],
      ['demo-app', 'client_secret_post', 'demo-app'])
  })

  t.test('a client authenticated by its secret but without a JWKS cannot have its assertion verified', async (t) => {
    const { emulator, grant } = await setup()
    secretClientWithJwtBearer(emulator, false)
    t.strictSame(await failure(grant.validate(
      bearerForm(
        await grantAssertion(START, `tel:${WIFI_MSISDN}`, { iss: 'demo-app' }),
        { client_id: 'demo-app', client_secret: 'demo-secret' }
      ),
      undefined, newLeg()
    )),
    invalidGrant('client "demo-app" has no registered JWKS to verify its assertion with'))
  })

  t.test('a failed client authentication of its own is the answer', async (t) => {
    const { grant } = await setup()
    t.strictSame(await failure(grant.validate(bearerForm(await grantAssertion(START, `tel:${WIFI_MSISDN}`),
      { client_id: CLIENT_ID, client_secret: 'guess' }), undefined, newLeg())),
    {
      error: 'invalid_client',
      description: 'client "demo-app-jwt" is not registered for client_secret_post (registered: private_key_jwt)',
      statusCode: 401,
      reason: 'client "demo-app-jwt" is not registered for client_secret_post (registered: private_key_jwt)'
    })
  })

  t.test('the assertion as the authentication: iss must name a client registered for private_key_jwt', async (t) => {
    const { grant } = await setup()
    const tel = `tel:${WIFI_MSISDN}`
    t.strictSame(await failure(grant.validate(bearerForm('not.a.jwt'), undefined, newLeg())),
      invalidGrant('assertion is not a JWT'))
    t.strictSame(await failure(grant.validate(
      bearerForm(await grantAssertion(START, tel, { iss: undefined })), undefined, newLeg()
    )), invalidGrant('assertion has no iss (the client_id)'))
    t.strictSame(await failure(grant.validate(bearerForm(await grantAssertion(START, tel), { client_id: 'demo-app' }),
      undefined, newLeg())), {
      error: 'invalid_client',
      description: 'client authentication failed',
      statusCode: 401,
      reason: 'the assertion\'s iss differs from client_id'
    })
    t.strictSame(await failure(grant.validate(
      bearerForm(await grantAssertion(START, tel, { iss: 'nobody' })), undefined, newLeg()
    )), {
      error: 'invalid_client',
      description: 'client authentication failed',
      statusCode: 401,
      reason: 'the assertion\'s iss "nobody" is not a registered client'
    })
    const notRegistered = 'client "demo-app" is not registered for private_key_jwt (registered: client_secret_post, ' +
      'client_secret_basic); send its own client authentication beside the assertion'
    t.strictSame(await failure(grant.validate(
      bearerForm(await grantAssertion(START, tel, { iss: 'demo-app' })), undefined, newLeg()
    )), { error: 'invalid_client', description: notRegistered, statusCode: 401, reason: notRegistered })
  })

  t.test('the assertion alone is no authentication for a client registered only for its secret', async (t) => {
    const { emulator, grant } = await setup()
    // demo-app keeps client_secret_post / client_secret_basic, but now has a JWKS that verifies the assertion
    secretClientWithJwtBearer(emulator, true)
    const assertion = await grantAssertion(START, `tel:${WIFI_MSISDN}`, { iss: 'demo-app' })
    const leg = newLeg()
    const refused = await failure(grant.validate(bearerForm(assertion), undefined, leg))
    t.strictSame([refused.error, refused.statusCode], ['invalid_client', 401])
    t.match(refused.description, /^client "demo-app" is not registered for private_key_jwt \(registered: /)
    t.strictSame(leg.flow, { clientId: 'demo-app' }, 'the refusal is filed under the client')
    t.notOk(leg.checks?.some((check) => check.rule === 'private-key-jwt' && check.ok) ?? false,
      'no passing private-key-jwt check is recorded for the refused request')
    const secret: Form = { client_id: 'demo-app', client_secret: 'demo-secret' }
    const withSecret = await grant.validate(bearerForm(assertion, secret), undefined, newLeg())
    t.equal(withSecret.client.method, 'client_secret_post', 'the same assertion passes beside the client\'s secret')
  })

  t.test('a client_id equal to the assertion\'s iss is accepted', async (t) => {
    const { grant } = await setup()
    const redemption = await grant.validate(bearerForm(await grantAssertion(START, `tel:${WIFI_MSISDN}`),
      { client_id: CLIENT_ID }), undefined, newLeg())
    t.equal(redemption.client.client.clientId, CLIENT_ID)
  })

  t.test('only a client registered for the jwt-bearer grant may use it', async (t) => {
    const { emulator, grant } = await setup()
    const leg = newLeg()
    t.strictSame(await failure(grant.validate(bearerForm(await grantAssertion(START, `tel:${WIFI_MSISDN}`),
      { client_id: 'demo-app', client_secret: 'demo-secret' }), undefined, leg)),
    {
      error: 'unauthorized_client',
      description: 'client "demo-app" is not allowed to use the jwt-bearer grant',
      statusCode: 400,
      reason: 'client "demo-app" is not allowed to use the jwt-bearer grant'
    })
    t.strictSame(leg.flow, { clientId: 'demo-app' }, 'the refusal is filed under the client')
    changeClient(emulator, CLIENT_ID, ({ backendGrants: _dropped, ...client }) => client)
    t.equal((await failure(grant.validate(bearerForm(await grantAssertion(START, `tel:${WIFI_MSISDN}`)), undefined,
      newLeg()))).error, 'unauthorized_client', 'a client with no backendGrants at all')
  })
})

t.test('the request and the assertion\'s claims', async (t) => {
  const { grant } = await setup()
  const tel = `tel:${WIFI_MSISDN}`
  const refusal = async (assertion: string | undefined, extra: Form = {}): Promise<Failure> =>
    await failure(grant.validate(bearerForm(assertion, extra), undefined, newLeg()))

  t.test('the assertion parameter is required, an empty one counting as absent', async (t) => {
    const missing = { error: 'invalid_request', description: 'assertion is required with the jwt-bearer grant' }
    t.strictSame(await refusal(undefined), { ...missing, statusCode: 400, reason: missing.description })
    t.strictSame(await refusal(''), { ...missing, statusCode: 400, reason: missing.description })
  })

  t.test('a scope parameter is refused: the scope belongs in the assertion', async (t) => {
    const leg = newLeg()
    const description = 'the scope parameter must not be sent with the jwt-bearer grant: put the scope in the ' +
      'assertion\'s scope claim'
    t.strictSame(
      await failure(grant.validate(bearerForm(await grantAssertion(START, tel), { scope: NV_SCOPE }), undefined, leg)),
      { error: 'invalid_request', description, statusCode: 400, reason: description }
    )
    t.strictSame(leg.checks?.at(-1), {
      rule: 'assertion-scope', ok: false, detail: 'a scope parameter was sent with the jwt-bearer grant'
    })
  })

  t.test('exp, iat, jti and sub are required', async (t) => {
    for (const claim of ['exp', 'iat', 'jti', 'sub']) {
      t.strictSame(await refusal(await grantAssertion(START, tel, { [claim]: undefined })),
        invalidGrant(`assertion rejected: claim "${claim}" is missing`), claim)
    }
  })

  t.test('aud must be this server, and it alone', async (t) => {
    t.strictSame(await refusal(await grantAssertion(START, tel, { aud: 'https://elsewhere.example/token' })),
      invalidGrant('assertion rejected: claim "aud" is invalid (unexpected "aud" claim value)'))
    t.strictSame(await refusal(await grantAssertion(START, tel, { aud: undefined })),
      invalidGrant('assertion rejected: claim "aud" is missing'))
    t.strictSame(
      await refusal(await grantAssertion(START, tel, { aud: [TOKEN_ENDPOINT, 'https://elsewhere.example/token'] })),
      invalidGrant(`assertion aud must be this server alone (${TOKEN_ENDPOINT}), not 2 values`)
    )
  })

  t.test('an expired assertion is refused once the 5 s clock tolerance has passed', async (t) => {
    t.strictSame(await refusal(await grantAssertion(START, tel, { iat: START_S - 70, exp: START_S - 6 })),
      invalidGrant('assertion rejected: it has expired (exp)'))
    const redemption = await grant.validate(
      bearerForm(await grantAssertion(START, tel, { iat: START_S - 60, exp: START_S - 4 })),
      undefined, newLeg()
    )
    t.equal(redemption.grant.msisdn, WIFI_MSISDN, 'within the tolerance')
  })

  t.test('iat may lie at most 5 s ahead', async (t) => {
    t.strictSame(await refusal(await grantAssertion(START, tel, { iat: START_S + 6, exp: START_S + 60 })),
      invalidGrant('assertion iat lies 6 s in the future'))
    const redemption = await grant.validate(
      bearerForm(await grantAssertion(START, tel, { iat: START_S + 5, exp: START_S + 60 })),
      undefined, newLeg()
    )
    t.equal(redemption.grant.authTime, START_S, 'the grant is dated by the emulator\'s clock, not by the iat')
  })

  t.test('exp at most 300 s after iat and after now', async (t) => {
    const leg = newLeg()
    t.strictSame(await failure(grant.validate(
      bearerForm(await grantAssertion(START, tel, { iat: START_S - 10, exp: START_S + 291 })),
      undefined, leg
    )),
    invalidGrant('assertion exp must be at most 300 s after iat and after now ' +
      '(exp - iat = 301 s, exp - now = 291 s)'))
    t.strictSame(leg.checks?.at(-1), {
      rule: 'assertion-lifetime', ok: false, detail: 'jwt-bearer assertion lifetime 301 s'
    })
    t.strictSame(await refusal(await grantAssertion(START, tel, { iat: START_S + 5, exp: START_S + 301 })),
      invalidGrant('assertion exp must be at most 300 s after iat and after now ' +
        '(exp - iat = 296 s, exp - now = 301 s)'))
    const redemption = await grant.validate(
      bearerForm(await grantAssertion(START, tel, { iat: START_S, exp: START_S + 300 })),
      undefined, newLeg()
    )
    t.equal(redemption.grant.msisdn, WIFI_MSISDN, '300 s exactly')
  })

  t.test('the scope claim is required, as a non-blank string', async (t) => {
    const description = 'assertion has no scope claim: the purpose and the API scopes belong there'
    for (const scope of [undefined, '  ', 42]) {
      t.strictSame(await refusal(await grantAssertion(START, tel, { scope })), invalidGrant(description), String(scope))
    }
  })

  t.test('the scope claim follows the client\'s scopes and the one-purpose rule', async (t) => {
    const invalidScope = (description: string): Failure => ({
      error: 'invalid_scope', description, statusCode: 400, reason: description
    })
    t.strictSame(
      await refusal(await grantAssertion(START, tel, { scope: 'dpv:FraudPreventionAndDetection sim-swap:check' })),
      invalidScope('scope not allowed for this client: sim-swap:check')
    )
    t.strictSame(await refusal(await grantAssertion(START, tel, { scope: 'number-verification:verify' })),
      invalidScope('a dpv: purpose is required, e.g. dpv:FraudPreventionAndDetection'))
    const leg = newLeg()
    const twoPurposes = 'dpv:FraudPreventionAndDetection dpv:RequestedServiceProvision number-verification:verify'
    t.strictSame(
      await failure(grant.validate(
        bearerForm(await grantAssertion(START, tel, { scope: twoPurposes })), undefined, leg
      )),
      invalidScope('exactly one dpv: purpose is allowed, ' +
        'got dpv:FraudPreventionAndDetection dpv:RequestedServiceProvision')
    )
    t.strictSame(leg.checks?.at(-1), {
      rule: 'purpose', ok: false, detail: '2 dpv: purposes in the assertion\'s scope'
    })
  })

  t.test('a scope without purpose passes when the settings do not require one', async (t) => {
    const { grant: lenient } = await setup({ settings: { requirePurpose: false } })
    const redemption = await lenient.validate(
      bearerForm(await grantAssertion(START, tel, { scope: 'number-verification:verify' })),
      undefined, newLeg()
    )
    t.strictSame(redemption.grant.scopes, ['number-verification:verify'])
  })
})

t.test('signatures', async (t) => {
  const { grant } = await setup()
  const tel = `tel:${WIFI_MSISDN}`
  const refusal = async (assertion: string): Promise<Failure> =>
    await failure(grant.validate(bearerForm(assertion), undefined, newLeg()))
  const payload = (jti: string): JWTPayload =>
    ({ iss: CLIENT_ID, sub: tel, aud: TOKEN_ENDPOINT, iat: START_S, exp: START_S + 60, jti, scope: NV_SCOPE })

  t.test('a key the client did not register is refused, by kid or by signature', async (t) => {
    const { privateKey } = await generateKeyPair('ES256')
    t.strictSame(await refusal(await grantAssertion(START, tel, {}, { key: privateKey, kid: 'someone-else' })),
      invalidGrant('assertion rejected: no registered key matches its kid / alg'))
    t.strictSame(await refusal(await grantAssertion(START, tel, {}, { key: privateKey })),
      invalidGrant('assertion rejected: signature verification failed'), 'the registered kid on another key')
  })

  t.test('alg none and symmetric algorithms are refused', async (t) => {
    t.strictSame(await refusal(new UnsecuredJWT(payload('none-1')).encode()),
      invalidGrant(`assertion rejected: its alg is not allowed (allowed: ${ALLOWED_ALGS})`))
    const hs256 = await new SignJWT(payload('hs-1')).setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('a shared secret that is long enough for HS256'))
    t.strictSame(
      await refusal(hs256),
      invalidGrant(`assertion rejected: its alg is not allowed (allowed: ${ALLOWED_ALGS})`)
    )
  })

  t.test('a signature the registered key did not make is refused', async (t) => {
    const genuine = await grantAssertion(START, tel)
    const [header, , signature] = genuine.split('.')
    const forged = Buffer.from(JSON.stringify({ ...payload('forged-1'), sub: 'tel:+34666666666' }))
      .toString('base64url')
    t.strictSame(
      await refusal(`${header}.${forged}.${signature}`),
      invalidGrant('assertion rejected: signature verification failed')
    )
  })

  t.test('a registered key signs with any alg the fixture schema allows', async (t) => {
    const assertion = await new SignJWT(payload('es-1')).setProtectedHeader({ alg: 'ES256' }).sign(await demoJwtKey())
    const redemption = await grant.validate(bearerForm(assertion), undefined, newLeg())
    t.equal(redemption.grant.msisdn, WIFI_MSISDN, 'no kid: the one key of that alg is used')
  })
})

t.test('the jti is accepted once per client, for as long as the assertion could be accepted', async (t) => {
  const { clock, emulator, grant } = await setup()
  const tel = `tel:${WIFI_MSISDN}`
  const replayed = invalidGrant('assertion jti was already used: sign a fresh assertion for every request')
  const assertion = await grantAssertion(START, tel, { jti: 'once-only' })
  await grant.validate(bearerForm(assertion), undefined, newLeg())
  const leg = newLeg()
  t.strictSame(
    await failure(grant.validate(bearerForm(assertion), undefined, leg)), replayed, 'the same assertion again'
  )
  t.strictSame(leg.checks?.at(-1), {
    rule: 'assertion-jti', ok: false, detail: 'jwt-bearer assertion jti already used'
  })
  t.strictSame(await failure(grant.validate(
    bearerForm(await grantAssertion(START, tel, { jti: 'once-only', exp: START_S + 30 })),
    undefined, newLeg()
  )), replayed, 'a new assertion with the same jti')

  secretClientWithJwtBearer(emulator, true)
  const ofAnotherClient = await grant.validate(
    bearerForm(
      await grantAssertion(START, tel, { iss: 'demo-app', jti: 'once-only' }),
      { client_id: 'demo-app', client_secret: 'demo-secret' }
    ),
    undefined, newLeg()
  )
  t.equal(ofAnotherClient.client.client.clientId, 'demo-app', 'another client\'s jti space')

  t.equal(await emulator.ctx.store.get('assertionIds', `${CLIENT_ID}\nonce-only`), true)
  clock.advance(65_000)
  t.equal(
    await emulator.ctx.store.get('assertionIds', `${CLIENT_ID}\nonce-only`), undefined, 'forgotten after exp + 5 s'
  )
  const again = await grant.validate(
    bearerForm(await grantAssertion(clock.now(), tel, { jti: 'once-only' })), undefined, newLeg()
  )
  t.equal(again.client.client.clientId, CLIENT_ID)
})

t.test('the client_assertion and the grant assertion share the client\'s jti space', async (t) => {
  const { grant } = await setup()
  const form = bearerForm(await grantAssertion(START, `tel:${WIFI_MSISDN}`, { jti: 'shared-jti' }), {
    client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: await clientAssertion(START, { jti: 'shared-jti' })
  })
  t.strictSame(await failure(grant.validate(form, undefined, newLeg())),
    invalidGrant('assertion jti was already used: sign a fresh assertion for every request'))
})

t.test('the subject', async (t) => {
  t.test('must be operatortoken:<token> or tel:+E164', async (t) => {
    const { grant } = await setup()
    const generic = invalidGrant(
      'assertion sub must be operatortoken:<token> or tel:+E164 (CAMARA ICM "JWT Bearer Flow")'
    )
    const cases: Array<[string, Failure]> = [
      ['demo-user', generic],
      [WIFI_MSISDN, generic],
      ['ipport:142.115.147.143', generic],
      ['operatortoken:', generic],
      ['tel:12345', invalidGrant('assertion sub: login_hint "tel:12345" is not tel:+E.164 (e.g. tel:+34666666666)')],
      [
        'ipport:here',
        invalidGrant('assertion sub: login_hint "ipport:here" is not ipport:IPv4[:port] or ipport:[IPv6][:port]')
      ]
    ]
    for (const [sub, expected] of cases) {
      t.strictSame(
        await failure(grant.validate(bearerForm(await grantAssertion(START, sub)), undefined, newLeg())), expected, sub
      )
    }
  })

  t.test('tel: needs a client trusted to assert numbers, and a subscriber', async (t) => {
    const { emulator, grant } = await setup()
    const tel = `tel:${WIFI_MSISDN}`
    t.strictSame(
      await failure(grant.validate(bearerForm(await grantAssertion(START, 'tel:+4915100000000')), undefined, newLeg())),
      invalidGrant('assertion sub: +4915100000000 is not a subscriber of this gateway\'s operators')
    )
    const untrusted = invalidGrant(
      'client "demo-app-jwt" is not trusted to assert phone numbers: use sub=operatortoken:<token>'
    )
    changeClient(emulator, CLIENT_ID, (client) => ({ ...client, telSubjectTrusted: false }))
    t.strictSame(
      await failure(grant.validate(bearerForm(await grantAssertion(START, tel)), undefined, newLeg())), untrusted
    )
    changeClient(emulator, CLIENT_ID, ({ telSubjectTrusted: _dropped, ...client }) => client)
    t.strictSame(
      await failure(grant.validate(bearerForm(await grantAssertion(START, tel)), undefined, newLeg())), untrusted,
      'trust is never the default'
    )
  })

  t.test('an untrusted client still redeems operator tokens', async (t) => {
    const { emulator, grant } = await setup()
    changeClient(emulator, CLIENT_ID, (client) => ({ ...client, telSubjectTrusted: false }))
    const { token } = await mintFor(emulator)
    const redemption = await grant.validate(
      bearerForm(await grantAssertion(START, `operatortoken:${token}`)), undefined, newLeg()
    )
    t.equal(redemption.operatorToken?.token, token)
  })
})

t.test('operator token refusals are invalid_grant, filed under the token\'s flow', async (t) => {
  t.test('an unknown token', async (t) => {
    const { grant } = await setup()
    const leg = newLeg()
    t.strictSame(
      await failure(grant.validate(bearerForm(await grantAssertion(START, 'operatortoken:nope')), undefined, leg)),
      invalidGrant('assertion sub: the operator token is unknown')
    )
    t.strictSame(leg.flow, { clientId: CLIENT_ID, flowId: undefined })
  })

  t.test('an expired token, by the manual clock', async (t) => {
    const { clock, emulator, grant } = await setup()
    const { token, flowId } = await mintFor(emulator)
    clock.advance(300_000)
    const leg = newLeg()
    t.strictSame(
      await failure(grant.validate(
        bearerForm(await grantAssertion(clock.now(), `operatortoken:${token}`)), undefined, leg
      )),
      invalidGrant('assertion sub: the operator token has expired')
    )
    t.strictSame(leg.flow, { clientId: CLIENT_ID, flowId })
    t.notOk(leg.checks?.some((check) => check.rule === 'operator-token-once'), 'expiry is no reuse')
  })

  t.test('a spent token, graded as reuse', async (t) => {
    const { emulator, grant } = await setup()
    const { token, flowId } = await mintFor(emulator)
    t.equal(await emulator.operatorTokens.spend(token), true)
    const leg = newLeg()
    t.strictSame(
      await failure(grant.validate(bearerForm(await grantAssertion(START, `operatortoken:${token}`)), undefined, leg)),
      invalidGrant('assertion sub: the operator token was already used')
    )
    t.strictSame(leg.flow, { clientId: CLIENT_ID, flowId })
    t.strictSame(leg.checks?.at(-1), {
      rule: 'operator-token-once', ok: false, detail: 'the operator token was redeemed again'
    })
  })

  t.test('another app\'s token', async (t) => {
    const { emulator, grant } = await setup()
    const { token } = await mintFor(emulator, 'demo-app')
    t.strictSame(
      await failure(grant.validate(
        bearerForm(await grantAssertion(START, `operatortoken:${token}`)), undefined, newLeg()
      )),
      {
        ...invalidGrant('assertion sub: the operator token was issued for another app'),
        reason: 'assertion sub: the operator token was issued for another app ("demo-app")'
      },
      'the answer does not name the app the token is for; the journal\'s reason does'
    )
  })

  t.test('a token of an operator that no longer serves the subscriber', async (t) => {
    const { emulator, grant } = await setup()
    const { token } = await mintFor(emulator)
    const subscriber = emulator.directory.subscriber(WIFI_MSISDN)
    if (subscriber === undefined) throw new Error('no Wi-Fi subscriber in the default fixtures')
    emulator.upsertSubscriber({ ...subscriber, operator: 'telco-in' })
    t.strictSame(
      await failure(grant.validate(
        bearerForm(await grantAssertion(START, `operatortoken:${token}`)), undefined, newLeg()
      )),
      invalidGrant(`assertion sub: the operator token is telco-es's, which no longer serves ${WIFI_MSISDN}`)
    )
  })

  t.test('an error other than a refusal passes through unchanged', async (t) => {
    const { emulator } = await setup()
    const storeDown = new Error('the store is down')
    const failing = { check: async () => { throw storeDown } } as unknown as OperatorTokenService
    const grant = new JwtBearerGrant(emulator.ctx, emulator.tokens.clients, failing)
    t.equal(
      await rejected(grant.validate(bearerForm(await grantAssertion(START, 'operatortoken:any')), undefined, newLeg())),
      storeDown
    )
  })
})

t.test('a sub that is not a string is invalid_grant', async (t) => {
  const { grant } = await setup()
  // jose checks that sub is present, not its type: parseLoginHint used to throw a TypeError (a 500)
  for (const sub of [42, { tel: WIFI_MSISDN }]) {
    const assertion = await clientAssertion(START, { sub: sub as unknown as string, scope: NV_SCOPE })
    const error = await rejected(grant.validate(bearerForm(assertion), undefined, newLeg()))
    t.type(error, OAuthError, `${JSON.stringify(sub)}: ${String(error)}`)
    t.match(error, { error: 'invalid_grant', description: 'assertion sub must be a string' })
  }
})
