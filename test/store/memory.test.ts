import t from 'tap'
import { ManualClock } from '../../src/core/clock.js'
import { MemoryStore } from '../../src/store/memory.js'
import { storeContract, type ContractCollections } from './contract.js'

interface Collections { codes: number, grants: number, accessTokens: number, assertionIds: boolean, pending: number }
const NAMES = ['codes', 'grants', 'accessTokens', 'assertionIds', 'pending'] as const
const EMPTY = { codes: 0, grants: 0, accessTokens: 0, assertionIds: 0, pending: 0 }

function storeWithClock (): { store: MemoryStore<Collections>, clock: ManualClock } {
  const clock = new ManualClock()
  return { store: new MemoryStore<Collections>(clock, { sweepIntervalMs: 0, collections: NAMES }), clock }
}

t.test('the memory store keeps the store contract', async (t) => {
  storeContract(t, async () => {
    const clock = new ManualClock()
    const store = new MemoryStore<ContractCollections>(clock, { sweepIntervalMs: 0 })
    t.teardown(async () => { await store.close() })
    return { store, advance: async (ms) => { clock.advance(ms) } }
  })
})

t.test('an entry expires exactly at its time to live', async (t) => {
  const { store, clock } = storeWithClock()
  await store.put('codes', 'abc', 1, 1000)
  clock.advance(999)
  t.equal(await store.get('codes', 'abc'), 1, 'one millisecond before expiry')
  clock.advance(1)
  t.equal(await store.get('codes', 'abc'), undefined, 'expired exactly at its time to live')
})

t.test('sizes lists every named collection, empty ones included', async (t) => {
  const { store } = storeWithClock()
  t.strictSame(await store.sizes(), EMPTY)
})

t.test('sweep removes expired entries and reports how many', async (t) => {
  const { store, clock } = storeWithClock()
  await store.put('codes', 'c1', 1, 1000)
  await store.put('codes', 'c2', 1, 5000)
  await store.put('assertionIds', 'j1', true, 1000)
  await store.increment('n', 1000)
  clock.advance(2000)
  t.equal(store.sweep(), 3, 'two entries and a counter')
  t.strictSame(await store.sizes(), { ...EMPTY, codes: 1 })
  t.equal(await store.get('codes', 'c2'), 1, 'live entries survive the sweep')
  t.equal(store.sweep(), 0)
})

t.test('sweep removes every expired entry of a collection, even behind live ones', async (t) => {
  const { store, clock } = storeWithClock()
  await store.put('accessTokens', 'long', 1, 10_000)
  for (let i = 0; i < 10; i++) await store.put('accessTokens', `short-${i}`, 1, 1000)
  clock.advance(1000)
  t.equal(store.sweep(), 10)
  t.strictSame(await store.sizes(), { ...EMPTY, accessTokens: 1 })
})

t.test(
  'sweep removes expired entries behind any number of longer-lived ones (lifetimes mixed in one collection)',
  async (t) => {
    const { store, clock } = storeWithClock()
    // Offline grants (30 days) first, then short grants: the short ones must not wait for a read
    for (let i = 0; i < 100; i++) await store.put('grants', `offline-${i}`, 1, 30 * 86_400_000)
    for (let i = 0; i < 100; i++) await store.put('grants', `short-${i}`, 1, 1000)
    await store.put('grants', 'offline-0', 1, 1000)
    clock.advance(1000)
    t.equal(store.sweep(), 101, 'every short grant, and the long one re-put with a short lifetime')
    t.strictSame(await store.sizes(), { ...EMPTY, grants: 99 })
    t.equal(await store.get('grants', 'offline-1'), 1)
    await store.delete('grants', 'offline-1')
    clock.advance(30 * 86_400_000)
    t.equal(store.sweep(), 98, 'a deleted entry is not swept twice')
    t.strictSame(await store.sizes(), EMPTY)
  }
)

t.test('sweep drops the lanes it empties, so TTLs that differ on every put leave nothing behind', async (t) => {
  const { store, clock } = storeWithClock()
  const collections = (store as unknown as { collections: Map<string, { lanes: Map<number, unknown> }> }).collections
  const lanes = (): number => collections.get('assertionIds')?.lanes.size ?? -1
  for (let i = 0; i < 500; i++) await store.put('assertionIds', `jti-${i}`, true, 1000 + i)
  await store.put('assertionIds', 'long-lived', true, 60_000)
  t.equal(lanes(), 501, 'one lane per distinct lifetime')
  clock.advance(1500)
  t.equal(store.sweep(), 500)
  t.equal(lanes(), 1, 'only the lane with a live entry is left')
  t.equal(await store.get('assertionIds', 'long-lived'), true)
  await store.put('assertionIds', 'again', true, 1000)
  clock.advance(1000)
  t.equal(
    await store.get('assertionIds', 'again'),
    undefined,
    'a lane opened again after being dropped works as before'
  )
  t.equal(store.sweep(), 0)
  t.equal(lanes(), 1)
})

t.test('the periodic sweep runs on its interval and close stops it', async (t) => {
  const clock = new ManualClock()
  const timers = t.capture(globalThis, 'setInterval', () => ({ unref: () => undefined }))
  const cleared = t.capture(globalThis, 'clearInterval', () => undefined)
  const store = new MemoryStore<Collections>(clock, { sweepIntervalMs: 250, collections: NAMES })
  const calls = timers.calls.map((call) => call.args)
  t.equal(calls.length, 1)
  t.equal(calls[0]?.[1], 250)
  await store.put('codes', 'c', 1, 100)
  clock.advance(100)
  const tick = calls[0]?.[0] as () => void
  tick()
  const entries = (store as unknown as { collections: Map<string, { entries: Map<string, unknown> }> }).collections
  t.equal(entries.get('codes')?.entries.size, 0, 'the timer callback sweeps')
  await store.close()
  t.equal(cleared.calls.length, 1)
})

t.test('the sweep interval defaults to 1 s and 0 disables it', async (t) => {
  const timers = t.capture(globalThis, 'setInterval', () => ({ unref: () => undefined }))
  const cleared = t.capture(globalThis, 'clearInterval', () => undefined)
  await new MemoryStore(new ManualClock()).close()
  t.equal(timers.calls[0]?.args[1], 1_000)
  await new MemoryStore(new ManualClock(), { sweepIntervalMs: 0 }).close()
  t.equal(timers.calls.length, 1, 'no timer for 0')
  t.equal(cleared.calls.length, 1, 'nothing to clear for 0')
})

t.test('size lets the collection\'s expired entries go, and only that collection\'s', async (t) => {
  const { store, clock } = storeWithClock()
  const collections = (store as unknown as { collections: Map<string, { entries: Map<string, unknown> }> }).collections
  await store.put('pending', 'p1', 1, 1000)
  await store.put('pending', 'p2', 1, 5000)
  await store.put('codes', 'c1', 1, 1000)
  clock.advance(1000)
  t.equal(await store.size('pending'), 1, 'p1 expired: not counted, no sweep needed')
  t.equal(collections.get('pending')?.entries.size, 1, 'and let go')
  t.equal(collections.get('codes')?.entries.size, 1, 'another collection is left to the sweep')
  t.equal(await store.size('grants'), 0, 'a collection never written')
})
