// The store contract: what every implementation of the store port (src/core/store.ts) must do.
// test/store/memory.test.ts runs it on the memory store; a shared store runs the same suite.
// Times to live are short (tens of ms) so an implementation whose expiry follows real time can
// pass `advance` as a real wait.
import type { Test } from 'tap'
import type { Store } from '../../src/core/store.js'

/** Collections the contract writes to: any names do, the values are plain JSON */
export interface ContractCollections {
  codes: { grantId: string, scopes?: string[] }
  grants: { id: string, revoked: boolean }
  uses: { grantId: string }
}

export interface StoreUnderTest {
  store: Store<ContractCollections>
  /** Lets at least `ms` pass on the store's clock */
  advance: (ms: number) => Promise<void>
}

const TTL = 100

export function storeContract (t: Test, make: () => Promise<StoreUnderTest>): void {
  t.test('get returns what put wrote until its time to live has passed, then nothing', async (t) => {
    const { store, advance } = await make()
    await store.put('codes', 'abc', { grantId: 'g1' }, TTL)
    t.strictSame(await store.get('codes', 'abc'), { grantId: 'g1' })
    await advance(TTL + 20)
    t.equal(await store.get('codes', 'abc'), undefined, 'expired')
    t.strictSame(await store.sizes().then((s) => s.codes ?? 0), 0, 'an expired entry is not counted')
  })

  t.test('collections are separate namespaces', async (t) => {
    const { store } = await make()
    await store.put('codes', 'same-key', { grantId: 'a code' }, TTL * 10)
    await store.put('uses', 'same-key', { grantId: 'a use' }, TTL * 10)
    t.strictSame(await store.get('codes', 'same-key'), { grantId: 'a code' })
    t.strictSame(await store.get('uses', 'same-key'), { grantId: 'a use' })
    t.equal(await store.get('grants', 'same-key'), undefined)
  })

  t.test('put replaces a value and restarts its time to live', async (t) => {
    const { store, advance } = await make()
    await store.put('grants', 'g', { id: 'g', revoked: false }, TTL * 2)
    await advance(TTL)
    await store.put('grants', 'g', { id: 'g', revoked: true }, TTL * 2)
    await advance(TTL + 20)
    t.strictSame(await store.get('grants', 'g'), { id: 'g', revoked: true }, 'the second value, still live')
    t.equal((await store.sizes()).grants, 1)
  })

  t.test('a value read cannot be changed in place, nor can the value written', async (t) => {
    const { store } = await make()
    const value = { grantId: 'g1', scopes: ['openid'] }
    await store.put('codes', 'c', value, TTL * 10)
    const read = await store.get('codes', 'c') as { grantId: string, scopes: string[] }
    t.throws(() => { read.grantId = 'changed' }, TypeError, 'top level frozen')
    t.throws(() => { read.scopes.push('more') }, TypeError, 'nested values frozen')
    t.strictSame(await store.get('codes', 'c'), { grantId: 'g1', scopes: ['openid'] })
  })

  t.test('add writes only where no live value has the key', async (t) => {
    const { store, advance } = await make()
    t.equal(await store.add('uses', 'jti-1', { grantId: 'first' }, TTL), true)
    t.equal(await store.add('uses', 'jti-1', { grantId: 'second' }, TTL), false, 'the key is taken')
    t.strictSame(await store.get('uses', 'jti-1'), { grantId: 'first' }, 'the first value stays')
    await advance(TTL + 20)
    t.equal(await store.add('uses', 'jti-1', { grantId: 'third' }, TTL), true, 'free again once expired')
    t.strictSame(await store.get('uses', 'jti-1'), { grantId: 'third' })
  })

  t.test('of parallel adds of one key, exactly one writes', async (t) => {
    const { store } = await make()
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => await store.add('uses', 'jti', { grantId: `g${i}` }, TTL * 10))
    )
    t.equal(results.filter(Boolean).length, 1)
  })

  t.test('take returns the value and removes it: a second take finds nothing', async (t) => {
    const { store } = await make()
    await store.put('uses', 'code-1', { grantId: 'g1' }, TTL * 10)
    t.strictSame(await store.take('uses', 'code-1'), { grantId: 'g1' })
    t.equal(await store.take('uses', 'code-1'), undefined)
    t.equal(await store.get('uses', 'code-1'), undefined)
  })

  t.test('of parallel takes of one key, exactly one gets the value', async (t) => {
    const { store } = await make()
    await store.put('uses', 'code-1', { grantId: 'g1' }, TTL * 10)
    const taken = await Promise.all(Array.from({ length: 20 }, async () => await store.take('uses', 'code-1')))
    t.strictSame(taken.filter((value) => value !== undefined), [{ grantId: 'g1' }])
  })

  t.test('take of an expired value finds nothing', async (t) => {
    const { store, advance } = await make()
    await store.put('uses', 'code-1', { grantId: 'g1' }, TTL)
    await advance(TTL + 20)
    t.equal(await store.take('uses', 'code-1'), undefined)
  })

  t.test('delete removes a value and says whether there was a live one', async (t) => {
    const { store, advance } = await make()
    await store.put('codes', 'p', { grantId: 'g' }, TTL * 10)
    t.equal(await store.delete('codes', 'p'), true)
    t.equal(await store.get('codes', 'p'), undefined)
    t.equal(await store.delete('codes', 'p'), false)
    await store.put('codes', 'q', { grantId: 'g' }, TTL)
    await advance(TTL + 20)
    t.equal(await store.delete('codes', 'q'), false, 'an expired value is no live one')
  })

  t.test('increment counts from 1, atomically, per counter', async (t) => {
    const { store } = await make()
    t.equal(await store.increment('scenario:a'), 1)
    t.equal(await store.increment('scenario:a'), 2)
    t.equal(await store.increment('scenario:b'), 1, 'counters are separate')
    const counts = await Promise.all(Array.from({ length: 20 }, async () => await store.increment('scenario:c')))
    t.strictSame(
      [...counts].sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 1),
      'parallel increments each get their own count'
    )
  })

  t.test('count reads a counter without counting', async (t) => {
    const { store, advance } = await make()
    t.equal(await store.count('never'), 0)
    await store.increment('read')
    await store.increment('read')
    t.equal(await store.count('read'), 2)
    t.equal(await store.count('read'), 2, 'reading did not count')
    t.equal(await store.increment('read'), 3)
    await store.increment('short', TTL)
    await advance(TTL + 20)
    t.equal(await store.count('short'), 0, 'an expired counter reads 0')
  })

  t.test('a counter with a time to live starts again once it has expired', async (t) => {
    const { store, advance } = await make()
    t.equal(await store.increment('window', TTL), 1)
    t.equal(await store.increment('window', TTL), 2)
    await advance(TTL + 20)
    t.equal(await store.increment('window', TTL), 1)
  })

  t.test('a time to live must be above zero', async (t) => {
    const { store } = await make()
    for (const ttl of [0, -1, Number.NaN]) {
      await t.rejects(store.put('codes', 'k', { grantId: 'g' }, ttl), RangeError, `put ${ttl}`)
      await t.rejects(store.add('codes', 'k', { grantId: 'g' }, ttl), RangeError, `add ${ttl}`)
      await t.rejects(store.increment('k', ttl), RangeError, `increment ${ttl}`)
    }
    t.equal(await store.get('codes', 'k'), undefined, 'nothing was written')
  })

  t.test(
    'size counts what a collection holds, at least its live entries, and drops with take and delete',
    async (t) => {
      const { store, advance } = await make()
      t.equal(await store.size('codes'), 0, 'an empty collection')
      await store.put('codes', 'a', { grantId: 'a' }, TTL * 10)
      await store.put('codes', 'b', { grantId: 'b' }, TTL * 10)
      await store.put('codes', 'b', { grantId: 'b again' }, TTL * 10)
      await store.put('uses', 'a', { grantId: 'a' }, TTL * 10)
      t.equal(await store.size('codes'), 2, 'a replaced key counts once; other collections not at all')
      await store.take('codes', 'a')
      t.equal(await store.size('codes'), 1)
      await store.delete('codes', 'b')
      t.equal(await store.size('codes'), 0)
      await store.put('codes', 'short', { grantId: 's' }, TTL)
      await advance(TTL + 20)
      t.equal(await store.size('codes'), 0, 'an expired entry is not counted, sweep or no sweep')
    }
  )

  t.test('clear removes every value of every collection and every counter', async (t) => {
    const { store } = await make()
    await store.put('codes', 'a', { grantId: 'g' }, TTL * 10)
    await store.put('grants', 'b', { id: 'b', revoked: false }, TTL * 10)
    await store.increment('n')
    await store.clear()
    t.equal(await store.get('codes', 'a'), undefined)
    t.equal(await store.get('grants', 'b'), undefined)
    t.equal(await store.increment('n'), 1, 'counters start again')
    const sizes = await store.sizes()
    t.strictSame(Object.values(sizes).filter((n) => n > 0), [], 'every collection empty')
  })

  t.test('sizes counts the live values per collection', async (t) => {
    const { store, advance } = await make()
    await store.put('codes', 'c1', { grantId: 'g' }, TTL)
    await store.put('codes', 'c2', { grantId: 'g' }, TTL * 10)
    await store.put('uses', 'u1', { grantId: 'g' }, TTL * 10)
    t.match(await store.sizes(), { codes: 2, uses: 1 })
    await advance(TTL + 20)
    t.match(await store.sizes(), { codes: 1, uses: 1 })
  })

  t.test('touch restarts a live value\'s time to live and never brings back a missing one', async (t) => {
    const { store, advance } = await make()
    await store.put('grants', 'g', { id: 'g', revoked: false }, TTL * 2)
    await advance(TTL)
    t.equal(await store.touch('grants', 'g', TTL * 2), true)
    await advance(TTL + 20)
    t.strictSame(
      await store.get('grants', 'g'),
      { id: 'g', revoked: false },
      'still live past its first lifetime, unchanged'
    )
    t.equal(await store.size('grants'), 1)
    t.equal(await store.touch('grants', 'missing', TTL), false)
    t.equal(await store.get('grants', 'missing'), undefined, 'touch wrote nothing')
    await advance(TTL * 2 + 20)
    t.equal(await store.touch('grants', 'g', TTL), false, 'an expired value cannot be touched back to life')
    t.equal(await store.get('grants', 'g'), undefined)
    await t.rejects(store.touch('grants', 'g', 0), RangeError)
  })

  t.test('list returns the live entries of one collection only', async (t) => {
    const { store, advance } = await make()
    t.strictSame(await store.list('codes'), [], 'an unwritten collection lists nothing')
    await store.put('codes', 'short', { grantId: 's' }, TTL)
    await store.put('codes', 'long', { grantId: 'l' }, TTL * 10)
    await store.put('uses', 'other', { grantId: 'u' }, TTL * 10)
    const byKey = (a: { key: string }, b: { key: string }): number => a.key.localeCompare(b.key)
    t.strictSame((await store.list('codes')).sort(byKey), [
      { key: 'long', value: { grantId: 'l' } },
      { key: 'short', value: { grantId: 's' } }
    ])
    await advance(TTL + 20)
    t.strictSame(await store.list('codes'), [{ key: 'long', value: { grantId: 'l' } }], 'the expired entry is gone')
    await store.take('codes', 'long')
    t.strictSame(await store.list('codes'), [])
    const [entry] = await store.list('uses')
    t.throws(() => { (entry?.value as { grantId: string }).grantId = 'changed' }, TypeError, 'listed values are frozen')
  })

  t.test('a namespace keeps its values and counters apart, and each clear empties only its own', async (t) => {
    const { store } = await make()
    const one = store.namespace('ns-one')
    const two = store.namespace('ns-two')
    t.teardown(async () => { await one.clear(); await two.clear(); await one.close(); await two.close() })
    await store.put('codes', 'same', { grantId: 'parent' }, TTL * 10)
    await one.put('codes', 'same', { grantId: 'one' }, TTL * 10)
    await two.put('codes', 'same', { grantId: 'two' }, TTL * 10)
    t.strictSame(await store.get('codes', 'same'), { grantId: 'parent' })
    t.strictSame(await one.get('codes', 'same'), { grantId: 'one' })
    t.strictSame(await two.take('codes', 'same'), { grantId: 'two' })
    t.strictSame(
      await one.get('codes', 'same'),
      { grantId: 'one' },
      'a take in one namespace spends nothing in another'
    )
    t.equal(await one.increment('n'), 1)
    t.equal(await store.increment('n'), 1, 'counters are apart too')
    t.equal(await one.size('codes'), 1)
    await store.clear()
    t.strictSame(await one.get('codes', 'same'), { grantId: 'one' }, 'the parent\'s clear leaves its namespaces')
    await store.put('codes', 'same', { grantId: 'parent' }, TTL * 10)
    await one.clear()
    t.equal(await one.get('codes', 'same'), undefined)
    t.strictSame(await store.get('codes', 'same'), { grantId: 'parent' }, 'a namespace\'s clear leaves its parent')
    await one.close()
    t.strictSame(
      await store.get('codes', 'same'),
      { grantId: 'parent' },
      'closing a namespace leaves the parent working'
    )
    t.throws(() => store.namespace('Not Valid'), RangeError, 'names are checked')
  })
}
