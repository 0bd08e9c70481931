// What the SIM-based authentication tests share: operator tokens from the device leg, the
// demo-app-jwt key, jwt-bearer assertions a client signs, and the two back-end requests.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { importJWK, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose'
import type { ManualClock } from '../../../src/core/clock.js'
import { FORM, TOKEN_ENDPOINT, TOKEN_PATH, type Params } from './flow.js'
import { queryString } from './flow.js'

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
export const CIBA_GRANT = 'urn:openid:params:grant-type:ciba'
export const BC_AUTHORIZE_PATH = '/camara/api/auth/v1/bc-authorize'
export const NV_SCOPE = 'dpv:FraudPreventionAndDetection number-verification:verify'
/** On Wi-Fi, with SIM-based authentication (fixtures/default.json) */
export const WIFI_MSISDN = '+34600000002'
const DEMO_KEY_FILE = new URL('../../../fixtures/keys/demo-app-jwt.private.jwk.json', import.meta.url)

let demoKey: Promise<CryptoKey> | undefined
export function demoAppKey (): Promise<CryptoKey> {
  demoKey ??= importJWK(JSON.parse(readFileSync(DEMO_KEY_FILE, 'utf8')) as JWK, 'ES256') as Promise<CryptoKey>
  return demoKey
}

/** An operator token from the device leg of telco-es for a subscriber and an app */
export async function operatorToken (
  app: FastifyInstance,
  msisdn = WIFI_MSISDN,
  clientId = 'demo-app-jwt'
): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/operators/telco-es/operator-token',
    payload: { client_id: clientId, msisdn }
  })
  if (res.statusCode !== 200) throw new Error(`no operator token: ${res.statusCode} ${res.body}`)
  return res.json<{ operator_token: string }>().operator_token
}

/** A jwt-bearer assertion of demo-app-jwt, valid unless overridden; null drops a claim */
export async function grantAssertion (
  clock: ManualClock,
  sub: string,
  overrides: Record<string, unknown> = {},
  header: Record<string, unknown> = {}
): Promise<string> {
  const iat = Math.floor(clock.now() / 1000)
  const claims: Record<string, unknown> = {
    iss: 'demo-app-jwt',
    sub,
    aud: TOKEN_ENDPOINT,
    jti: randomUUID(),
    iat,
    exp: iat + 60,
    scope: NV_SCOPE,
    ...overrides
  }
  const payload = Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== null)) as JWTPayload
  return await new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', kid: 'demo-app-jwt-es256', ...header })
    .sign(await demoAppKey())
}

/** A client assertion (private_key_jwt) of demo-app-jwt for `aud` */
export async function clientAssertion (
  clock: ManualClock,
  aud = TOKEN_ENDPOINT,
  header: Record<string, unknown> = {}
): Promise<string> {
  const iat = Math.floor(clock.now() / 1000)
  return await new SignJWT({ iss: 'demo-app-jwt', sub: 'demo-app-jwt', aud, jti: randomUUID(), iat, exp: iat + 60 })
    .setProtectedHeader({ alg: 'ES256', kid: 'demo-app-jwt-es256', ...header })
    .sign(await demoAppKey())
}

export async function postForm (
  app: FastifyInstance,
  url: string,
  params: Params,
  headers: Record<string, string> = {}
): Promise<LightMyRequestResponse> {
  return await app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': FORM, ...headers },
    payload: queryString(params)
  })
}

export async function jwtBearer (
  app: FastifyInstance,
  assertion: string,
  extra: Params = {},
  headers: Record<string, string> = {}
): Promise<LightMyRequestResponse> {
  return await postForm(app, TOKEN_PATH, { grant_type: JWT_BEARER_GRANT, assertion, ...extra }, headers)
}

export async function verifyV2 (
  app: FastifyInstance,
  accessToken: string,
  phoneNumber: string
): Promise<LightMyRequestResponse> {
  return await app.inject({
    method: 'POST',
    url: '/number-verification/v2/verify',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    payload: { phoneNumber }
  })
}
