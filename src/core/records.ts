// What the emulator keeps between requests, as the store holds it: one type per collection. Values
// are written whole and never changed in place: a change is a new value written explicitly.
import type { SharedRuntimeCollections } from './shared-runtime.js'
import type { SharedJournalCollections } from './shared-journal.js'
import type { KoneraContext, LoginHint } from './login-hint.js'
import type { ParsedScope } from './scopes.js'
import type { SigningKeyCollections } from './keys.js'

/** The flow a request or a refusal belongs to, carried by core results and errors alike */
export interface FlowRef {
  flowId?: string | undefined
  clientId?: string | undefined
  msisdn?: string | undefined
  operatorId?: string | undefined
}

/** A validated authorization request waiting for the operator leg */
export interface PendingAuthorization {
  id: string
  flowId: string
  clientId: string
  redirectUri: string
  state: string | undefined
  nonce: string | undefined
  scope: ParsedScope
  prompt: string[]
  loginHint: LoginHint | undefined
  konera: KoneraContext | undefined
  codeChallenge: string | undefined
  operatorId: string
  /** The address the gateway saw the browser come from */
  gatewaySource: string | undefined
  /** The operator showed its SIM picker for this request (operators with simPicker) */
  simPickerOffered?: boolean
  /** Scenarios chosen for the whole flow (emulator_scenario, or konera_context scenario: entries) */
  flowScenarios: string[]
  createdAt: number
}

/** What the operator established about the user: the basis of every token of the flow */
export interface Grant {
  id: string
  flowId: string
  clientId: string
  /** Absent for client_credentials: such a grant identifies no subscriber */
  msisdn: string | undefined
  operatorId: string | undefined
  /** Pairwise pseudonymous subject for this client */
  sub: string
  scopes: string[]
  amr: string[]
  /** Seconds since the epoch */
  authTime: number
  nonce: string | undefined
  openid: boolean
  offlineAccess: boolean
  flowScenarios: string[]
  /** Ms since the epoch: when the store lets the grant go (a revocation is written until then) */
  expiresAt: number
  revoked: boolean
  revokedReason?: string
}

/** An authorization code's bindings; the right to redeem it once is its entry in `codeUses` */
export interface AuthorizationCode {
  code: string
  grantId: string
  clientId: string
  redirectUri: string
  codeChallenge: string | undefined
}

export interface AccessTokenRecord {
  grantId: string
  flowId: string
  clientId: string
  msisdn: string | undefined
  /** The operator that authenticated the subscriber */
  operatorId: string | undefined
  scopes: string[]
  amr: string[]
  /** Milliseconds since the epoch */
  expiresAt: number
  /** Milliseconds since the epoch (absent in records written before it was kept) */
  issuedAt?: number
  /** camara-strict: the token serves one API call (its entry in `accessTokenUses`) */
  singleUse: boolean
  /** Scenarios chosen at authorize for the whole flow */
  flowScenarios: string[]
  /** DPoP-bound (RFC 9449 section 6): the SHA-256 thumbprint of the key every call must prove */
  cnf?: { jkt: string }
}

/** A refresh token's bindings; the right to use it once (rotation) is its entry in `refreshTokenUses` */
export interface RefreshTokenRecord {
  grantId: string
  clientId: string
}

/**
 * An operator token (GSMA TS.43 temporary token) as the operator's entitlement server issued it:
 * bound to its operator, its subscriber and the app it was requested for. Kept past its expiry
 * (expiresAt), so that a late redemption is told "expired", not "unknown"; its single use is its
 * entry in `operatorTokenUses`.
 */
export interface OperatorTokenRecord {
  operatorId: string
  msisdn: string
  clientId: string
  /** The flow the token starts: the grant redeemed with it continues it */
  flowId: string
  /** Milliseconds since the epoch */
  issuedAt: number
  expiresAt: number
}

/** How the login_hint or assertion subject named the user of a back-end flow */
export type SubjectKind = 'operatortoken' | 'tel' | 'ipport'

/**
 * A CIBA authentication request (OpenID CIBA Core 1.0, poll mode) and the emulated operator's
 * decision, fixed when the request was accepted: approved or denied at `decidesAt`, or never
 * (the user's device does not answer). Its single redemption is its entry in `cibaUses`.
 */
export interface CibaRequest {
  id: string
  flowId: string
  clientId: string
  msisdn: string
  operatorId: string
  subjectKind: SubjectKind
  scopes: string[]
  amr: string[]
  openid: boolean
  offlineAccess: boolean
  flowScenarios: string[]
  /** Milliseconds since the epoch: expired_token from then on */
  expiresAt: number
  /** Milliseconds since the epoch: authorization_pending until then */
  decidesAt: number
  decision:
    | { outcome: 'approved' }
    | { outcome: 'denied', error: string, description: string, status: number }
    | { outcome: 'never' }
  /** Scenarios that shaped the decision, for the journal */
  decidedBy: string[]
  createdAt: number
}

/** The last poll of a CIBA request and the interval it must keep (grown by slow_down) */
export interface CibaPoll {
  lastPolledAt: number
  /** Seconds */
  interval: number
}

/** The single use of a credential: taken from the store when spent, so only one use can win */
export interface CredentialUse {
  grantId: string
}

/**
 * The collections of the emulator's state. A credential's record stays readable until it expires
 * (a replay is recognised and revokes its grant); its single use is a separate entry, taken.
 */
/**
 * What the world keeps in its store (the shared-store collections are written only there, and sizes() lists them once
 * written)
 */
export interface StateCollections extends SigningKeyCollections, SharedRuntimeCollections, SharedJournalCollections {
  pending: PendingAuthorization
  codes: AuthorizationCode
  codeUses: CredentialUse
  grants: Grant
  accessTokens: AccessTokenRecord
  accessTokenUses: CredentialUse
  refreshTokens: RefreshTokenRecord
  refreshTokenUses: CredentialUse
  /** Tokens that served their one call on a release with NV's token rules (/vwip): added once */
  accessTokenCalls: CredentialUse
  /** Operator tokens (TS.43) by token; each redeemable once, by its entry in operatorTokenUses */
  operatorTokens: OperatorTokenRecord
  operatorTokenUses: { flowId: string }
  /** CIBA authentication requests by auth_req_id; the tokens are issued once, by taking cibaUses */
  cibaRequests: CibaRequest
  cibaUses: { flowId: string }
  cibaPolls: CibaPoll
  /** A CIBA request's poll slot, for one interval: added once, so of parallel polls one is on time */
  cibaPollSlots: true
  /** Client assertion ids seen (`client_id` + `jti`): each accepted once within its lifetime */
  assertionIds: true
  /** Request object ids seen at authorize (`client_id` + `jti`, RFC 9101): each accepted once within its lifetime */
  requestObjectIds: true
  /** DPoP proof ids seen (key thumbprint + `jti`): each accepted once, for at least its token's lifetime */
  dpopProofIds: true
  /**
   * Revoked grants, by grant id, for as long as the grant could live: an entry of its own, so a
   * request writing the grant anew (a redeemed code's) cannot undo a revocation written meanwhile
   */
  revocations: { reason: string }
}

export const STATE_COLLECTIONS: ReadonlyArray<keyof StateCollections> = [
  'pending',
  'codes',
  'codeUses',
  'grants',
  'accessTokens',
  'accessTokenUses',
  'refreshTokens',
  'refreshTokenUses',
  'accessTokenCalls',
  'assertionIds',
  'requestObjectIds',
  'dpopProofIds',
  'revocations',
  'signingKeys',
  'operatorTokens',
  'operatorTokenUses',
  'cibaRequests',
  'cibaUses',
  'cibaPolls',
  'cibaPollSlots'
]

/** The flow a grant or token belongs to */
export function flowRefOf ({ flowId, clientId, msisdn, operatorId }: FlowRef): FlowRef {
  return { flowId, clientId, msisdn, operatorId }
}
