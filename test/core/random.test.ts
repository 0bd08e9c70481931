import t from 'tap'
import { SeededRandom } from '../../src/core/random.js'

/** Draws one of everything, so a change in any method's consumption shows up */
function mixedSequence (random: SeededRandom): number[] {
  const values: number[] = []
  for (let i = 0; i < 50; i++) {
    values.push(
      random.next(),
      random.int(1, 6),
      random.chance(0.3) ? 1 : 0,
      random.uniform(10, 20),
      random.lognormal(300, 2000)
    )
  }
  return values
}

function percentile (sorted: number[], p: number): number {
  return sorted[Math.floor(p * sorted.length) - 1] as number
}

t.test('the same seed and the same calls give the same values', async (t) => {
  t.strictSame(mixedSequence(new SeededRandom(42)), mixedSequence(new SeededRandom(42)))
  t.strictSame(mixedSequence(new SeededRandom(0)), mixedSequence(new SeededRandom(0)))
})

t.test('another seed gives other values', async (t) => {
  const a = mixedSequence(new SeededRandom(42))
  const b = mixedSequence(new SeededRandom(43))
  t.not(a[0], b[0])
  t.ok(a.filter((value, i) => value !== b[i]).length > a.length / 2, 'most values differ')
})

t.test('next() is MT19937 genrand_res53: seed 42 starts like numpy RandomState(42)', async (t) => {
  // python3 -c "import numpy as np; r = np.random.RandomState(42); print(r.random_sample(), r.random_sample())"
  const random = new SeededRandom(42)
  t.equal(random.next(), 0.3745401188473625)
  t.equal(random.next(), 0.9507143064099162)
  t.equal(random.seed, 42)
})

t.test('next() stays in [0, 1) and is spread evenly', async (t) => {
  const random = new SeededRandom(7)
  const buckets = new Array<number>(10).fill(0)
  for (let i = 0; i < 20_000; i++) {
    const value = random.next()
    if (value < 0 || value >= 1) t.fail(`out of range: ${value}`)
    buckets[Math.floor(value * 10)]! += 1
  }
  for (const count of buckets) t.ok(count > 1800 && count < 2200, `bucket holds ${count} of ~2000`)
})

t.test('int(min, max) includes both bounds and nothing outside', async (t) => {
  const random = new SeededRandom(3)
  const seen = new Set<number>()
  for (let i = 0; i < 600; i++) seen.add(random.int(1, 6))
  t.strictSame([...seen].sort(), [1, 2, 3, 4, 5, 6])
  t.equal(random.int(5, 5), 5)
  t.throws(() => random.int(6, 1), RangeError)
  t.throws(() => random.int(1.5, 3), RangeError)
})

t.test('chance(p) is never true at 0, always at 1, and about p in between', async (t) => {
  const random = new SeededRandom(11)
  let hits = 0
  for (let i = 0; i < 1000; i++) {
    if (random.chance(0)) t.fail('chance(0) was true')
    if (!random.chance(1)) t.fail('chance(1) was false')
    if (random.chance(0.25)) hits++
  }
  t.ok(hits > 200 && hits < 300, `${hits} hits of ~250`)
  t.throws(() => random.chance(1.5), RangeError)
  t.throws(() => random.chance(-0.1), RangeError)
  t.throws(() => random.chance(Number.NaN), RangeError)
})

t.test('chance(p) draws once whatever p, so changing a probability does not shift later draws', async (t) => {
  const a = new SeededRandom(5)
  const b = new SeededRandom(5)
  a.chance(0)
  b.chance(0.9)
  t.equal(a.next(), b.next())
})

t.test('uniform(min, max) stays in [min, max)', async (t) => {
  const random = new SeededRandom(13)
  let low = Infinity
  let high = -Infinity
  for (let i = 0; i < 5000; i++) {
    const value = random.uniform(100, 200)
    low = Math.min(low, value)
    high = Math.max(high, value)
  }
  t.ok(low >= 100 && low < 101, `lowest ${low}`)
  t.ok(high < 200 && high > 199, `highest ${high}`)
  t.equal(random.uniform(7, 7), 7)
  t.throws(() => random.uniform(2, 1), RangeError)
  t.throws(() => random.uniform(0, Infinity), RangeError)
})

t.test('lognormal(median, p99) has that median and p99 over 20k samples', async (t) => {
  for (const seed of [1, 42, 20260101]) {
    const random = new SeededRandom(seed)
    const samples = Array.from({ length: 20_000 }, () => random.lognormal(300, 2000)).sort((a, b) => a - b)
    const median = percentile(samples, 0.5)
    const p99 = percentile(samples, 0.99)
    t.ok(Math.abs(median - 300) < 300 * 0.05, `seed ${seed}: median ${median.toFixed(1)} within 5% of 300`)
    t.ok(Math.abs(p99 - 2000) < 2000 * 0.1, `seed ${seed}: p99 ${p99.toFixed(1)} within 10% of 2000`)
    t.ok((samples[0] as number) > 0, 'never zero or negative')
  }
})

t.test('lognormal with p99 equal to the median is that constant', async (t) => {
  const random = new SeededRandom(9)
  for (let i = 0; i < 10; i++) t.equal(Math.round(random.lognormal(250, 250) * 1e9) / 1e9, 250)
})

t.test('lognormal rejects a median that is not positive or a p99 below it', async (t) => {
  const random = new SeededRandom(9)
  t.throws(() => random.lognormal(0, 100), RangeError)
  t.throws(() => random.lognormal(300, 200), RangeError)
  t.throws(() => random.lognormal(300, Infinity), RangeError)
})

t.test('a seed must be a 32-bit unsigned integer', async (t) => {
  t.equal(new SeededRandom(0xffff_ffff).seed, 0xffff_ffff)
  for (const bad of [-1, 1.5, 2 ** 32, Number.NaN]) {
    t.throws(
      () => new SeededRandom(bad),
      { name: 'RangeError', message: /seed must be an integer from 0 to 4294967295/ },
      String(bad)
    )
  }
})

t.test('randomSeed() gives a usable seed', async (t) => {
  const seed = SeededRandom.randomSeed()
  t.ok(Number.isInteger(seed) && seed >= 0 && seed <= 0xffff_ffff)
  t.equal(new SeededRandom(seed).seed, seed)
})

t.test('restart() goes back to the start of the sequence', async (t) => {
  const random = new SeededRandom(11)
  const first = [random.next(), random.int(1, 6), random.normal()]
  random.next()
  random.restart()
  t.strictSame([random.next(), random.int(1, 6), random.normal()], first)
})
