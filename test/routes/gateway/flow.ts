// Drives the browser leg of the authorization flow through app.inject(): the gateway authorize
// request, the operator leg its 302 points to, and the token endpoint. Shared by the gateway tests.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { REDIRECT_URI, SCOPE } from '../../helpers/app.js'

export const AUTHORIZE_PATH = '/camara/api/auth/v1/authorize'
export const TOKEN_PATH = '/camara/api/auth/v1/token'
export const TOKEN_ENDPOINT = 'http://emulator.test/camara/api/auth/v1/token'
export const FORM = 'application/x-www-form-urlencoded'
/** The seed's device: +34666666666 on telco-es */
export const SEED_DEVICE_IPV4 = '142.115.147.143'
export const SEED_DEVICE_IPV6 = '2001:4860:7:f04::fe'

export type Params = Record<string, string | string[] | undefined>

/** A valid request of client demo-app for the seed device; override or drop (undefined) entries */
export function authorizeParams (overrides: Params = {}): Params {
  return {
    response_type: 'code',
    client_id: 'demo-app',
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    state: 'af0ifjsldkj',
    ...overrides
  }
}

/** Query string; an array repeats the parameter, undefined leaves it out */
export function queryString (params: Params): string {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [value]) search.append(name, item)
  }
  return search.toString()
}

export interface Device {
  remoteAddress?: string
  headers?: Record<string, string>
}

export async function authorizeAtGateway (
  app: FastifyInstance,
  params: Params,
  device: Device = {}
): Promise<LightMyRequestResponse> {
  return await app.inject({
    method: 'GET',
    url: `${AUTHORIZE_PATH}?${queryString(params)}`,
    ...(device.remoteAddress === undefined ? {} : { remoteAddress: device.remoteAddress }),
    ...(device.headers === undefined ? {} : { headers: device.headers })
  })
}

/** Follows an absolute Location on this app, as the browser would (same device) */
export async function follow (
  app: FastifyInstance,
  location: string,
  device: Device = {}
): Promise<LightMyRequestResponse> {
  const url = new URL(location)
  return await app.inject({
    method: 'GET',
    url: url.pathname + url.search,
    ...(device.remoteAddress === undefined ? {} : { remoteAddress: device.remoteAddress }),
    ...(device.headers === undefined ? {} : { headers: device.headers })
  })
}

export function locationOf (res: LightMyRequestResponse): string {
  const location = res.headers.location
  if (typeof location !== 'string') {
    throw new Error(`expected a Location header, got status ${res.statusCode}: ${res.body}`)
  }
  return location
}

export interface FlowResult {
  gateway: LightMyRequestResponse
  operator: LightMyRequestResponse
  /** Where the operator sent the browser back to */
  callback: URL
}

/** Gateway then operator leg; throws if the gateway did not route to an operator */
export async function runAuthorization (
  app: FastifyInstance,
  params: Params,
  device: Device = {}
): Promise<FlowResult> {
  const gateway = await authorizeAtGateway(app, params, device)
  if (gateway.statusCode !== 302 || !locationOf(gateway).includes('/operators/')) {
    throw new Error(`gateway did not route to an operator: ${gateway.statusCode} ${String(gateway.headers.location)}`)
  }
  const operator = await follow(app, locationOf(gateway), device)
  return { gateway, operator, callback: new URL(locationOf(operator)) }
}

/** The authorization code of a successful flow */
export async function obtainCode (app: FastifyInstance, params: Params, device: Device = {}): Promise<string> {
  const { callback } = await runAuthorization(app, params, device)
  const code = callback.searchParams.get('code')
  if (code === null) throw new Error(`no code in ${callback.toString()}`)
  return code
}

export async function postToken (
  app: FastifyInstance,
  form: Params,
  headers: Record<string, string> = {}
): Promise<LightMyRequestResponse> {
  return await app.inject({
    method: 'POST',
    url: TOKEN_PATH,
    headers: { 'content-type': FORM, ...headers },
    payload: queryString(form)
  })
}

export function basicAuthorization (clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`
}

/** demo-app's code exchange with client_secret_post */
export function codeForm (code: string, extra: Params = {}): Params {
  return {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    client_id: 'demo-app',
    client_secret: 'demo-secret',
    ...extra
  }
}

/**
 * The subscriber a flow identified, read the way the resource API will: redeem the code at the
 * token endpoint, then resolve the access token.
 */
export async function identifiedSubscriber (
  app: FastifyInstance,
  code: string
): Promise<{ msisdn: string | undefined, amr: string[] }> {
  const res = await postToken(app, codeForm(code))
  if (res.statusCode !== 200) throw new Error(`code exchange failed: ${res.body}`)
  const { access_token: accessToken } = res.json<{ access_token: string }>()
  const resolved = await app.emulator.tokens.resolveAccessToken(accessToken)
  if ('failure' in resolved) throw new Error(resolved.failure)
  return { msisdn: resolved.record.msisdn, amr: resolved.record.amr }
}
