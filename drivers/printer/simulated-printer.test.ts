import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeJob } from './encode';
import { PrinterError } from './printer';
import { defaultProfile } from './profile';
import { SimulatedPrinter } from './simulated-printer';

describe('SimulatedPrinter: jobs written as text under its folder', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prints-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes the decoded receipt, aligned to the paper, with QR, drawer and cut markers', async () => {
    const profile = defaultProfile(58);
    const printer = new SimulatedPrinter({ dir: path.join(dir, 'bar'), profile, now: () => new Date('2026-12-02T08:00:00.000Z') });
    const doc = {
      ops: [
        { op: 'text', text: 'Café Mürren', align: 'center' },
        { op: 'text', text: 'Total € 4,50', align: 'right' },
        { op: 'qr', data: 'R-7' },
        { op: 'drawer' },
        { op: 'cut' },
      ],
    } as const;
    await printer.send(encodeJob({ ops: [...doc.ops] }, profile));
    const files = fs.readdirSync(path.join(dir, 'bar'));
    assert.deepEqual(files, ['2026-12-02T08-00-00-000Z-0001.txt']);
    const text = fs.readFileSync(path.join(dir, 'bar', files[0]!), 'utf8');
    assert.equal(
      text,
      ['          Café Mürren', '                    Total € 4,50', `${' '.repeat(24)}[QR R-7]`, '[drawer pulse, pin 2]', '', '', '', '', '-'.repeat(32), ''].join('\n'),
    );
  });

  it('out of paper, it acknowledges nothing: printer-timeout, and no file', async () => {
    const profile = defaultProfile(80);
    const printer = new SimulatedPrinter({ dir, profile, ackTimeoutMs: 20 });
    printer.setStatus({ paperOut: true, online: false });
    assert.equal((await printer.status()).paperOut, true);
    await assert.rejects(printer.send(encodeJob({ ops: [{ op: 'text', text: 'x' }] }, profile)), (e: unknown) => e instanceof PrinterError && e.code === 'printer-timeout');
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});
