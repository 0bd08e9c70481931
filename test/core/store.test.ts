import t from 'tap'
import { ManualClock } from '../../src/core/clock.js'
import { MemoryStore } from '../../src/core/store.js'

const EMPTY = { pending: 0, codes: 0, grants: 0, accessTokens: 0, refreshTokens: 0, assertionIds: 0 }

function storeWithClock (): { store: MemoryStore, clock: ManualClock } {
  const clock = new ManualClock()
  return { store: new MemoryStore(clock, { sweepIntervalMs: 0 }), clock }
}

t.test('an entry is readable until its time to live has passed, then gone', async (t) => {
  const { store, clock } = storeWithClock()
  store.put('codes', 'abc', { grantId: 'g1' }, 1000)
  t.same(store.get('codes', 'abc'), { grantId: 'g1' })
  clock.advance(999)
  t.same(store.get('codes', 'abc'), { grantId: 'g1' }, 'one millisecond before expiry')
  clock.advance(1)
  t.equal(store.get('codes', 'abc'), undefined, 'expired exactly at its time to live')
  t.equal(store.sizes().codes, 0, 'an expired entry is removed when read')
})

t.test('collections are separate namespaces', async (t) => {
  const { store } = storeWithClock()
  store.put('codes', 'same-key', 'a code', 1000)
  store.put('accessTokens', 'same-key', 'a token', 1000)
  t.equal(store.get('codes', 'same-key'), 'a code')
  t.equal(store.get('accessTokens', 'same-key'), 'a token')
  t.equal(store.get('grants', 'same-key'), undefined)
})

t.test('put replaces an entry and restarts its time to live', async (t) => {
  const { store, clock } = storeWithClock()
  store.put('grants', 'g', 1, 1000)
  clock.advance(900)
  store.put('grants', 'g', 2, 1000)
  clock.advance(900)
  t.equal(store.get('grants', 'g'), 2)
  t.equal(store.sizes().grants, 1)
})

t.test('delete removes an entry and says whether there was one', async (t) => {
  const { store } = storeWithClock()
  store.put('pending', 'p', true, 1000)
  t.equal(store.delete('pending', 'p'), true)
  t.equal(store.get('pending', 'p'), undefined)
  t.equal(store.delete('pending', 'p'), false)
})

t.test('sizes counts entries per collection, expired ones included until swept', async (t) => {
  const { store, clock } = storeWithClock()
  t.same(store.sizes(), EMPTY)
  store.put('codes', 'c1', 1, 1000)
  store.put('codes', 'c2', 1, 5000)
  store.put('assertionIds', 'j1', true, 1000)
  clock.advance(2000)
  t.same(store.sizes(), { ...EMPTY, codes: 2, assertionIds: 1 })
  t.equal(store.sweep(), 2, 'sweep reports what it removed')
  t.same(store.sizes(), { ...EMPTY, codes: 1 })
  t.equal(store.get('codes', 'c2'), 1, 'live entries survive the sweep')
  t.equal(store.sweep(), 0)
})

t.test('sweep removes every expired entry of a collection, even behind live ones', async (t) => {
  const { store, clock } = storeWithClock()
  store.put('accessTokens', 'long', 1, 10_000)
  for (let i = 0; i < 10; i++) store.put('accessTokens', `short-${i}`, 1, 1000)
  clock.advance(1000)
  t.equal(store.sweep(), 10)
  t.same(store.sizes(), { ...EMPTY, accessTokens: 1 })
})

t.test('sweep removes expired entries behind any number of longer-lived ones (lifetimes mixed in one collection)', async (t) => {
  const { store, clock } = storeWithClock()
  // Offline grants (30 days) first, then short grants: the short ones must not wait for a read
  for (let i = 0; i < 100; i++) store.put('grants', `offline-${i}`, 1, 30 * 86_400_000)
  for (let i = 0; i < 100; i++) store.put('grants', `short-${i}`, 1, 1000)
  store.put('grants', 'offline-0', 1, 1000)
  clock.advance(1000)
  t.equal(store.sweep(), 101, 'every short grant, and the long one re-put with a short lifetime')
  t.same(store.sizes(), { ...EMPTY, grants: 99 })
  t.equal(store.get('grants', 'offline-1'), 1)
  store.delete('grants', 'offline-1')
  clock.advance(30 * 86_400_000)
  t.equal(store.sweep(), 98, 'a deleted entry is not swept twice')
  t.same(store.sizes(), EMPTY)
})

t.test('sweep drops the lanes it empties, so TTLs that differ on every put leave nothing behind', async (t) => {
  const { store, clock } = storeWithClock()
  const lanes = (): number => (store as unknown as { lanes: Map<string, Map<number, unknown>> }).lanes.get('assertionIds')?.size ?? -1
  for (let i = 0; i < 500; i++) store.put('assertionIds', `jti-${i}`, true, 1000 + i)
  store.put('assertionIds', 'long-lived', true, 60_000)
  t.equal(lanes(), 501, 'one lane per distinct lifetime')
  clock.advance(1500)
  t.equal(store.sweep(), 500)
  t.equal(lanes(), 1, 'only the lane with a live entry is left')
  t.equal(store.get('assertionIds', 'long-lived'), true)
  store.put('assertionIds', 'again', true, 1000)
  clock.advance(1000)
  t.equal(store.get('assertionIds', 'again'), undefined, 'a lane opened again after being dropped works as before')
  t.equal(store.sweep(), 0)
  t.equal(lanes(), 1)
})

t.test('clear empties every collection', async (t) => {
  const { store } = storeWithClock()
  store.put('pending', 'a', 1, 1000)
  store.put('refreshTokens', 'b', 1, 1000)
  store.clear()
  t.same(store.sizes(), EMPTY)
  t.equal(store.get('pending', 'a'), undefined)
})

t.test('the periodic sweep runs on its interval and close stops it', async (t) => {
  const clock = new ManualClock()
  const timers = t.capture(globalThis, 'setInterval', () => ({ unref: () => undefined }))
  const cleared = t.capture(globalThis, 'clearInterval', () => undefined)
  const store = new MemoryStore(clock, { sweepIntervalMs: 250 })
  const calls = timers.calls.map((call) => call.args)
  t.equal(calls.length, 1)
  t.equal(calls[0]?.[1], 250)
  store.put('codes', 'c', 1, 100)
  clock.advance(100)
  const tick = calls[0]?.[0] as () => void
  tick()
  t.equal(store.sizes().codes, 0, 'the timer callback sweeps')
  store.close()
  t.equal(cleared.calls.length, 1)
})

t.test('the sweep interval defaults to 1 s and 0 disables it', async (t) => {
  const timers = t.capture(globalThis, 'setInterval', () => ({ unref: () => undefined }))
  const cleared = t.capture(globalThis, 'clearInterval', () => undefined)
  new MemoryStore(new ManualClock()).close()
  t.equal(timers.calls[0]?.args[1], 1_000)
  new MemoryStore(new ManualClock(), { sweepIntervalMs: 0 }).close()
  t.equal(timers.calls.length, 1, 'no timer for 0')
  t.equal(cleared.calls.length, 1, 'nothing to clear for 0')
})
