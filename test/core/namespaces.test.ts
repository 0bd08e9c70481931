// The namespace registry alone: definitions in a store, one world per namespace and revision,
// built once however many requests arrive together, let go when the namespace goes elsewhere.
import t from 'tap'
import { ManualClock } from '../../src/core/clock.js'
import type { Emulator } from '../../src/core/emulator.js'
import { NamespaceNotFoundError, Namespaces, type NamespaceCollections } from '../../src/core/namespaces.js'
import { MemoryStore } from '../../src/store/memory.js'

interface Built { name: string, revision: string, closed: boolean }

function registry (limits = { maxNamespaces: 10, idleMs: 60_000 }): {
  namespaces: Namespaces
  built: Built[]
  store: MemoryStore<NamespaceCollections>
  clock: ManualClock
} {
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 12))
  const store = new MemoryStore<NamespaceCollections>(clock, { sweepIntervalMs: 0 })
  const built: Built[] = []
  let ids = 0
  const namespaces = new Namespaces({
    store,
    worlds: new MemoryStore<object>(clock, { sweepIntervalMs: 0 }),
    clock,
    limits,
    build: (definition) => {
      const world: Built = { name: definition.name, revision: definition.revision, closed: false }
      built.push(world)
      return {
        close: async () => {
          world.closed = true
        }
      } as unknown as Emulator
    },
    issuerOf: (name) => `http://emulator.test/ns/${name}/camara/api/auth/v1`,
    newId: () => `rev-${++ids}`
  })
  return { namespaces, built, store, clock }
}

t.test('parallel first requests share one world; a replaced namespace is built again', async (t) => {
  const { namespaces, built } = registry()
  t.teardown(() => namespaces.close())
  await namespaces.put('ci-1', {})
  const worlds = await Promise.all(Array.from({ length: 10 }, async () => await namespaces.resolve('ci-1')))
  t.equal(new Set(worlds).size, 1, 'one world for ten requests')
  t.equal(built.length, 1)
  await namespaces.put('ci-1', { seed: 3 })
  const after = await namespaces.resolve('ci-1')
  t.not(after, worlds[0])
  t.strictSame(
    built.map((b) => [b.revision, b.closed]),
    [
      ['rev-1', true],
      ['rev-2', false]
    ],
    'the old world was let go'
  )
})

t.test('a namespace removed or replaced by another replica is let go here at the next sweep', async (t) => {
  const { namespaces, built, store } = registry()
  t.teardown(() => namespaces.close())
  await namespaces.put('gone', {})
  await namespaces.put('replaced', {})
  await namespaces.put('kept', {})
  for (const name of ['gone', 'replaced', 'kept']) await namespaces.resolve(name)
  // What another replica did, straight in the shared store
  await store.delete('namespaces', 'gone')
  const replaced = await store.get('namespaces', 'replaced')
  await store.put('namespaces', 'replaced', { ...replaced!, revision: 'elsewhere' }, 60_000)
  await namespaces.sweep()
  t.strictSame(built.map((b) => [b.name, b.closed]), [['gone', true], ['replaced', true], ['kept', false]])
  await t.rejects(namespaces.resolve('gone'), NamespaceNotFoundError)
  await namespaces.close()
  t.ok(built.every((b) => b.closed), 'closing the registry closes every world')
})

t.test('an unknown or impossible name is not found, and a DELETE of one is false', async (t) => {
  const { namespaces } = registry()
  t.teardown(() => namespaces.close())
  await t.rejects(namespaces.resolve('nobody'), {
    name: 'NamespaceNotFoundError',
    namespace: 'nobody',
    statusCode: 404
  })
  await t.rejects(namespaces.resolve('../etc'), NamespaceNotFoundError)
  t.equal(await namespaces.delete('nobody'), false)
  t.equal(await namespaces.delete('Not-Valid'), false)
})

t.test('the idle lifetime is restarted at most every tenth of it, by use', async (t) => {
  const { namespaces, store, clock } = registry({ maxNamespaces: 10, idleMs: 100_000 })
  t.teardown(() => namespaces.close())
  await namespaces.put('n', {})
  let touches = 0
  const touch = store.touch.bind(store)
  store.touch = async (...args) => { touches++; return await touch(...args) }
  for (let i = 0; i < 20; i++) {
    await namespaces.resolve('n')
    clock.advance(1_000)
  }
  t.equal(touches, 2, '20 uses over 20 s: touched at the first and after 10 s')
  t.equal(namespaces.max, 10)
  t.equal(await store.size('namespaces'), 1)
})
