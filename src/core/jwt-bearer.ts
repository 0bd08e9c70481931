// The JWT-bearer grant (RFC 7523 section 2.1) as CAMARA ICM r4.2 profiles it
// (CAMARA-Security-Interoperability.md "JWT Bearer Flow"): the client signs an assertion naming
// the user in `sub` (operatortoken:<token> or tel:+E164) and the scope in its `scope` claim. The
// assertion is also the client's authentication when the request carries no other. This module
// validates; the token service decides the scenarios, takes the operator token and issues.
import { decodeJwt, jwtVerify, type JWTPayload } from 'jose'
import { nanoid } from 'nanoid'
import { pairwiseSubject } from './authorization.js'
import {
  CLOCK_TOLERANCE_S, clientAuthenticationsSent, clientKeySet, describeJoseError, field, jtiLifetimeMs,
  MAX_ASSERTION_LIFETIME_S, type AuthenticatedClient, type ClientAuthenticator, type Form
} from './client-authentication.js'
import { observe } from './conformance.js'
import type { CoreContext } from './context.js'
import { SIGNING_ALGS, type ClientFixture } from './fixture-schema.js'
import { OAuthError } from './errors.js'
import type { Leg } from './legs.js'
import { HintError, parseLoginHint } from './login-hint.js'
import {
  OperatorTokenRefusal, SIM_AMR, type OperatorTokenService, type RedeemableOperatorToken
} from './operator-tokens.js'
import type { Grant } from './records.js'
import { parseScope, scopeProblem } from './scopes.js'

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer'

/** A JWT-bearer request that passed every check; the operator token (if any) is still to be taken */
export interface JwtBearerRedemption {
  client: AuthenticatedClient
  grant: Grant
  operatorToken: RedeemableOperatorToken | undefined
}

export class JwtBearerGrant {
  private readonly ctx: CoreContext
  private readonly clients: ClientAuthenticator
  private readonly operatorTokens: OperatorTokenService

  constructor (ctx: CoreContext, clients: ClientAuthenticator, operatorTokens: OperatorTokenService) {
    this.ctx = ctx
    this.clients = clients
    this.operatorTokens = operatorTokens
  }

  /**
   * The client (by its own authentication, or by the assertion), the assertion's claims checked, the grant to record
   */
  async validate (form: Form, authorization: string | undefined, leg: Leg): Promise<JwtBearerRedemption> {
    const assertion = field(form, 'assertion')
    if (assertion === undefined) {
      throw new OAuthError('invalid_request', 'assertion is required with the jwt-bearer grant')
    }
    let client: AuthenticatedClient
    if (clientAuthenticationsSent(form, authorization) > 0) {
      client = await this.clients.authenticate(form, authorization, leg)
    } else {
      // ICM: "the assertion is interpreted as Client Authentication"
      client = { client: this.assertingClient(assertion, field(form, 'client_id'), leg), method: 'private_key_jwt' }
      observe(leg, { rule: 'private-key-jwt', ok: true, detail: 'authenticated by the signed jwt-bearer assertion' })
    }
    const { client: fixture } = client
    leg.flow = { clientId: fixture.clientId }
    if (!(fixture.backendGrants ?? []).includes('jwt-bearer')) {
      throw new OAuthError('unauthorized_client',
        `client "${fixture.clientId}" is not allowed to use the jwt-bearer grant`)
    }
    observe(leg, {
      rule: 'assertion-scope',
      ok: field(form, 'scope') === undefined,
      detail: 'a scope parameter was sent with the jwt-bearer grant'
    })
    if (field(form, 'scope') !== undefined) {
      throw new OAuthError('invalid_request',
        'the scope parameter must not be sent with the jwt-bearer grant: put the scope in the assertion\'s scope claim')
    }
    const claims = await this.verify(assertion, fixture, leg)
    const scope = parseScope(claims.scope)
    observe(leg, {
      rule: 'purpose',
      ok: scope.purposes.length === 1,
      detail: `${scope.purposes.length} dpv: purposes in the assertion's scope`
    })
    const problem = scopeProblem(scope, fixture.scopes, { requirePurpose: this.ctx.settings.requirePurpose })
    if (problem !== undefined) throw new OAuthError('invalid_scope', problem)
    return await this.subject(claims.sub, client, scope.scopes, leg)
  }

  /** The client the assertion's iss names, registered for private_key_jwt (the assertion is its authentication) */
  private assertingClient (assertion: string, bodyClientId: string | undefined, leg: Leg): ClientFixture {
    let iss: unknown
    try {
      iss = decodeJwt(assertion).iss
    } catch {
      throw new OAuthError('invalid_grant', 'assertion is not a JWT')
    }
    if (typeof iss !== 'string') throw new OAuthError('invalid_grant', 'assertion has no iss (the client_id)')
    if (bodyClientId !== undefined && bodyClientId !== iss) {
      throw new OAuthError('invalid_client', 'client authentication failed', {
        reason: 'the assertion\'s iss differs from client_id'
      })
    }
    const client = this.ctx.directory().client(iss)
    // Its refusals are the client's in the journal and the report, as ClientAuthenticator files them
    if (client !== undefined) leg.flow = { clientId: client.clientId }
    if (client === undefined) {
      throw new OAuthError('invalid_client', 'client authentication failed', {
        reason: `the assertion's iss "${iss}" is not a registered client`
      })
    }
    // The assertion is a private_key_jwt authentication: a client registered only for its secret
    // must send the secret (a strict operator refuses a method the client did not register)
    if (!client.tokenEndpointAuthMethods.includes('private_key_jwt')) {
      throw new OAuthError('invalid_client',
        `client "${iss}" is not registered for private_key_jwt (registered: ` +
        `${client.tokenEndpointAuthMethods.join(', ')}); send its own client authentication beside the assertion`)
    }
    return client
  }

  /**
   * ICM's validation: signature by a key of the client's JWKS, iss the client, aud this server,
   * exp / iat / jti present, exp - iat and exp - now at most 300 s, iat not ahead, jti once
   */
  private async verify (
    assertion: string,
    client: ClientFixture,
    leg: Leg
  ): Promise<JWTPayload & { sub: string, scope: string }> {
    if (client.jwks === undefined) {
      throw new OAuthError('invalid_grant',
        `client "${client.clientId}" has no registered JWKS to verify its assertion with`)
    }
    const { urls, clock } = this.ctx
    let payload: JWTPayload
    try {
      ({ payload } = await jwtVerify(assertion, clientKeySet(client), {
        algorithms: [...SIGNING_ALGS],
        issuer: client.clientId,
        audience: [urls.tokenEndpoint, urls.issuer],
        requiredClaims: ['exp', 'iat', 'jti', 'sub'],
        currentDate: new Date(clock.now()),
        clockTolerance: CLOCK_TOLERANCE_S
      }))
    } catch (error) {
      throw new OAuthError('invalid_grant', `assertion rejected: ${describeJoseError(error)}`)
    }
    const now = Math.floor(clock.now() / 1000)
    const exp = payload.exp as number
    const iat = payload.iat as number
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud]
    if (audiences.length !== 1) {
      throw new OAuthError('invalid_grant',
        `assertion aud must be this server alone (${urls.tokenEndpoint}), not ${audiences.length} values`)
    }
    if (iat - now > CLOCK_TOLERANCE_S) {
      throw new OAuthError('invalid_grant', `assertion iat lies ${iat - now} s in the future`)
    }
    const lifetimeOk = exp - iat <= MAX_ASSERTION_LIFETIME_S && exp - now <= MAX_ASSERTION_LIFETIME_S
    observe(leg, { rule: 'assertion-lifetime', ok: lifetimeOk, detail: `jwt-bearer assertion lifetime ${exp - iat} s` })
    if (!lifetimeOk) {
      throw new OAuthError('invalid_grant',
        `assertion exp must be at most ${MAX_ASSERTION_LIFETIME_S} s after iat and after now ` +
        `(exp - iat = ${exp - iat} s, exp - now = ${exp - now} s)`)
    }
    if (typeof payload.scope !== 'string' || payload.scope.trim() === '') {
      throw new OAuthError('invalid_grant', 'assertion has no scope claim: the purpose and the API scopes belong there')
    }
    // jose requires sub to be present, not to be a string
    if (typeof payload.sub !== 'string') throw new OAuthError('invalid_grant', 'assertion sub must be a string')
    const fresh = await this.ctx.store.add('assertionIds', `${client.clientId}\n${String(payload.jti)}`, true,
      jtiLifetimeMs(exp, clock.now()))
    observe(leg, { rule: 'assertion-jti', ok: fresh, detail: 'jwt-bearer assertion jti already used' })
    if (!fresh) {
      throw new OAuthError('invalid_grant', 'assertion jti was already used: sign a fresh assertion for every request')
    }
    return payload as JWTPayload & { sub: string, scope: string }
  }

  /** The user the subject names: an operator token's subscriber, or a trusted client's tel: number */
  private async subject (
    sub: string,
    client: AuthenticatedClient,
    scopes: string[],
    leg: Leg
  ): Promise<JwtBearerRedemption> {
    let hint
    try {
      hint = parseLoginHint(sub)
    } catch (error) {
      if (error instanceof HintError) throw new OAuthError('invalid_grant', `assertion sub: ${error.message}`)
      throw error
    }
    const fixture = client.client
    const directory = this.ctx.directory()
    if (hint.kind === 'operatortoken') {
      let redeemable: RedeemableOperatorToken
      try {
        redeemable = await this.operatorTokens.check(hint.token, fixture.clientId)
      } catch (error) {
        if (error instanceof OperatorTokenRefusal) {
          leg.flow = { ...leg.flow, flowId: error.flowId }
          if (error.problem === 'used') {
            observe(leg, { rule: 'operator-token-once', ok: false, detail: 'the operator token was redeemed again' })
          }
          throw new OAuthError('invalid_grant', `assertion sub: ${error.message}`,
            { reason: `assertion sub: ${error.detail}` })
        }
        throw error
      }
      const { record } = redeemable
      return {
        client,
        operatorToken: redeemable,
        grant: this.grant(fixture, record.flowId, record.msisdn, record.operatorId, scopes, SIM_AMR)
      }
    }
    if (hint.kind === 'tel' && sub.startsWith('tel:')) {
      if (fixture.telSubjectTrusted !== true) {
        throw new OAuthError('invalid_grant',
          `client "${fixture.clientId}" is not trusted to assert phone numbers: use sub=operatortoken:<token>`)
      }
      const subscriber = directory.subscriber(hint.msisdn)
      if (subscriber === undefined) {
        throw new OAuthError('invalid_grant',
          `assertion sub: ${hint.msisdn} is not a subscriber of this gateway's operators`)
      }
      // Asserted by the client, not authenticated: no authentication method to name
      return {
        client,
        operatorToken: undefined,
        grant: this.grant(fixture, await this.ctx.flows.next(), hint.msisdn, subscriber.operator, scopes, [])
      }
    }
    throw new OAuthError('invalid_grant',
      'assertion sub must be operatortoken:<token> or tel:+E164 (CAMARA ICM "JWT Bearer Flow")')
  }

  private grant (
    client: ClientFixture,
    flowId: string,
    msisdn: string,
    operatorId: string,
    scopes: string[],
    amr: string[]
  ): Grant {
    const now = this.ctx.clock.now()
    return {
      id: nanoid(16),
      flowId,
      clientId: client.clientId,
      msisdn,
      operatorId,
      sub: pairwiseSubject(this.ctx.settings.pairwiseSalt, client.clientId, msisdn),
      scopes,
      amr,
      authTime: Math.floor(now / 1000),
      nonce: undefined,
      // RFC 7523 grants an access token; ICM: "This flow MUST NOT return refresh tokens"
      openid: false,
      offlineAccess: false,
      flowScenarios: [],
      expiresAt: now + this.ctx.settings.accessTokenTtl * 1000,
      revoked: false
    }
  }
}
