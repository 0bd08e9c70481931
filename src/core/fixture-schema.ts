// The fixture file model: operators, clients and subscribers the emulator serves.
// TypeBox gives both the runtime validation and the JSON Schema shipped for editors.
import { Type, type Static } from '@sinclair/typebox'
import { E164_PATTERN } from './phone-number.js'
import { ScenarioSchema } from './scenarios/scenario-schema.js'

/**
 * Seconds an operator token may live: the fixtures' operatorTokens.lifetimeSeconds, the control
 * API's and the programmatic API's per-token lifetime (one bound, three surfaces)
 */
export const OPERATOR_TOKEN_LIFETIME = { minimum: 1, maximum: 3600 } as const

export const OperatorSchema = Type.Object({
  id: Type.String({
    pattern: '^[a-z0-9][a-z0-9-]{0,62}$',
    description: 'Stable identifier, used in the operator authorization endpoint path'
  }),
  name: Type.String({ minLength: 1 }),
  numberPrefixes: Type.Array(Type.String({ pattern: '^\\+[0-9]{1,15}$' }), {
    default: [],
    description: 'E.164 prefixes this operator serves (telco finder by number)'
  }),
  ipRanges: Type.Array(Type.String({ minLength: 1 }), {
    default: [],
    description: 'IPv4 / IPv6 CIDR ranges of the operator mobile network (telco finder by address)'
  }),
  trustsLoginHint: Type.Boolean({
    default: false,
    description: 'Like public sandboxes: a tel: login_hint names the ' +
      'subscriber when the network cannot place the device'
  }),
  scenarios: Type.Optional(Type.Array(Type.String({ minLength: 1 }), {
    description: 'Scenarios applied to every request involving this operator (catalogue or fixture scenario names)'
  })),
  operatorTokens: Type.Optional(Type.Object({
    lifetimeSeconds: Type.Integer({
      ...OPERATOR_TOKEN_LIFETIME,
      default: 300,
      description: 'How long an operator token may be redeemed after it was issued'
    }),
    length: Type.Integer({
      minimum: 16, maximum: 256, default: 43, description: 'Characters of the random part of a token'
    }),
    prefix: Type.String({
      pattern: '^[A-Za-z0-9._~-]{0,32}$',
      default: '',
      description: 'Text every token of this operator starts with (its format, ' +
        'as the operator\'s entitlement server shapes it)'
    })
  }, {
    additionalProperties: false,
    description: 'SIM-based authentication: this operator\'s entitlement server (GSMA TS.43) issues operator tokens ' +
      'to apps on its subscribers\' devices, redeemable with the JWT-bearer grant and CIBA. Absent: it issues none'
  })),
  simPicker: Type.Optional(Type.Boolean({
    description: 'Simulated operator network for demos: when this operator cannot place the device, ' +
      'the request allows interaction (no prompt=none) and the request comes from a browser, ' +
      'it shows a page to pick which of its SIMs the browser is on instead of failing'
  }))
}, { additionalProperties: false })

export const TokenEndpointAuthMethodSchema = Type.Union([
  Type.Literal('client_secret_post'),
  Type.Literal('client_secret_basic'),
  Type.Literal('private_key_jwt')
])

/** The one list of JWS algorithms: id_token signing, client assertions, discovery */
export const SigningAlgSchema = Type.Union([
  Type.Literal('RS256'),
  Type.Literal('PS256'),
  Type.Literal('ES256'),
  Type.Literal('EdDSA')
])

export const SIGNING_ALGS: readonly SigningAlg[] = Object.freeze(SigningAlgSchema.anyOf.map((member) => member.const))

export const BackendGrantSchema = Type.Union([
  Type.Literal('jwt-bearer'),
  Type.Literal('ciba')
], {
  description: 'jwt-bearer: urn:ietf:params:oauth:grant-type:jwt-bearer (RFC 7523); ' +
    'ciba: bc-authorize and urn:openid:params:grant-type:ciba (OpenID CIBA Core 1.0, poll mode)'
})

export const ClientSchema = Type.Object({
  clientId: Type.String({ minLength: 1, maxLength: 256 }),
  name: Type.Optional(Type.String()),
  clientSecret: Type.Optional(Type.String({
    minLength: 1, description: 'Required for client_secret_post / client_secret_basic'
  })),
  redirectUris: Type.Array(Type.String({ minLength: 1 }), {
    minItems: 1,
    description: 'Compared by exact string match; a URI starting with / is relative ' +
      'to the emulator public URL (--public-url), e.g. /demo/callback'
  }),
  scopes: Type.Array(Type.String({ minLength: 1 }), {
    description: 'API scopes the client may request (openid, offline_access and dpv: purposes are always allowed)'
  }),
  tokenEndpointAuthMethods: Type.Array(TokenEndpointAuthMethodSchema, { minItems: 1 }),
  jwks: Type.Optional(Type.Object({
    keys: Type.Array(Type.Record(Type.String(), Type.Unknown()), { minItems: 1 })
  }, { description: 'Public keys for private_key_jwt client assertions' })),
  requirePkce: Type.Boolean({ default: false }),
  numberVerificationRelease: Type.Optional(Type.Union([Type.Literal('2.0.0'), Type.Literal('2.1.0')], {
    description: 'The Number Verification release the /v2 paths answer this client in: ' +
      '2.0.0 (r2.4) or 2.1.0 (r3.2); default --nv-v2-release'
  })),
  idTokenSigningAlg: Type.Optional(SigningAlgSchema),
  requireDpop: Type.Optional(Type.Boolean({
    description: 'DPoP (RFC 9449) required: a token request without a DPoP proof ' +
      'is refused (invalid_dpop_proof), as dpop_bound_access_tokens asks'
  })),
  dpopCamaraClaims: Type.Optional(Type.Boolean({
    description: 'CAMARA ICM r4.2: DPoP proofs at the API must also carry ' +
      'camara:qh (hash of the raw query) and camara:bh (hash of the body)'
  })),
  backendGrants: Type.Optional(Type.Array(BackendGrantSchema, {
    uniqueItems: true,
    description: 'The back-end grants the client may use (CAMARA ICM r4.2: the server MUST validate that the client ' +
      'is allowed to use the JWT Bearer Flow); absent: none'
  })),
  telSubjectTrusted: Type.Optional(Type.Boolean({
    description: 'The client may name the user by a tel: subject in a JWT-bearer assertion: ' +
      'a trust agreed beforehand, the number is asserted by the client, ' +
      'not authenticated (CAMARA-API-access-and-user-consent.md "JWT Bearer Flow")'
  })),
  scenarios: Type.Optional(Type.Array(Type.String({ minLength: 1 }), {
    description: 'Scenarios applied to every request involving this client (catalogue or fixture scenario names)'
  }))
}, { additionalProperties: false })

export const ConnectionSchema = Type.Union([
  Type.Literal('mobile-data'),
  Type.Literal('wifi'),
  Type.Literal('hotspot'),
  Type.Literal('vpn')
], { description: 'Only mobile-data can be authenticated by the network' })

export const AuthMethodSchema = Type.Union([
  Type.Literal('network'),
  Type.Literal('sms-otp'),
  Type.Literal('sim')
], {
  description: 'network: network-based authentication; sms-otp: interactive fallback; ' +
    'sim: SIM-based authentication (EAP-AKA, GSMA TS.43 operator tokens), on any connection'
})

export const SubscriberSchema = Type.Object({
  msisdn: Type.String({ pattern: E164_PATTERN }),
  operator: Type.String({ minLength: 1, description: 'Operator id' }),
  name: Type.Optional(Type.String({ description: 'A label for people reading the fixtures' })),
  ipv4: Type.Array(Type.String(), { default: [], description: 'Addresses or CIDR ranges the device uses' }),
  ipv6: Type.Array(Type.String(), { default: [], description: 'Addresses or CIDR prefixes the device uses' }),
  connection: ConnectionSchema,
  authMethods: Type.Array(AuthMethodSchema, {
    default: ['network'],
    description: 'How the operator can authenticate this subscriber: network (needs mobile-data), ' +
      'sms-otp (interactive fallback), sim (operator tokens, needs an operator with operatorTokens); empty = not at all'
  }),
  scenarios: Type.Optional(Type.Array(Type.String({ minLength: 1 }), {
    description: 'Scenarios applied to every request involving this subscriber (catalogue or fixture scenario names)'
  }))
}, { additionalProperties: false })

export const FixtureFileSchema = Type.Object({
  $schema: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  defaultOperator: Type.Optional(Type.String({
    description: 'Operator used when the telco finder cannot place the device'
  })),
  operators: Type.Array(OperatorSchema, { default: [] }),
  clients: Type.Array(ClientSchema, { default: [] }),
  subscribers: Type.Array(SubscriberSchema, { default: [] }),
  scenarios: Type.Array(ScenarioSchema, {
    default: [], description: 'Scenarios this file defines, in addition to the built-in catalogue'
  })
}, {
  additionalProperties: false,
  $id: 'https://github.com/camara-nv-emulator/fixtures.schema.json',
  title: 'camara-nv-emulator fixture file'
})

export type OperatorFixture = Static<typeof OperatorSchema>
export type ClientFixture = Static<typeof ClientSchema>
export type SubscriberFixture = Static<typeof SubscriberSchema>
export type FixtureFile = Static<typeof FixtureFileSchema>
export type TokenEndpointAuthMethod = Static<typeof TokenEndpointAuthMethodSchema>
export type SigningAlg = Static<typeof SigningAlgSchema>
export type Connection = Static<typeof ConnectionSchema>
export type AuthMethod = Static<typeof AuthMethodSchema>
export type BackendGrant = Static<typeof BackendGrantSchema>
