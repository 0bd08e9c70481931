// Shared steps of the security tests: the browser leg to a code, the token request, signed
// client assertions for demo-app-jwt (its demo private key ships in fixtures/keys).
import { readFileSync } from 'node:fs'
import { createHash, randomUUID } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { importJWK, SignJWT, type JWK, type JWTPayload } from 'jose'
import { ISSUER, REDIRECT_URI } from '../helpers/app.js'

export const AUTHORIZE = '/camara/api/auth/v1/authorize'
export const TOKEN = '/camara/api/auth/v1/token'
export const TOKEN_ENDPOINT = `${ISSUER}/token`
export const VERIFY = '/camara/api/number-verification/v1/verify'
export const FORM = 'application/x-www-form-urlencoded'
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
export const SCOPE = 'openid dpv:FraudPreventionAndDetection number-verification:verify'
export const SEED_DEVICE = 'ipv4:142.115.147.143'
export const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
export const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url')

export const DEMO_JWT_KEY = JSON.parse(readFileSync(new URL('../../fixtures/keys/demo-app-jwt.private.jwk.json', import.meta.url), 'utf8')) as JWK

export function query (params: Record<string, string | undefined>): string {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) if (value !== undefined) search.append(name, value)
  return search.toString()
}

/** Gateway then operator leg; returns the operator's final redirect */
export async function authorize (app: FastifyInstance, params: Record<string, string | undefined> = {}): Promise<URL> {
  const gateway = await app.inject({
    method: 'GET',
    url: `${AUTHORIZE}?${query({ response_type: 'code', client_id: 'demo-app', redirect_uri: REDIRECT_URI, scope: SCOPE, state: 'st', konera_context: SEED_DEVICE, ...params })}`
  })
  if (gateway.statusCode !== 302) throw new Error(`gateway answered ${gateway.statusCode}: ${gateway.body}`)
  const operatorUrl = new URL(gateway.headers.location as string)
  if (!operatorUrl.pathname.startsWith('/operators/')) return operatorUrl
  const operator = await app.inject({ method: 'GET', url: operatorUrl.pathname + operatorUrl.search })
  return new URL(operator.headers.location as string)
}

export async function codeFor (app: FastifyInstance, params: Record<string, string | undefined> = {}): Promise<string> {
  const callback = await authorize(app, params)
  const code = callback.searchParams.get('code')
  if (code === null) throw new Error(`no code: ${callback.toString()}`)
  return code
}

export async function tokenRequest (app: FastifyInstance, form: Record<string, string | undefined>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'POST', url: TOKEN, headers: { 'content-type': FORM, ...headers }, payload: query(form) })
}

export function secretPost (code: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: 'demo-app', client_secret: 'demo-secret', ...extra }
}

export async function verify (app: FastifyInstance, accessToken: string): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'POST', url: VERIFY, headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' }, payload: { phoneNumber: '+34666666666' } })
}

/** A client assertion for demo-app-jwt; `now` in seconds (the test app's manual clock) */
export async function clientAssertion (now: number, options: { key?: JWK, kid?: string, alg?: string, claims?: JWTPayload } = {}): Promise<string> {
  const key = options.key ?? DEMO_JWT_KEY
  const alg = options.alg ?? 'ES256'
  return await new SignJWT({ iss: 'demo-app-jwt', sub: 'demo-app-jwt', aud: TOKEN_ENDPOINT, iat: now, exp: now + 60, jti: randomUUID(), ...options.claims })
    .setProtectedHeader({ alg, kid: options.kid ?? key.kid ?? 'none', typ: 'JWT' })
    .sign(await importJWK(key, alg))
}

export function assertionForm (code: string, assertion: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: VERIFIER, client_id: 'demo-app-jwt', client_assertion_type: JWT_BEARER, client_assertion: assertion, ...extra }
}
