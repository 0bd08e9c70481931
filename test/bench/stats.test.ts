import t from 'tap'
import { median, peakGrowth, percentile, slope } from '../../bench/lib/stats.js'

t.test('peakGrowth: the last quarter\'s peak over the second quarter\'s', async (t) => {
  t.equal(peakGrowth([0, 0, 0, 0]), 0)
  // A steady leak: every peak higher than the one before
  t.equal(peakGrowth([100, 101, 102, 103, 104, 105, 106, 107]), 4)
  // Warm-up (the first quarter) does not count, whatever it did
  t.equal(peakGrowth([10, 90, 135, 136, 134, 135, 136, 135]), 0)
  // A band that swings without a trend: low in the middle, back up at the end
  t.equal(peakGrowth([135, 137, 138, 134, 131, 133, 137, 138]), 0)
  // Falling is not growth
  t.equal(peakGrowth([140, 140, 140, 139, 138, 137, 136, 135]), -4)
  t.ok(Number.isNaN(peakGrowth([1, 2, 3])))
})

t.test('the slope the rule replaced follows a swing\'s phase', async (t) => {
  // Same band as above, second half only: the fit calls a trough followed by a crest growth
  const secondHalf = [131, 133, 137, 138]
  t.ok(slope(secondHalf.map((y, x) => [x, y])) > 2)
  t.equal(peakGrowth([135, 137, 138, 134, ...secondHalf]), 0)
})

t.test('median and percentile', async (t) => {
  t.equal(median([3, 1, 2]), 2)
  t.equal(percentile([1, 2, 3, 4], 99), 4)
  t.ok(Number.isNaN(percentile([], 50)))
  t.equal(slope([[0, 1]]), 0)
})
