// Namespaces share the root's one route table: before routing, `/ns/<name>/<surface path>` is
// served as `/<surface path>` and the request remembers its namespace, which the surface's
// onRequest hook resolves to the namespace's world (src/plugins/request-facts.ts). One table
// rather than every route registered twice: start-up and memory stay as they were.
import type { IncomingMessage } from 'node:http'

const NAMESPACE = Symbol('the request\'s namespace')

type Tagged = IncomingMessage & { [NAMESPACE]?: string }

/**
 * What a namespace serves: the gateway, the CAMARA families, the operators and its own control
 * API; not the namespaces themselves, the dashboard, the demo or the docs (those stay at the root,
 * and /ns/<name>/<anything else> is simply not found)
 */
const SERVED_IN_A_NAMESPACE = /^\/(?:camara\/|number-verification\/|operators\/|_emulator\/(?!namespaces(?:[/?]|$)|ui(?:[/?]|$)))/

/** Fastify's rewriteUrl: the URL the router sees */
export function rewriteNamespaceUrl (request: IncomingMessage): string {
  const url = request.url ?? '/'
  if (!url.startsWith('/ns/')) return url
  const end = url.indexOf('/', 4)
  if (end <= 4) return url
  const rest = url.slice(end)
  if (!SERVED_IN_A_NAMESPACE.test(rest)) return url
  const tagged: Tagged = request
  tagged[NAMESPACE] = url.slice(4, end)
  return rest
}

/** The namespace a request was sent to; undefined: the root world */
export function namespaceOf (request: IncomingMessage): string | undefined {
  return (request as Tagged)[NAMESPACE]
}
