import assert from 'node:assert/strict';
import { createScanner } from './create-scanner';
import { SimulatedHidSource } from './simulated-source';

describe('createScanner: the device settings pick the scanner source', () => {
  it("'hid' loads node-hid only when started, and is off with one line when it cannot", async () => {
    const logs: string[] = [];
    let loads = 0;
    const source = createScanner(
      { kind: 'hid', match: { vendorId: 0x05e0, productId: 0x1200 } },
      { log: (m) => logs.push(m), loadHid: async () => { loads++; throw new Error('libudev.so.1: cannot open shared object file'); } },
    );
    assert.equal(loads, 0);
    await source.start();
    assert.equal(source.state, 'off');
    assert.deepEqual(logs, ['scanner feature off: libudev.so.1: cannot open shared object file']);
  });

  it("'simulated' is the simulated HID source", () => {
    assert.ok(createScanner({ kind: 'simulated' }, { log: () => undefined }) instanceof SimulatedHidSource);
  });
});
