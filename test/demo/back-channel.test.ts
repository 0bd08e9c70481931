// The demo backend calls the emulator over its own socket when it listens, so faults that break
// connections reach it as they would reach a real app; these tests need a real socket.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { defaultConfig } from '../../src/config/config.js'
import { describeNetworkFailure } from '../../src/demo/back-channel.js'
import { testKeys } from '../helpers/app.js'
import { textOf } from './support.js'

const SEED = '+34666666666'
const HTML = 'text/html'

async function listening (): Promise<{ app: FastifyInstance, base: string }> {
  const app = await buildApp({ ...defaultConfig, port: 0 }, { logger: false, keys: await testKeys() })
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  app.emulator.urls.setBase(base)
  return { app, base }
}

/** The browser's part over HTTP: form post, then redirects until the callback page */
async function demoOverHttp (base: string, form: Record<string, string>): Promise<{ status: number, text: string }> {
  const start = await fetch(`${base}/demo/start`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form)
  })
  let location = start.headers.get('location')
  for (let hop = 0; hop < 5 && location !== null; hop++) {
    const res = await fetch(location, {
      redirect: 'manual',
      headers: { accept: HTML },
      signal: AbortSignal.timeout(20_000)
    })
    if (res.status !== 302 && res.status !== 303) return { status: res.status, text: textOf(await res.text()) }
    location = res.headers.get('location')
  }
  throw new Error('the flow did not end on a page')
}

t.test('over a real socket', async (t) => {
  const { app, base } = await listening()
  t.teardown(() => app.close())

  t.test('a flow ends true, the backend calls journaled with their own correlators', async (t) => {
    const { status, text } = await demoOverHttp(base, { device: SEED, claimed: SEED })
    t.equal(status, 200)
    t.match(text, '✓ Number verified')
    const backend = app.emulator.journal.list().filter((e) => e.operation === 'token' || e.operation === 'verify')
    t.equal(backend.length, 2)
    for (const entry of backend) t.match(entry.correlator, /^demo-[A-Za-z0-9_-]{12}$/)
  })

  t.test('a connection reset at verify is a network failure for the app', async (t) => {
    const { text } = await demoOverHttp(base, { device: SEED, claimed: SEED, scenario: 'connection-reset' })
    t.match(text, '! We could not reach the verification service')
    t.match(
      text,
      `POST ${base}/camara/api/number-verification/v1/verify { "failure": "the connection was reset (ECONNRESET) ` +
        'before any answer" }'
    )
    const verify = app.emulator.journal.list({ operation: 'verify' }).at(-1)
    t.match(
      verify,
      { status: 0, reason: 'fault connection-reset (scenario connection-reset)' },
      'the timeline has the broken request'
    )
    t.match(text, 'no response')
  })

  t.test('an empty reply', async (t) => {
    const { text } = await demoOverHttp(base, { device: SEED, claimed: SEED, scenario: 'empty-reply' })
    t.match(text, '! We could not reach the verification service')
    t.match(text, '"failure": "the server closed the connection without a complete answer"')
  })

  t.test('a body that is not JSON', async (t) => {
    const { text } = await demoOverHttp(base, { device: SEED, claimed: SEED, scenario: 'malformed-body' })
    t.match(text, '! The verification service answered gibberish')
    t.match(
      text,
      '· HTTP 200 { "failure": "the body is not JSON: {\\"devicePhoneNumberVerified\\":true,\\"assessedAt\\":'
    )
  })

  t.test('a truncated body', async (t) => {
    const { text } = await demoOverHttp(base, { device: SEED, claimed: SEED, scenario: 'truncated-body' })
    t.match(text, '! We could not reach the verification service')
    t.match(text, '"failure": "the connection closed before the response body was complete"')
  })
})

t.test('network failures in words', async (t) => {
  const timeout = new Error('The operation was aborted due to timeout')
  timeout.name = 'TimeoutError'
  t.equal(describeNetworkFailure(timeout, 10_000), 'no answer within 10 s: the request timed out')
  t.equal(
    describeNetworkFailure(
      new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' } }),
      10_000
    ),
    'the request failed: connect ECONNREFUSED 127.0.0.1:1'
  )
  t.equal(describeNetworkFailure('odd', 10_000), 'the request failed: odd')
})
