import t from 'tap'
import { ManualClock } from '../../src/core/clock.js'
import { MemoryStore } from '../../src/store/memory.js'
import { pkceS256 } from '../../src/core/token-service.js'
import {
  ATTEMPT_TTL_MS,
  DemoAttempts,
  DemoAttemptsFullError,
  newAttempt,
  type DemoCollections
} from '../../src/demo/attempts.js'
import type { DemoChoices } from '../../src/demo/attempts.js'

const CHOICES: DemoChoices = {
  device: '+34666666666',
  claimed: '+34666666666',
  hint: 'konera',
  scenario: '',
  promptNone: false
}
const REDIRECT = 'http://emulator.test/demo/callback'

/** Attempts in a memory store of their own, on a manual clock */
function attemptsOn (clock: ManualClock, options: { capacity?: number } = {}): DemoAttempts {
  return new DemoAttempts(new MemoryStore<DemoCollections>(clock, { sweepIntervalMs: 0 }), options)
}

t.test('an attempt holds fresh secrets and is redeemed once', async (t) => {
  const clock = new ManualClock()
  const attempts = attemptsOn(clock)
  const a = newAttempt(CHOICES, REDIRECT, clock.now())
  const b = newAttempt(CHOICES, REDIRECT, clock.now())
  t.match(a, {
    state: /^[A-Za-z0-9_-]{32}$/,
    nonce: /^[A-Za-z0-9_-]{32}$/,
    codeVerifier: /^[A-Za-z0-9_-]{64}$/,
    redirectUri: REDIRECT,
    choices: CHOICES
  })
  t.not(a.state, b.state)
  t.not(a.nonce, b.nonce)
  t.not(a.codeVerifier, b.codeVerifier)
  await attempts.put(a.state, a, ATTEMPT_TTL_MS)
  await attempts.put(b.state, b, ATTEMPT_TTL_MS)
  t.strictSame(await attempts.get(a.state), a, 'get leaves it in place')
  t.strictSame(await attempts.take(a.state), a)
  t.equal(await attempts.take(a.state), undefined, 'a second callback with the same state finds nothing')
  t.strictSame(await attempts.get(b.state), b)
})

t.test('attempts expire after their time to live', async (t) => {
  const clock = new ManualClock()
  const attempts = attemptsOn(clock)
  const a = newAttempt(CHOICES, REDIRECT, clock.now())
  await attempts.put(a.state, a, 1000)
  clock.advance(999)
  t.strictSame(await attempts.get(a.state), a)
  clock.advance(1)
  t.equal(await attempts.get(a.state), undefined)
  t.equal(await attempts.take(a.state), undefined)
})

t.test('stored attempts cannot be changed in place: a change is a new put', async (t) => {
  const clock = new ManualClock()
  const attempts = attemptsOn(clock)
  const a = newAttempt(CHOICES, REDIRECT, clock.now())
  await attempts.put(a.state, a, ATTEMPT_TTL_MS)
  const stored = await attempts.get(a.state)
  t.ok(Object.isFrozen(stored) && Object.isFrozen(stored?.choices), 'what a reader gets is frozen')
  t.throws(() => { (stored as { flowId?: string }).flowId = 'x' }, TypeError)
  try { (a as { flowId?: string }).flowId = 'changed by the caller' } catch {}
  t.equal((await attempts.get(a.state))?.flowId, undefined, 'what the caller gave cannot change what is stored')
  await attempts.put(a.state, { ...a, flowId: 'flow-1' }, ATTEMPT_TTL_MS)
  t.equal((await attempts.get(a.state))?.flowId, 'flow-1')
})

t.test('the store is bounded: a full store refuses a new attempt, clearly, and keeps the others', async (t) => {
  const clock = new ManualClock()
  const attempts = attemptsOn(clock, { capacity: 3 })
  const [a, b, c] = [0, 1, 2].map(() => newAttempt(CHOICES, REDIRECT, clock.now())) as [
    ReturnType<typeof newAttempt>,
    ReturnType<typeof newAttempt>,
    ReturnType<typeof newAttempt>
  ]
  for (const attempt of [a, b, c]) await attempts.put(attempt.state, attempt, 1000)
  const d = newAttempt(CHOICES, REDIRECT, clock.now())
  await t.rejects(attempts.put(d.state, d, 1000), new DemoAttemptsFullError(3))
  await t.rejects(attempts.put(d.state, d, 1000), {
    name: 'DemoAttemptsFullError',
    message:
      '3 verifications are already in progress: finish one, or wait up to 10 minutes for unfinished ones to expire'
  })
  for (const attempt of [a, b, c]) t.ok(await attempts.get(attempt.state), 'the attempts under way stay')
  await attempts.put(a.state, { ...a, flowId: 'f' }, 1000)
  t.pass('replacing a stored attempt is not a new one')
  await attempts.take(b.state)
  await attempts.put(d.state, d, 1000)
  t.pass('a redeemed attempt makes room')
  clock.advance(1000)
  const e = newAttempt(CHOICES, REDIRECT, clock.now())
  await attempts.put(e.state, e, 1000)
  t.strictSame(await attempts.get(e.state), e, 'expired attempts make room')
  t.equal(await attempts.get(c.state), undefined)
})

t.test('the capacity is a positive integer', async (t) => {
  t.throws(() => attemptsOn(new ManualClock(), { capacity: 0 }), RangeError)
})

t.test('the PKCE challenge is S256 of the verifier (RFC 7636 appendix B)', async (t) => {
  t.equal(pkceS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')
})
