import assert from 'node:assert/strict';
import { encodeJob } from './encode';
import { PrinterError, type Printer } from './printer';
import type { PrinterProfile } from './profile';

export interface PrinterUnderTest {
  printer: Printer;
  profile: PrinterProfile;
  /** stops whatever the setup started (a fake, a temp folder) */
  dispose(): Promise<void>;
}

/**
 * What every Printer does, whatever is behind it: run on the simulator and the fake network
 * printer in every test run, and on a real printer when PRINTER_ADDR is set (it prints two short
 * test slips). Mocha registers it inside the caller's describe.
 */
export function printerContract(setup: () => Promise<PrinterUnderTest>): void {
  let t: PrinterUnderTest;
  beforeEach(async () => {
    t = await setup();
  });
  afterEach(async () => {
    await t.printer.close();
    await t.dispose();
  });

  it('status() reports every named flag, and a ready printer is online with paper', async () => {
    const s = await t.printer.status();
    assert.deepEqual(Object.keys(s).sort(), ['coverOpen', 'drawerOpen', 'error', 'online', 'paperNearEnd', 'paperOut']);
    for (const v of Object.values(s)) assert.equal(typeof v, 'boolean');
    assert.equal(s.online, true);
    assert.equal(s.paperOut, false);
  });

  it('send() resolves once the job is acknowledged the way the profile says', async () => {
    const bytes = encodeJob({ ops: [{ op: 'text', text: 'Contract test · € é ü ñ ø', bold: true }, { op: 'qr', data: 'contract' }, { op: 'cut' }] }, t.profile);
    const r = await t.printer.send(bytes);
    assert.equal(r.acknowledgedBy, t.profile.acknowledgement === 'gs-r' ? 'gs-r' : 'write');
    if (r.acknowledgedBy === 'gs-r') assert.equal(r.paper?.out, false);
  });

  it('sends queued together all resolve, in order', async () => {
    const done: number[] = [];
    const job = (n: number) => encodeJob({ ops: [{ op: 'text', text: `Contract slip ${n}` }, { op: 'cut' }] }, t.profile);
    await Promise.all([1, 2].map((n) => t.printer.send(job(n)).then(() => done.push(n))));
    assert.deepEqual(done, [1, 2]);
  });

  it('after close(), send() rejects with printer-closed and prints nothing', async () => {
    await t.printer.close();
    await assert.rejects(t.printer.send(Buffer.from([0x1b, 0x40])), (e: unknown) => e instanceof PrinterError && e.code === 'printer-closed');
  });
}
