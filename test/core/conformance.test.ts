import * as crypto from 'node:crypto'
import t from 'tap'
import {
  CONFORMANCE_RULES, fingerprint, gradeClient, junitOf, MAX_FAILURES_SHOWN, observe, RETRY_WINDOW_MS, type Check,
  type GradedEntry
} from '../../src/core/conformance.js'

let nextId = 0
function entry (checks: Check[], overrides: Partial<GradedEntry> = {}): GradedEntry {
  nextId++
  return {
    id: nextId,
    time: new Date(Date.UTC(2026, 10, 25, 12, 0, 0) + nextId).toISOString(),
    operation: 'verify',
    status: 200,
    clientId: 'app',
    checks,
    ...overrides
  }
}

function rule (report: ReturnType<typeof gradeClient>, id: string): ReturnType<typeof gradeClient>['rules'][number] {
  const found = report.rules.find((r) => r.id === id)
  if (found === undefined) throw new Error(`no rule ${id}`)
  return found
}

t.test('every rule has a title and a source; ids are unique', async (t) => {
  t.equal(new Set(CONFORMANCE_RULES.map((r) => r.id)).size, CONFORMANCE_RULES.length)
  for (const r of CONFORMANCE_RULES) {
    t.ok(r.title.length > 10, `${r.id} title`)
    t.match(r.source, /CAMARA|RFC|OpenID/, `${r.id} source`)
  }
})

t.test('observe adds to the leg\'s list, making one when needed', async (t) => {
  const leg: { checks?: Check[] } = {}
  observe(leg, { rule: 'pkce', ok: true })
  observe(leg, { rule: 'state', ok: false, detail: 'no state' })
  t.strictSame(leg.checks, [{ rule: 'pkce', ok: true }, { rule: 'state', ok: false, detail: 'no state' }])
})

t.test('fingerprint: short, stable, one-way', async (t) => {
  t.equal(fingerprint('state-1'), fingerprint('state-1'))
  t.not(fingerprint('state-1'), fingerprint('state-2'))
  t.match(fingerprint('x'), /^[\w-]{16}$/)
  // The first 16 base64url characters of SHA-256, whichever of Node's hash APIs computes it: replicas
  // on Node 20 releases before and after 20.12 must agree on the same journal's fingerprints
  t.equal(fingerprint('state-1'), '82tFroGICe4kriSJ')
})

t.test('fingerprint: the same on a Node 20 without crypto.hash (before 20.12)', async (t) => {
  const { hash: _hash, ...withoutHash } = crypto
  const older = await t.mockImport<typeof import('../../src/core/conformance.js')>('../../src/core/conformance.js', {
    'node:crypto': withoutHash
  })
  t.equal(older.fingerprint('state-1'), '82tFroGICe4kriSJ')
})

t.test('gradeClient: only the client\'s entries (and the flow\'s, when named); pass, fail, not seen', async (t) => {
  const entries = [
    entry([{ rule: 'pkce', ok: true }], { flowId: 'f1' }),
    entry([{ rule: 'pkce', ok: false, detail: 'no code_challenge' }], { flowId: 'f2', correlator: 'c-2' }),
    entry([{ rule: 'pkce', ok: false }], { clientId: 'other' }),
    entry([], { flowId: 'f1' })
  ]
  const report = gradeClient(entries, 'app')
  t.equal(report.verdict, 'fail')
  t.equal(report.requests, 3)
  t.strictSame(rule(report, 'pkce'), {
    ...CONFORMANCE_RULES.find((r) => r.id === 'pkce'),
    status: 'fail',
    passed: 1,
    failed: 1,
    failures: [{
      entryId: entries[1]?.id,
      time: entries[1]?.time,
      operation: 'verify',
      flowId: 'f2',
      correlator: 'c-2',
      detail: 'no code_challenge'
    }]
  })
  t.equal(rule(report, 'state').status, 'not-seen')
  const f1 = gradeClient(entries, 'app', 'f1')
  t.equal(f1.verdict, 'pass')
  t.equal(f1.flowId, 'f1')
  t.equal(f1.requests, 2)
  t.equal(gradeClient(entries, 'nobody').verdict, 'no-requests')
  t.equal(gradeClient([entry([], {})], 'app').verdict, 'pass', 'requests but no rule seen: nothing broken')
})

t.test('a failure without detail reads as the rule\'s title; ' +
  'at most 20 failures are listed, all are counted', async (t) => {
  const entries = Array.from({ length: MAX_FAILURES_SHOWN + 5 }, () => entry([{ rule: 'purpose', ok: false }]))
  const result = rule(gradeClient(entries, 'app'), 'purpose')
  t.equal(result.failed, MAX_FAILURES_SHOWN + 5)
  t.equal(result.failures.length, MAX_FAILURES_SHOWN)
  t.equal(result.failures[0]?.detail, 'the scope names exactly one dpv: purpose')
})

t.test('fresh values: a second use by the same client fails, naming the first entry', async (t) => {
  const first = entry([{ rule: 'state', ok: true, detail: 'the same state', fresh: fingerprint('s') }],
    { operation: 'authorize' })
  const other = entry([{ rule: 'state', ok: true, detail: 'the same state', fresh: fingerprint('s') }],
    { operation: 'authorize', clientId: 'other' })
  const again = entry([{ rule: 'state', ok: true, detail: 'the same state', fresh: fingerprint('s') }],
    { operation: 'authorize' })
  const fresh = entry([{ rule: 'state', ok: true, detail: 'the same state', fresh: fingerprint('t') }],
    { operation: 'authorize' })
  const result = rule(gradeClient([first, other, again, fresh], 'app'), 'state')
  t.equal(result.passed, 2)
  t.equal(result.failed, 1)
  t.equal(result.failures[0]?.detail, `the same state again: first sent in journal entry ${first.id}`)
  t.equal(rule(gradeClient([first, other, again], 'other'), 'state').status, 'pass',
    'another client\'s value is not this one\'s')
})

t.test('no-retry-loop: more than 2 authorization requests for the device within 60 s of a refusal', async (t) => {
  const at = (ms: number): string => new Date(Date.UTC(2026, 10, 25, 13, 0, 0) + ms).toISOString()
  const refusal = entry([{ rule: 'no-retry-loop', ok: true, retry: { kind: 'refusal', device: 'd1' } }],
    { operation: 'operator', time: at(0) })
  const retry = (ms: number, device = 'd1'): GradedEntry =>
    entry([{ rule: 'no-retry-loop', ok: true, retry: { kind: 'attempt', device } }],
      { operation: 'authorize', time: at(ms) })
  const graded = (...entries: GradedEntry[]): ReturnType<typeof rule> =>
    rule(gradeClient(entries, 'app'), 'no-retry-loop')
  t.equal(graded(refusal, retry(1000), retry(2000)).status, 'pass')
  t.equal(graded(refusal, retry(1000), retry(2000), retry(RETRY_WINDOW_MS + 1)).status, 'pass',
    'one after the window is a new attempt')
  t.equal(graded(refusal, retry(1000), retry(2000), retry(3000, 'd2'), retry(4000, 'd3')).status, 'pass',
    'requests for other devices (other users) are not retries')
  t.equal(graded(retry(0), retry(1)).status, 'not-seen', 'attempts alone grade nothing')
  const looped = graded(refusal, retry(1000), retry(2000), retry(RETRY_WINDOW_MS))
  t.equal(looped.status, 'fail')
  t.equal(looped.failures[0]?.detail, '3 new authorization requests within 60 s of this refusal')
})

t.test('junitOf: one test case per rule, escaped, failures listed, not seen skipped', async (t) => {
  const report = gradeClient([
    entry([{ rule: 'pkce', ok: false, detail: 'code_challenge_method <plain> & "x"' }], { flowId: 'f1' }),
    entry([{ rule: 'state', ok: true }])
  ], 'app<&>', undefined)
  const xml = junitOf({ ...report, clientId: 'app<&>' })
  t.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="camara-nv-emulator" tests="20" failures="0" skipped="20">/,
    'app<&> has no entries: every rule skipped')
  const own = junitOf(gradeClient([
    entry([{ rule: 'pkce', ok: false, detail: 'code_challenge_method <plain> & "x"' }],
      { flowId: 'f1', clientId: 'a&b' }),
    entry([{ rule: 'state', ok: true }], { clientId: 'a&b' })
  ], 'a&b', 'f1'))
  t.match(own,
    'testsuite name="camara-nv-emulator conformance: a&amp;b (flow f1)" tests="20" failures="1" skipped="19"')
  t.match(own, /<failure message="1 of 1 requests broke the rule">journal entry \d+ \(verify, flow f1\): code_challenge_method &lt;plain&gt; &amp; &quot;x&quot;<\/failure>/)
  t.match(own, '<skipped message="no request of this client showed it"/>')
  t.match(own, '<property name="source" value="CAMARA ICM r4.2, CAMARA-Security-Interoperability.md ' +
    '&quot;Cross-Site Request Forgery Protection&quot;; RFC 9700 section 2.1.1"/>')
  const passing = junitOf(gradeClient([entry([{ rule: 'state', ok: true }], { clientId: 'p' })], 'p'))
  t.match(passing, /name="state: [^"]+">\n {6}<properties>.*<\/properties>\n {4}<\/testcase>/, 'a pass has no failure or skipped element')
})
