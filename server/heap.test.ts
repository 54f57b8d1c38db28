import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

  it('once set at start, V8 keeps making in the young generation objects whose kind survived young collections', function () {
    this.timeout(30_000);
    // a place in the code whose objects all survive young collections: V8 left to itself starts
    // making that place's objects in the old generation (what the order views of requests in
    // flight met under a rush); after tuneHeap() it must not. One thread (--single-threaded):
    // optimised code, which is what acts on V8's decision, is then made at the same point every
    // run, so the probe answers the same every time.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heap-probe-'));
    const probe = path.join(dir, 'probe.cjs');
    fs.writeFileSync(
      probe,
      `const { tuneHeap } = require(${JSON.stringify(path.join(__dirname, 'heap.ts'))});
       if (process.argv[2] === 'tuned') tuneHeap([]);
       function make(i) { return { a: i, b: [i] }; }
       const keep = [];
       for (let round = 0; round < 30; round++) {
         for (let i = 0; i < 20000; i++) keep.push(make(i));
         gc({ type: 'minor' });
       }
       let young = 0;
       for (let i = 0; i < 100; i++) if (%InYoungGeneration(make(i))) young++;
       process.stdout.write(String(young));`,
    );
    const youngOf100 = (mode: string) => {
      const r = spawnSync(process.execPath, ['--single-threaded', '--allow-natives-syntax', '--expose-gc', '--import', 'tsx', probe, mode], {
        encoding: 'utf8',
        cwd: path.join(__dirname, '..'), // where tsx resolves
      });
      assert.equal(r.status, 0, r.stderr);
      return Number(r.stdout);
    };
    try {
      assert.equal(youngOf100('default'), 0, "V8's own choice, to show the probe sees the setting missing");
      assert.equal(youngOf100('tuned'), 100);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
