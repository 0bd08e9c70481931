// The sample app's server-to-server calls (token exchange, verify), made as a real backend makes
// them: over HTTP to the emulator's own socket when it listens, so network faults (reset, hang,
// truncated bodies) reach the app as they would in production; through inject otherwise (tests).
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'

export const BACK_CHANNEL_TIMEOUT_MS = 10_000

export interface BackChannelRequest {
  method: 'GET' | 'POST'
  path: string
  headers: Record<string, string>
  body?: string
}

export type BackChannelResponse =
  | { ok: true, status: number, headers: Record<string, string>, body: string }
  | { ok: false, failure: string }

/** Where this process listens, seen from itself (a wildcard address means loopback) */
function ownOrigin (app: FastifyInstance): string | undefined {
  if (!app.server.listening) return undefined
  const address = app.server.address()
  if (address === null || typeof address === 'string') return undefined
  const { address: host, port } = address as AddressInfo
  if (host === '0.0.0.0') return `http://127.0.0.1:${port}`
  if (host === '::') return `http://[::1]:${port}`
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`
}

/** What an app developer would read in their logs for a failed call */
export function describeNetworkFailure (error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs / 1000} s: the request timed out`
  }
  const cause = error instanceof Error ? (error.cause as { code?: string, message?: string } | undefined) : undefined
  // undici says "terminated" when the body broke off after the headers came
  if (error instanceof Error && error.message === 'terminated') {
    return 'the connection closed before the response body was complete'
  }
  if (cause?.code === 'ECONNRESET') return 'the connection was reset (ECONNRESET) before any answer'
  if (cause?.code === 'UND_ERR_SOCKET') return 'the server closed the connection without a complete answer'
  const detail = cause?.message ?? (error instanceof Error ? error.message : String(error))
  return `the request failed: ${detail}`
}

export async function callEmulator (
  app: FastifyInstance, request: BackChannelRequest, timeoutMs = BACK_CHANNEL_TIMEOUT_MS
): Promise<BackChannelResponse> {
  const origin = ownOrigin(app)
  if (origin !== undefined) {
    try {
      const signal = AbortSignal.timeout(timeoutMs)
      const res = await fetch(`${origin}${request.path}`, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal,
        redirect: 'manual'
      })
      const body = await res.text()
      return { ok: true, status: res.status, headers: Object.fromEntries(res.headers), body }
    } catch (error) {
      return { ok: false, failure: describeNetworkFailure(error, timeoutMs) }
    }
  }
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<BackChannelResponse>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, failure: `no answer within ${timeoutMs / 1000} s: the request timed out` }),
      timeoutMs
    )
  })
  const injected = app.inject({
    method: request.method,
    url: request.path,
    headers: request.headers,
    payload: request.body
  })
    .then((res): BackChannelResponse => ({
      ok: true,
      status: res.statusCode,
      headers: Object.fromEntries(Object.entries(res.headers).map(([name, value]) => [name, String(value)])),
      body: res.body
    }))
    .catch((error: unknown): BackChannelResponse => ({ ok: false, failure: describeNetworkFailure(error, timeoutMs) }))
  try {
    return await Promise.race([injected, timeout])
  } finally {
    clearTimeout(timer)
  }
}
