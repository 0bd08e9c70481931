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

/** The single use of a credential: taken from the store when spent, so only one use can win */
export interface CredentialUse {
  grantId: string
}

/**
 * The collections of the emulator's state. A credential's record stays readable until it expires
 * (a replay is recognised and revokes its grant); its single use is a separate entry, taken.
 */
/** What the world keeps in its store (the shared-store collections are written only there, and sizes() lists them once written) */
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
  'pending', 'codes', 'codeUses', 'grants', 'accessTokens', 'accessTokenUses', 'refreshTokens', 'refreshTokenUses', 'accessTokenCalls', 'assertionIds',
  'requestObjectIds', 'dpopProofIds', 'revocations', 'signingKeys'
]

/** The flow a grant or token belongs to */
export function flowRefOf ({ flowId, clientId, msisdn, operatorId }: FlowRef): FlowRef {
  return { flowId, clientId, msisdn, operatorId }
}
