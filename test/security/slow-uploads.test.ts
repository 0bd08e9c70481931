// Slow and stalled uploads are cut: a body that has not fully arrived --body-timeout after its
// headers gets 408 in the surface's own format and the connection closes; Node's requestTimeout
// (--request-timeout) backs it up for the whole request. Real sockets, drip-fed bodies.
import { connect } from 'node:net'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helpers/app.js'
import { SEED_MSISDN, TOKEN_PATH, VERIFY_PATH } from '../helpers/flow.js'

const BODY_TIMEOUT = 300

interface RawAnswer {
  status: number
  headers: Record<string, string>
  body: string
  /** Bytes of the body written before the server answered */
  sent: number
}

/**
 * Sends the headers, then the body `chunk` bytes every `everyMs` (stopping after `stopAfter` bytes
 * when given), and resolves with the answer once the server closes the connection.
 */
async function dripFeed (
  port: number,
  request: { method: string, path: string, headers: Record<string, string>, body: string },
  drip: { chunk: number, everyMs: number, stopAfter?: number }
): Promise<RawAnswer> {
  return await new Promise((resolve, reject) => {
    const head = [
      `${request.method} ${request.path} HTTP/1.1`,
      'Host: 127.0.0.1',
      `Content-Length: ${Buffer.byteLength(request.body)}`,
      ...Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`),
      '',
      ''
    ].join('\r\n')
    const socket = connect({ port, host: '127.0.0.1' })
    let sent = 0
    let received = ''
    let timer: NodeJS.Timeout | undefined
    const next = (): void => {
      const end = Math.min(sent + drip.chunk, drip.stopAfter ?? request.body.length)
      if (end > sent && !socket.destroyed) {
        socket.write(request.body.slice(sent, end))
        sent = end
      }
      timer = setTimeout(next, drip.everyMs)
    }
    socket.on('connect', () => {
      socket.write(head)
      next()
    })
    socket.on('data', (data) => {
      received += data.toString('utf8')
    })
    // Writing on after the answer may meet a reset connection: the answer is what counts
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (received === '') reject(error)
    })
    socket.on('close', () => {
      clearTimeout(timer)
      const [headText = '', body = ''] = received.split('\r\n\r\n')
      const [statusLine = '', ...headerLines] = headText.split('\r\n')
      const headers = Object.fromEntries(
        headerLines.map((line) => {
          const colon = line.indexOf(':')
          return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]
        })
      )
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body, sent })
    })
  })
}

async function listening (
  t: Test,
  overrides: Parameters<typeof buildTestApp>[1] = {}
): Promise<{ app: FastifyInstance, port: number }> {
  const { app } = await buildTestApp(t, { bodyTimeout: BODY_TIMEOUT, requestTimeout: 5000, ...overrides })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, port: Number(new URL(address).port) }
}

const SCENARIO = JSON.stringify({
  name: 'dripped',
  description: 'sent one byte at a time',
  effects: { verifiedResult: true }
})
const CONTROL_POST = {
  method: 'POST',
  path: '/_emulator/scenarios',
  headers: { 'Content-Type': 'application/json' },
  body: SCENARIO
}

t.test('a drip-fed control API body is cut with 408 ErrorInfo and the connection closes', async (t) => {
  const { app, port } = await listening(t)
  const answer = await dripFeed(port, CONTROL_POST, { chunk: 1, everyMs: 20 })
  t.equal(answer.status, 408)
  t.strictSame(JSON.parse(answer.body), {
    status: 408,
    code: 'REQUEST_TIMEOUT',
    message: `the request body did not arrive within ${BODY_TIMEOUT} ms (--body-timeout)`
  })
  t.equal(answer.headers.connection, 'close')
  t.ok(answer.sent < SCENARIO.length, `cut after ${answer.sent} of ${SCENARIO.length} bytes`)
  t.equal(app.emulator.scenarios.get('dripped'), undefined, 'nothing was defined')
})

t.test('a body that stalls half-way is cut the same way', async (t) => {
  const { port } = await listening(t)
  const answer = await dripFeed(port, CONTROL_POST, { chunk: 10, everyMs: 10, stopAfter: 20 })
  t.equal(answer.status, 408)
  t.equal((JSON.parse(answer.body) as { code: string }).code, 'REQUEST_TIMEOUT')
})

t.test('the token endpoint answers the cut in OAuth JSON', async (t) => {
  const { port } = await listening(t)
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: 'demo-app',
    client_secret: 'demo-secret'
  }).toString()
  const answer = await dripFeed(
    port,
    { method: 'POST', path: TOKEN_PATH, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form },
    { chunk: 1, everyMs: 20 }
  )
  t.equal(answer.status, 408)
  t.strictSame(JSON.parse(answer.body), {
    error: 'invalid_request',
    error_description: `the request body did not arrive within ${BODY_TIMEOUT} ms (--body-timeout)`
  })
})

t.test('verify answers the cut as CAMARA ErrorInfo', async (t) => {
  const { app, port } = await listening(t)
  const minted = await app.inject({
    method: 'POST',
    url: '/_emulator/tokens',
    payload: { clientId: 'demo-app', msisdn: SEED_MSISDN, scope: 'number-verification:verify' }
  })
  const token = (minted.json() as { access_token: string }).access_token
  const body = JSON.stringify({ phoneNumber: SEED_MSISDN })
  const answer = await dripFeed(
    port,
    {
      method: 'POST',
      path: VERIFY_PATH,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body
    },
    { chunk: 1, everyMs: 20 }
  )
  t.equal(answer.status, 408)
  t.strictSame(JSON.parse(answer.body), {
    status: 408,
    code: 'REQUEST_TIMEOUT',
    message: `the request body did not arrive within ${BODY_TIMEOUT} ms (--body-timeout)`
  })
})

t.test('a slow body that arrives in time is served', async (t) => {
  const { app, port } = await listening(t)
  // Connection: close, so the server ends the connection after its answer
  const answer = await dripFeed(
    port,
    { ...CONTROL_POST, headers: { ...CONTROL_POST.headers, Connection: 'close' } },
    { chunk: 40, everyMs: 50 }
  )
  t.equal(answer.status, 201)
  t.ok(app.emulator.scenarios.get('dripped'))
})

t.test('--request-timeout becomes Node\'s limit for the whole request, headers included', async (t) => {
  const { app } = await buildTestApp(t, { bodyTimeout: 1000, requestTimeout: 2000, connectionTimeout: 4000 })
  t.strictSame([app.server.requestTimeout, app.server.headersTimeout, app.server.timeout], [2000, 2000, 4000])
})

t.test('0 switches the limits off', async (t) => {
  const { app } = await buildTestApp(t, { bodyTimeout: 0, requestTimeout: 0, connectionTimeout: 0 })
  t.strictSame([app.server.requestTimeout, app.server.headersTimeout, app.server.timeout], [0, 60000, 0])
})
