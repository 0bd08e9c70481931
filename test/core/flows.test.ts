// Flow ids and per-flow draws: derived from the seed and the order of flows and calls only.
import t from 'tap'
import { ManualClock } from '../../src/core/clock.js'
import { flowIdOf, Flows, legRandom, MAX_COUNTED_FLOWS } from '../../src/core/flows.js'
import { MemoryStore } from '../../src/store/memory.js'

const draw = (random: { next: () => number }): number => random.next()

t.test('flow ids follow the seed and the flow\'s number', async (t) => {
  const store = new MemoryStore<object>(new ManualClock(), { sweepIntervalMs: 0 })
  const flows = new Flows(store, () => 5, 3_600_000)
  const ids = [await flows.next(), await flows.next()]
  t.strictSame(ids, [flowIdOf(5, 1), flowIdOf(5, 2)])
  t.match(ids[0], /^[A-Za-z0-9_-]{12}$/)
  t.not(ids[0], ids[1])
  t.not(flowIdOf(6, 1), flowIdOf(5, 1), 'another seed, other ids')
})

t.test('each call of an operation in a flow has its own generator; a reset counts again', async (t) => {
  const store = new MemoryStore<object>(new ManualClock(), { sweepIntervalMs: 0 })
  const flows = new Flows(store, () => 5, 3_600_000)
  const first = draw(await flows.randomFor('flow-a', 'verify'))
  const second = draw(await flows.randomFor('flow-a', 'verify'))
  t.equal(first, draw(legRandom(5, 'flow-a', 'verify', 1)))
  t.equal(second, draw(legRandom(5, 'flow-a', 'verify', 2)))
  t.not(first, second)
  t.equal(
    draw(await flows.randomFor('flow-a', 'token')),
    draw(legRandom(5, 'flow-a', 'token', 1)),
    'counted per operation'
  )
  t.equal(draw(await flows.randomFor('flow-b', 'verify')), draw(legRandom(5, 'flow-b', 'verify', 1)), 'and per flow')
  flows.clear()
  t.equal(draw(await flows.randomFor('flow-a', 'verify')), first, 'after a reset the first call again')
})

t.test('one process keeps the counts of at most MAX_COUNTED_FLOWS flows, forgetting the oldest', async (t) => {
  const store = new MemoryStore<object>(new ManualClock(), { sweepIntervalMs: 0 })
  const flows = new Flows(store, () => 5, 3_600_000)
  await flows.randomFor('oldest', 'verify')
  await flows.randomFor('kept', 'verify')
  for (let i = 0; i < MAX_COUNTED_FLOWS - 1; i++) await flows.randomFor(`f${i}`, 'verify')
  t.equal(
    draw(await flows.randomFor('oldest', 'verify')),
    draw(legRandom(5, 'oldest', 'verify', 1)),
    'the oldest was forgotten: counted from 1 again'
  )
  t.equal(await store.count('flow-legs:kept:verify'), 0, 'nothing of it went to the store')
})
