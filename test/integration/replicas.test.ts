// Three replicas on one Valkey/Redis server behind a round-robin proxy written here, as a shared
// demo or staging environment runs them: every replica listens on a real socket and publishes the
// proxy's URL as its issuer; the proxy hands each request to the next replica and skips one that
// refuses the connection (as a load balancer's health check would). Whole flows, a race for one
// code across replicas, a replica gone mid-flow and a store restart, all over HTTP.
import { createServer, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, REDIRECT_URI } from '../helpers/app.js'
import { encodeFields, FORM, NV_SCOPES, SEED_KONERA, SEED_MSISDN } from '../helpers/flow.js'
import { redisMissing, startRedis } from '../helpers/redis.js'
import type { SigningKeyCollections } from '../../src/core/keys.js'
import { RedisStore } from '../../src/store/redis.js'

interface Proxy {
  url: string
  /** Which replica served each request, in order */
  served: number[]
  backends: Array<number | undefined>
  close: () => Promise<void>
}

async function startProxy (): Promise<Proxy> {
  const backends: Array<number | undefined> = []
  const served: number[] = []
  let next = 0
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const attempt = (left: number): void => {
        const index = next++ % backends.length
        const port = backends[index]
        if (port === undefined) { if (left > 1) attempt(left - 1); else { res.writeHead(502).end() } return }
        const upstream = httpRequest(
          { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent: false },
          (answer) => {
            served.push(index)
            res.writeHead(answer.statusCode ?? 502, answer.headers)
            answer.pipe(res)
          }
        )
        upstream.on('error', () => { if (left > 1) attempt(left - 1); else res.writeHead(502).end() })
        upstream.end(body)
      }
      attempt(backends.length)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    backends,
    close: async () => { await new Promise((resolve) => server.close(resolve)) }
  }
}

if (!redisMissing(t, 'three replicas behind a proxy')) {
  const redis = await startRedis(t)
  const proxy = await startProxy()
  t.teardown(proxy.close)

  const replicas: FastifyInstance[] = []
  for (let i = 0; i < 3; i++) {
    const { app } = await buildTestApp(t, { store: redis.url, publicUrl: proxy.url }, { keys: 'generate' })
    await app.listen({ port: 0, host: '127.0.0.1' })
    replicas.push(app)
    proxy.backends.push((app.server.address() as AddressInfo).port)
  }

  const AUTHORIZE = `${proxy.url}/camara/api/auth/v1/authorize?${encodeFields({
    response_type: 'code',
    client_id: 'demo-app',
    redirect_uri: REDIRECT_URI,
    scope: NV_SCOPES,
    state: 's1',
    konera_context: SEED_KONERA
  })}`

  async function follow (url: string): Promise<URL> {
    const res = await fetch(url, { redirect: 'manual' })
    const location = res.headers.get('location')
    if (res.status !== 302 || location === null) throw new Error(`${url} answered ${res.status}: ${await res.text()}`)
    return new URL(location, url)
  }

  /** authorize, then the operator leg: the code the callback gets */
  async function code (): Promise<string> {
    const operator = await follow(AUTHORIZE)
    const callback = await follow(operator.toString())
    const value = callback.searchParams.get('code')
    if (value === null) throw new Error(`no code: ${callback.toString()}`)
    return value
  }

  async function redeem (value: string): Promise<Response> {
    return await fetch(`${proxy.url}/camara/api/auth/v1/token`, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: encodeFields({
        grant_type: 'authorization_code',
        code: value,
        redirect_uri: REDIRECT_URI,
        client_id: 'demo-app',
        client_secret: 'demo-secret'
      })
    })
  }

  async function verify (accessToken: string): Promise<Response> {
    return await fetch(`${proxy.url}/camara/api/number-verification/v1/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ phoneNumber: SEED_MSISDN })
    })
  }

  t.test('whole flows through the proxy, each leg on another replica', async (t) => {
    const before = proxy.served.length
    for (let i = 0; i < 4; i++) {
      const token = await redeem(await code())
      t.equal(token.status, 200)
      const { access_token: accessToken } = await token.json() as { access_token: string }
      const answer = await verify(accessToken)
      t.equal(answer.status, 200)
      t.equal((await answer.json() as { devicePhoneNumberVerified: boolean }).devicePhoneNumberVerified, true)
    }
    const legs = proxy.served.slice(before)
    t.equal(legs.length, 16, 'four legs per flow')
    t.strictSame([...new Set(legs)].sort(), [0, 1, 2], 'every replica served legs')
    for (let i = 0; i < 16; i += 4) {
      t.equal(new Set(legs.slice(i, i + 4)).size >= 3, true, `flow ${i / 4 + 1} spread over replicas`)
    }
  })

  t.test('of ten redemptions of one code through the proxy, exactly one succeeds', async (t) => {
    const value = await code()
    const answers = await Promise.all(Array.from({ length: 10 }, async () => await redeem(value)))
    t.strictSame(answers.map((res) => res.status).sort(), [200, 400, 400, 400, 400, 400, 400, 400, 400, 400])
  })

  t.test('a replica gone mid-flow: the others finish the flow', async (t) => {
    const operator = await follow(AUTHORIZE)
    const gone = replicas[0] as FastifyInstance
    await gone.close()
    proxy.backends[0] = undefined
    const callback = await follow(operator.toString())
    const token = await redeem(callback.searchParams.get('code') ?? '')
    t.equal(token.status, 200, 'the code made on one replica is redeemed on another')
  })

  t.test('a store restart: 503 while it is down, then flows again without restarting a replica', async (t) => {
    await redis.stop({ crash: true })
    const refused = await redeem('any')
    t.equal(refused.status, 503)
    t.equal((await refused.json() as { error: string }).error, 'temporarily_unavailable')
    await redis.start()
    let status = 0
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await fetch(`${proxy.url}/_emulator/health`)).status
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    t.equal(status, 200)
    // Both live replicas answer healthy (the proxy alternates between them)
    t.equal((await fetch(`${proxy.url}/_emulator/health`)).status, 200)
    const token = await redeem(await code())
    t.equal(token.status, 200, 'a flow after the restart')

    // The restarted store started empty; the replicas wrote their signing keys back on reconnecting
    const direct = await RedisStore.connect<SigningKeyCollections>({ url: redis.url })
    t.teardown(async () => { await direct.close() })
    let kept
    for (let i = 0; i < 100 && kept === undefined; i++) {
      kept = await direct.get('signingKeys', 'RS256')
      if (kept === undefined) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    t.ok(kept, 'the key is back in the store')
    const { app: late } = await buildTestApp(t, { store: redis.url, publicUrl: proxy.url }, { keys: 'generate' })
    const jwks = async (app: FastifyInstance): Promise<unknown> =>
      (await app.inject({ method: 'GET', url: '/camara/api/auth/v1/jwks' })).json()
    t.strictSame(
      await jwks(late),
      await jwks(replicas[1] as FastifyInstance),
      'a replica started after the restart signs with the same key'
    )
  })
}
