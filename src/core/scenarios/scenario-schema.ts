// The scenario model: what a scenario matches and what it does to the requests it matches.
// Used in fixture files (top-level `scenarios`), by the control API and by the built-in
// catalogue. TypeBox gives the runtime check and the JSON Schema; the rules that span fields
// (min <= max, an error only on the operations whose surface can render it) are checked here too.
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { AUTHORIZE_ERROR_CODES, CAMARA_ERROR_CODES, CAMARA_ERRORS, OAUTH_TOKEN_ERROR_CODES } from './protocol-errors.js'
import { E164_PATTERN } from '../phone-number.js'
import { claimedNumberProblem } from './claimed-number.js'

export const SCENARIO_OPERATIONS = [
  'authorize', 'operator', 'token', 'verify', 'share', 'discovery', 'jwks', 'operator-token', 'bc-authorize',
  'ciba-decision'
] as const
export type ScenarioOperation = typeof SCENARIO_OPERATIONS[number]

export const SCENARIO_NAME_PATTERN = '^[a-z0-9]+(-[a-z0-9]+)*$'
/** An hour: anything longer is a unit mistake, and clients give up long before */
const MAX_DELAY_MS = 3_600_000

export const ScenarioOperationSchema = Type.Union(SCENARIO_OPERATIONS.map((operation) => Type.Literal(operation)), {
  description: 'authorize (gateway), operator (operator authorization server), token, verify, share, discovery, ' +
    'jwks, operator-token (the emulated TS.43 entitlement server), bc-authorize (CIBA authentication request), ' +
    'ciba-decision (the operator deciding a CIBA request: latency delays it, an oauth error such as access_denied ' +
    'is its refusal, a fault means the user\'s device never answers)'
})

export const ScenarioMatchSchema = Type.Object({
  operations: Type.Optional(Type.Array(ScenarioOperationSchema, {
    minItems: 1,
    uniqueItems: true,
    description: 'Operations the scenario applies to; absent = every operation its effects fit'
  })),
  clients: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'client_id values' })),
  subscribers: Type.Optional(Type.Array(Type.String({ pattern: E164_PATTERN }), {
    minItems: 1, description: 'E.164 numbers of the subscribers'
  })),
  operators: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Operator ids' })),
  claimedNumber: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 200,
    description: 'verify only: an RE2 regular expression (no lookaround or backreferences) the phoneNumber in the ' +
      'request body must match (sandbox magic numbers, e.g. "^\\+990.*[02468]$")'
  })),
  probability: Type.Optional(Type.Number({
    minimum: 0,
    maximum: 1,
    description: 'Chance to apply to a request that matches everything else, drawn from the seeded generator'
  })),
  firstN: Type.Optional(Type.Integer({ minimum: 1, description: 'Only the first N matching requests' })),
  everyNth: Type.Optional(Type.Integer({
    minimum: 1, description: 'Only every Nth matching request (the Nth, the 2Nth, ...)'
  })),
  afterN: Type.Optional(Type.Integer({ minimum: 0, description: 'Only after N matching requests went through' }))
}, {
  additionalProperties: false,
  description: 'All given rules must accept the request. Counters count, per scenario, the requests that pass ' +
    'operations, clients, subscribers and operators'
})

export const FixedLatencySchema = Type.Object({
  fixedMs: Type.Number({ minimum: 0, maximum: MAX_DELAY_MS })
}, { additionalProperties: false })

export const UniformLatencySchema = Type.Object({
  minMs: Type.Number({ minimum: 0, maximum: MAX_DELAY_MS }),
  maxMs: Type.Number({ minimum: 0, maximum: MAX_DELAY_MS })
}, { additionalProperties: false })

export const LognormalLatencySchema = Type.Object({
  medianMs: Type.Number({ exclusiveMinimum: 0, maximum: MAX_DELAY_MS }),
  p99Ms: Type.Number({ exclusiveMinimum: 0, maximum: MAX_DELAY_MS })
}, { additionalProperties: false })

export const LatencySchema = Type.Union([FixedLatencySchema, UniformLatencySchema, LognormalLatencySchema], {
  description: 'one of { fixedMs }, { minMs, maxMs } (uniform) or { medianMs, p99Ms } (lognormal, long-tailed)'
})

export const CamaraErrorEffectSchema = Type.Object({
  camara: Type.Object({
    status: Type.Integer({
      minimum: 400, maximum: 599, description: 'Must be the status of the code (PROTOCOL.md section 4)'
    }),
    code: Type.Union(CAMARA_ERROR_CODES.map((code) => Type.Literal(code)), {
      description: CAMARA_ERROR_CODES.join(', ')
    }),
    message: Type.Optional(Type.String({
      minLength: 1, description: 'Defaults to the CAMARA Commonalities message of the code'
    })),
    retryAfterSeconds: Type.Optional(Type.Integer({ minimum: 0, description: 'Sent as Retry-After' }))
  }, { additionalProperties: false })
}, { additionalProperties: false, description: 'A CAMARA ErrorInfo answer (verify, share, discovery, jwks)' })

export const OAuthErrorEffectSchema = Type.Object({
  oauth: Type.Object({
    error: Type.Union(OAUTH_TOKEN_ERROR_CODES.map((code) => Type.Literal(code)), {
      description: OAUTH_TOKEN_ERROR_CODES.join(', ')
    }),
    description: Type.Optional(Type.String({ minLength: 1 })),
    status: Type.Optional(Type.Integer({
      minimum: 400,
      maximum: 599,
      description: 'Defaults to 400; invalid_client 401, server_error 500, temporarily_unavailable 503'
    }))
  }, { additionalProperties: false })
}, { additionalProperties: false, description: 'An OAuth JSON error from the token endpoint' })

export const AuthorizeErrorEffectSchema = Type.Object({
  authorize: Type.Object({
    error: Type.Union(AUTHORIZE_ERROR_CODES.map((code) => Type.Literal(code)), {
      description: AUTHORIZE_ERROR_CODES.join(', ')
    }),
    description: Type.Optional(Type.String({ minLength: 1 }))
  }, { additionalProperties: false })
}, { additionalProperties: false, description: 'An error redirect to the client (gateway authorize or operator leg)' })

export const ErrorEffectSchema = Type.Union([
  CamaraErrorEffectSchema, OAuthErrorEffectSchema, AuthorizeErrorEffectSchema
], {
  description: 'one of { camara: { status, code } }, { oauth: { error } } or { authorize: { error } }'
})

export const FAULT_TYPES = [
  'connection-reset', 'hang', 'empty-reply', 'malformed-json', 'truncated-json', 'slow-body'
] as const
export type FaultType = typeof FAULT_TYPES[number]

export const FaultSchema = Type.Object({
  type: Type.Union(FAULT_TYPES.map((type) => Type.Literal(type)), { description: FAULT_TYPES.join(', ') }),
  afterMs: Type.Optional(Type.Integer({
    minimum: 0,
    maximum: MAX_DELAY_MS,
    description: 'hang only: destroy the connection after this long (default: hang until the client leaves)'
  })),
  chunkDelayMs: Type.Optional(Type.Integer({
    minimum: 1, maximum: MAX_DELAY_MS, description: 'slow-body only: pause between body chunks'
  }))
}, { additionalProperties: false, description: 'A network fault on the real socket' })

export const ScenarioEffectsSchema = Type.Object({
  latency: Type.Optional(LatencySchema),
  error: Type.Optional(ErrorEffectSchema),
  verifiedResult: Type.Optional(Type.Boolean({ description: 'Forces devicePhoneNumberVerified (verify only)' })),
  fault: Type.Optional(FaultSchema)
}, { additionalProperties: false, minProperties: 1, description: 'At least one effect' })

export const ScenarioSchema = Type.Object({
  name: Type.String({
    pattern: SCENARIO_NAME_PATTERN,
    maxLength: 64,
    description: 'kebab-case, unique across the catalogue and fixture files'
  }),
  description: Type.String({ minLength: 1, description: 'What a client sees when the scenario applies' }),
  match: Type.Optional(ScenarioMatchSchema),
  effects: ScenarioEffectsSchema
}, { additionalProperties: false, $id: 'Scenario', title: 'Emulator scenario' })

export type Scenario = Static<typeof ScenarioSchema>
export type ScenarioMatch = Static<typeof ScenarioMatchSchema>
export type ScenarioEffects = Static<typeof ScenarioEffectsSchema>
export type Latency = Static<typeof LatencySchema>
export type ErrorEffect = Static<typeof ErrorEffectSchema>
export type Fault = Static<typeof FaultSchema>

/** Slow-body pause between chunks when the scenario does not say */
export const DEFAULT_CHUNK_DELAY_MS = 500

/** The operations whose surface can render each error kind */
export const ERROR_OPERATIONS: Record<'camara' | 'oauth' | 'authorize', readonly ScenarioOperation[]> = {
  camara: ['verify', 'share', 'discovery', 'jwks'],
  oauth: ['token', 'operator-token', 'bc-authorize', 'ciba-decision'],
  authorize: ['authorize', 'operator']
}
const VERIFIED_RESULT_OPERATIONS: readonly ScenarioOperation[] = ['verify']

export function errorKind (error: ErrorEffect): 'camara' | 'oauth' | 'authorize' {
  if ('camara' in error) return 'camara'
  if ('oauth' in error) return 'oauth'
  return 'authorize'
}

/** The operations a scenario's effects can be rendered on: errors and forced results only fit some surfaces */
export function fittingOperations (effects: ScenarioEffects): readonly ScenarioOperation[] {
  let operations: readonly ScenarioOperation[] = SCENARIO_OPERATIONS
  if (effects.error !== undefined) {
    const fit = ERROR_OPERATIONS[errorKind(effects.error)]
    operations = operations.filter((operation) => fit.includes(operation))
  }
  if (effects.verifiedResult !== undefined) {
    operations = operations.filter((operation) => VERIFIED_RESULT_OPERATIONS.includes(operation))
  }
  return operations
}

export interface ScenarioProblem {
  /** JSON path of the offending value, e.g. `$.effects.latency.maxMs` */
  jsonPath: string
  rule: string
}

/** Rules across fields that a JSON Schema cannot say; `at` prefixes the paths (e.g. `$.scenarios[2]`) */
export function checkScenarioRules (scenario: Scenario, at = '$'): ScenarioProblem | undefined {
  const { effects } = scenario
  const latency = effects.latency
  if (latency !== undefined && 'minMs' in latency && latency.minMs > latency.maxMs) {
    return { jsonPath: `${at}.effects.latency.maxMs`, rule: `must be at least minMs (${latency.minMs})` }
  }
  if (latency !== undefined && 'medianMs' in latency && latency.p99Ms < latency.medianMs) {
    return { jsonPath: `${at}.effects.latency.p99Ms`, rule: `must be at least medianMs (${latency.medianMs})` }
  }
  if (effects.error !== undefined && 'camara' in effects.error) {
    const { status, code } = effects.error.camara
    const expected = CAMARA_ERRORS[code].status
    if (status !== expected) {
      return { jsonPath: `${at}.effects.error.camara.status`, rule: `must be ${expected} for code ${code}` }
    }
  }
  const claimed = scenario.match?.claimedNumber
  const claimedProblem = claimed === undefined ? undefined : claimedNumberProblem(claimed)
  if (claimedProblem !== undefined) return { jsonPath: `${at}.match.claimedNumber`, rule: claimedProblem }
  const fault = effects.fault
  if (fault?.afterMs !== undefined && fault.type !== 'hang') {
    return { jsonPath: `${at}.effects.fault.afterMs`, rule: 'only applies to the hang fault' }
  }
  if (fault?.chunkDelayMs !== undefined && fault.type !== 'slow-body') {
    return { jsonPath: `${at}.effects.fault.chunkDelayMs`, rule: 'only applies to the slow-body fault' }
  }
  return checkOperationsFit(scenario.match, effects, `${at}.match.operations`)
}

/** An explicit operations list must only name operations the effects can be rendered on */
export function checkOperationsFit (
  match: ScenarioMatch | undefined, effects: ScenarioEffects, jsonPath: string
): ScenarioProblem | undefined {
  if (match?.operations === undefined) return undefined
  if (effects.error !== undefined) {
    const kind = errorKind(effects.error)
    const misfit = match.operations.filter((operation) => !ERROR_OPERATIONS[kind].includes(operation))
    if (misfit.length > 0) {
      return {
        jsonPath,
        rule: `${kind} errors cannot be answered on ${misfit.join(', ')} (fits ${ERROR_OPERATIONS[kind].join(', ')})`
      }
    }
  }
  if (effects.verifiedResult !== undefined) {
    const misfit = match.operations.filter((operation) => !VERIFIED_RESULT_OPERATIONS.includes(operation))
    if (misfit.length > 0) {
      return {
        jsonPath,
        rule: `verifiedResult cannot be applied to ${misfit.join(', ')} (fits ${VERIFIED_RESULT_OPERATIONS.join(', ')})`
      }
    }
  }
  return undefined
}

export class ScenarioError extends Error {
  readonly jsonPath: string
  readonly rule: string

  constructor (jsonPath: string, rule: string, where?: string) {
    super(`${where === undefined ? '' : `${where}: `}${jsonPath}: ${rule}`)
    this.name = 'ScenarioError'
    this.jsonPath = jsonPath
    this.rule = rule
  }
}

/**
 * Checks a scenario document (schema, then cross-field rules) and returns it typed, or throws a
 * ScenarioError naming the JSON path and the rule broken. `where` names the source in the message.
 */
export function validateScenario (document: unknown, where?: string): Scenario {
  const problem = firstSchemaProblem(ScenarioSchema, document, '$')
  if (problem !== undefined) throw new ScenarioError(problem.jsonPath, problem.rule, where)
  const scenario = document as Scenario
  const crossField = checkScenarioRules(scenario)
  if (crossField !== undefined) throw new ScenarioError(crossField.jsonPath, crossField.rule, where)
  return scenario
}

/**
 * The first schema violation, worded for people. A failed union is narrowed to the variant the
 * value was evidently written for (the one sharing most property names), so `{ camara: { code:
 * 'NOPE' } }` reports the bad code rather than "expected union value".
 */
export function firstSchemaProblem (schema: TSchema, value: unknown, at: string): ScenarioProblem | undefined {
  const first = Value.Errors(schema, value).First()
  if (first === undefined) return undefined
  const jsonPath = at + pointerToPath(first.path)
  const variants = (first.schema as { anyOf?: TSchema[] }).anyOf
  if (variants !== undefined && isPlainObject(first.value)) {
    const keys = Object.keys(first.value)
    const ranked = variants
      .map((variant) => ({
        variant,
        shared: Object.keys((variant as { properties?: object }).properties ?? {})
          .filter((key) => keys.includes(key)).length
      }))
      .filter(({ shared }) => shared > 0)
      .sort((a, b) => b.shared - a.shared)
    const best = ranked[0]
    if (best !== undefined && (ranked[1] === undefined || ranked[1].shared < best.shared)) {
      const inner = firstSchemaProblem(best.variant, first.value, jsonPath)
      if (inner !== undefined) return inner
    }
  }
  return { jsonPath, rule: describe(first.message, first.schema, first.path) }
}

function describe (message: string, schema: { pattern?: string, description?: string }, pointer: string): string {
  if (message.startsWith('Unexpected property')) return `unknown property "${pointer.split('/').pop() ?? ''}"`
  if (schema.pattern !== undefined) return `must match pattern ${schema.pattern}`
  if (message === 'Expected union value' && schema.description !== undefined) return `expected ${schema.description}`
  if (message.startsWith('Expected object to have at least 1 properties')) {
    return `needs at least one of ${Object.keys((schema as { properties?: object }).properties ?? {}).join(', ')}`
  }
  return message.charAt(0).toLowerCase() + message.slice(1)
}

/** `/effects/latency/0` -> `.effects.latency[0]` */
function pointerToPath (pointer: string): string {
  if (pointer === '') return ''
  return pointer.split('/').slice(1).map((part) => {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~')
    if (/^\d+$/.test(key)) return `[${key}]`
    return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
  }).join('')
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
