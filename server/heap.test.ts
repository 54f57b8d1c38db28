import assert from 'node:assert/strict';
import { HEAP_GROWING_PERCENT, tuneHeap } from './heap';

describe('the server heap setting', () => {
  it('sets how far the old generation grows before a full collection', () => {
    assert.deepEqual(tuneHeap([]), [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
    assert.ok(HEAP_GROWING_PERCENT > 0 && HEAP_GROWING_PERCENT <= 300);
  });

  it("leaves it to node's command line when that names one", () => {
    assert.deepEqual(tuneHeap(['--inspect', '--heap-growing-percent=50']), []);
    assert.deepEqual(tuneHeap(['--heap_growing_percent=50']), []);
  });
});
