// The store port's own rules: namespace names, shared store addresses, and the outage error.
import t from 'tap'
import { checkNamespaceName, isSharedStoreUrl, NAMESPACE_NAME, StoreUnavailableError } from '../../src/core/store.js'
import { thrown } from './support.js'

t.test('a store namespace is named in lower case, digits and dashes, 1 to 64 long', async (t) => {
  for (const name of ['a', 'team-1', '-journal', 'x'.repeat(64)]) {
    t.doesNotThrow(() => {
      checkNamespaceName(name)
    }, name)
  }
  for (const name of ['', 'Team', 'a_b', 'x'.repeat(65), 'a/b']) {
    t.match(
      thrown(() => {
        checkNamespaceName(name)
      }),
      { name: 'RangeError', message: `(got "${name}")` },
      JSON.stringify(name)
    )
  }
})

t.test('a user\'s namespace cannot take a name of the emulator\'s own bookkeeping', async (t) => {
  t.equal(NAMESPACE_NAME.test('-journal'), false)
  t.equal(NAMESPACE_NAME.test('team-1'), true)
})

t.test('a shared store is addressed by redis:// or rediss:// with a host', async (t) => {
  const answers = ['redis://127.0.0.1:6379', 'rediss://cache.internal/2', 'redis://', 'memory', 'http://redis:6379', 'valkey://h']
    .map(isSharedStoreUrl)
  t.strictSame(answers, [true, true, false, false, false, false])
})

t.test('the store\'s outage is an error of its own, keeping its cause', async (t) => {
  const cause = new Error('connect ECONNREFUSED 127.0.0.1:6379')
  const error = new StoreUnavailableError('redis://127.0.0.1:6379 does not answer', { cause })
  t.type(error, Error)
  t.equal(error.name, 'StoreUnavailableError')
  t.equal(error.cause, cause)
  t.equal(error.message, 'redis://127.0.0.1:6379 does not answer')
})
