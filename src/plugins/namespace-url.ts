// Namespaces share the root's one route table: before routing, `/ns/<name>/<surface path>` is
// served as `/<surface path>` and the request remembers its namespace, which the surface's
// onRequest hook resolves to the namespace's world (src/plugins/request-facts.ts). One table
// rather than every route registered twice: start-up and memory stay as they were.
import type { IncomingMessage } from 'node:http'

const NAMESPACE = Symbol('the request\'s namespace')

type Tagged = IncomingMessage & { [NAMESPACE]?: string }

/**
 * What a namespace serves: the gateway, the CAMARA families, the operators and its own control
 * API; not the namespaces themselves, the metrics (the process's), the dashboard, the demo or the
 * docs (those stay at the root, and /ns/<name>/<anything else> is simply not found)
 */
const SERVED_IN_A_NAMESPACE =
  /^\/(?:camara\/|number-verification\/|operators\/|_emulator\/(?!namespaces(?:[/?]|$)|ui(?:[/?]|$)|metrics(?:[/?]|$)))/

/**
 * RFC 8414 puts the issuer's path after the well-known prefix: /.well-known/oauth-authorization-server/ns/<name>/...
 */
const METADATA_PREFIX = '/.well-known/oauth-authorization-server'

/** `/ns/<name><rest>` split, when <rest> is something a namespace serves */
function splitNamespace (url: string): { name: string, rest: string } | undefined {
  if (!url.startsWith('/ns/')) return undefined
  const end = url.indexOf('/', 4)
  if (end <= 4) return undefined
  const rest = url.slice(end)
  return SERVED_IN_A_NAMESPACE.test(rest) ? { name: url.slice(4, end), rest } : undefined
}

/** Fastify's rewriteUrl: the URL the router sees */
export function rewriteNamespaceUrl (request: IncomingMessage): string {
  const url = request.url ?? '/'
  const metadata = url.startsWith(METADATA_PREFIX)
  const split = splitNamespace(metadata ? url.slice(METADATA_PREFIX.length) : url)
  if (split === undefined) return url
  const tagged: Tagged = request
  tagged[NAMESPACE] = split.name
  return metadata ? `${METADATA_PREFIX}${split.rest}` : split.rest
}

/** The namespace a request was sent to; undefined: the root world */
export function namespaceOf (request: IncomingMessage): string | undefined {
  return (request as Tagged)[NAMESPACE]
}
