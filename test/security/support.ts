// Shared steps of the security tests: the seed device's authorization request as they send it,
// a PKCE pair, signed client assertions for demo-app-jwt (its demo private key ships in
// fixtures/keys). The legs themselves are test/helpers/flow.ts's.
import { readFileSync } from 'node:fs'
import { createHash, randomUUID } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { importJWK, SignJWT, type JWK, type JWTPayload } from 'jose'
import { ISSUER, REDIRECT_URI, SCOPE } from '../helpers/app.js'
import {
  authorizationCode,
  authorizeDevice,
  gatewayLeg,
  SEED_KONERA,
  type Fields,
  type FlowOptions
} from '../helpers/flow.js'

export const TOKEN_ENDPOINT = `${ISSUER}/token`
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
export const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
export const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url')

export const DEMO_JWT_KEY = JSON.parse(
  readFileSync(new URL('../../fixtures/keys/demo-app-jwt.private.jwk.json', import.meta.url), 'utf8')
) as JWK

/**
 * demo-app's request for the seed device with the verify scope and state 'st'; `params` replace or drop (undefined)
 * entries
 */
function seedRequest (params: Fields): FlowOptions {
  return { scope: SCOPE, state: 'st', konera: SEED_KONERA, extraQuery: params }
}

/** The gateway leg alone, whatever it answers */
export async function gateway (app: FastifyInstance, params: Fields = {}): Promise<LightMyRequestResponse> {
  return await gatewayLeg(app, seedRequest(params))
}

/** Gateway then operator leg; returns the operator's final redirect */
export async function authorize (app: FastifyInstance, params: Fields = {}): Promise<URL> {
  return await authorizeDevice(app, seedRequest(params))
}

export async function codeFor (app: FastifyInstance, params: Fields = {}): Promise<string> {
  return await authorizationCode(app, seedRequest(params))
}

/** A client assertion for demo-app-jwt; `now` in seconds (the test app's manual clock) */
export async function clientAssertion (
  now: number,
  options: { key?: JWK, kid?: string, alg?: string, claims?: JWTPayload } = {}
): Promise<string> {
  const key = options.key ?? DEMO_JWT_KEY
  const alg = options.alg ?? 'ES256'
  return await new SignJWT({
    iss: 'demo-app-jwt',
    sub: 'demo-app-jwt',
    aud: TOKEN_ENDPOINT,
    iat: now,
    exp: now + 60,
    jti: randomUUID(),
    ...options.claims
  })
    .setProtectedHeader({ alg, kid: options.kid ?? key.kid ?? 'none', typ: 'JWT' })
    .sign(await importJWK(key, alg))
}

export function assertionForm (code: string, assertion: string, extra: Fields = {}): Fields {
  return {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: VERIFIER,
    client_id: 'demo-app-jwt',
    client_assertion_type: JWT_BEARER,
    client_assertion: assertion,
    ...extra
  }
}
