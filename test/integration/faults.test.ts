// Network faults as a real client sees them over a real socket (app.listen on an ephemeral port,
// node:http and fetch): a reset connection, a request that hangs until the client's own timeout
// or the server's afterMs, an empty reply, a body that is not JSON, a body cut short, a body
// dribbled in chunks. Each is journaled; an activation's match can move a fault to the token leg;
// and app.close() never waits on a hung connection.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, REDIRECT_URI } from '../helpers/app.js'
import {
  accessTokenFor,
  activate,
  buildScenarioApp,
  codeFor,
  define,
  eventually,
  journalEntries,
  SEED_MSISDN,
  TOKEN_URL,
  verified,
  verify,
  VERIFY_URL
} from '../scenarios/support.js'

interface RawResult {
  status?: number
  headers?: IncomingHttpHeaders
  chunks: Buffer[]
  /** The request or response failed: the error as the client got it */
  error?: NodeJS.ErrnoException
}

interface RawRequest {
  method?: string
  path: string
  headers?: Record<string, string>
  body?: string
}

/** One request on a fresh connection; failures resolve with the error so each test can assert it */
function rawRequest (port: number, request: RawRequest): Promise<RawResult> {
  return new Promise((resolve) => {
    const result: RawResult = { chunks: [] }
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: request.path,
        method: request.method ?? 'GET',
        headers: request.headers,
        agent: false
      },
      (res) => {
        result.status = res.statusCode
        result.headers = res.headers
        res.on('data', (chunk: Buffer) => result.chunks.push(chunk))
        res.on('error', (error) => resolve({ ...result, error }))
        res.on('end', () => resolve(result))
      }
    )
    req.on('error', (error) => resolve({ ...result, error }))
    req.end(request.body)
  })
}

interface Listening {
  app: FastifyInstance
  port: number
  token: string
  verifyRequest: (scenario: string) => RawRequest
}

async function listening (t: Test, options: { recordSleeps?: number[] } = {}): Promise<Listening> {
  const built = options.recordSleeps === undefined
    ? await buildTestApp(t)
    : await buildTestApp(t, {}, { sleep: async (ms) => { options.recordSleeps?.push(ms) } })
  const { app } = built
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const token = await accessTokenFor(app)
  return {
    app,
    port,
    token,
    verifyRequest: (scenario) => ({
      method: 'POST',
      path: VERIFY_URL,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'x-emulator-scenario': scenario
      },
      body: JSON.stringify({ phoneNumber: SEED_MSISDN })
    })
  }
}

function fetchInit (request: RawRequest, signal?: AbortSignal): RequestInit {
  return {
    method: request.method,
    headers: request.headers,
    body: request.body,
    ...(signal === undefined ? {} : { signal })
  }
}

const COMPLETE_BODY = JSON.stringify(verified(true))

t.test('connection-reset: the client gets ECONNRESET and no response', async (t) => {
  const { app, port, verifyRequest } = await listening(t)
  const raw = await rawRequest(port, verifyRequest('connection-reset'))
  t.equal(raw.status, undefined, 'no status line')
  t.equal(raw.error?.code, 'ECONNRESET')
  t.equal(raw.error?.message, 'read ECONNRESET')

  const fetched = await fetch(`http://127.0.0.1:${port}${VERIFY_URL}`, fetchInit(verifyRequest('connection-reset'))).then(() => undefined, (error: Error) => error)
  t.equal(fetched?.message, 'fetch failed')
  t.equal((fetched?.cause as NodeJS.ErrnoException | undefined)?.code, 'ECONNRESET')

  const entries = await journalEntries(app, { operation: 'verify' })
  t.equal(entries.length, 2, 'one entry per reset request')
  t.match(entries[0], {
    status: 0,
    scenarios: ['connection-reset'],
    reason: 'fault connection-reset (scenario connection-reset)',
    msisdn: SEED_MSISDN
  })
})

t.test('hang: nothing comes back until the client\'s own timeout fires', async (t) => {
  const { app, port, verifyRequest } = await listening(t)
  const fetched = await fetch(`http://127.0.0.1:${port}${VERIFY_URL}`, fetchInit(verifyRequest('hang'), AbortSignal.timeout(300))).then(() => undefined, (error: Error) => error)
  t.equal(fetched?.name, 'TimeoutError')
  const entries = await journalEntries(app, { operation: 'verify' })
  t.match(entries, [{ status: 0, scenarios: ['hang'], reason: 'fault hang (scenario hang)' }])
})

t.test('hang with afterMs: the server closes the connection without an answer', async (t) => {
  const { app, port, verifyRequest } = await listening(t)
  await define(app, {
    name: 'hang-then-close',
    description: 'hangs 50 ms, then closes',
    effects: { fault: { type: 'hang', afterMs: 50 } }
  })
  const raw = await rawRequest(port, verifyRequest('hang-then-close'))
  t.equal(raw.status, undefined)
  t.equal(raw.error?.message, 'socket hang up')
  t.equal(raw.error?.code, 'ECONNRESET')
})

t.test('empty-reply: the connection closes without a byte', async (t) => {
  const { app, port, verifyRequest } = await listening(t)
  const raw = await rawRequest(port, verifyRequest('empty-reply'))
  t.equal(raw.status, undefined)
  t.equal(raw.error?.message, 'socket hang up')
  t.strictSame(raw.chunks, [])
  const fetched = await fetch(`http://127.0.0.1:${port}${VERIFY_URL}`, fetchInit(verifyRequest('empty-reply'))).then(() => undefined, (error: Error) => error)
  t.equal(fetched?.message, 'fetch failed')
  t.equal((fetched?.cause as Error | undefined)?.message, 'other side closed')
  t.match(await journalEntries(app, { operation: 'verify' }), [
    { status: 0, reason: 'fault empty-reply (scenario empty-reply)' },
    { status: 0 }
  ])
})

t.test('malformed-body: 200 application/json whose body JSON.parse refuses', async (t) => {
  const { app, port, verifyRequest } = await listening(t)
  const res = await fetch(`http://127.0.0.1:${port}${VERIFY_URL}`, fetchInit(verifyRequest('malformed-body')))
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
  const text = await res.text()
  t.equal(text, `${COMPLETE_BODY.slice(0, -1)},"}`)
  t.throws(() => JSON.parse(text), SyntaxError)
  const again = await fetch(`http://127.0.0.1:${port}${VERIFY_URL}`, fetchInit(verifyRequest('malformed-body')))
  await t.rejects(again.json(), SyntaxError, 'res.json() fails as a client library would')
  t.match(await journalEntries(app, { operation: 'verify' }), [
    { status: 200, scenarios: ['malformed-body'], reason: 'fault malformed-json (scenario malformed-body)' },
    { status: 200 }
  ])
})

t.test('truncated-body: Content-Length announces the whole body, half arrives, then the connection ends', async (t) => {
  const { app, port, verifyRequest } = await listening(t)
  const raw = await rawRequest(port, verifyRequest('truncated-body'))
  t.equal(raw.status, 200)
  t.equal(raw.headers?.['content-length'], String(Buffer.byteLength(COMPLETE_BODY)))
  const received = Buffer.concat(raw.chunks).toString()
  t.equal(received, COMPLETE_BODY.slice(0, Math.floor(COMPLETE_BODY.length / 2)))
  t.equal(raw.error?.message, 'aborted', 'node:http reports the premature end')

  const res = await fetch(`http://127.0.0.1:${port}${VERIFY_URL}`, fetchInit(verifyRequest('truncated-body')))
  t.equal(res.status, 200)
  const failure = await res.text().then(() => undefined, (error: Error) => error)
  t.equal(failure?.message, 'terminated', 'fetch fails reading the body')
  t.equal((failure?.cause as Error | undefined)?.message, 'other side closed')
  t.match(await journalEntries(app, { operation: 'verify' }), [
    { status: 200, reason: 'fault truncated-json (scenario truncated-body)' },
    { status: 200 }
  ])
})

t.test('slow-body: the body arrives complete, in several chunks, with the real sleep between them', async (t) => {
  const { app, port, verifyRequest } = await listening(t)
  await define(app, {
    name: 'slow-body-quick',
    description: '50 ms between chunks',
    effects: { fault: { type: 'slow-body', chunkDelayMs: 50 } }
  })
  const raw = await rawRequest(port, verifyRequest('slow-body-quick'))
  t.equal(raw.error, undefined)
  t.equal(raw.status, 200)
  t.equal(raw.headers?.['transfer-encoding'], 'chunked')
  t.equal(raw.headers?.['content-length'], undefined)
  t.ok(raw.chunks.length > 1, `several chunks (got ${raw.chunks.length})`)
  t.strictSame(JSON.parse(Buffer.concat(raw.chunks).toString()), verified(true))
})

t.test('slow-body (catalogue): 500 ms asked between each of the body\'s chunks', async (t) => {
  const sleeps: number[] = []
  const { port, verifyRequest } = await listening(t, { recordSleeps: sleeps })
  sleeps.length = 0
  const raw = await rawRequest(port, verifyRequest('slow-body'))
  t.equal(raw.status, 200)
  t.equal(Buffer.concat(raw.chunks).toString(), COMPLETE_BODY)
  t.strictSame(sleeps, [500, 500, 500, 500, 500, 500, 500], 'no latency wait, then 7 pauses between 8 chunks')
})

t.test('an activation\'s match moves connection-reset to the token leg; the code survives for the retry', async (t) => {
  const { app, port } = await listening(t)
  await activate(app, 'connection-reset', { remaining: 1, match: { operations: ['token'] } })
  const code = await codeFor(app)
  const tokenRequest: RawRequest = {
    method: 'POST',
    path: TOKEN_URL,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: 'demo-app',
      client_secret: 'demo-secret'
    }).toString()
  }
  const reset = await rawRequest(port, tokenRequest)
  t.equal(reset.error?.code, 'ECONNRESET')
  t.equal(reset.status, undefined)
  const retry = await rawRequest(port, tokenRequest)
  t.equal(retry.status, 200)
  t.match(JSON.parse(Buffer.concat(retry.chunks).toString()), { token_type: 'Bearer', access_token: /^\S+$/ })
  t.match(await journalEntries(app, { operation: 'token' }), [
    { status: 200 },
    {
      status: 0,
      scenarios: ['connection-reset'],
      reason: 'fault connection-reset (scenario connection-reset)',
      msisdn: SEED_MSISDN
    },
    { status: 200, scenarios: [] }
  ])
})

t.test('app.close() does not wait on a hung connection: it closes it', async (t) => {
  const { app, port, verifyRequest } = await listening(t)
  const pending = rawRequest(port, verifyRequest('hang'))
  await eventually('the hang to be journaled', async () => (await journalEntries(app, { operation: 'verify' }))[0])
  await app.close()
  const raw = await pending
  t.equal(raw.status, undefined)
  t.equal(raw.error?.message, 'socket hang up')
})

t.test('under app.inject() (no socket) a truncated body is cut in half without crashing the process', async (t) => {
  const { app } = await buildScenarioApp(t)
  const token = await accessTokenFor(app)
  const res = await verify(app, token, { scenarios: 'truncated-body' })
  t.equal(res.statusCode, 200)
  t.equal(res.body, COMPLETE_BODY.slice(0, Math.floor(COMPLETE_BODY.length / 2)))
  t.equal((await verify(app, token)).body, COMPLETE_BODY, 'the app serves on')
})

t.test('under app.inject() (no socket) reset and empty reply fail the call instead of hanging it', async (t) => {
  const { app } = await buildScenarioApp(t)
  const token = await accessTokenFor(app)
  const failure = async (scenario: string): Promise<string> => {
    try {
      const res = await verify(app, token, { scenarios: scenario })
      return `answered ${res.statusCode}`
    } catch (error) {
      return `${(error as NodeJS.ErrnoException).code ?? ''} ${(error as Error).message}`
    }
  }
  t.equal(await failure('connection-reset'), 'ECONNRESET fault connection-reset')
  t.equal(await failure('empty-reply'), 'ECONNRESET fault empty-reply')
  await define(app, {
    name: 'hang-briefly',
    description: 'hang 20 ms then drop',
    match: { operations: ['verify'] },
    effects: { fault: { type: 'hang', afterMs: 20 } }
  })
  t.equal(await failure('hang-briefly'), 'ECONNRESET fault hang', 'a hang with afterMs ends in a failure')
  t.equal((await verify(app, token)).body, COMPLETE_BODY, 'the app serves on')
})
