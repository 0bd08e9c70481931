// The security headers every HTML answer of the app carries, whichever surface sends it: the
// demo, the dashboard, the operator's pages, the authorize error page, Swagger UI at /docs, and
// error pages Fastify renders itself. Part of the one onSend hook every surface registers
// (src/plugins/surface.ts), so a new page cannot forget them. A page that set its own CSP (a
// script nonce, see layout.ts) keeps it.
import type { FastifyReply } from 'fastify'

/** For HTML that sets no policy: scripts and styles from this origin only, never framed */
export const DEFAULT_HTML_POLICY = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

function isHtml (contentType: unknown): boolean {
  return typeof contentType === 'string' && /^\s*text\/html\b/i.test(contentType)
}

/** Called by every surface's onSend hook (src/plugins/surface.ts) */
export function htmlSecurityHeaders (reply: FastifyReply): void {
  if (!isHtml(reply.getHeader('content-type'))) return
  if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', DEFAULT_HTML_POLICY)
  reply.header('x-content-type-options', 'nosniff')
  reply.header('referrer-policy', 'no-referrer')
  // For browsers without CSP frame-ancestors
  reply.header('x-frame-options', 'DENY')
}
