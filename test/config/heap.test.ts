import t from 'tap'
import { HEAP_GROWING_PERCENT, heapFlags } from '../../src/config/heap.js'

t.test('the CLI sets a heap growth of its own unless the user chose one', async (t) => {
  t.strictSame(heapFlags([], undefined), [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`])
  t.strictSame(
    heapFlags(['--enable-source-maps'], '--max-old-space-size=512'),
    [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`],
    'other flags do not count'
  )
  t.strictSame(heapFlags(['--heap-growing-percent=50'], undefined), [], 'a node flag')
  t.strictSame(heapFlags(['--heap_growing_percent=50'], undefined), [], 'V8 spelling with underscores')
  t.strictSame(heapFlags([], '--inspect --heap-growing-percent=30'), [], 'NODE_OPTIONS')
})
