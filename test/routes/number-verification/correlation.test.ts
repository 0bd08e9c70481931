// Request correlation on every path family, on success and on error: CAMARA's x-correlator and the
// seed's x-correlation-id are echoed, a UUID is generated when neither is sent, a value breaking
// CAMARA's pattern is 400 INVALID_ARGUMENT, and the request's log line carries the correlator.
import t from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { PathFamily } from '../../../src/routes/number-verification/family.js'
import { buildLoggedTestApp, buildTestApp } from '../../helpers/app.js'
import { obtainTokens } from '../../helpers/flow.js'
import {
  assertCamaraError, getShare, messagesOf, postVerify, REUSABLE_TOKEN_FAMILIES, SEED_KONERA, SEED_MSISDN, UUID
} from './support.js'

const PATTERN_TEXT = String.raw`^[a-zA-Z0-9-_:;.\/<>{}]{0,256}$`
/** Every character class CAMARA's pattern allows */
const ALL_ALLOWED = 'aZ09-_:;./<>{}'

/** One request of each outcome the family produces, with the given headers */
function outcomes (
  app: FastifyInstance, family: PathFamily, token: string
): Array<[string, (headers: Record<string, string>) => Promise<LightMyRequestResponse>, number]> {
  return [
    ['verify 200', async (headers) =>
      await postVerify(app, family, { token, payload: { phoneNumber: SEED_MSISDN }, headers }), 200],
    ['share 200', async (headers) => await getShare(app, family, { token, headers }), 200],
    ['verify 400', async (headers) => await postVerify(app, family, { token, payload: {}, headers }), 400],
    ['verify 401', async (headers) =>
      await postVerify(app, family, { payload: { phoneNumber: SEED_MSISDN }, headers }), 401],
    ['share 401', async (headers) => await getShare(app, family, { authorization: 'Bearer unknown', headers }), 401],
    ['verify 415', async (headers) =>
      await postVerify(app, family, { token, payload: 'x', contentType: 'text/plain', headers }), 415],
    ['404', async (headers) => await app.inject({ method: 'GET', url: `${family.prefix}/nowhere`, headers }), 404],
    ['405', async (headers) => await app.inject({ method: 'GET', url: `${family.prefix}/verify`, headers }), 405]
  ]
}

for (const family of REUSABLE_TOKEN_FAMILIES) {
  t.test(`${family.prefix} (${family.label})`, async (t) => {
    const { app } = await buildTestApp(t)
    const { access_token: token } = await obtainTokens(app, { konera: SEED_KONERA })
    const calls = outcomes(app, family, token)

    t.test('x-correlator is echoed on success and on error', async (t) => {
      for (const [name, call, status] of calls) {
        const res = await call({ 'x-correlator': `corr-${name.replace(' ', '-')}` })
        t.equal(res.statusCode, status, name)
        t.equal(res.headers['x-correlator'], `corr-${name.replace(' ', '-')}`, name)
        t.equal(res.headers['x-correlation-id'], undefined, `${name}: no aggregator header invented`)
      }
    })

    t.test("the seed's x-correlation-id is echoed on success and on error, in its own header", async (t) => {
      for (const [name, call, status] of calls) {
        const res = await call({ 'x-correlation-id': '7b2c1f9e-0a4d-4c3b-9f1e-2d3c4b5a6f70' })
        t.equal(res.statusCode, status, name)
        t.equal(res.headers['x-correlation-id'], '7b2c1f9e-0a4d-4c3b-9f1e-2d3c4b5a6f70', name)
        t.equal(res.headers['x-correlator'], undefined, `${name}: the client used the aggregator header`)
      }
    })

    t.test('both headers are echoed when both are sent', async (t) => {
      for (const [name, call, status] of calls) {
        const res = await call({ 'x-correlator': 'camara-side', 'x-correlation-id': 'aggregator-side' })
        t.equal(res.statusCode, status, name)
        t.equal(res.headers['x-correlator'], 'camara-side', name)
        t.equal(res.headers['x-correlation-id'], 'aggregator-side', name)
      }
    })

    t.test('a fresh UUID x-correlator is generated when none is sent', async (t) => {
      const seen = new Set<string>()
      for (const [name, call, status] of calls) {
        const res = await call({})
        t.equal(res.statusCode, status, name)
        t.match(res.headers['x-correlator'], UUID, name)
        t.equal(res.headers['x-correlation-id'], undefined, name)
        seen.add(String(res.headers['x-correlator']))
      }
      t.equal(seen.size, calls.length, 'one correlator per request')
    })

    t.test('every character and the full length the pattern allows are echoed', async (t) => {
      for (const value of [ALL_ALLOWED, 'x'.repeat(256), '{urn:uuid:0e1f}<a/b>;c.d_e-f']) {
        const res = await postVerify(app, family, {
          token,
          payload: { phoneNumber: SEED_MSISDN },
          headers: { 'x-correlator': value }
        })
        t.equal(res.statusCode, 200, value)
        t.equal(res.headers['x-correlator'], value, value)
      }
    })

    t.test('an x-correlator breaking the pattern is 400 INVALID_ARGUMENT, checked before the token', async (t) => {
      const message = `Invalid header: x-correlator must match ${PATTERN_TEXT}`
      for (const value of [
        'bad value!', 'x'.repeat(257), 'comma,separated', 'quote"d', 'per%cent', 'hash#tag', 'at@sign'
      ]) {
        const verify = await postVerify(app, family, {
          token,
          payload: { phoneNumber: SEED_MSISDN },
          headers: { 'x-correlator': value }
        })
        const unauthenticated = await postVerify(app, family, {
          payload: { phoneNumber: SEED_MSISDN },
          headers: { 'x-correlator': value }
        })
        const share = await getShare(app, family, { token, headers: { 'x-correlator': value } })
        t.test(JSON.stringify(value.length > 20 ? `${value.slice(0, 10)}... (${value.length})` : value), async (t) => {
          for (const res of [verify, unauthenticated, share]) {
            // the refused value is not echoed: a generated one identifies the answer
            assertCamaraError(t, res, { status: 400, code: 'INVALID_ARGUMENT', message, reason: undefined })
          }
        })
      }
    })

    t.test('an x-correlation-id breaking the pattern is refused the same way; ' +
      'a valid x-correlator is still echoed', async (t) => {
      const res = await postVerify(app, family, {
        token,
        payload: { phoneNumber: SEED_MSISDN },
        headers: { 'x-correlator': 'fine', 'x-correlation-id': 'not fine!' }
      })
      assertCamaraError(t, res, {
        status: 400,
        code: 'INVALID_ARGUMENT',
        message: `Invalid header: x-correlation-id must match ${PATTERN_TEXT}`,
        reason: undefined,
        correlator: 'fine'
      })
      t.equal(res.headers['x-correlation-id'], undefined)
    })

    t.test('a bad correlator does not hide a token problem once fixed', async (t) => {
      const res = await postVerify(app, family, {
        payload: { phoneNumber: SEED_MSISDN },
        headers: { 'x-correlator': 'fixed-now' }
      })
      assertCamaraError(t, res, {
        status: 401,
        code: 'UNAUTHENTICATED',
        message: messagesOf(family).unauthenticated,
        reason: 'no Authorization header',
        correlator: 'fixed-now'
      })
    })
  })
}

interface LogLine {
  msg?: string
  correlator?: string
  url?: string
  statusCode?: number
  operation?: string
  reason?: string
}

t.test('the log line of every request carries its correlator', async (t) => {
  const { app, lines } = await buildLoggedTestApp<LogLine>(t, 'info')
  const { access_token: token } = await obtainTokens(app, { konera: SEED_KONERA })
  const completed = (url: string): LogLine[] =>
    lines.filter((line) => line.msg === 'request completed' && line.url === url)

  for (const family of REUSABLE_TOKEN_FAMILIES) {
    const sent = await postVerify(app, family, {
      token,
      payload: { phoneNumber: SEED_MSISDN },
      headers: { 'x-correlator': `log-${family.id}` }
    })
    t.equal(sent.statusCode, 200)
    t.equal(completed(`${family.prefix}/verify`).length, 1, `${family.id}: one line per request`)
    t.match(completed(`${family.prefix}/verify`),
      [{ correlator: `log-${family.id}`, statusCode: 200, operation: 'verify' }], `${family.id}: sent x-correlator`)

    const refused = await getShare(app, family, { headers: { 'x-correlation-id': `seed-${family.id}` } })
    t.equal(refused.statusCode, 401)
    t.equal(completed(`${family.prefix}/device-phone-number`).length, 1, `${family.id}: one line per request`)
    t.match(completed(`${family.prefix}/device-phone-number`), [{
      correlator: `seed-${family.id}`,
      statusCode: 401,
      operation: 'share',
      reason: 'no Authorization header'
    }], `${family.id}: sent x-correlation-id`)

    const generated = await app.inject({ method: 'DELETE', url: `${family.prefix}/verify` })
    t.equal(generated.statusCode, 405)
    const line = completed(`${family.prefix}/verify`).find((l) => l.statusCode === 405)
    t.equal(line?.correlator, generated.headers['x-correlator'],
      `${family.id}: generated correlator is the one answered`)
    t.match(line?.correlator, UUID)
  }
})
