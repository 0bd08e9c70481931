import t from 'tap'
import { HEAP_GROWING_PERCENT, heapFlags } from '../../src/config/heap.js'

t.test('the CLI sets a heap growth of its own unless the user chose one', async (t) => {
  t.same(heapFlags([], undefined), [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`])
  t.same(heapFlags(['--enable-source-maps'], '--max-old-space-size=512'), [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`], 'other flags do not count')
  t.same(heapFlags(['--heap-growing-percent=50'], undefined), [], 'a node flag')
  t.same(heapFlags(['--heap_growing_percent=50'], undefined), [], 'V8 spelling with underscores')
  t.same(heapFlags([], '--inspect --heap-growing-percent=30'), [], 'NODE_OPTIONS')
})
