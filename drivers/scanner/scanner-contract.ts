import assert from 'node:assert/strict';
import type { ScannerSource } from './scanner';

export interface ScannerUnderTest {
  source: ScannerSource;
  /** makes the scanner read `code` (the simulator types it; on hardware a person scans it) */
  scan(code: string): Promise<void>;
  /** how long to wait for a scan */
  waitMs: number;
}

/**
 * What every ScannerSource does: run on the simulated HID source in every test run, and on a
 * real scanner when SCANNER_PATH is set (a person scans a code within the wait).
 */
export function scannerContract(setup: () => Promise<ScannerUnderTest>): void {
  let t: ScannerUnderTest;
  beforeEach(async () => {
    t = await setup();
  });
  afterEach(async () => {
    await t.source.stop();
  });

  it('starts open and delivers a scanned code once, without its Enter', async () => {
    await t.source.start();
    assert.equal(t.source.state, 'open');
    const got = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no scan within ${t.waitMs} ms`)), t.waitMs);
      t.source.onScan((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    await t.scan('4006381333931');
    const code = await got;
    assert.match(code, /^\S+$/);
  });

  it('stops: state stopped', async () => {
    await t.source.start();
    await t.source.stop();
    assert.equal(t.source.state, 'stopped');
  });
}
