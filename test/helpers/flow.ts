// Drives the browser leg and the code exchange through app.inject(), as a device would: the
// gateway authorize 302, the operator 302, then the token endpoint; and the Number Verification
// calls made with the token. Each leg is also exported alone, for tests that assert on it.
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { REDIRECT_URI } from './app.js'

export const AUTHORIZE_PATH = '/camara/api/auth/v1/authorize'
export const TOKEN_PATH = '/camara/api/auth/v1/token'
/** The seed's verify path (aggregator flavour: the answer carries assessedAt) */
export const VERIFY_PATH = '/camara/api/number-verification/v1/verify'
/** CAMARA's share path */
export const SHARE_PATH = '/number-verification/v1/device-phone-number'
export const FORM = 'application/x-www-form-urlencoded'

/** The seed subscriber of fixtures/default.json (telco-es) and the address its device connects from */
export const SEED_MSISDN = '+34666666666'
export const SEED_KONERA = 'ipv4:142.115.147.143'

export const NV_SCOPES = 'openid dpv:FraudPreventionAndDetection number-verification:verify ' +
  'number-verification:device-phone-number:read'

/** Form or query fields; an undefined value leaves the field out */
export type Fields = Record<string, string | undefined>

export interface FlowOptions {
  clientId?: string
  clientSecret?: string
  scope?: string
  state?: string
  /** konera_context value, e.g. 'ipv4:142.115.147.143' */
  konera?: string
  loginHint?: string
  prompt?: string
  /** Address the device connects from (inject remoteAddress) */
  remoteAddress?: string
  /** Added last: replaces a parameter in place, or drops it when undefined */
  extraQuery?: Fields
  headers?: Record<string, string>
}

/** The device as the operator leg sees it: same address, headers of its own (e.g. a browser's Accept) */
export interface Device {
  remoteAddress?: string
  headers?: Record<string, string>
}

export function encodeFields (fields: Fields): string {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) search.append(name, value)
  return search.toString()
}

/** demo-app's authorization request unless the options say otherwise */
export function authorizeQuery (options: FlowOptions = {}): string {
  return encodeFields({
    response_type: 'code',
    client_id: options.clientId ?? 'demo-app',
    redirect_uri: REDIRECT_URI,
    scope: options.scope ?? NV_SCOPES,
    state: options.state ?? 'state-1',
    ...(options.konera === undefined ? {} : { konera_context: options.konera }),
    ...(options.loginHint === undefined ? {} : { login_hint: options.loginHint }),
    ...(options.prompt === undefined ? {} : { prompt: options.prompt }),
    ...options.extraQuery
  })
}

/** The gateway authorize leg alone, whatever it answers */
export async function gatewayLeg (app: FastifyInstance, options: FlowOptions = {}): Promise<LightMyRequestResponse> {
  return await app.inject({
    method: 'GET',
    url: `${AUTHORIZE_PATH}?${authorizeQuery(options)}`,
    remoteAddress: options.remoteAddress ?? '127.0.0.1',
    headers: options.headers
  })
}

/** An operator's authorization path, at the root or in a namespace (/ns/<name>/operators/...) */
const OPERATOR_PATH = /^(\/ns\/[^/]+)?\/operators\//

/**
 * The app as a client pointed at a namespace's issuer sees it: every path the helpers send is
 * served under /ns/<name>; paths that already name a namespace (the redirects) are left alone
 */
export function inNamespace (app: FastifyInstance, name: string): FastifyInstance {
  const prefix = `/ns/${name}`
  const inject = async (options: InjectOptions & { url: string }): Promise<LightMyRequestResponse> => {
    const url = options.url.startsWith('/ns/') ? options.url : `${prefix}${options.url}`
    return await app.inject({ ...options, url })
  }
  return new Proxy(app, {
    get: (target, property, receiver) => property === 'inject' ? inject : Reflect.get(target, property, receiver)
  })
}

/** Where a leg's 302 sends the browser; throws, naming the leg, on any other answer */
export function redirectOf (res: LightMyRequestResponse, leg: string): URL {
  const location = res.headers.location
  if (res.statusCode !== 302 || typeof location !== 'string') {
    throw new Error(`${leg} answered ${res.statusCode}: ${res.body}`)
  }
  return new URL(location)
}

/** Follows the gateway's 302 to the emulated operator; throws unless the gateway routed to one */
export async function operatorLeg (
  app: FastifyInstance,
  gateway: LightMyRequestResponse,
  device: Device = {}
): Promise<LightMyRequestResponse> {
  const url = redirectOf(gateway, 'gateway')
  if (!OPERATOR_PATH.test(url.pathname)) throw new Error(`gateway did not route to an operator: ${url.toString()}`)
  return await app.inject({
    method: 'GET',
    url: url.pathname + url.search,
    remoteAddress: device.remoteAddress ?? '127.0.0.1',
    headers: device.headers
  })
}

/** Runs authorize -> operator and returns the final redirect to the app (code or error) */
export async function authorizeDevice (app: FastifyInstance, options: FlowOptions = {}): Promise<URL> {
  const gateway = await gatewayLeg(app, options)
  const next = redirectOf(gateway, 'authorize')
  if (!OPERATOR_PATH.test(next.pathname)) return next
  return redirectOf(await operatorLeg(app, gateway, options), 'operator')
}

/** Runs authorize -> operator and returns the code; throws when the flow ends in an error redirect */
export async function authorizationCode (app: FastifyInstance, options: FlowOptions = {}): Promise<string> {
  const callback = await authorizeDevice(app, options)
  const code = callback.searchParams.get('code')
  if (code === null) throw new Error(`no code: ${callback.toString()}`)
  return code
}

export interface Tokens {
  access_token: string
  token_type: string
  expires_in: number
  scope: string
  refresh_token?: string
  id_token?: string
}

/** A token endpoint request, whatever it answers */
export async function tokenRequest (
  app: FastifyInstance,
  form: Fields,
  headers: Record<string, string> = {}
): Promise<LightMyRequestResponse> {
  return await app.inject({
    method: 'POST',
    url: TOKEN_PATH,
    headers: { 'content-type': FORM, ...headers },
    payload: encodeFields(form)
  })
}

/** demo-app's code exchange with client_secret_post; `extra` replaces or drops (undefined) fields */
export function codeForm (code: string, extra: Fields = {}): Fields {
  return {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    client_id: 'demo-app',
    client_secret: 'demo-secret',
    ...extra
  }
}

/** The code exchange with client_secret_post, whatever it answers */
export async function exchangeCode (
  app: FastifyInstance,
  code: string,
  headers: Record<string, string> = {},
  clientId = 'demo-app',
  clientSecret = 'demo-secret'
): Promise<LightMyRequestResponse> {
  return await tokenRequest(app, codeForm(code, { client_id: clientId, client_secret: clientSecret }), headers)
}

/** Redeems a code with client_secret_post; throws unless 200 */
export async function redeemCode (app: FastifyInstance, code: string, options: FlowOptions = {}): Promise<Tokens> {
  const res = await exchangeCode(app, code, options.headers, options.clientId, options.clientSecret)
  if (res.statusCode !== 200) throw new Error(`token answered ${res.statusCode}: ${res.body}`)
  return res.json()
}

/** The whole flow with client_secret_post; throws when any leg fails */
export async function obtainTokens (app: FastifyInstance, options: FlowOptions = {}): Promise<Tokens> {
  return await redeemCode(app, await authorizationCode(app, options), options)
}

/** A client_credentials token: it identifies no subscriber */
export async function clientCredentialsToken (
  app: FastifyInstance,
  scope = 'number-verification:verify number-verification:device-phone-number:read'
): Promise<string> {
  const res = await tokenRequest(app, {
    grant_type: 'client_credentials',
    client_id: 'demo-app',
    client_secret: 'demo-secret',
    scope
  })
  if (res.statusCode !== 200) throw new Error(`token answered ${res.statusCode}: ${res.body}`)
  return (res.json() as Tokens).access_token
}

export interface ApiCallOptions {
  phoneNumber?: string
  /** Sent as x-emulator-scenario */
  scenarios?: string
  headers?: Record<string, string>
  url?: string
}

function apiHeaders (token: string, options: ApiCallOptions): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    ...(options.scenarios === undefined ? {} : { 'x-emulator-scenario': options.scenarios }),
    ...options.headers
  }
}

/** POST verify with the token, for the seed's number unless told */
export async function verify (
  app: FastifyInstance,
  token: string,
  options: ApiCallOptions = {}
): Promise<LightMyRequestResponse> {
  return await app.inject({
    method: 'POST',
    url: options.url ?? VERIFY_PATH,
    headers: apiHeaders(token, options),
    payload: { phoneNumber: options.phoneNumber ?? SEED_MSISDN }
  })
}

export async function share (
  app: FastifyInstance,
  token: string,
  options: ApiCallOptions = {}
): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'GET', url: options.url ?? SHARE_PATH, headers: apiHeaders(token, options) })
}
