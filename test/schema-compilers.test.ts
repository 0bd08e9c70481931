// The performance device (lazy schema compilers) changes when work is done, never what a client
// sees: with it off (as `npm run bench -- --only devices` runs it to measure its worth) the same
// requests get the same answers, bodies are validated without coercion and the log lines carry the correlator.
import { Writable } from 'node:stream'
import t from 'tap'
import type { PerformanceDevices } from '../src/app.js'
import { buildTestApp } from './helpers/app.js'
import { obtainTokens, SEED_KONERA, tokenRequest, verify } from './helpers/flow.js'

const VARIANTS: Array<[string, PerformanceDevices]> = [
  ['the device on (the default)', {}],
  ['schemas compiled at start', { lazySchemas: false }]
]

for (const [name, devices] of VARIANTS) {
  t.test(`${name}: the same answers, bodies validated as sent`, async (t) => {
    const lines: Array<{ msg?: string, correlator?: string }> = []
    const logStream = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(JSON.parse(chunk.toString())); done() } })
    const { app } = await buildTestApp(t, {}, { devices, logger: { level: 'info' }, logStream })
    const tokens = await obtainTokens(app, { konera: SEED_KONERA })
    const verified = await verify(app, tokens.access_token, { headers: { 'x-correlator': 'device-check' } })
    t.equal(verified.statusCode, 200)
    t.equal((verified.json() as { devicePhoneNumberVerified: unknown }).devicePhoneNumberVerified, true)
    // Coercion would turn ["+34..."] into "+34..." and true into "true"
    const coerced = await app.inject({ method: 'POST', url: '/camara/api/number-verification/v1/verify', headers: { authorization: `Bearer ${tokens.access_token}` }, payload: { phoneNumber: ['+34600000001'] } })
    t.equal(coerced.statusCode, 400)
    t.match(coerced.json(), { status: 400, code: 'INVALID_ARGUMENT' })
    // The form's schema (a parameter over 8192 characters) refuses before client authentication
    const form = await tokenRequest(app, { grant_type: 'authorization_code', client_id: 'demo-app', client_secret: 'demo-secret', code: 'x'.repeat(9000) })
    t.equal(form.statusCode, 400)
    t.match(form.json(), { error: 'invalid_request', error_description: /code must be at most 8192 characters/ })
    t.ok(lines.some((line) => line.msg === 'request completed' && line.correlator === 'device-check'), 'the request log line carries the correlator')
  })
}
