import t from 'tap'
import { isoTime } from '../../src/core/clock.js'

t.test('isoTime is Date#toISOString, remembered for the last millisecond asked only', async (t) => {
  // Repeats, a step back to an older value, fractions (Date truncates them), the range's edges
  const times = [0, 0, 1, Date.UTC(2026, 0, 1), 1, Date.UTC(2026, 0, 1) + 999, 1.5, 1, -1, 8.64e15, -8.64e15]
  for (const ms of times) t.equal(isoTime(ms), new Date(ms).toISOString(), `at ${ms}`)
})

t.test('isoTime refuses what Date refuses, and answers right afterwards', async (t) => {
  t.equal(isoTime(7), '1970-01-01T00:00:00.007Z')
  t.throws(() => isoTime(Number.NaN), RangeError)
  t.throws(() => isoTime(8.64e15 + 1), RangeError)
  t.equal(isoTime(7), '1970-01-01T00:00:00.007Z')
  t.equal(isoTime(8), '1970-01-01T00:00:00.008Z')
})
