// Drives whole Number Verification flows over keep-alive connections, as many app backends and
// devices at once would: authorize -> operator -> token -> verify. Codes are single use, so each
// flow gets its own (autocannon's fixed requests cannot do that); workers are concurrent loops.
import { Pool } from 'undici'

export const REDIRECT_URI = 'http://localhost:3000/callback'
export const SEED_MSISDN = '+34666666666'
export const TOKEN_PATH = '/camara/api/auth/v1/token'
export const VERIFY_PATH = '/camara/api/number-verification/v1/verify'
const FORM = 'application/x-www-form-urlencoded'

const AUTHORIZE_PATH = '/camara/api/auth/v1/authorize?' + new URLSearchParams({
  response_type: 'code',
  client_id: 'demo-app',
  redirect_uri: REDIRECT_URI,
  scope: 'openid dpv:FraudPreventionAndDetection number-verification:verify',
  state: 'bench',
  // The seed device, named by the aggregator's hint: the bench connects from 127.0.0.1
  konera_context: 'ipv4:142.115.147.143'
}).toString()

export function pool (url: string, connections: number): Pool {
  return new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 60_000 })
}

function pathOf (location: string | string[] | undefined, step: string): string {
  if (typeof location !== 'string') throw new Error(`${step}: no Location`)
  const url = new URL(location)
  return url.pathname + url.search
}

/**
 * Gateway then operator leg (on `operatorClient`, another replica, when given): the code the app
 * receives. `prefix`: a namespace's (/ns/<name>), where every path of the flow lives
 */
export async function authorizeCode (client: Pool, operatorClient = client, prefix = ''): Promise<string> {
  const gateway = await client.request({ method: 'GET', path: prefix + AUTHORIZE_PATH })
  await gateway.body.dump()
  if (gateway.statusCode !== 302) throw new Error(`authorize answered ${gateway.statusCode}`)
  const operator = await operatorClient.request({ method: 'GET', path: pathOf(gateway.headers.location, 'authorize') })
  await operator.body.dump()
  if (operator.statusCode !== 302) throw new Error(`operator answered ${operator.statusCode}`)
  const callback = new URL(operator.headers.location as string)
  const code = callback.searchParams.get('code')
  if (code === null) throw new Error(`operator redirected without a code: ${callback.toString()}`)
  return code
}

export function tokenForm (code: string): string {
  return new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    client_id: 'demo-app',
    client_secret: 'demo-secret'
  }).toString()
}

export async function exchangeCode (client: Pool, code: string, prefix = ''): Promise<string> {
  const res = await client.request({
    method: 'POST',
    path: prefix + TOKEN_PATH,
    headers: { 'content-type': FORM },
    body: tokenForm(code)
  })
  const body = await res.body.json() as { access_token?: string, id_token?: string }
  if (res.statusCode !== 200 || body.access_token === undefined || body.id_token === undefined) {
    throw new Error(`token answered ${res.statusCode}: ${JSON.stringify(body)}`)
  }
  return body.access_token
}

export const VERIFY_BODY = JSON.stringify({ phoneNumber: SEED_MSISDN })

export async function verifyNumber (client: Pool, accessToken: string, prefix = ''): Promise<void> {
  const res = await client.request({
    method: 'POST',
    path: prefix + VERIFY_PATH,
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: VERIFY_BODY
  })
  const body = await res.body.json() as { devicePhoneNumberVerified?: boolean }
  if (res.statusCode !== 200 || body.devicePhoneNumberVerified !== true) {
    throw new Error(`verify answered ${res.statusCode}: ${JSON.stringify(body)}`)
  }
}

/** One flow; with several clients (replicas) each leg goes to the next one, round robin */
export async function runFlow (clients: readonly Pool[], prefix = ''): Promise<void> {
  const leg = (n: number): Pool => clients[n % clients.length] as Pool
  const code = await authorizeCode(leg(0), leg(1), prefix)
  const accessToken = await exchangeCode(leg(2), code, prefix)
  await verifyNumber(leg(3), accessToken, prefix)
}

export interface FlowRun {
  flows: number
  failures: number
  elapsedMs: number
  perSecond: number
  firstError?: string
}

export interface FlowRunOptions {
  /** One emulator, or replicas sharing a store: each flow's legs then go round robin */
  url: string | readonly string[]
  workers: number
  /** Stop after this long ... */
  durationMs?: number
  /** ... or after this many flows, whichever comes first */
  maxFlows?: number
  /** Worker k runs its flows in namespace k modulo their number (/ns/<name>/...); none: the root */
  namespaces?: readonly string[]
  /** Called about every second with the flows done so far */
  progress?: (done: number, elapsedMs: number) => void
}

export async function driveFlows (options: FlowRunOptions): Promise<FlowRun> {
  const clients = (typeof options.url === 'string' ? [options.url] : options.url).map((url) =>
    pool(url, options.workers)
  )
  const started = performance.now()
  const deadline = started + (options.durationMs ?? Number.POSITIVE_INFINITY)
  const max = options.maxFlows ?? Number.POSITIVE_INFINITY
  let launched = 0
  let flows = 0
  let failures = 0
  let firstError: string | undefined
  const ticker =
    options.progress === undefined
      ? undefined
      : setInterval(() => options.progress?.(flows, performance.now() - started), 1000)
  const namespaces = options.namespaces ?? []
  const worker = async (k: number): Promise<void> => {
    const prefix = namespaces.length === 0 ? '' : `/ns/${namespaces[k % namespaces.length] ?? ''}`
    while (performance.now() < deadline && launched < max) {
      launched++
      try {
        await runFlow(clients, prefix)
        flows++
      } catch (error) {
        failures++
        firstError ??= (error as Error).message
      }
    }
  }
  await Promise.all(Array.from({ length: options.workers }, async (_, k) => { await worker(k) }))
  if (ticker !== undefined) clearInterval(ticker)
  const elapsedMs = performance.now() - started
  await Promise.all(clients.map(async (client) => { await client.close() }))
  return {
    flows,
    failures,
    elapsedMs,
    perSecond: flows / (elapsedMs / 1000),
    ...(firstError === undefined ? {} : { firstError })
  }
}

/** Fresh codes for the token benchmark, gathered by concurrent authorize legs */
export async function collectCodes (url: string, count: number, workers = 16): Promise<string[]> {
  const client = pool(url, workers)
  const codes: string[] = []
  const worker = async (): Promise<void> => {
    while (codes.length < count) codes.push(await authorizeCode(client))
  }
  await Promise.all(Array.from({ length: workers }, worker))
  await client.close()
  return codes.slice(0, count)
}

/** A valid access token of the seed device (default profile: reusable for its lifetime) */
export async function accessTokenFor (url: string, prefix = ''): Promise<string> {
  const client = pool(url, 1)
  try {
    return await exchangeCode(client, await authorizeCode(client, client, prefix), prefix)
  } finally {
    await client.close()
  }
}
