import assert from 'node:assert/strict';
import { HEAP_GROWING_PERCENT, tuneHeap } from './heap';

describe('the server heap setting', () => {
  it('sets how far the old generation grows before a full collection, and turns pretenuring off', () => {
    assert.deepEqual(tuneHeap([]), [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`, '--no-allocation-site-pretenuring']);
    assert.ok(HEAP_GROWING_PERCENT > 0 && HEAP_GROWING_PERCENT <= 300);
  });

  it("leaves each to node's command line when that names it", () => {
    assert.deepEqual(tuneHeap(['--inspect', '--heap-growing-percent=50']), ['--no-allocation-site-pretenuring']);
    assert.deepEqual(tuneHeap(['--heap_growing_percent=50']), ['--no-allocation-site-pretenuring']);
    assert.deepEqual(tuneHeap(['--allocation-site-pretenuring']), [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
    assert.deepEqual(tuneHeap(['--no-allocation-site-pretenuring', '--heap-growing-percent=50']), []);
  });
});
