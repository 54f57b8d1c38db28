import assert from 'node:assert/strict';
import { reportsFor, SimulatedHidSource } from './simulated-source';

describe('SimulatedHidSource: reports typed like a scanner, through the real decoder', () => {
  it('types a code as key-down / release reports with shift where needed', () => {
    assert.deepEqual(
      reportsFor('A1\n').map((r) => Buffer.from(r).toString('hex')),
      ['0200040000000000', '0000000000000000', '00001e0000000000', '0000000000000000', '0000280000000000', '0000000000000000'],
    );
  });

  it('delivers scans while started, nothing while stopped', async () => {
    const s = new SimulatedHidSource();
    const codes: string[] = [];
    s.onScan((c) => codes.push(c));
    s.scan('lost');
    await s.start();
    s.scan('ABC-123');
    s.feed(reportsFor('12').concat(reportsFor('3\n')));
    await s.stop();
    assert.deepEqual(codes, ['ABC-123', '123']);
  });
});
