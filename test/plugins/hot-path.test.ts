// What the hot path leaves out must not change what clients and operators see: documentOnly
// routes keep the raw headers, and the journal holds a request's entry by the time its answer
// arrives.
import Fastify from 'fastify'
import t from 'tap'
import { startEmulator } from '../../src/index.js'
import { documentOnly } from '../../src/routes/route-options.js'
import { testKeys } from '../helpers/app.js'
import { accessTokenFor } from '../../bench/lib/flows.js'

t.test('a documentOnly route runs no validator, so request.headers stays the raw headers object', async (t) => {
  t.equal(documentOnly({ schema: {}, method: 'GET', url: '/', httpPart: 'headers' }), null)
  const app = Fastify()
  t.teardown(() => app.close())
  let same: boolean | undefined
  app.post(
    '/doc',
    {
      schema: {
        headers: { type: 'object', properties: { 'x-a': { type: 'string', pattern: '^never$' } } },
        body: { type: 'object', required: ['never'] }
      },
      validatorCompiler: documentOnly
    },
    async (request) => {
      // Before: the validator returned { value }, Fastify assigned request.headers, and every later
      // read of it copied all the headers
      same = request.headers === request.raw.headers
      return { body: request.body }
    }
  )
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
