// What the /verify hot path leaves out must not change what clients and operators see: the lazy
// per-request logger writes the same lines, documentOnly routes keep the raw headers, and the
// journal holds a request's entry by the time its answer arrives.
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import t from 'tap'
import { startEmulator } from '../../src/index.js'
import { LazyRequestLogger, lazyChildLoggerFactory } from '../../src/request-logger.js'
import { documentOnly } from '../../src/routes/route-options.js'
import { testKeys } from '../helpers/app.js'
import { accessTokenFor } from '../../bench/lib/flows.js'

interface Line { level: number, msg: string, correlator?: string, extra?: string }

type Logger = ReturnType<typeof Fastify>['log']

function collector (level: string): { logger: Logger, lines: Line[] } {
  const lines: Line[] = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Line)
      callback()
    }
  })
  // Fastify's own pino instance: pino is not a direct dependency
  return { logger: Fastify({ logger: { level, stream } }).log, lines }
}

t.test('LazyRequestLogger makes the pino child only for a line at an enabled level', async (t) => {
  const { logger, lines } = collector('warn')
  let children = 0
  const child = logger.child.bind(logger)
  logger.child = ((...args: Parameters<typeof logger.child>) => { children++; return child(...args) }) as typeof logger.child
  const lazy = new LazyRequestLogger(logger, { correlator: 'c-1' }, {})
  lazy.info('not written')
  lazy.debug({ a: 1 }, 'not written either')
  t.equal(children, 0, 'no child for lines below the level')
  t.equal(lazy.level, 'warn', 'the parent level')
  lazy.warn({ extra: 'x' }, 'written')
  lazy.error('also written')
  t.equal(children, 1, 'one child, made once')
  t.match(lines, [{ level: 40, msg: 'written', correlator: 'c-1', extra: 'x' }, { level: 50, msg: 'also written', correlator: 'c-1' }])
  // pino's own child() again (children inherit the parent's properties)
  delete (logger as { child?: unknown }).child
  const grandchild = lazy.child({ extra: 'nested' })
  grandchild.warn('from a child')
  t.match(lines.at(-1), { msg: 'from a child', correlator: 'c-1', extra: 'nested' })
  lazy.level = 'info'
  lazy.info('now enabled on the child')
  t.equal(lazy.level, 'info')
  t.match(lines.at(-1), { level: 30, msg: 'now enabled on the child', correlator: 'c-1' }, 'a level set on the request logger applies to it')
  t.equal(logger.level, 'warn', 'and not to the parent')
})

t.test('lazyChildLoggerFactory: a route with its own level or serializers gets pino\'s child at once', async (t) => {
  const { logger } = collector('warn')
  const call = (options: Parameters<typeof logger.child>[1]): unknown => (lazyChildLoggerFactory as unknown as (...args: unknown[]) => unknown)(logger, { correlator: 'c' }, options, undefined)
  t.type(call({}), LazyRequestLogger)
  t.notOk(call({ level: 'debug' }) instanceof LazyRequestLogger)
  t.notOk(call({ serializers: {} }) instanceof LazyRequestLogger)
})

t.test('a documentOnly route runs no validator, so request.headers stays the raw headers object', async (t) => {
  t.equal(documentOnly({ schema: {}, method: 'GET', url: '/', httpPart: 'headers' }), null)
  const app = Fastify()
  t.teardown(() => app.close())
  let same: boolean | undefined
  app.post('/doc', {
    schema: { headers: { type: 'object', properties: { 'x-a': { type: 'string', pattern: '^never$' } } }, body: { type: 'object', required: ['never'] } },
    validatorCompiler: documentOnly
  }, async (request) => {
    // Before: the validator returned { value }, Fastify assigned request.headers, and every later
    // read of it copied all the headers
    same = request.headers === request.raw.headers
    return { body: request.body }
  })
  const res = await app.inject({ method: 'POST', url: '/doc', headers: { 'x-a': 'anything' }, payload: { other: 1 } })
  t.equal(res.statusCode, 200, 'the schema documents only: nothing is refused')
  t.strictSame(res.json(), { body: { other: 1 } })
  t.equal(same, true)
})

t.test('a journal entry exists by the time the client has the answer (real socket)', async (t) => {
  const emulator = await startEmulator({ keys: await testKeys() })
  t.teardown(() => emulator.close())
  const token = await accessTokenFor(emulator.urls.base)
  for (let i = 0; i < 20; i++) {
    const correlator = `hot-path-${i}`
    const res = await fetch(`${emulator.urls.base}/camara/api/number-verification/v1/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-correlator': correlator },
      body: JSON.stringify({ phoneNumber: '+34666666666' })
    })
    t.equal(res.status, 200)
    await res.arrayBuffer()
    t.match(emulator.journal.list({ correlator }), [{ correlator, status: 200, operation: 'verify' }], `request ${i}`)
  }
})
