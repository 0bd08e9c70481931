// The world the fixtures describe: the schema check of one document, then the cross-reference
// rules a schema cannot express (unique MSISDN, unique address, known operator, known scenario).
// Any problem names the file, the JSON path and the rule broken, so nothing half-loaded is ever
// served. Reading files is config's job (src/config/fixtures.ts); the rules are the core's.
import { Value } from '@sinclair/typebox/value'
import {
  FixtureFileSchema, type ClientFixture, type FixtureFile, type OperatorFixture, type SubscriberFixture
} from './fixture-schema.js'
import { parseRange } from './network-address.js'
import { CATALOGUE } from './scenarios/catalogue.js'
import { checkScenarioRules, type Scenario } from './scenarios/scenario-schema.js'

export class FixtureError extends Error {
  readonly file: string
  readonly jsonPath: string
  readonly rule: string

  constructor (file: string, jsonPath: string, rule: string) {
    super(`${file}: ${jsonPath}: ${rule}`)
    this.name = 'FixtureError'
    this.file = file
    this.jsonPath = jsonPath
    this.rule = rule
  }
}

/** The merged content of all fixture files, as the directory is built from. */
export interface Fixtures {
  defaultOperator: string | undefined
  operators: OperatorFixture[]
  clients: ClientFixture[]
  subscribers: SubscriberFixture[]
  /** Scenarios defined by fixture files, with the file that defines each */
  scenarios: Array<{ file: string, scenario: Scenario }>
  /** The files loaded */
  files: string[]
}

/** `/subscribers/2/msisdn` -> `$.subscribers[2].msisdn` */
export function toJsonPath (pointer: string): string {
  if (pointer === '') return '$'
  return '$' + pointer.split('/').slice(1).map((part) => {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~')
    if (/^\d+$/.test(key)) return `[${key}]`
    return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
  }).join('')
}

/** Far deeper than any fixture (a scenario's error effect sits 6 levels down) */
export const MAX_FIXTURE_DEPTH = 64

/**
 * The JSON pointer of the first value nested deeper than `max` levels, or undefined. Iterative:
 * the schema check and structuredClone recurse, and a deep enough document overflows their stack.
 */
function tooDeep (document: unknown, max: number): string | undefined {
  const pending: Array<{ value: unknown, pointer: string, depth: number }> = [
    { value: document, pointer: '', depth: 0 }
  ]
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, pointer, depth } = next
    if (typeof value !== 'object' || value === null) continue
    if (depth >= max) return pointer
    for (const [key, child] of Object.entries(value)) {
      const escaped = key.replace(/~/g, '~0').replace(/\//g, '~1')
      pending.push({ value: child, pointer: `${pointer}/${escaped}`, depth: depth + 1 })
    }
  }
  return undefined
}

/** Checks one parsed fixture document against the schema; applies defaults. */
export function validateFixtureDocument (file: string, document: unknown): FixtureFile {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new FixtureError(file, '$', 'must be a JSON object with operators, clients and subscribers')
  }
  const deep = tooDeep(document, MAX_FIXTURE_DEPTH)
  if (deep !== undefined) {
    throw new FixtureError(file, toJsonPath(deep), `nests deeper than ${MAX_FIXTURE_DEPTH} levels`)
  }
  const withDefaults = Value.Default(FixtureFileSchema, structuredClone(document))
  const first = Value.Errors(FixtureFileSchema, withDefaults).First()
  if (first !== undefined) {
    const rule = describeSchemaError(first.message, first.schema, first.path)
    throw new FixtureError(file, toJsonPath(first.path), rule)
  }
  return withDefaults as FixtureFile
}

function describeSchemaError (
  message: string, schema: { pattern?: string, description?: string, anyOf?: Array<{ const?: unknown }> }, path: string
): string {
  if (message.startsWith('Unexpected property')) return `unknown property "${path.split('/').pop() ?? ''}"`
  if (message === 'Expected required property') return 'is required'
  if (schema.pattern !== undefined) return `must match pattern ${schema.pattern}`
  if (message === 'Expected union value') {
    // Our unions are lists of allowed words: name them, TypeBox's message does not
    const choices = schema.anyOf?.map((member) => member.const) ?? []
    const rule = choices.length > 0 && choices.every((c) => typeof c === 'string')
      ? `must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`
      : 'expected union value'
    return schema.description === undefined ? rule : `${rule} (${schema.description})`
  }
  return message.charAt(0).toLowerCase() + message.slice(1)
}

export function mergeFixtures (
  documents: Array<{ file: string, content: FixtureFile }>, options: { scenarios?: Fixtures['scenarios'] } = {}
): Fixtures {
  const merged: Fixtures = {
    defaultOperator: undefined,
    operators: [],
    clients: [],
    subscribers: [],
    scenarios: [...options.scenarios ?? []],
    files: []
  }
  const scenarioNames = new Map<string, string>([
    ...CATALOGUE.map((scenario): [string, string] => [scenario.name, 'the built-in catalogue']),
    ...merged.scenarios.map(({ file, scenario }): [string, string] => [scenario.name, file])
  ])
  const operatorIds = new Map<string, string>()
  const clientIds = new Map<string, string>()
  const msisdns = new Map<string, string>()
  const addresses = new Map<string, string>()

  for (const { file, content } of documents) {
    merged.files.push(file)
    content.scenarios.forEach((scenario, i) => {
      const at = `$.scenarios[${i}]`
      if (scenarioNames.has(scenario.name)) {
        throw new FixtureError(file, `${at}.name`,
          `scenario "${scenario.name}" is already defined in ${scenarioNames.get(scenario.name) ?? ''}`)
      }
      const problem = checkScenarioRules(scenario, at)
      if (problem !== undefined) throw new FixtureError(file, problem.jsonPath, problem.rule)
      scenarioNames.set(scenario.name, file)
      merged.scenarios.push({ file, scenario })
    })
    content.operators.forEach((operator, i) => {
      const at = `$.operators[${i}]`
      if (operatorIds.has(operator.id)) {
        throw new FixtureError(file, `${at}.id`,
          `duplicate operator id "${operator.id}" (first defined in ${operatorIds.get(operator.id) ?? ''})`)
      }
      operatorIds.set(operator.id, file)
      operator.ipRanges.forEach((range, j) => {
        if (parseRange(range) === undefined) {
          throw new FixtureError(file, `${at}.ipRanges[${j}]`, `"${range}" is not an IPv4 or IPv6 CIDR range`)
        }
      })
      checkScenarioReferences(file, at, operator.scenarios, scenarioNames)
      merged.operators.push(operator)
    })
    content.clients.forEach((client, i) => {
      checkClient(file, `$.clients[${i}]`, client)
      checkScenarioReferences(file, `$.clients[${i}]`, client.scenarios, scenarioNames)
      if (clientIds.has(client.clientId)) {
        throw new FixtureError(file, `$.clients[${i}].clientId`,
          `duplicate clientId "${client.clientId}" (first defined in ${clientIds.get(client.clientId) ?? ''})`)
      }
      clientIds.set(client.clientId, file)
      merged.clients.push(client)
    })
    if (content.defaultOperator !== undefined) merged.defaultOperator = content.defaultOperator
  }

  // Subscribers are checked once every operator is known, whichever file defines it
  for (const { file, content } of documents) {
    content.subscribers.forEach((subscriber, i) => {
      const at = `$.subscribers[${i}]`
      if (!operatorIds.has(subscriber.operator)) {
        throw new FixtureError(file, `${at}.operator`,
          `unknown operator "${subscriber.operator}"; known: ${[...operatorIds.keys()].join(', ') || 'none'}`)
      }
      if (msisdns.has(subscriber.msisdn)) {
        throw new FixtureError(file, `${at}.msisdn`,
          `duplicate msisdn "${subscriber.msisdn}" (first defined in ${msisdns.get(subscriber.msisdn) ?? ''})`)
      }
      msisdns.set(subscriber.msisdn, file)
      checkScenarioReferences(file, at, subscriber.scenarios, scenarioNames)
      for (const family of ['ipv4', 'ipv6'] as const) {
        subscriber[family].forEach((value, j) => {
          const range = parseRange(value)
          if (range === undefined || range.family !== family) {
            throw new FixtureError(file, `${at}.${family}[${j}]`,
              `"${value}" is not an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address or CIDR range`)
          }
          if (addresses.has(range.text)) {
            throw new FixtureError(file, `${at}.${family}[${j}]`,
              `address "${value}" is already used by ${addresses.get(range.text) ?? ''}`)
          }
          addresses.set(range.text, subscriber.msisdn)
        })
      }
      merged.subscribers.push(subscriber)
    })
  }

  if (merged.defaultOperator !== undefined && !operatorIds.has(merged.defaultOperator)) {
    const file = [...documents].reverse().find((d) => d.content.defaultOperator !== undefined)?.file ?? ''
    throw new FixtureError(file, '$.defaultOperator', `unknown operator "${merged.defaultOperator}"`)
  }
  return merged
}

function checkScenarioReferences (
  file: string, at: string, names: string[] | undefined, known: Map<string, string>
): void {
  names?.forEach((name, k) => {
    if (!known.has(name)) {
      throw new FixtureError(file, `${at}.scenarios[${k}]`,
        `unknown scenario "${name}" (not in the catalogue nor defined in $.scenarios)`)
    }
  })
}

/** Rules on one client that the schema cannot express. */
export function checkClient (file: string, at: string, client: ClientFixture): void {
  const usesSecret = client.tokenEndpointAuthMethods.some((method) => method !== 'private_key_jwt')
  if (usesSecret && client.clientSecret === undefined) {
    throw new FixtureError(file, `${at}.clientSecret`, 'is required by client_secret_post / client_secret_basic')
  }
  if (client.tokenEndpointAuthMethods.includes('private_key_jwt')) {
    if (client.jwks === undefined) throw new FixtureError(file, `${at}.jwks`, 'is required by private_key_jwt')
    client.jwks.keys.forEach((key, k) => {
      if (typeof key.kty !== 'string') {
        throw new FixtureError(file, `${at}.jwks.keys[${k}].kty`, 'is required (a public JWK)')
      }
      if ('d' in key) {
        throw new FixtureError(file, `${at}.jwks.keys[${k}].d`, 'must not be present: register public keys only')
      }
    })
  }
  client.redirectUris.forEach((uri, j) => {
    let url: URL
    try {
      // A path starting with one / is relative to the emulator's public URL (resolved at authorize)
      url = uri.startsWith('/') && !uri.startsWith('//') ? new URL(uri, 'http://public-url.invalid') : new URL(uri)
    } catch {
      throw new FixtureError(file, `${at}.redirectUris[${j}]`,
        `"${uri}" is not an absolute URL nor a path starting with /`)
    }
    if (url.hash !== '') throw new FixtureError(file, `${at}.redirectUris[${j}]`, 'must not contain a fragment')
  })
}
