// What keeps a web page from driving the control API through the developer's browser. DNS
// rebinding: the page's own name resolves to 127.0.0.1, so only the Host header gives it away;
// it must name the emulator (its public URL's host, the loopback names, --allowed-hosts).
// Cross-site requests: a state-changing request that carries an Origin must come from the
// emulator's own, and its body must be JSON, which no HTML form can send without CORS.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { CamaraError } from '../../core/errors.js'
import type { EmulatorUrls } from '../../core/urls.js'
import { hasBody } from '../../plugins/body-timeout.js'

export interface GuardOptions {
  urls: EmulatorUrls
  /** The address the server listens on (a name there is one the emulator answers to) */
  listenHost: string
  /** More host names to answer to (--allowed-hosts); '*' turns the Host check off */
  allowedHosts: readonly string[]
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]']
const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS']
const JSON_TYPE = /^application\/json\s*(;|$)/i
/** host[:port], where host is a name, an IPv4 address or a bracketed IPv6 address */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::(\d{1,5}))?$/i

/** A host name as compared: lower case, IPv6 in brackets, no trailing dot */
export function normalHostname (name: string): string {
  const lower = name.trim().toLowerCase().replace(/\.$/, '')
  return lower.includes(':') && !lower.startsWith('[') ? `[${lower}]` : lower
}

function parseHost (value: string | undefined): { hostname: string, port: string | undefined } | undefined {
  const match = HOST_HEADER.exec(value ?? '')
  if (match === null) return undefined
  return { hostname: normalHostname(match[1] ?? ''), port: match[2] }
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' }

/** The onRequest hook of the control API's scope: refuses in the control API's { status, code, message } */
export function refuseForeignRequests (options: GuardOptions) {
  const anyHost = options.allowedHosts.includes('*')
  const fixed = new Set([...LOOPBACK_NAMES, ...options.allowedHosts.map(normalHostname)])
  if (options.listenHost !== '0.0.0.0' && options.listenHost !== '::') fixed.add(normalHostname(options.listenHost))
  // The public URL can change after start (a port 0 learns its port), so it is read per request
  const allowed = (hostname: string): boolean =>
    anyHost || fixed.has(hostname) || hostname === normalHostname(new URL(options.urls.publicUrl).hostname)

  return async function (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const changes = !SAFE_METHODS.includes(request.method)
    const refusal = hostProblem(request, allowed) ?? (changes ? stateChangeProblem(request, options.urls) : undefined)
    if (refusal === undefined) return undefined
    request.facts.reason = refusal.reason
    return await reply.code(refusal.status).send(refusal.toJSON())
  }
}

function hostProblem (request: FastifyRequest, allowed: (hostname: string) => boolean): CamaraError | undefined {
  const host = parseHost(request.headers.host)
  if (host !== undefined && allowed(host.hostname)) return undefined
  const named = request.headers.host === undefined ? 'a request without a Host header' : `Host ${request.headers.host}`
  return new CamaraError(403, 'PERMISSION_DENIED', `the control API does not answer ${named}: ` +
    'it answers localhost, 127.0.0.1, [::1], the --public-url host and the names in --allowed-hosts ' +
    '(a page on another name may be DNS rebinding)')
}

function stateChangeProblem (request: FastifyRequest, urls: EmulatorUrls): CamaraError | undefined {
  const origin = request.headers.origin
  if (origin !== undefined && !sameOrigin(origin, request.headers.host, urls.publicUrl)) {
    return new CamaraError(403, 'PERMISSION_DENIED', 'the control API refuses changes from another origin ' +
      `(Origin ${origin}): ` +
      'send them from the dashboard, curl or your test code')
  }
  const type = request.headers['content-type']
  if ((type !== undefined && !JSON_TYPE.test(type)) || (type === undefined && hasBody(request))) {
    const got = type ?? 'a body without a content type'
    return new CamaraError(415, 'UNSUPPORTED_MEDIA_TYPE',
      `the control API takes JSON bodies: send content-type: application/json (got ${got})`)
  }
  return undefined
}

/** The Origin is the page the emulator itself served: the public URL's, or the one the Host names */
function sameOrigin (origin: string, hostHeader: string | undefined, publicUrl: string): boolean {
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    // 'null' (a sandboxed frame, a file: page) or garbage: no page of the emulator's
    return false
  }
  if (url.origin === new URL(publicUrl).origin) return true
  const host = parseHost(hostHeader)
  if (host === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) return false
  const port = url.port === '' ? DEFAULT_PORTS[url.protocol] : url.port
  return normalHostname(url.hostname) === host.hostname && port === (host.port ?? DEFAULT_PORTS[url.protocol])
}
