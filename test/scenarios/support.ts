// Shared by the scenario, control API, journal and fault tests: an app whose injected latency is
// recorded instead of waited, the seed device's flow, calls to each leg, the control API, and
// temporary fixture files derived from fixtures/default.json.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import { DEFAULT_FIXTURES, type EmulatorConfig } from '../../src/config/config.js'
import type { FixtureFile } from '../../src/core/fixture-schema.js'
import type { Sleep } from '../../src/plugins/scenarios.js'
import { buildTestApp, type Teardown, type TestApp, type TestAppOptions } from '../helpers/app.js'
import {
  authorizationCode,
  gatewayLeg,
  obtainTokens,
  operatorLeg,
  SEED_KONERA,
  type FlowOptions
} from '../helpers/flow.js'
import type { JournalEntry } from '../../src/core/journal.js'

export {
  exchangeCode,
  SEED_KONERA,
  SEED_MSISDN,
  share,
  SHARE_PATH as SHARE_URL,
  TOKEN_PATH as TOKEN_URL,
  verify,
  VERIFY_PATH as VERIFY_URL,
  type ApiCallOptions
} from '../helpers/flow.js'

export const JSON_UTF8 = 'application/json; charset=utf-8'
export const NEIGHBOUR_MSISDN = '+34666666667'
export const NEIGHBOUR_KONERA = 'ipv4:142.115.147.144'
export const INDIA_MSISDN = '+919036499174'
export const INDIA_KONERA = 'ipv4:49.36.10.20'

/** assessedAt on the test apps' manual clock */
export const ASSESSED_AT = '2026-11-25T12:00:00.000Z'
export const UNKNOWN_HINT = 'GET /_emulator/scenarios lists them'

/**
 * The catalogue scenarios that break the connection or the body: proven over a real socket in
 * test/integration/faults.test.ts
 */
export const CATALOGUE_FAULTS = [
  'connection-reset',
  'hang',
  'empty-reply',
  'malformed-body',
  'truncated-body',
  'slow-body'
] as const

export interface ScenarioTestApp extends TestApp {
  /** Every latency the scenarios plugin asked to wait, in order (0 when no latency applied) */
  sleeps: number[]
}

/** A sleep that records what it was asked and returns at once */
export function recordingSleep (): { sleep: Sleep, sleeps: number[] } {
  const sleeps: number[] = []
  return { sleeps, sleep: async (ms) => { sleeps.push(ms) } }
}

/** The test app (closed in `t`'s teardown) with its injected latency recorded */
export async function buildScenarioApp (
  t: Teardown, overrides: Partial<EmulatorConfig> = {}, options: Omit<TestAppOptions, 'sleep'> = {}
): Promise<ScenarioTestApp> {
  const { sleep, sleeps } = recordingSleep()
  const built = await buildTestApp(t, overrides, { ...options, sleep })
  return { ...built, sleeps }
}

/** Runs authorize -> operator for a device (the seed device unless told) and returns the code */
export async function codeFor (app: FastifyInstance, options: FlowOptions = {}): Promise<string> {
  return await authorizationCode(app, { konera: SEED_KONERA, ...options })
}

/** The gateway authorize leg for the seed device; `extra` adds or replaces query parameters */
export async function gatewayAuthorize (
  app: FastifyInstance,
  extra: Record<string, string> = {},
  headers: Record<string, string> = {}
): Promise<LightMyRequestResponse> {
  return await gatewayLeg(app, { konera: SEED_KONERA, extraQuery: extra, headers })
}

/** Follows the gateway's 302 to the emulated operator */
export async function operatorAuthorize (
  app: FastifyInstance,
  gateway: LightMyRequestResponse,
  headers: Record<string, string> = {}
): Promise<LightMyRequestResponse> {
  return await operatorLeg(app, gateway, { headers })
}

/** The whole flow for a device (the seed device unless told), returning the access token */
export async function accessTokenFor (app: FastifyInstance, options: FlowOptions = {}): Promise<string> {
  return (await obtainTokens(app, { konera: SEED_KONERA, ...options })).access_token
}

export function verified (value: boolean): { devicePhoneNumberVerified: boolean, assessedAt: string } {
  return { devicePhoneNumberVerified: value, assessedAt: ASSESSED_AT }
}

/** A control API call; an object payload goes as JSON */
export async function control (
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  payload?: unknown,
  adminToken?: string
): Promise<LightMyRequestResponse> {
  return await app.inject({
    method,
    url: `/_emulator${path}`,
    headers: adminToken === undefined ? {} : { authorization: `Bearer ${adminToken}` },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> })
  })
}

/** Activates a scenario through the control API and returns the activation; throws unless 201 */
export async function activate (
  app: FastifyInstance,
  name: string,
  body: Record<string, unknown> = {}
): Promise<{ id: string, name: string, remaining?: number, appliedCount: number }> {
  const res = await control(app, 'POST', `/scenarios/${name}/activate`, body)
  if (res.statusCode !== 201) throw new Error(`activate ${name} answered ${res.statusCode}: ${res.body}`)
  return res.json()
}

/** Defines a scenario through the control API; throws unless 201 */
export async function define (app: FastifyInstance, scenario: Record<string, unknown>): Promise<void> {
  const res = await control(app, 'POST', '/scenarios', scenario)
  if (res.statusCode !== 201) throw new Error(`define answered ${res.statusCode}: ${res.body}`)
}

/** A journal entry as the control API sends it (JSON: mutable arrays) */
export type JournalEntryView = Omit<JournalEntry, 'scenarios'> & { scenarios: string[] }

export async function journalEntries (
  app: FastifyInstance,
  query: Record<string, string | number> = {}
): Promise<JournalEntryView[]> {
  const search = new URLSearchParams(
    Object.entries(query).map(([key, value]): [string, string] => [key, String(value)])
  )
  const res = await control(app, 'GET', `/journal${search.size === 0 ? '' : `?${search.toString()}`}`)
  if (res.statusCode !== 200) throw new Error(`journal answered ${res.statusCode}: ${res.body}`)
  return (res.json() as { entries: JournalEntryView[] }).entries
}

/** The error a redirect to the client carries */
export function redirectError (location: URL | string): {
  target: string
  error: string | null
  description: string | null
  state: string | null
  code: string | null
} {
  const url = new URL(location)
  return {
    target: `${url.origin}${url.pathname}`,
    error: url.searchParams.get('error'),
    description: url.searchParams.get('error_description'),
    state: url.searchParams.get('state'),
    code: url.searchParams.get('code')
  }
}

/** Exact ErrorInfo body, status, JSON type and the Retry-After header (absent unless given) */
export function assertErrorInfo (
  t: Test,
  res: LightMyRequestResponse,
  expected: { status: number, code: string, message: string, retryAfter?: string }
): void {
  t.equal(res.statusCode, expected.status, 'status')
  t.strictSame(
    res.json(),
    { status: expected.status, code: expected.code, message: expected.message },
    'ErrorInfo body'
  )
  t.equal(res.headers['content-type'], JSON_UTF8, 'content type')
  t.equal(res.headers['retry-after'], expected.retryAfter, 'Retry-After')
}

/** fixtures/default.json as a document to change (a fresh copy each call) */
export function defaultFixtureDocument (): FixtureFile {
  const document = JSON.parse(readFileSync(DEFAULT_FIXTURES, 'utf8')) as FixtureFile & { $schema?: string }
  delete document.$schema
  return document
}

/** Writes a fixture document into a fresh temporary folder of the test; returns its path */
export function writeFixtureFile (t: Test, document: unknown, name = 'fixtures.json'): string {
  const dir = t.testdir({})
  const file = join(dir, name)
  writeFileSync(file, JSON.stringify(document, null, 2))
  return file
}

/**
 * Polls until `probe` returns a value: for what happens on another socket or a file watcher, without
 * betting on a fixed sleep. Bounded, so a change that never comes fails the test with `what`.
 */
export async function eventually<T> (
  what: string,
  probe: () => Promise<T | undefined>,
  attempts = 300,
  intervalMs = 20
): Promise<T> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const value = await probe()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
  throw new Error(`gave up waiting for ${what}`)
}
