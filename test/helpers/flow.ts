// Drives the browser leg and the code exchange through app.inject(), as a device would: the
// gateway authorize 302, the operator 302, then the token endpoint.
import type { FastifyInstance } from 'fastify'
import { REDIRECT_URI } from './app.js'

export interface FlowOptions {
  clientId?: string
  clientSecret?: string
  scope?: string
  /** konera_context value, e.g. 'ipv4:142.115.147.143' */
  konera?: string
  loginHint?: string
  prompt?: string
  /** Address the device connects from (inject remoteAddress) */
  remoteAddress?: string
  extraQuery?: Record<string, string>
  headers?: Record<string, string>
}

export const NV_SCOPES = 'openid dpv:FraudPreventionAndDetection number-verification:verify number-verification:device-phone-number:read'

/** Runs authorize -> operator and returns the final redirect to the app (code or error) */
export async function authorizeDevice (app: FastifyInstance, options: FlowOptions = {}): Promise<URL> {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: options.clientId ?? 'demo-app',
    redirect_uri: REDIRECT_URI,
    scope: options.scope ?? NV_SCOPES,
    state: 'state-1',
    ...(options.konera === undefined ? {} : { konera_context: options.konera }),
    ...(options.loginHint === undefined ? {} : { login_hint: options.loginHint }),
    ...(options.prompt === undefined ? {} : { prompt: options.prompt }),
    ...options.extraQuery
  })
  const remoteAddress = options.remoteAddress ?? '127.0.0.1'
  const gateway = await app.inject({ method: 'GET', url: `/camara/api/auth/v1/authorize?${query.toString()}`, remoteAddress, headers: options.headers })
  if (gateway.statusCode !== 302) throw new Error(`authorize answered ${gateway.statusCode}: ${gateway.body}`)
  const operatorUrl = new URL(gateway.headers.location as string)
  if (!operatorUrl.pathname.startsWith('/operators/')) return operatorUrl
  const operator = await app.inject({ method: 'GET', url: operatorUrl.pathname + operatorUrl.search, remoteAddress, headers: options.headers })
  if (operator.statusCode !== 302) throw new Error(`operator answered ${operator.statusCode}: ${operator.body}`)
  return new URL(operator.headers.location as string)
}

export interface Tokens {
  access_token: string
  token_type: string
  expires_in: number
  scope: string
  refresh_token?: string
  id_token?: string
}

/** The whole flow with client_secret_post; throws when any leg fails */
export async function obtainTokens (app: FastifyInstance, options: FlowOptions = {}): Promise<Tokens> {
  const callback = await authorizeDevice(app, options)
  const code = callback.searchParams.get('code')
  if (code === null) throw new Error(`no code: ${callback.toString()}`)
  const res = await app.inject({
    method: 'POST',
    url: '/camara/api/auth/v1/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
    payload: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: options.clientId ?? 'demo-app',
      client_secret: options.clientSecret ?? 'demo-secret'
    }).toString()
  })
  if (res.statusCode !== 200) throw new Error(`token answered ${res.statusCode}: ${res.body}`)
  return res.json()
}

/** A client_credentials token: it identifies no subscriber */
export async function clientCredentialsToken (app: FastifyInstance, scope = 'number-verification:verify number-verification:device-phone-number:read'): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/camara/api/auth/v1/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'demo-app', client_secret: 'demo-secret', scope }).toString()
  })
  if (res.statusCode !== 200) throw new Error(`token answered ${res.statusCode}: ${res.body}`)
  return (res.json() as Tokens).access_token
}
