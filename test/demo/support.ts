// Drives the demo app through app.inject() as a browser would: the form post, the gateway and
// operator redirects (or the SIM picker), then the callback page.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { BASE_URL } from '../helpers/app.js'

export const HTML_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'
export const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

export function pathOf (location: string): string {
  const url = new URL(location)
  if (url.origin !== BASE_URL) throw new Error(`${location} leaves the emulator`)
  return url.pathname + url.search
}

export async function postForm (
  app: FastifyInstance,
  url: string,
  form: Record<string, string>,
  options: { remoteAddress?: string } = {}
): Promise<LightMyRequestResponse> {
  return await app.inject({
    method: 'POST',
    url,
    headers: { ...FORM, accept: HTML_ACCEPT },
    payload: new URLSearchParams(form).toString(),
    remoteAddress: options.remoteAddress
  })
}

/** POST /demo/start: the gateway authorize URL the browser is sent to */
export async function startDemo (app: FastifyInstance, form: Record<string, string>): Promise<URL> {
  const res = await postForm(app, '/demo/start', form)
  if (res.statusCode !== 303) throw new Error(`/demo/start answered ${res.statusCode}: ${res.body.slice(0, 300)}`)
  return new URL(res.headers.location as string)
}

/** Follows GET redirects inside the emulator until a page answers (picker, callback, error page) */
export async function browse (
  app: FastifyInstance,
  location: string,
  options: { remoteAddress?: string, accept?: string } = {}
): Promise<{ res: LightMyRequestResponse, path: string }> {
  let path = pathOf(location)
  for (let hop = 0; hop < 6; hop++) {
    const res = await app.inject({
      method: 'GET',
      url: path,
      remoteAddress: options.remoteAddress ?? '127.0.0.1',
      headers: { accept: options.accept ?? HTML_ACCEPT }
    })
    if (res.statusCode !== 302 && res.statusCode !== 303) return { res, path }
    path = pathOf(res.headers.location as string)
  }
  throw new Error('too many redirects')
}

/** The whole demo: form, redirects, callback page */
export async function runDemo (
  app: FastifyInstance,
  form: Record<string, string>
): Promise<{ res: LightMyRequestResponse, path: string }> {
  return await browse(app, (await startDemo(app, form)).toString())
}

/** The page's text without tags, for readable assertions */
export function textOf (page: string): string {
  return page
    .replace(/<style>[\s\S]*?<\/style>/g, '')
    .replace(/<script[\s\S]*?<\/script>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim()
}
