import t from 'tap'
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose'
import { JWT_BEARER_ASSERTION, secretsEqual, type Form } from '../../src/core/client-authentication.js'
import { OAuthError } from '../../src/core/errors.js'
import {
  buildEmulator, clientAssertion, defaultFixtureDocument, fixturesFrom, ISSUER, rejected, START, TOKEN_ENDPOINT
} from './support.js'

const CHALLENGE = 'Basic realm="camara-nv-emulator", charset="UTF-8"'

interface Failure {
  error: string
  description: string
  statusCode: number
  wwwAuthenticate: string | undefined
  reason: string
}

async function failure (promise: Promise<unknown>): Promise<Failure> {
  const error = await rejected(promise)
  if (!(error instanceof OAuthError)) throw error
  return {
    error: error.error,
    description: error.description,
    statusCode: error.statusCode,
    wwwAuthenticate: error.wwwAuthenticate,
    reason: error.reason
  }
}

function invalidClient (description: string, options: { challenge?: boolean, reason?: string } = {}): Failure {
  return {
    error: 'invalid_client',
    description,
    statusCode: 401,
    wwwAuthenticate: options.challenge === true ? CHALLENGE : undefined,
    reason: options.reason ?? description
  }
}

function invalidRequest (description: string): Failure {
  return { error: 'invalid_request', description, statusCode: 400, wwwAuthenticate: undefined, reason: description }
}

/** RFC 6749 section 2.3.1: each part form-urlencoded, then joined and base64-encoded */
function basic (clientId: string, secret: string): string {
  const encode = (s: string): string => encodeURIComponent(s).replace(/%20/g, '+')
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`
}

function rawBasic (credentials: string): string {
  return `Basic ${Buffer.from(credentials).toString('base64')}`
}

function assertionForm (assertion: string, extra: Form = {}): Form {
  return { client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: assertion, ...extra }
}

t.test('secretsEqual compares secrets of any length', async (t) => {
  t.equal(secretsEqual('demo-secret', 'demo-secret'), true)
  t.equal(secretsEqual('demo-secret', 'demo-secreT'), false)
  t.equal(secretsEqual('demo', 'demo-secret'), false)
  t.equal(secretsEqual('', ''), true)
})

t.test('client_secret_post', async (t) => {
  const { emulator } = await buildEmulator()
  const clients = emulator.tokens.clients
  const demoApp = emulator.directory.client('demo-app')

  t.test('authenticates with the registered secret', async (t) => {
    t.strictSame(await clients.authenticate({ client_id: 'demo-app', client_secret: 'demo-secret' }, undefined),
      { client: demoApp, method: 'client_secret_post' })
    t.strictSame(await clients.authenticate({ client_id: 'demo-app', client_secret: 'demo-secret' }, 'Bearer abc'),
      { client: demoApp, method: 'client_secret_post' },
      'an Authorization header that is not Basic is no client authentication')
  })

  t.test('a wrong secret or unknown client gets the same generic answer, ' +
    'the reason stays in the journal', async (t) => {
    t.strictSame(await failure(clients.authenticate({ client_id: 'demo-app', client_secret: 'wrong' }, undefined)),
      invalidClient('client authentication failed', { reason: 'wrong client secret for "demo-app"' }))
    t.strictSame(await failure(clients.authenticate({ client_id: 'nobody', client_secret: 'demo-secret' }, undefined)),
      invalidClient('client authentication failed', { reason: 'client_id "nobody" is not registered' }))
  })

  t.test('needs client_id with the secret', async (t) => {
    t.strictSame(await failure(clients.authenticate({ client_secret: 'demo-secret' }, undefined)),
      invalidRequest('client_id is required with client_secret'))
  })

  t.test('refuses a client not registered for it', async (t) => {
    t.strictSame(
      await failure(clients.authenticate({ client_id: 'demo-app-jwt', client_secret: 'anything' }, undefined)),
      invalidClient('client "demo-app-jwt" is not registered for client_secret_post (registered: private_key_jwt)')
    )
  })
})

t.test('client_secret_basic', async (t) => {
  const document = defaultFixtureDocument()
  document.clients.push({
    clientId: 'app:one é',
    clientSecret: 'p@ss w0rd+%/:',
    redirectUris: ['http://localhost:3000/callback'],
    scopes: ['number-verification:verify'],
    tokenEndpointAuthMethods: ['client_secret_basic'],
    requirePkce: false
  })
  document.clients.push({
    clientId: 'plain-app',
    clientSecret: 'a+b%2Fc',
    redirectUris: ['http://localhost:3000/callback'],
    scopes: ['number-verification:verify'],
    tokenEndpointAuthMethods: ['client_secret_basic'],
    requirePkce: false
  })
  const { emulator } = await buildEmulator({ fixtures: fixturesFrom(document) })
  const clients = emulator.tokens.clients
  const demoApp = emulator.directory.client('demo-app')

  t.test('authenticates with the Basic header, whatever the scheme case', async (t) => {
    t.strictSame(await clients.authenticate({}, basic('demo-app', 'demo-secret')),
      { client: demoApp, method: 'client_secret_basic' })
    t.strictSame(await clients.authenticate({}, `basic ${Buffer.from('demo-app:demo-secret').toString('base64')}`),
      { client: demoApp, method: 'client_secret_basic' })
    t.strictSame(await clients.authenticate({ client_id: 'demo-app' }, basic('demo-app', 'demo-secret')),
      { client: demoApp, method: 'client_secret_basic' },
      'a matching client_id in the body is fine')
  })

  t.test('form-urldecodes the client id and secret (RFC 6749 section 2.3.1)', async (t) => {
    const result = await clients.authenticate({}, basic('app:one é', 'p@ss w0rd+%/:'))
    t.equal(result.client.clientId, 'app:one é')
    t.equal(result.method, 'client_secret_basic')
    t.strictSame(await failure(clients.authenticate({}, rawBasic('demo-app:100%'))),
      invalidClient('client authentication failed', { challenge: true, reason: 'wrong client secret for "demo-app"' }),
      'a bare % is read raw, and is still the wrong secret')
  })

  t.test('also accepts credentials sent without form-urlencoding, ' +
    'as curl -u and most libraries send them', async (t) => {
    const plain = emulator.directory.client('plain-app')
    t.strictSame(await clients.authenticate({}, rawBasic('plain-app:a+b%2Fc')),
      { client: plain, method: 'client_secret_basic' }, 'raw + and % kept')
    t.strictSame(await clients.authenticate({}, basic('plain-app', 'a+b%2Fc')),
      { client: plain, method: 'client_secret_basic' }, 'the encoded form works too')
    t.strictSame(await failure(clients.authenticate({}, rawBasic('plain-app:a b/c'))),
      invalidClient('client authentication failed', { challenge: true, reason: 'wrong client secret for "plain-app"' }),
      'a decoded look-alike is not the secret')
  })

  t.test('a wrong secret gets 401 with a Basic challenge', async (t) => {
    t.strictSame(await failure(clients.authenticate({}, basic('demo-app', 'wrong'))),
      invalidClient('client authentication failed', { challenge: true, reason: 'wrong client secret for "demo-app"' }))
    t.strictSame(await failure(clients.authenticate({}, rawBasic('app:one é:p@ss w0rd+%/:'))),
      invalidClient('client authentication failed', { challenge: true, reason: 'client_id "app" is not registered' }),
      'a raw client id with a colon cannot be told apart')
  })

  t.test('an unknown client or one not registered for Basic gets the challenge too', async (t) => {
    t.strictSame(await failure(clients.authenticate({}, basic('nobody', 'demo-secret'))),
      invalidClient('client authentication failed', {
        challenge: true,
        reason: 'client_id "nobody" is not registered'
      }))
    t.strictSame(await failure(clients.authenticate({}, basic('demo-app-jwt', 'x'))),
      invalidClient(
        'client "demo-app-jwt" is not registered for client_secret_basic (registered: private_key_jwt)',
        { challenge: true }
      ))
  })

  t.test('a malformed header is refused with the challenge', async (t) => {
    for (const header of ['Basic', 'Basic !!!', rawBasic('no-colon'), 'Basic ZGVtby1hcHA6ZGVtby1zZWNyZXQ= extra']) {
      t.strictSame(await failure(clients.authenticate({}, header)),
        invalidClient('malformed Basic authorization header', { challenge: true }), header)
    }
  })

  t.test('a body client_id other than the Basic one is refused', async (t) => {
    t.strictSame(await failure(clients.authenticate({ client_id: 'demo-app-jwt' }, basic('demo-app', 'demo-secret'))),
      invalidClient('client_id in the body differs from the Basic credentials', { challenge: true }))
  })
})

t.test('no credentials at all', async (t) => {
  const { emulator } = await buildEmulator()
  t.strictSame(await failure(emulator.tokens.clients.authenticate({}, undefined)),
    invalidClient('client authentication is required (client_secret_post, client_secret_basic or private_key_jwt)'))
  t.strictSame(
    await failure(emulator.tokens.clients.authenticate({ client_id: 'demo-app', client_secret: '' }, undefined)),
    invalidClient('client "demo-app" sent no credentials (client_secret, Basic header or client_assertion)'),
    'an empty secret is none'
  )
})

t.test('mixing two methods is refused', async (t) => {
  const { emulator } = await buildEmulator()
  const clients = emulator.tokens.clients
  const description = 'use exactly one client authentication method ' +
    '(Basic header, client_secret in the body, or client_assertion)'
  const assertion = await clientAssertion(START)
  t.strictSame(
    await failure(clients.authenticate(
      { client_id: 'demo-app', client_secret: 'demo-secret' },
      basic('demo-app', 'demo-secret')
    )),
    invalidRequest(description)
  )
  t.strictSame(
    await failure(clients.authenticate(assertionForm(assertion, { client_secret: 'demo-secret' }), undefined)),
    invalidRequest(description)
  )
  t.strictSame(await failure(clients.authenticate(assertionForm(assertion), basic('demo-app', 'demo-secret'))),
    invalidRequest(description))
  t.strictSame(
    await failure(clients.authenticate(
      { client_assertion_type: JWT_BEARER_ASSERTION, client_secret: 'demo-secret' },
      undefined
    )),
    invalidRequest(description)
  )
})

t.test('private_key_jwt', async (t) => {
  const { emulator, clock } = await buildEmulator()
  const clients = emulator.tokens.clients
  const demoAppJwt = emulator.directory.client('demo-app-jwt')
  const now = (): number => clock.now()
  const nowS = (): number => Math.floor(clock.now() / 1000)

  t.test('accepts an assertion signed by a registered key, for the token endpoint or the issuer', async (t) => {
    t.strictSame(await clients.authenticate(assertionForm(await clientAssertion(now())), undefined),
      { client: demoAppJwt, method: 'private_key_jwt' })
    t.strictSame(
      await clients.authenticate(assertionForm(await clientAssertion(now()), { client_id: 'demo-app-jwt' }), undefined),
      { client: demoAppJwt, method: 'private_key_jwt' }
    )
    t.strictSame(await clients.authenticate(assertionForm(await clientAssertion(now(), { aud: ISSUER })), undefined),
      { client: demoAppJwt, method: 'private_key_jwt' })
    t.strictSame(
      await clients.authenticate(assertionForm(await clientAssertion(now(), { aud: [TOKEN_ENDPOINT] })), undefined),
      { client: demoAppJwt, method: 'private_key_jwt' }, 'an array of one value'
    )
  })

  t.test('refuses an audience array that also names others', async (t) => {
    t.strictSame(await failure(clients.authenticate(assertionForm(await clientAssertion(now(), { aud: ['https://elsewhere.example', TOKEN_ENDPOINT] })), undefined)),
      invalidClient(`client_assertion aud must be this server alone (${TOKEN_ENDPOINT} or ${ISSUER}), not 2 values`))
    t.strictSame(
      await failure(clients.authenticate(
        assertionForm(await clientAssertion(now(), { aud: [TOKEN_ENDPOINT, ISSUER] })),
        undefined
      )),
      invalidClient(`client_assertion aud must be this server alone (${TOKEN_ENDPOINT} or ${ISSUER}), not 2 values`),
      'both of its names count as two'
    )
  })

  t.test('refuses an iat in the future beyond 5 s of skew', async (t) => {
    const year = 365 * 86_400
    t.strictSame(
      await failure(clients.authenticate(
        assertionForm(await clientAssertion(now(), { iat: nowS() + year, exp: nowS() + year + 60 })),
        undefined
      )),
      invalidClient(`client_assertion iat lies ${year} s in the future; at most 5 s of clock skew is accepted`)
    )
    t.strictSame(
      await failure(clients.authenticate(
        assertionForm(await clientAssertion(now(), { iat: nowS() + 6, exp: nowS() + 66 })),
        undefined
      )),
      invalidClient('client_assertion iat lies 6 s in the future; at most 5 s of clock skew is accepted')
    )
    t.strictSame((await clients.authenticate(
      assertionForm(await clientAssertion(now(), { iat: nowS() + 5, exp: nowS() + 65 })),
      undefined
    )).method, 'private_key_jwt', '5 s ahead is skew')
  })

  t.test('refuses another audience', async (t) => {
    t.strictSame(await failure(clients.authenticate(assertionForm(await clientAssertion(now(), { aud: 'https://other.example/token' })), undefined)),
      invalidClient('client_assertion rejected: claim "aud" is invalid (unexpected "aud" claim value)'))
  })

  t.test('refuses an expired assertion, with 5 s of tolerance', async (t) => {
    const iat = nowS() - 120
    t.strictSame(
      await failure(clients.authenticate(
        assertionForm(await clientAssertion(now(), { iat, exp: nowS() - 6 })),
        undefined
      )),
      invalidClient('client_assertion rejected: it has expired (exp)')
    )
    t.strictSame((await clients.authenticate(
      assertionForm(await clientAssertion(now(), { iat, exp: nowS() - 4 })),
      undefined
    )).method, 'private_key_jwt', 'expired 4 s ago')
  })

  t.test('refuses an assertion not valid yet', async (t) => {
    t.strictSame(
      await failure(clients.authenticate(assertionForm(await clientAssertion(now(), { nbf: nowS() + 60 })), undefined)),
      invalidClient('client_assertion rejected: claim "nbf" is invalid ("nbf" claim timestamp check failed)')
    )
  })

  t.test('refuses a lifetime over 300 s', async (t) => {
    t.strictSame(
      await failure(clients.authenticate(
        assertionForm(await clientAssertion(now(), { exp: nowS() + 301 })),
        undefined
      )),
      invalidClient('client_assertion lifetime (exp - iat) is 301 s; at most 300 s is accepted')
    )
    t.strictSame((await clients.authenticate(
      assertionForm(await clientAssertion(now(), { exp: nowS() + 300 })),
      undefined
    )).method, 'private_key_jwt', '300 s is fine')
  })

  t.test('refuses a reused jti until the assertion could no longer be used anyway', async (t) => {
    const assertion = await clientAssertion(now(), { jti: 'once-only' })
    t.strictSame((await clients.authenticate(assertionForm(assertion), undefined)).method, 'private_key_jwt')
    t.strictSame(await failure(clients.authenticate(assertionForm(assertion), undefined)),
      invalidClient('client_assertion jti was already used: sign a fresh assertion for every request'))
    t.strictSame(
      await failure(clients.authenticate(assertionForm(await clientAssertion(now(), { jti: 'once-only' })), undefined)),
      invalidClient('client_assertion jti was already used: sign a fresh assertion for every request'),
      'even in a new assertion'
    )
    t.equal(await emulator.ctx.store.get('assertionIds', 'demo-app-jwt\nonce-only'), true)
    clock.advance(65_000)
    t.equal(await emulator.ctx.store.get('assertionIds', 'demo-app-jwt\nonce-only'), undefined,
      'forgotten once exp + tolerance passed')
  })

  t.test('refuses alg none and algorithms other than the asymmetric ones', async (t) => {
    const iat = nowS()
    const unsecured = new UnsecuredJWT({
      iss: 'demo-app-jwt',
      sub: 'demo-app-jwt',
      aud: TOKEN_ENDPOINT,
      iat,
      exp: iat + 60,
      jti: 'none-1'
    }).encode()
    t.strictSame(await failure(clients.authenticate(assertionForm(unsecured), undefined)),
      invalidClient('client_assertion rejected: its alg is not allowed (allowed: RS256, PS256, ES256, EdDSA)'))
    const hs256 = await new SignJWT({
      iss: 'demo-app-jwt',
      sub: 'demo-app-jwt',
      aud: TOKEN_ENDPOINT,
      iat,
      exp: iat + 60,
      jti: 'hs-1'
    })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('a shared secret that is long enough for HS256'))
    t.strictSame(await failure(clients.authenticate(assertionForm(hs256), undefined)),
      invalidClient('client_assertion rejected: its alg is not allowed (allowed: RS256, PS256, ES256, EdDSA)'))
  })

  t.test('refuses a key that is not registered', async (t) => {
    const { privateKey } = await generateKeyPair('ES256')
    t.strictSame(
      await failure(clients.authenticate(
        assertionForm(await clientAssertion(now(), {}, { key: privateKey, kid: 'someone-else' })),
        undefined
      )),
      invalidClient('client_assertion rejected: no registered key matches its kid / alg')
    )
    t.strictSame(
      await failure(clients.authenticate(
        assertionForm(await clientAssertion(now(), {}, { key: privateKey })),
        undefined
      )),
      invalidClient('client_assertion rejected: signature verification failed'),
      'a registered kid on another key'
    )
  })

  t.test('refuses an iss other than the client_id, and a sub other than the iss', async (t) => {
    t.strictSame(
      await failure(clients.authenticate(
        assertionForm(await clientAssertion(now(), { iss: 'demo-app' }), { client_id: 'demo-app-jwt' }),
        undefined
      )),
      invalidClient('client_assertion iss differs from client_id')
    )
    t.strictSame(
      await failure(clients.authenticate(
        assertionForm(await clientAssertion(now(), { iss: undefined }), { client_id: 'demo-app-jwt' }),
        undefined
      )),
      invalidClient('client_assertion iss differs from client_id'),
      'no iss at all'
    )
    t.strictSame(
      await failure(clients.authenticate(assertionForm(await clientAssertion(now(), { sub: 'demo-app' })), undefined)),
      invalidClient('client_assertion rejected: claim "sub" is invalid (unexpected "sub" claim value)')
    )
    t.strictSame(
      await failure(clients.authenticate(
        assertionForm(await clientAssertion(now(), { iss: 'demo-app', sub: 'demo-app' })),
        undefined
      )),
      invalidClient('client "demo-app" is not registered for private_key_jwt ' +
        '(registered: client_secret_post, client_secret_basic)'),
      'iss names a secret client'
    )
    t.strictSame(
      await failure(clients.authenticate(
        assertionForm(await clientAssertion(now(), { iss: 'nobody', sub: 'nobody' })),
        undefined
      )),
      invalidClient('client authentication failed', { reason: 'client_id "nobody" is not registered' })
    )
  })

  t.test('refuses an assertion without iss, exp, iat or jti', async (t) => {
    t.strictSame(
      await failure(clients.authenticate(assertionForm(await clientAssertion(now(), { iss: undefined })), undefined)),
      invalidClient('client_assertion has no iss and no client_id was sent')
    )
    for (const claim of ['exp', 'iat', 'jti']) {
      t.strictSame(
        await failure(clients.authenticate(
          assertionForm(await clientAssertion(now(), { [claim]: undefined })),
          undefined
        )),
        invalidClient(`client_assertion rejected: claim "${claim}" is missing`),
        claim
      )
    }
  })

  t.test('refuses a wrong or missing client_assertion_type, a missing assertion ' +
    'and what is not a JWT', async (t) => {
    const assertion = await clientAssertion(now())
    t.strictSame(await failure(clients.authenticate({ client_assertion: assertion }, undefined)),
      invalidRequest(`client_assertion_type must be ${JWT_BEARER_ASSERTION}`))
    t.strictSame(
      await failure(clients.authenticate({
        client_assertion: assertion,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer'
      }, undefined)),
      invalidRequest(`client_assertion_type must be ${JWT_BEARER_ASSERTION}`)
    )
    t.strictSame(await failure(clients.authenticate({ client_assertion_type: JWT_BEARER_ASSERTION }, undefined)),
      invalidRequest('client_assertion is required with client_assertion_type'))
    t.strictSame(await failure(clients.authenticate(assertionForm('not-a-jwt'), undefined)),
      invalidClient('client_assertion is not a JWT'))
    const [header, payload] = assertion.split('.')
    t.strictSame(await failure(clients.authenticate(assertionForm(`${header ?? ''}.${payload ?? ''}.%%%`), undefined)),
      invalidClient('client_assertion rejected: Failed to base64url decode the signature'),
      'other jose errors keep their message')
  })
})

t.test('camara-strict requires private_key_jwt', async (t) => {
  const { emulator, clock } = await buildEmulator({ settings: { profile: 'camara-strict' } })
  const clients = emulator.tokens.clients
  const description = 'the camara-strict profile requires private_key_jwt client authentication'
  t.strictSame(await failure(clients.authenticate({ client_id: 'demo-app', client_secret: 'demo-secret' }, undefined)),
    invalidClient(description))
  t.strictSame(await failure(clients.authenticate({}, basic('demo-app', 'demo-secret'))), invalidClient(description))
  t.strictSame((await clients.authenticate(assertionForm(await clientAssertion(clock.now())), undefined)).method,
    'private_key_jwt')
})
