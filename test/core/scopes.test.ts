import t from 'tap'
import {
  NUMBER_VERIFICATION_SCOPES,
  NV_SHARE_SCOPE,
  NV_VERIFY_SCOPE,
  parseScope,
  scopeProblem
} from '../../src/core/scopes.js'

const ALLOWED = [NV_VERIFY_SCOPE, NV_SHARE_SCOPE]

t.test('parseScope sorts scopes into API scopes, purposes and protocol flags', async (t) => {
  t.strictSame(parseScope('openid dpv:FraudPreventionAndDetection number-verification:verify offline_access'), {
    scopes: ['openid', 'dpv:FraudPreventionAndDetection', 'number-verification:verify', 'offline_access'],
    apiScopes: ['number-verification:verify'],
    purposes: ['dpv:FraudPreventionAndDetection'],
    openid: true,
    offlineAccess: true
  })
})

t.test('parseScope drops repeats and empty entries from extra spaces', async (t) => {
  t.strictSame(parseScope('  number-verification:verify  number-verification:verify '), {
    scopes: ['number-verification:verify'],
    apiScopes: ['number-verification:verify'],
    purposes: [],
    openid: false,
    offlineAccess: false
  })
  t.strictSame(parseScope('').scopes, [])
})

t.test('a dpv: value that is not a purpose name counts as an API scope', async (t) => {
  const parsed = parseScope('dpv: dpv:1abc dpv:Fraud-Prevention dpv:FraudPrevention2')
  t.strictSame(parsed.purposes, ['dpv:FraudPrevention2'])
  t.strictSame(parsed.apiScopes, ['dpv:', 'dpv:1abc', 'dpv:Fraud-Prevention'])
})

t.test('scopeProblem accepts allowed API scopes with exactly one purpose', async (t) => {
  t.equal(
    scopeProblem(parseScope('openid dpv:FraudPreventionAndDetection number-verification:verify'), ALLOWED, {
      requirePurpose: true
    }),
    undefined
  )
  t.equal(
    scopeProblem(parseScope('openid number-verification:verify'), ALLOWED, { requirePurpose: false }),
    undefined,
    'purpose optional'
  )
  t.equal(
    scopeProblem(parseScope('openid offline_access dpv:Purpose'), [], { requirePurpose: true }),
    undefined,
    'protocol scopes need no allowance'
  )
  t.strictSame(NUMBER_VERIFICATION_SCOPES, [
    'number-verification:verify',
    'number-verification:device-phone-number:read'
  ])
})

t.test('scopeProblem names each reason a scope is refused', async (t) => {
  t.equal(scopeProblem(parseScope(' '), ALLOWED, { requirePurpose: true }), 'scope is empty')
  t.equal(
    scopeProblem(
      parseScope('dpv:Purpose number-verification:verify sim-swap:check kyc-match:match'),
      [NV_VERIFY_SCOPE],
      { requirePurpose: true }
    ),
    'scope not allowed for this client: sim-swap:check kyc-match:match'
  )
  t.equal(
    scopeProblem(parseScope('dpv:Purpose number-verification:device-phone-number:read'), [NV_VERIFY_SCOPE], {
      requirePurpose: true
    }),
    'scope not allowed for this client: number-verification:device-phone-number:read'
  )
  t.equal(
    scopeProblem(parseScope('dpv:FraudPreventionAndDetection dpv:Marketing number-verification:verify'), ALLOWED, {
      requirePurpose: false
    }),
    'exactly one dpv: purpose is allowed, got dpv:FraudPreventionAndDetection dpv:Marketing'
  )
  t.equal(scopeProblem(parseScope('openid number-verification:verify'), ALLOWED, { requirePurpose: true }),
    'a dpv: purpose is required, e.g. dpv:FraudPreventionAndDetection')
})

t.test('scopeProblem reports refused scopes before purpose problems', async (t) => {
  t.equal(
    scopeProblem(parseScope('sim-swap:check'), ALLOWED, { requirePurpose: true }),
    'scope not allowed for this client: sim-swap:check'
  )
})
