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
    const logStream = new Writable({
      write (chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()))
        done()
      }
    })
    const { app } = await buildTestApp(t, {}, { devices, logger: { level: 'info' }, logStream })
    const tokens = await obtainTokens(app, { konera: SEED_KONERA })
    const verified = await verify(app, tokens.access_token, { headers: { 'x-correlator': 'device-check' } })
    t.equal(verified.statusCode, 200)
    t.equal((verified.json() as { devicePhoneNumberVerified: unknown }).devicePhoneNumberVerified, true)
    // Coercion would turn ["+34..."] into "+34..." and true into "true"
    const coerced = await app.inject({
      method: 'POST',
      url: '/camara/api/number-verification/v1/verify',
      headers: { authorization: `Bearer ${tokens.access_token}` },
      payload: { phoneNumber: ['+34600000001'] }
    })
    t.equal(coerced.statusCode, 400)
    t.match(coerced.json(), { status: 400, code: 'INVALID_ARGUMENT' })
    // The form's schema (a parameter over 8192 characters) refuses before client authentication
    const form = await tokenRequest(app, {
      grant_type: 'authorization_code',
      client_id: 'demo-app',
      client_secret: 'demo-secret',
      code: 'x'.repeat(9000)
    })
    t.equal(form.statusCode, 400)
    t.match(form.json(), { error: 'invalid_request', error_description: /code must be at most 8192 characters/ })
    t.ok(
      lines.some((line) => line.msg === 'request completed' && line.correlator === 'device-check'),
      'the request log line carries the correlator'
    )
  })
}

t.test(
  'apps of one process share what was compiled: a second app makes no Ajv and compiles nothing again',
  async (t) => {
    const made = { validators: 0, serializers: 0, compiled: 0 }
    const { default: realValidators } = await import('@fastify/ajv-compiler')
    const { default: realSerializers } = await import('@fastify/fast-json-stringify-compiler')
    const counting = <F extends (...args: never[]) => unknown>(factory: F, kind: 'validators' | 'serializers'): F =>
      ((...args: Parameters<F>) => {
        const build = factory(...args) as (...a: unknown[]) => (...r: unknown[]) => unknown
        return (...a: unknown[]) => {
          made[kind]++
          const compile = build(...a)
          return (...r: unknown[]) => {
            made.compiled++
            return compile(...r)
          }
        }
      }) as F
    const { schemaCompilers } = await t.mockImport<typeof import('../src/schema-compilers.js')>(
      '../src/schema-compilers.js',
    {
      '@fastify/ajv-compiler': counting(realValidators, 'validators'),
      '@fastify/fast-json-stringify-compiler': counting(realSerializers, 'serializers')
    }
    )
    const schema = {
      type: 'object',
      properties: { phoneNumber: { type: 'string' } },
      required: ['phoneNumber'],
      additionalProperties: false
    }
    const response = { type: 'object', properties: { ok: { type: 'boolean' } } }
    const options = { customOptions: { coerceTypes: 'array' } }
    const appCompilers = (): {
      validate: (data: unknown) => unknown
      errors: () => unknown
      serialize: (data: unknown) => string
    } => {
      const compilers = schemaCompilers({ lazy: true })
      const validate = compilers.buildValidator?.(
        {},
        options as never
      )({ schema, method: 'POST', url: '/x', httpPart: 'body' } as never) as unknown as ((data: unknown) => unknown) & {
        errors?: unknown
      }
      const serialize = compilers.buildSerializer?.(
        {},
        {} as never
      )({ schema: response, method: 'POST', url: '/x', httpStatus: '200' } as never) as unknown as (
        data: unknown
      ) => string
      return { validate, errors: () => validate.errors, serialize }
    }
    const first = appCompilers()
    t.equal(first.validate({ phoneNumber: '+34600000001' }), true)
    t.equal(first.serialize({ ok: true }), '{"ok":true}')
    t.strictSame(made, { validators: 1, serializers: 1, compiled: 2 }, 'the first app compiles each schema')
    const second = appCompilers()
    t.equal(second.validate({ phoneNumber: ['+34600000001'] }), false, 'a body is still validated as sent')
    t.match(second.errors(), [{ instancePath: '/phoneNumber', keyword: 'type' }], 'with the errors of this call')
    t.equal(second.validate({ phoneNumber: '+34600000001' }), true)
    t.equal(second.serialize({ ok: false }), '{"ok":false}')
    t.strictSame(made, { validators: 1, serializers: 1, compiled: 2 }, 'the second app compiles nothing')
    // Another schema object (a route built anew, a header schema Fastify copies) is compiled for itself
    const other = schemaCompilers({ lazy: true }).buildValidator?.(
      {},
      options as never
    )({ schema: { ...schema }, method: 'POST', url: '/y', httpPart: 'body' } as never) as unknown as (
      data: unknown
    ) => unknown
    t.equal(other({ phoneNumber: '+34600000001' }), true)
    t.strictSame(made, { validators: 2, serializers: 1, compiled: 3 })
  }
)
