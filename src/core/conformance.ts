// "Would a strict operator accept my client?": the rules a strict CAMARA operator applies to what a
// client does, each with its source. The legs record what they saw of the client on the request's
// Leg (a Check per rule); the journal keeps the checks with the request, and a client's report is
// graded from its journal entries: the same window, the same reset, every replica's requests.
// Rules only the client's own code could show (did it check the id_token's signature?) are not here.
import * as crypto from 'node:crypto'

export interface ConformanceRule {
  id: string
  title: string
  /** Where the rule comes from: the CAMARA document and release, or the RFC, with its section */
  source: string
}

const ICM = 'CAMARA ICM r4.2, CAMARA-Security-Interoperability.md'
const NV_WIP = 'CAMARA Number Verification (main after r3.2, Sync26), info.description "security requirements"'

export const CONFORMANCE_RULES = [
  { id: 'purpose', title: 'the scope names exactly one dpv: purpose', source: `${ICM} "Purpose as a scope"` },
  {
    id: 'prompt-none',
    title: 'Number Verification authorization requests send prompt=none',
    source: 'CAMARA Number Verification 2.1.0 (r3.2), info.description "The Authentication Request"'
  },
  {
    id: 'pkce',
    title: 'PKCE with S256 on every authorization request',
    source: `${ICM} "Cross-Site Request Forgery Protection"; RFC 9700 section 2.1.1`
  },
  {
    id: 'state',
    title: 'a state, fresh per authorization request; required without PKCE',
    source: `RFC 6749 section 10.12; RFC 9700 section 4.7.1; ${ICM} "Cross-Site Request Forgery Protection"`
  },
  {
    id: 'nonce',
    title: 'an OpenID request\'s nonce, fresh per request; required without PKCE',
    source: `OpenID Connect Core 1.0 section 3.1.2.1; ${ICM} "Cross-Site Request Forgery Protection"`
  },
  {
    id: 'private-key-jwt',
    title: 'the client authenticates with private_key_jwt, not a shared secret',
    source: `${ICM} "Client Authentication"`
  },
  {
    id: 'assertion-lifetime',
    title: 'client assertions live at most 300 s (exp - iat) and carry iat',
    source: `${ICM} "Client Authentication"`
  },
  {
    id: 'assertion-jti',
    title: 'each client assertion has a jti of its own',
    source: 'RFC 7523 section 3; OpenID Connect Core 1.0 section 9'
  },
  {
    id: 'assertion-scope',
    title: 'a jwt-bearer request carries its scope in the assertion\'s scope claim, not a scope parameter',
    source: `${ICM} "JWT Bearer Flow"`
  },
  {
    id: 'operator-token-once',
    title: 'an operator token is redeemed once (JWT-bearer sub or CIBA login_hint)',
    source: 'CAMARA ICM r4.2, CAMARA-API-access-and-user-consent.md "CIBA flow with Operator Token"; ' +
      'GSMA TS.43 temporary tokens'
  },
  {
    id: 'redirect-uri',
    title: 'redirect_uri is exactly a registered one, and the same at the token endpoint',
    source: 'RFC 9700 section 4.1.3; RFC 6749 section 4.1.3'
  },
  {
    id: 'code-once',
    title: 'an authorization code is redeemed once',
    source: 'RFC 6749 sections 4.1.2 and 10.5'
  },
  {
    id: 'token-single-use',
    title: 'a Number Verification access token serves one API call',
    source: `${NV_WIP}: single-use token`
  },
  {
    id: 'token-age',
    title: 'a Number Verification access token is used within 300 s of its issue',
    source: `${NV_WIP}: short-lived expiration`
  },
  {
    id: 'no-refresh',
    title: 'no refresh grant for Number Verification scopes',
    source: `${NV_WIP}: no refresh tokens; ${ICM} "Refresh Token Usage"`
  },
  {
    id: 'x-correlator',
    title: 'an x-correlator, when sent, keeps the release\'s pattern',
    source: 'CAMARA Commonalities 0.6, CAMARA_API_Design_Guide.md "Correlation ID" (x-correlator)'
  },
  {
    id: 'operation-scope',
    title: 'the access token carries the scope of the operation called',
    source: 'CAMARA Number Verification, securitySchemes openId scopes; RFC 6750 section 3.1'
  },
  {
    id: 'declared-properties',
    title: 'request bodies carry only the properties their schema declares',
    source: 'CAMARA Commonalities 0.8, CAMARA_API_Design_Guide.md (additionalProperties)'
  },
  {
    id: 'no-retry-loop',
    title: 'after login_required or access_denied the client does not retry in a loop ' +
      '(at most 2 new requests for the device within 60 s)',
    source: `${ICM} Appendix A "Authentication Error Response"; CAMARA Number Verification 2.1.0 "no user interaction"`
  },
  {
    id: 'hashed-case',
    title: 'hashedPhoneNumber is a SHA-256 hex digest in one letter case',
    source: 'CAMARA Number Verification 2.1.0, hashedPhoneNumber ^[a-fA-F0-9]{64}$'
  }
] as const satisfies readonly ConformanceRule[]

export type RuleId = typeof CONFORMANCE_RULES[number]['id']

/** What a leg saw of the client against one rule */
export interface Check {
  rule: RuleId
  ok: boolean
  /** What was seen, in words (shown with a failure) */
  detail?: string
  /**
   * A fingerprint of a value the rule wants fresh each time (a state, a nonce, an access token):
   * the report fails a second request of the client with the same one
   */
  fresh?: string
  /**
   * no-retry-loop: an authorization request for a device (`attempt`), or a refusal of one
   * (`refusal`), with a fingerprint of the device as the request named it
   */
  retry?: { kind: 'attempt' | 'refusal', device: string }
}

/** Records a check on the request's leg (a leg without the list gets one) */
export function observe (leg: { checks?: Check[] }, check: Check): void {
  (leg.checks ??= []).push(check)
}

/**
 * A short, one-way fingerprint of a value the journal must not hold in clear (a state, a token).
 * One call per served API call: Node's one-shot hash (20.12 and later) is 2.5 times as fast as a
 * Hash object here (245 against 607 ns); older Node 20 releases take the Hash object.
 */
const sha256 = (typeof crypto.hash === 'function' ? crypto.hash : undefined) as
  ((algorithm: string, data: string, encoding: 'base64url') => string) | undefined

export function fingerprint (value: string): string {
  const digest = sha256 === undefined
    ? crypto.createHash('sha256').update(value).digest('base64url')
    : sha256('sha256', value, 'base64url')
  return digest.slice(0, 16)
}

/** What the report leaves to the client's own tests, and says so */
export const NOT_GRADED = [
  'the id_token\'s signature, iss, aud, exp and nonce are checked by the client',
  'the state returned to the redirect_uri is compared with the one sent',
  'the code_verifier has enough entropy and stays on the client',
  'tokens and keys are kept secret; TLS is used in production'
] as const

/** The part of a journal entry the report reads */
export interface GradedEntry {
  id: number
  time: string
  operation: string
  status: number
  flowId?: string | undefined
  correlator?: string | undefined
  clientId?: string | undefined
  checks?: readonly Check[] | undefined
}

export interface Failure {
  /** The journal entry: GET /_emulator/journal?flowId=... shows its flow */
  entryId: number
  time: string
  operation: string
  flowId?: string
  correlator?: string
  detail: string
}

export type RuleStatus = 'pass' | 'fail' | 'not-seen'

export interface RuleResult extends ConformanceRule {
  status: RuleStatus
  passed: number
  failed: number
  /** The first failures, oldest first (at most MAX_FAILURES_SHOWN) */
  failures: Failure[]
}

export interface ClientReport {
  clientId: string
  flowId?: string
  /** fail when any rule failed; pass when none failed and one was seen; no-requests otherwise */
  verdict: 'pass' | 'fail' | 'no-requests'
  /** The client's journal entries graded */
  requests: number
  rules: RuleResult[]
  notGraded: readonly string[]
}

export const MAX_FAILURES_SHOWN = 20
/** no-retry-loop: new authorization requests after a refusal that still count as a retry, not a loop */
export const RETRIES_ALLOWED = 2
export const RETRY_WINDOW_MS = 60_000

/**
 * Grades one client (or one of its flows) from journal entries, oldest first: each rule passes,
 * fails (with the entries that broke it) or was not seen.
 */
export function gradeClient (entries: readonly GradedEntry[], clientId: string, flowId?: string): ClientReport {
  const own = entries.filter((entry) =>
    entry.clientId === clientId && (flowId === undefined || entry.flowId === flowId))
  const results = new Map<RuleId, RuleResult>(CONFORMANCE_RULES.map((rule) => [
    rule.id,
    { ...rule, status: 'not-seen', passed: 0, failed: 0, failures: [] }
  ]))
  const seen = new Map<string, number>()
  const record = (entry: GradedEntry, rule: RuleId, ok: boolean, detail: string | undefined): void => {
    const result = results.get(rule) as RuleResult
    if (ok) {
      result.passed++
      return
    }
    result.failed++
    if (result.failures.length < MAX_FAILURES_SHOWN) result.failures.push(failureOf(entry, detail ?? result.title))
  }
  for (const entry of own) {
    for (const check of entry.checks ?? []) {
      if (check.fresh !== undefined && check.ok) {
        const key = `${check.rule}\n${check.fresh}`
        const first = seen.get(key)
        if (first !== undefined) {
          record(entry, check.rule, false,
            `${check.detail ?? 'the same value'} again: first sent in journal entry ${first}`)
          continue
        }
        seen.set(key, entry.id)
      }
      if (check.rule === 'no-retry-loop') {
        if (check.retry?.kind === 'refusal') gradeRetries(entry, check.retry.device, own, record)
        continue
      }
      record(entry, check.rule, check.ok, check.detail)
    }
  }
  const rules = [...results.values()].map((result) => ({ ...result, status: statusOf(result) }))
  const verdict = rules.some((rule) => rule.status === 'fail') ? 'fail' : own.length === 0 ? 'no-requests' : 'pass'
  return {
    clientId,
    ...(flowId === undefined ? {} : { flowId }),
    verdict,
    requests: own.length,
    rules,
    notGraded: NOT_GRADED
  }
}

/**
 * A refusal the client must not answer with a burst of new authorization requests for the same
 * device (requests for other devices, e.g. other users of a backend, are not retries)
 */
function gradeRetries (
  refusal: GradedEntry,
  device: string,
  own: readonly GradedEntry[],
  record: (entry: GradedEntry, rule: RuleId, ok: boolean, detail: string) => void
): void {
  const at = Date.parse(refusal.time)
  const retries = own.filter((entry) => entry.id > refusal.id && Date.parse(entry.time) - at <= RETRY_WINDOW_MS &&
    (entry.checks ?? []).some((check) => check.retry?.kind === 'attempt' && check.retry.device === device)).length
  record(refusal, 'no-retry-loop', retries <= RETRIES_ALLOWED,
    `${retries} new authorization requests within ${RETRY_WINDOW_MS / 1000} s of this refusal`)
}

function statusOf (result: RuleResult): RuleStatus {
  return result.failed > 0 ? 'fail' : result.passed > 0 ? 'pass' : 'not-seen'
}

function failureOf (entry: GradedEntry, detail: string): Failure {
  return {
    entryId: entry.id,
    time: entry.time,
    operation: entry.operation,
    ...(entry.flowId === undefined ? {} : { flowId: entry.flowId }),
    ...(entry.correlator === undefined ? {} : { correlator: entry.correlator }),
    detail
  }
}

function xml (text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({
    '<': '&lt;',
    '>': '&gt;',
    '&': '&amp;',
    '\'': '&apos;',
    '"': '&quot;'
  })[c] as string)
}

/** The report as JUnit XML: one test case per rule (failed, passed, or skipped when not seen) */
export function junitOf (report: ClientReport): string {
  const suite = `camara-nv-emulator conformance: ${report.clientId}` +
    `${report.flowId === undefined ? '' : ` (flow ${report.flowId})`}`
  const failures = report.rules.filter((rule) => rule.status === 'fail').length
  const skipped = report.rules.filter((rule) => rule.status === 'not-seen').length
  const cases = report.rules.map((rule) => {
    const head = `    <testcase classname="${xml(report.clientId)}" name="${xml(`${rule.id}: ${rule.title}`)}">`
    const source = `      <properties><property name="source" value="${xml(rule.source)}"/></properties>`
    let body = ''
    if (rule.status === 'fail') {
      const lines = rule.failures.map((f) => `journal entry ${f.entryId} ` +
        `(${f.operation}${f.flowId === undefined ? '' : `, flow ${f.flowId}`}): ${f.detail}`)
      body = '\n      <failure message="' +
        `${xml(`${rule.failed} of ${rule.passed + rule.failed} requests broke the rule`)}">` +
        `${xml(lines.join('\n'))}</failure>`
    } else if (rule.status === 'not-seen') {
      body = '\n      <skipped message="no request of this client showed it"/>'
    }
    return `${head}\n${source}${body}\n    </testcase>`
  })
  return '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites name="camara-nv-emulator" tests="${report.rules.length}" ` +
    `failures="${failures}" skipped="${skipped}">\n` +
    `  <testsuite name="${xml(suite)}" tests="${report.rules.length}" failures="${failures}" skipped="${skipped}">\n` +
    `${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`
}
