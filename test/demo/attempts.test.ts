import t from 'tap'
import { ManualClock } from '../../src/core/clock.js'
import { pkceS256 } from '../../src/core/token-service.js'
import { DemoAttempts } from '../../src/demo/attempts.js'
import type { DemoChoices } from '../../src/demo/attempts.js'

const CHOICES: DemoChoices = { device: '+34666666666', claimed: '+34666666666', hint: 'konera', scenario: '', promptNone: false }
const REDIRECT = 'http://emulator.test/demo/callback'

t.test('an attempt holds fresh secrets and is redeemed once', async (t) => {
  const attempts = new DemoAttempts(new ManualClock())
  const a = attempts.begin(CHOICES, REDIRECT)
  const b = attempts.begin(CHOICES, REDIRECT)
  t.match(a, { state: /^[A-Za-z0-9_-]{32}$/, nonce: /^[A-Za-z0-9_-]{32}$/, codeVerifier: /^[A-Za-z0-9_-]{64}$/, redirectUri: REDIRECT, choices: CHOICES })
  t.not(a.state, b.state)
  t.not(a.nonce, b.nonce)
  t.not(a.codeVerifier, b.codeVerifier)
  t.equal(attempts.peek(a.state), a, 'peek leaves it in place')
  t.equal(attempts.take(a.state), a)
  t.equal(attempts.take(a.state), undefined, 'a second callback with the same state finds nothing')
  t.equal(attempts.take(undefined), undefined)
  t.equal(attempts.size, 1)
})

t.test('attempts expire after their time to live', async (t) => {
  const clock = new ManualClock()
  const attempts = new DemoAttempts(clock, { ttlMs: 1000 })
  const a = attempts.begin(CHOICES, REDIRECT)
  clock.advance(999)
  t.equal(attempts.peek(a.state), a)
  clock.advance(1)
  t.equal(attempts.take(a.state), undefined)
  t.equal(attempts.size, 0, 'an expired attempt found on read is dropped')
})

t.test('the map is bounded: the oldest attempts make room, expired ones go first', async (t) => {
  const clock = new ManualClock()
  const attempts = new DemoAttempts(clock, { ttlMs: 1000, capacity: 3 })
  const [a, b, c] = [attempts.begin(CHOICES, REDIRECT), attempts.begin(CHOICES, REDIRECT), attempts.begin(CHOICES, REDIRECT)]
  const d = attempts.begin(CHOICES, REDIRECT)
  t.equal(attempts.size, 3)
  t.equal(attempts.peek(a.state), undefined, 'the oldest was evicted')
  t.ok(attempts.peek(b.state) !== undefined && attempts.peek(c.state) !== undefined && attempts.peek(d.state) !== undefined)
  clock.advance(1000)
  attempts.begin(CHOICES, REDIRECT)
  t.equal(attempts.size, 1, 'expired attempts are swept when a new one begins')
})

t.test('the PKCE challenge is S256 of the verifier (RFC 7636 appendix B)', async (t) => {
  t.equal(pkceS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')
})
