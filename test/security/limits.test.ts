// Oversize input: bodies over Fastify's 1 MB limit are refused by each surface in its own format,
// and headers over Node's 16 KB limit get 431 from the HTTP parser, the server staying up.
import { connect } from 'node:net'
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { TOKEN_PATH, VERIFY_PATH } from '../helpers/flow.js'

const OVER_1_MB = 1024 * 1024 + 1

t.test('a body over 1 MB is refused at each surface in its format', async (t) => {
  const { app } = await buildTestApp(t)
  const token = await app.inject({
    method: 'POST',
    url: TOKEN_PATH,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `grant_type=authorization_code&code=${'a'.repeat(OVER_1_MB)}`
  })
  t.equal(token.statusCode, 413)
  t.strictSame(token.json(), { error: 'invalid_request', error_description: 'Request body is too large' })
  const verify = await app.inject({
    method: 'POST',
    url: VERIFY_PATH,
    headers: { 'content-type': 'application/json', authorization: 'Bearer x' },
    payload: JSON.stringify({ phoneNumber: '+34666666666', pad: 'a'.repeat(OVER_1_MB) })
  })
  t.equal(verify.statusCode, 401, 'verify checks the token before reading the body')
  t.strictSame(verify.json(), {
    status: 401,
    code: 'UNAUTHENTICATED',
    message: 'Request not authenticated due to missing, invalid, or expired credentials.'
  })
  const control = await app.inject({
    method: 'POST',
    url: '/_emulator/scenarios',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ name: 'big', description: 'a'.repeat(OVER_1_MB), effects: { verifiedResult: true } })
  })
  t.equal(control.statusCode, 413)
  t.strictSame(control.json(), { status: 413, code: 'INVALID_ARGUMENT', message: 'Request body is too large' })
  t.equal(app.emulator.scenarios.list().some((s) => s.name === 'big'), false, 'nothing was defined')
})

t.test('a verify body over 1 MB with a valid token is 413 ErrorInfo', async (t) => {
  const { app } = await buildTestApp(t)
  const minted = await app.inject({
    method: 'POST',
    url: '/_emulator/tokens',
    headers: { 'content-type': 'application/json' },
    payload: { clientId: 'demo-app', msisdn: '+34666666666', scope: 'number-verification:verify' }
  })
  const accessToken = (minted.json() as { access_token: string }).access_token
  const res = await app.inject({
    method: 'POST',
    url: VERIFY_PATH,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
    payload: JSON.stringify({ phoneNumber: '+34666666666', pad: 'a'.repeat(OVER_1_MB) })
  })
  t.equal(res.statusCode, 413)
  t.strictSame(res.json(), { status: 413, code: 'INVALID_ARGUMENT', message: 'the request body is too large' })
})

t.test('headers over 16 KB are answered 431 by Node and the server keeps serving', async (t) => {
  const { app } = await buildTestApp(t)
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = new URL(address)
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect({ port: Number(port), host: '127.0.0.1' }, () => {
      socket.write(`GET /_emulator/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`)
    })
    let received = ''
    socket.on('data', (chunk) => { received += chunk.toString('latin1') })
    socket.on('end', () => resolve(received))
    socket.on('close', () => resolve(received))
    socket.on('error', reject)
  })
  t.match(answer, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/)
  const health = await fetch(`${address}/_emulator/health`)
  t.equal(health.status, 200, 'the server still answers')
})
