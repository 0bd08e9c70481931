// Graceful shutdown of the real process: SIGTERM while requests are in flight lets each of them
// finish with its answer, then the process exits 0.
import { request } from 'node:http'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { listeningAddress, startProcess } from '../packaging/child-process.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const TS_LOADER = new URL('../../scripts/ts-loader/register.mjs', import.meta.url).href
const IN_FLIGHT = 20

interface Answer { status: number, body: string }

function get (url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    }).on('error', reject).end()
  })
}

async function post (url: string, body: unknown): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', connection: 'close' },
    body: JSON.stringify(body)
  })
  await res.arrayBuffer()
  return res.status
}

t.test('SIGTERM under load lets in-flight requests complete and exits 0', async (t) => {
  // startProcess: the environment a user's shell would give (no emulator variables, no tap hooks)
  // The sources through the tests' own loader: its output is the one V8's coverage of the other
  // test processes is merged with (tsx's differs, and a merge of the two is garbage)
  const cli = startProcess(
    process.execPath,
    [
      '--import',
      TS_LOADER,
      'src/server.ts',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--seed',
      '1',
      '--log-level',
      'warn'
    ],
    { cwd: ROOT }
  )
  t.teardown(cli.kill)
  const base = await listeningAddress(cli)

  // Every jwks request waits a second inside the server: long enough to be in flight at SIGTERM
  t.equal(
    await post(`${base}/_emulator/scenarios`, {
      name: 'slow-jwks',
      description: 'jwks takes a second',
      match: { operations: ['jwks'] },
      effects: { latency: { fixedMs: 1000 } }
    }),
    201
  )
  t.equal(await post(`${base}/_emulator/scenarios/slow-jwks/activate`, {}), 201)
  const answers = Array.from({ length: IN_FLIGHT }, () => get(`${base}/camara/api/auth/v1/jwks`))

  // In flight means the scenario was applied to each of them (counted when the request is handled);
  // bounded, so a wrong count fails here rather than at tap's timeout
  const deadline = Date.now() + 10_000
  for (;;) {
    const listing = JSON.parse((await get(`${base}/_emulator/scenarios`)).body) as {
      activations: Array<{ name: string, appliedCount: number }>
    }
    if (listing.activations.find((a) => a.name === 'slow-jwks')?.appliedCount === IN_FLIGHT) break
    if (Date.now() > deadline) {
      throw new Error(
        `the ${IN_FLIGHT} requests were not all in flight after 10 s: ${JSON.stringify(listing.activations)}`
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  cli.signal('SIGTERM')

  const settled = await Promise.allSettled(answers)
  const completed = settled.filter(
    (s): s is PromiseFulfilledResult<Answer> => s.status === 'fulfilled' && s.value.status === 200
  )
  t.equal(completed.length, IN_FLIGHT, 'every in-flight request got its 200')
  for (const { value } of completed) {
    t.match(JSON.parse(value.body), { keys: [{ kty: 'RSA', alg: 'RS256', use: 'sig' }] })
  }
  t.same(
    await cli.exited,
    { code: 0, signal: null },
    `the process exited 0 (output: ${(cli.stdout() + cli.stderr()).slice(-500)})`
  )
})
