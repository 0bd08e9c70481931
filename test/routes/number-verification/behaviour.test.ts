// The behavioural suite every Number Verification path family must pass: each row of the error
// table (PROTOCOL.md section 4) the emulator implements, with exact status, ErrorInfo body, CAMARA
// text for the family's API version, and headers. One t.test per family, the same assertions.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, REDIRECT_URI } from '../../helpers/app.js'
import { authorizeDevice, clientCredentialsToken, obtainTokens } from '../../helpers/flow.js'
import {
  assertCamaraError, assertNoStack, getShare, INVALID_TOKEN_CONTEXT, JSON_UTF8, messagesOf, NOT_NETWORK_AUTHENTICATED,
  OTHER_MSISDN, PERMISSION_DENIED, postVerify, SEED_KONERA, SEED_MSISDN, sha256Hex, SHARE_ONLY_SCOPE, SMS_OTP_KONERA,
  REUSABLE_TOKEN_FAMILIES, VERIFY_ONLY_SCOPE
} from './support.js'

const PHONE_NUMBER_PATTERN_MESSAGE = String.raw`phoneNumber must be E.164 with a leading + ` +
  String.raw`(pattern ^\+[1-9][0-9]{4,14}$)`
const HASHED_MESSAGE = 'hashedPhoneNumber must be the SHA-256 hex (64 characters) of the E.164 number including its +'
const NOT_JSON = 'the request body is not valid JSON'

/** CAMARA's own test definitions (verify0_phoneNumber_does_not_match_schema) and a few more */
const MALFORMED_PHONE_NUMBERS: unknown[] = [
  'string_value', '1234567890', '+12334foo22222', '+00012230304913849', '123', '++49565456787',
  34666666666, null, '', '+3466666666612345', ' +34666666666', '+34 666 666 666', '+1234', ['+34666666666'],
  { e164: '+34666666666' }
]
const MALFORMED_HASHES: unknown[] = [
  'not-a-hash', sha256Hex(SEED_MSISDN).slice(1), `${sha256Hex(SEED_MSISDN)}0`, `${sha256Hex(SEED_MSISDN).slice(1)}g`,
  SEED_MSISDN, '', null, 12345
]

async function exchangeCode (
  app: FastifyInstance, code: string
): Promise<{ statusCode: number, body: Record<string, unknown> }> {
  const res = await app.inject({
    method: 'POST',
    url: '/camara/api/auth/v1/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: 'demo-app',
      client_secret: 'demo-secret'
    }).toString()
  })
  return { statusCode: res.statusCode, body: res.json() }
}

for (const family of REUSABLE_TOKEN_FAMILIES) {
  const { version } = family
  const text = messagesOf(family)
  const expectedVerify = (verified: boolean): Record<string, unknown> => family.flavor === 'aggregator'
    ? { devicePhoneNumberVerified: verified, assessedAt: '2026-11-25T12:00:00.000Z' }
    : { devicePhoneNumberVerified: verified }

  t.test(`${family.prefix} (${family.label})`, async (t) => {
    const { app } = await buildTestApp(t)
    const { access_token: token } = await obtainTokens(app, { konera: SEED_KONERA })

    t.test('the token of the seed device verifies its number (the baseline every row departs from)', async (t) => {
      const res = await postVerify(app, family, { token, payload: { phoneNumber: SEED_MSISDN } })
      t.equal(res.statusCode, 200)
      t.strictSame(res.json(), expectedVerify(true))
      t.equal(res.headers['content-type'], JSON_UTF8)
      t.equal(res.headers['x-emulator-reason'], undefined)
    })

    t.test('400 INVALID_ARGUMENT for a body that is not exactly one well-formed number', async (t) => {
      const cases: Array<{ name: string, payload?: unknown, contentType?: string, message: string }> = [
        {
          name: 'no body and no content type',
          message: 'the request body is required: { "phoneNumber": "+34666666666" } or ' +
            '{ "hashedPhoneNumber": "<sha256 hex>" }'
        },
        {
          name: 'an empty body declared as JSON',
          payload: '',
          contentType: 'application/json',
          message: 'the request body is empty: send { "phoneNumber": "+E.164" } or ' +
            '{ "hashedPhoneNumber": "<sha256 hex>" }'
        },
        {
          name: 'JSON null',
          payload: 'null',
          contentType: 'application/json',
          message: 'the request body is required: { "phoneNumber": "+34666666666" } or ' +
            '{ "hashedPhoneNumber": "<sha256 hex>" }'
        },
        { name: '{}', payload: {}, message: 'phoneNumber or hashedPhoneNumber is required' },
        {
          name: 'only unknown properties',
          payload: { msisdn: SEED_MSISDN, PhoneNumber: SEED_MSISDN },
          message: 'phoneNumber or hashedPhoneNumber is required (unknown properties: "msisdn", "PhoneNumber")'
        },
        {
          name: 'a known property with an unknown one',
          payload: { phoneNumber: SEED_MSISDN, extra: 1 },
          message: 'only phoneNumber or hashedPhoneNumber may be sent (unknown properties: "extra")'
        },
        {
          name: 'both phoneNumber and hashedPhoneNumber',
          payload: { phoneNumber: SEED_MSISDN, hashedPhoneNumber: sha256Hex(SEED_MSISDN) },
          message: 'send exactly one of phoneNumber or hashedPhoneNumber, not both'
        },
        {
          name: 'both, even when one is null',
          payload: { phoneNumber: SEED_MSISDN, hashedPhoneNumber: null },
          message: 'send exactly one of phoneNumber or hashedPhoneNumber, not both'
        },
        {
          name: 'a JSON array',
          payload: [{ phoneNumber: SEED_MSISDN }],
          message: 'the request body must be a JSON object'
        },
        {
          name: 'a JSON string',
          payload: JSON.stringify(SEED_MSISDN),
          contentType: 'application/json',
          message: 'the request body must be a JSON object'
        },
        {
          name: 'a JSON number',
          payload: '34666666666',
          contentType: 'application/json',
          message: 'the request body must be a JSON object'
        },
        {
          name: 'invalid JSON',
          payload: '{"phoneNumber": "+34666666666"',
          contentType: 'application/json',
          message: NOT_JSON
        },
        {
          name: 'JSON with a trailing comma',
          payload: '{"phoneNumber": "+34666666666",}',
          contentType: 'application/json',
          message: NOT_JSON
        },
        {
          name: 'JSON with a __proto__ key (prototype poisoning)',
          payload: '{"phoneNumber": "+34666666666", "__proto__": {"x": 1}}',
          contentType: 'application/json',
          message: NOT_JSON
        },
        {
          name: 'JSON with a constructor.prototype key',
          payload: '{"phoneNumber": "+34666666666", "constructor": {"prototype": {"x": 1}}}',
          contentType: 'application/json',
          message: NOT_JSON
        },
        ...MALFORMED_PHONE_NUMBERS.map((phoneNumber) => ({
          name: `phoneNumber ${JSON.stringify(phoneNumber)}`,
          payload: { phoneNumber },
          message: PHONE_NUMBER_PATTERN_MESSAGE
        })),
        ...MALFORMED_HASHES.map((hashedPhoneNumber) => ({
          name: `hashedPhoneNumber ${JSON.stringify(hashedPhoneNumber)}`,
          payload: { hashedPhoneNumber },
          message: HASHED_MESSAGE
        }))
      ]
      for (const row of cases) {
        const res = await postVerify(app, family, {
          token,
          payload: row.payload,
          ...(row.contentType === undefined ? {} : { contentType: row.contentType }),
          headers: { 'x-correlator': 'body-check' }
        })
        t.test(row.name, async (t) => {
          assertCamaraError(t, res, {
            status: 400, code: 'INVALID_ARGUMENT', message: row.message, correlator: 'body-check', reason: undefined
          })
        })
      }
    })

    t.test('a Content-Length that does not match the body is 400 INVALID_ARGUMENT without a stack', async (t) => {
      for (const length of ['5', '100']) {
        const res = await postVerify(app, family, {
          token,
          payload: JSON.stringify({ phoneNumber: SEED_MSISDN }),
          contentType: 'application/json',
          headers: { 'content-length': length }
        })
        assertCamaraError(t, res, {
          status: 400,
          code: 'INVALID_ARGUMENT',
          message: 'the Content-Length header does not match the body',
          reason: undefined
        })
      }
    })

    t.test('a body larger than the limit is refused without a stack', async (t) => {
      const res = await postVerify(app, family, {
        token,
        payload: JSON.stringify({ phoneNumber: SEED_MSISDN, padding: 'x'.repeat(1024 * 1024) }),
        contentType: 'application/json'
      })
      assertCamaraError(t, res, {
        status: 413, code: 'INVALID_ARGUMENT', message: 'the request body is too large', reason: undefined
      })
    })

    t.test('415 UNSUPPORTED_MEDIA_TYPE for a body that is not JSON', async (t) => {
      for (const contentType of [
        'text/plain', 'application/x-www-form-urlencoded', 'application/jsonp', 'application/xml'
      ]) {
        const res = await postVerify(app, family, {
          token,
          payload: contentType === 'application/x-www-form-urlencoded' ? 'phoneNumber=%2B34666666666' : '+34666666666',
          contentType
        })
        t.test(contentType, async (t) => {
          assertCamaraError(t, res, {
            status: 415,
            code: 'UNSUPPORTED_MEDIA_TYPE',
            message: `The request media type "${contentType}" is not supported: send application/json`,
            reason: undefined
          })
        })
      }
    })

    t.test('415 UNSUPPORTED_MEDIA_TYPE for a body sent without a content type', async (t) => {
      const res = await app.inject({
        method: 'POST',
        url: `${family.prefix}/verify`,
        headers: { authorization: `Bearer ${token}` },
        payload: Buffer.from(JSON.stringify({ phoneNumber: SEED_MSISDN }))
      })
      assertCamaraError(t, res, {
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: 'the request media type is not supported: send application/json',
        reason: undefined
      })
    })

    t.test('JSON with a charset or in another letter case is accepted', async (t) => {
      for (const contentType of ['application/json; charset=utf-8', 'Application/JSON']) {
        const res = await postVerify(app, family, {
          token, payload: JSON.stringify({ phoneNumber: SEED_MSISDN }), contentType
        })
        t.equal(res.statusCode, 200, contentType)
        t.strictSame(res.json(), expectedVerify(true), contentType)
      }
    })

    t.test('406 NOT_ACCEPTABLE when the client does not accept JSON, on both operations', async (t) => {
      const message = 'The server cannot produce a response matching the Accept header: ' +
        'this API answers application/json'
      for (const accept of ['text/html', 'text/html, application/xml;q=0.9', 'image/*']) {
        const verify = await postVerify(app, family, {
          token, payload: { phoneNumber: SEED_MSISDN }, headers: { accept }
        })
        assertCamaraError(t, verify, { status: 406, code: 'NOT_ACCEPTABLE', message, reason: undefined })
        const share = await getShare(app, family, { token, headers: { accept } })
        assertCamaraError(t, share, { status: 406, code: 'NOT_ACCEPTABLE', message, reason: undefined })
      }
    })

    t.test('an Accept header that allows JSON is served', async (t) => {
      for (const accept of [
        'application/json', '*/*', 'text/html, application/json;q=0.9', 'application/*',
        'application/json; charset=utf-8'
      ]) {
        const res = await postVerify(app, family, { token, payload: { phoneNumber: SEED_MSISDN }, headers: { accept } })
        t.equal(res.statusCode, 200, accept)
      }
    })

    t.test('401 UNAUTHENTICATED with the version text for any token problem, on both operations', async (t) => {
      const cases: Array<{ name: string, authorization: string | undefined, reason: string }> = [
        { name: 'no Authorization header', authorization: undefined, reason: 'no Authorization header' },
        {
          name: 'Basic credentials', authorization: 'Basic xyz', reason: 'Authorization header is not "Bearer <token>"'
        },
        {
          name: 'Bearer without a token',
          authorization: 'Bearer',
          reason: 'Authorization header is not "Bearer <token>"'
        },
        {
          name: 'Bearer and spaces', authorization: 'Bearer   ', reason: 'Authorization header is not "Bearer <token>"'
        },
        {
          name: 'a token with characters outside b64token',
          authorization: `Bearer ${token}!`,
          reason: 'Authorization header is not "Bearer <token>"'
        },
        {
          name: 'the token without the scheme',
          authorization: token,
          reason: 'Authorization header is not "Bearer <token>"'
        },
        {
          name: 'an unknown token',
          authorization: 'Bearer not-a-token-the-emulator-issued',
          reason: 'access token is unknown or expired'
        },
        {
          name: 'another token of the same shape',
          authorization: `Bearer ${token.slice(1)}x`,
          reason: 'access token is unknown or expired'
        }
      ]
      for (const row of cases) {
        const options = { authorization: row.authorization, headers: { 'x-correlator': 'auth-check' } }
        const verify = await postVerify(app, family, { ...options, payload: { phoneNumber: SEED_MSISDN } })
        const share = await getShare(app, family, options)
        // RFC 6750 section 3: error="invalid_token" only where a Bearer token was sent
        const sentBearer = row.authorization !== undefined && /^bearer\s/i.test(row.authorization)
        const challenge = sentBearer
          ? `Bearer realm="camara-nv-emulator", error="invalid_token", error_description="${text.unauthenticated}"`
          : 'Bearer realm="camara-nv-emulator"'
        t.test(row.name, async (t) => {
          assertCamaraError(t, verify, {
            status: 401,
            code: 'UNAUTHENTICATED',
            message: text.unauthenticated,
            reason: row.reason,
            correlator: 'auth-check'
          })
          assertCamaraError(t, share, {
            status: 401,
            code: 'UNAUTHENTICATED',
            message: text.unauthenticated,
            reason: row.reason,
            correlator: 'auth-check'
          })
          t.equal(verify.headers['www-authenticate'], challenge)
          t.equal(share.headers['www-authenticate'], challenge)
        })
      }
    })

    t.test('the Bearer scheme is case-insensitive (RFC 6750)', async (t) => {
      const res = await postVerify(app, family, {
        authorization: `bearer ${token}`, payload: { phoneNumber: SEED_MSISDN }
      })
      t.equal(res.statusCode, 200)
      t.strictSame(res.json(), expectedVerify(true))
    })

    t.test('the token is checked before the body: a bad token with a bad body is 401', async (t) => {
      const res = await postVerify(app, family, {
        authorization: 'Bearer unknown', payload: '{not json', contentType: 'application/json'
      })
      assertCamaraError(t, res, {
        status: 401,
        code: 'UNAUTHENTICATED',
        message: text.unauthenticated,
        reason: 'access token is unknown or expired'
      })
      const wrongType = await postVerify(app, family, { payload: 'x', contentType: 'text/plain' })
      assertCamaraError(t, wrongType, {
        status: 401, code: 'UNAUTHENTICATED', message: text.unauthenticated, reason: 'no Authorization header'
      })
    })

    t.test('403 PERMISSION_DENIED when the token lacks the operation scope', async (t) => {
      const shareOnly = await obtainTokens(app, { konera: SEED_KONERA, scope: SHARE_ONLY_SCOPE })
      const verify = await postVerify(app, family, {
        token: shareOnly.access_token, payload: { phoneNumber: SEED_MSISDN }
      })
      assertCamaraError(t, verify, {
        status: 403,
        code: 'PERMISSION_DENIED',
        message: PERMISSION_DENIED,
        reason: `access token scopes "${shareOnly.scope}" lack number-verification:verify`
      })
      t.equal(
        verify.headers['www-authenticate'],
        'Bearer realm="camara-nv-emulator", error="insufficient_scope", scope="number-verification:verify"',
        'RFC 6750 section 3.1'
      )
      const share = await getShare(app, family, { token: shareOnly.access_token })
      t.equal(share.statusCode, 200, 'the same token shares')
      t.strictSame(share.json(), { devicePhoneNumber: SEED_MSISDN })

      const verifyOnly = await obtainTokens(app, { konera: SEED_KONERA, scope: VERIFY_ONLY_SCOPE })
      const refused = await getShare(app, family, { token: verifyOnly.access_token })
      assertCamaraError(t, refused, {
        status: 403,
        code: 'PERMISSION_DENIED',
        message: PERMISSION_DENIED,
        reason: `access token scopes "${verifyOnly.scope}" lack number-verification:device-phone-number:read`
      })
      const verified = await postVerify(app, family, {
        token: verifyOnly.access_token, payload: { phoneNumber: SEED_MSISDN }
      })
      t.equal(verified.statusCode, 200, 'the same token verifies')
    })

    t.test('403 NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK for a token from SMS OTP', async (t) => {
      const sms = await obtainTokens(app, { konera: SMS_OTP_KONERA })
      const reason = 'the user was authenticated by sms+otp, not by the mobile network nor by the SIM'
      const verify = await postVerify(app, family, {
        token: sms.access_token, payload: { phoneNumber: '+34600000003' }
      })
      assertCamaraError(t, verify, {
        status: 403, code: NOT_NETWORK_AUTHENTICATED, message: text.notNetworkAuthenticated, reason
      })
      const share = await getShare(app, family, { token: sms.access_token })
      assertCamaraError(t, share, {
        status: 403, code: NOT_NETWORK_AUTHENTICATED, message: text.notNetworkAuthenticated, reason
      })
    })

    t.test('a client_credentials token identifies no subscriber: ' +
      `${version === 'v1' ? '403 INVALID_TOKEN_CONTEXT' : '403 PERMISSION_DENIED'}`, async (t) => {
      const twoLegged = await clientCredentialsToken(app)
      const verify = await postVerify(app, family, { token: twoLegged, payload: { phoneNumber: SEED_MSISDN } })
      const share = await getShare(app, family, { token: twoLegged })
      for (const res of [verify, share]) {
        t.equal(res.headers['www-authenticate'], undefined, 'the token is valid and has the scope: no challenge')
        if (version === 'v1') {
          assertCamaraError(t, res, {
            status: 403,
            code: 'INVALID_TOKEN_CONTEXT',
            message: INVALID_TOKEN_CONTEXT,
            reason: 'the access token identifies no subscriber (client_credentials?)'
          })
        } else {
          assertCamaraError(t, res, {
            status: 403,
            code: 'PERMISSION_DENIED',
            message: PERMISSION_DENIED,
            reason: 'the access token identifies no subscriber: ' +
              'a three-legged token (authorization code flow) is required'
          })
        }
      }
    })

    t.test('the body is validated before what the token identifies (CAMARA C02.01): 400, not 403', async (t) => {
      const twoLegged = await clientCredentialsToken(app)
      const sms = await obtainTokens(app, { konera: SMS_OTP_KONERA })
      for (const [name, accessToken] of [
        ['a client_credentials token', twoLegged], ['a token from SMS OTP', sms.access_token]
      ] as const) {
        t.test(name, async (t) => {
          for (const payload of [{ phoneNumber: '34666666666' }, {}, { phoneNumber: SEED_MSISDN, extra: 1 }]) {
            const res = await postVerify(app, family, { token: accessToken, payload })
            t.equal(res.statusCode, 400, JSON.stringify(payload))
            t.equal(res.json().code, 'INVALID_ARGUMENT')
          }
          const wellFormed = await postVerify(app, family, {
            token: accessToken, payload: { phoneNumber: SEED_MSISDN }
          })
          t.equal(wellFormed.statusCode, 403, 'a well-formed body reaches the token context check')
        })
      }
      const shareOnly = await obtainTokens(app, { konera: SEED_KONERA, scope: SHARE_ONLY_SCOPE })
      const wrongScope = await postVerify(app, family, {
        token: shareOnly.access_token, payload: { phoneNumber: '34666666666' }
      })
      t.equal(wrongScope.statusCode, 403, 'the scope is still checked before the body')
    })

    t.test('a token revoked by a replayed code is 401 on both operations', async (t) => {
      const callback = await authorizeDevice(app, { konera: SEED_KONERA })
      const code = callback.searchParams.get('code') ?? ''
      const first = await exchangeCode(app, code)
      t.equal(first.statusCode, 200)
      const revokedToken = String(first.body.access_token)
      const before = await postVerify(app, family, { token: revokedToken, payload: { phoneNumber: SEED_MSISDN } })
      t.equal(before.statusCode, 200, 'the token works until the code is replayed')
      const replay = await exchangeCode(app, code)
      t.equal(replay.statusCode, 400)
      t.equal(replay.body.error, 'invalid_grant')
      const reason = 'access token was revoked (authorization code replayed)'
      const verify = await postVerify(app, family, { token: revokedToken, payload: { phoneNumber: SEED_MSISDN } })
      assertCamaraError(t, verify, { status: 401, code: 'UNAUTHENTICATED', message: text.unauthenticated, reason })
      const share = await getShare(app, family, { token: revokedToken })
      assertCamaraError(t, share, { status: 401, code: 'UNAUTHENTICATED', message: text.unauthenticated, reason })
      const unrelated = await postVerify(app, family, { token, payload: { phoneNumber: SEED_MSISDN } })
      t.equal(unrelated.statusCode, 200, 'tokens of other grants are untouched')
    })

    t.test('404 NOT_FOUND as ErrorInfo for an unknown route under the family', async (t) => {
      const cases: Array<[string, string]> = [
        ['GET', `${family.prefix}/unknown`],
        ['POST', `${family.prefix}/verify/extra`],
        ['GET', `${family.prefix}/device-phone-number/123`],
        ['GET', `${family.prefix}/`],
        ['POST', `${family.prefix}/Verify`]
      ]
      for (const [method, url] of cases) {
        const res = await app.inject({
          method: method as 'GET' | 'POST',
          url: `${url}?secret=query`,
          headers: { authorization: `Bearer ${token}`, 'x-correlator': 'nf-1' }
        })
        t.test(`${method} ${url}`, async (t) => {
          assertCamaraError(t, res, {
            status: 404,
            code: 'NOT_FOUND',
            message: `The specified resource is not found: ${method} ${url}`,
            correlator: 'nf-1'
          })
        })
      }
    })

    t.test('405 METHOD_NOT_ALLOWED as ErrorInfo with an Allow header', async (t) => {
      const cases: Array<[string, string, string]> = [
        ['GET', '/verify', 'POST'],
        ['PUT', '/verify', 'POST'],
        ['PATCH', '/verify', 'POST'],
        ['DELETE', '/verify', 'POST'],
        ['DELETE', '/device-phone-number', 'GET, HEAD'],
        ['POST', '/device-phone-number', 'GET, HEAD'],
        ['PUT', '/device-phone-number', 'GET, HEAD'],
        ['OPTIONS', '/verify', 'POST'],
        ['OPTIONS', '/device-phone-number', 'GET, HEAD']
      ]
      for (const [method, path, allow] of cases) {
        const res = await app.inject({
          method: method as 'GET', url: `${family.prefix}${path}`, headers: { authorization: `Bearer ${token}` }
        })
        t.test(`${method} ${path}`, async (t) => {
          assertCamaraError(t, res, {
            status: 405,
            code: 'METHOD_NOT_ALLOWED',
            message: `The requested method is not allowed on this resource; allowed: ${allow}`
          })
          t.equal(res.headers.allow, allow)
        })
      }
    })

    t.test('the share answers the token number and ignores any body or query', async (t) => {
      const res = await app.inject({
        method: 'GET',
        url: `${family.prefix}/device-phone-number?phoneNumber=${encodeURIComponent(OTHER_MSISDN)}`,
        headers: { authorization: `Bearer ${token}` }
      })
      t.equal(res.statusCode, 200)
      t.strictSame(res.json(), { devicePhoneNumber: SEED_MSISDN })
      t.equal(res.headers['content-type'], JSON_UTF8)
    })
  })

  t.test(`${family.prefix}: an expired token is 401 UNAUTHENTICATED`, async (t) => {
    const { app, clock } = await buildTestApp(t)
    const { access_token: token, expires_in: lifetime } = await obtainTokens(app, { konera: SEED_KONERA })
    t.equal(lifetime, 3600)
    clock.advance(3599 * 1000)
    const late = await postVerify(app, family, { token, payload: { phoneNumber: SEED_MSISDN } })
    t.equal(late.statusCode, 200, 'still valid one second before expiry')
    clock.advance(2 * 1000)
    const verify = await postVerify(app, family, { token, payload: { phoneNumber: SEED_MSISDN } })
    assertCamaraError(t, verify, {
      status: 401, code: 'UNAUTHENTICATED', message: text.unauthenticated, reason: 'access token is unknown or expired'
    })
    const share = await getShare(app, family, { token })
    assertCamaraError(t, share, {
      status: 401, code: 'UNAUTHENTICATED', message: text.unauthenticated, reason: 'access token is unknown or expired'
    })
  })

  t.test(`${family.prefix}: an unexpected failure is 500 INTERNAL without internals`, async (t) => {
    const { app } = await buildTestApp(t)
    const { access_token: token } = await obtainTokens(app, { konera: SEED_KONERA })
    const service = app.emulator.numberVerification
    service.verify = () => {
      throw new TypeError(`Cannot read properties of undefined (reading 'msisdn') at ${import.meta.url}:1:1`)
    }
    const verify = await postVerify(app, family, {
      token, payload: { phoneNumber: SEED_MSISDN }, headers: { 'x-correlator': 'boom-1' }
    })
    assertCamaraError(t, verify, {
      status: 500,
      code: 'INTERNAL',
      message: 'Server error',
      reason: 'unexpected error (see the log)',
      correlator: 'boom-1'
    })
    t.notMatch(verify.body, /msisdn|TypeError/)

    service.authenticate = () => { throw new RangeError('Maximum call stack size exceeded') }
    const share = await getShare(app, family, { token })
    assertCamaraError(t, share, {
      status: 500, code: 'INTERNAL', message: 'Server error', reason: 'unexpected error (see the log)'
    })
    t.notMatch(share.body, /RangeError|call stack/)
    assertNoStack(t, share)
  })
}
