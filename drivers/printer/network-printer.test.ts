import assert from 'node:assert/strict';
import net from 'node:net';
import { FakeEscposPrinter } from '../../test/fakes/escpos-printer';
import { encodeJob, type PrintDoc } from './encode';
import { NetworkPrinter } from './network-printer';
import { PrinterError } from './printer';
import { defaultProfile, type PrinterProfile } from './profile';

const receipt: PrintDoc = {
  ops: [
    { op: 'text', text: 'Café Mürren', bold: true, width: 2, height: 2, align: 'center' },
    { op: 'text', text: 'Order #042 · Table 7', align: 'center' },
    { op: 'text', text: '2 Crème brûlée                      € 13,00' },
    { op: 'text', text: '1 Jalapeño Smørrebrød with a very long name that wraps € 9,50' },
    { op: 'text', text: 'TOTAL € 22,50', bold: true, height: 2 },
    { op: 'qr', data: 'R-000042' },
    { op: 'drawer' },
    { op: 'cut' },
  ],
};

const rejectsWith = async (p: Promise<unknown>, code: string, mayHavePrinted: boolean) => {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof PrinterError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.mayHavePrinted, mayHavePrinted, e.message);
    return true;
  });
};

describe('NetworkPrinter against the fake ESC/POS printer on loopback', () => {
  let fake: FakeEscposPrinter;
  let address: string;
  const open = (profile: PrinterProfile, ackTimeoutMs = 2000) => new NetworkPrinter({ address, profile, ackTimeoutMs, connectTimeoutMs: 1000 });

  beforeEach(async () => {
    fake = new FakeEscposPrinter();
    address = await fake.start();
  });
  afterEach(async () => {
    await fake.stop();
  });

  it('prints a receipt on 80 mm paper and resolves on the answer to GS r 1', async () => {
    fake.columns = 48;
    const printer = open(defaultProfile(80));
    const result = await printer.send(encodeJob(receipt, defaultProfile(80)));
    assert.deepEqual(result, { acknowledgedBy: 'gs-r', paper: { nearEnd: false, out: false } });
    assert.deepEqual(fake.errors, []);
    assert.equal(fake.acknowledged, 1);
    assert.equal(fake.printed.length, 1);
    const paper = fake.printed[0]!;
    assert.deepEqual(paper.lines.map((l) => l.text), [
      'Café Mürren',
      'Order #042 · Table 7', // · is fa in PC858
      '2 Crème brûlée                      € 13,00',
      '1 Jalapeño Smørrebrød with a very long name that',
      'wraps € 9,50',
      'TOTAL € 22,50',
    ]);
    assert.deepEqual(paper.lines[0], { text: 'Café Mürren', bold: true, width: 2, height: 2, align: 'center' });
    assert.deepEqual(paper.lines[5], { text: 'TOTAL € 22,50', bold: true, width: 1, height: 2, align: 'left' });
    assert.deepEqual(paper.codePages, [19]);
    assert.deepEqual(paper.qr, [{ data: 'R-000042', moduleSize: 6, errorLevel: 'M' }]);
    assert.deepEqual(paper.drawerPulses, [{ pin: 0, onMs: 50, offMs: 500 }]);
    assert.deepEqual(paper.feeds, [4]);
    assert.deepEqual(paper.cut, { kind: 'full', feed: 0 });
    await printer.close();
  });

  it('fits 58 mm paper (32 columns), and the fake catches a job laid out for 80 mm on it', async () => {
    fake.columns = 32;
    const p58 = defaultProfile(58);
    const printer = open(p58);
    await printer.send(encodeJob(receipt, p58));
    assert.deepEqual(fake.errors, []);
    assert.ok(fake.printed[0]!.lines.every((l) => [...l.text].length <= 32 / l.width));
    assert.deepEqual(fake.printed[0]!.lines.map((l) => l.text).slice(0, 2), ['Café Mürren', 'Order #042 · Table 7']);
    await printer.send(encodeJob(receipt, defaultProfile(80)));
    assert.match(fake.errors.join('\n'), /line wider than 32 columns: "2 Crème brûlée {22}€ 13,00"/);
    await printer.close();
  });

  it('reads the status the printer reports: paper near end, drawer open, then cover open and paper out', async () => {
    const printer = open(defaultProfile(80));
    fake.setStatus({ paperNearEnd: true, drawerOpen: true });
    assert.deepEqual(await printer.status(), { online: true, coverOpen: false, paperNearEnd: true, paperOut: false, drawerOpen: true, error: false });
    fake.setStatus({ online: false, coverOpen: true, paperOut: true, drawerOpen: false });
    assert.deepEqual(await printer.status(), { online: false, coverOpen: true, paperNearEnd: true, paperOut: true, drawerOpen: false, error: false });
    await printer.close();
  });

  it('a printer that never reads: send rejects with printer-timeout, nothing printed or acknowledged', async () => {
    fake.mode = 'never-read';
    const printer = open(defaultProfile(80), 300);
    await rejectsWith(printer.send(encodeJob(receipt, defaultProfile(80))), 'printer-timeout', true);
    assert.equal(fake.acknowledged, 0);
    assert.equal(fake.printed.length, 0);
    await printer.close();
  });

  it('a job larger than the kernel buffers, to a printer that never reads: printer-timeout, no crash', async () => {
    fake.mode = 'never-read';
    const printer = open(defaultProfile(80), 300);
    const big = encodeJob({ ops: Array.from({ length: 100_000 }, () => ({ op: 'text' as const, text: 'x'.repeat(48) })) }, defaultProfile(80));
    const unhandled: unknown[] = [];
    const record = (e: unknown) => unhandled.push(e); // in the server, an unhandled rejection ends the process
    process.on('unhandledRejection', record);
    try {
      await rejectsWith(printer.send(big), 'printer-timeout', true);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.off('unhandledRejection', record);
    }
    assert.deepEqual(unhandled, []);
    await printer.close();
  });

  it('status() of a printer that never reads rejects with printer-timeout after the status timeout', async () => {
    fake.mode = 'never-read';
    const printer = new NetworkPrinter({ address, profile: defaultProfile(80), statusTimeoutMs: 100, ackTimeoutMs: 10_000 });
    const started = Date.now();
    await rejectsWith(printer.status(), 'printer-timeout', false);
    assert.ok(Date.now() - started < 2000);
    await printer.close();
  });

  it('a printer that reads but never answers GS r: printer-timeout, though the paper came out', async () => {
    fake.mode = 'never-answer-gs-r';
    const printer = open(defaultProfile(80), 300);
    await rejectsWith(printer.send(encodeJob(receipt, defaultProfile(80))), 'printer-timeout', true);
    assert.equal(fake.acknowledged, 0);
    assert.equal(fake.printed.length, 1); // why a retry is marked "possible duplicate"
    await printer.close();
  });

  it('out of paper: the job waits in the printer, send times out, DLE EOT still answers paper out', async () => {
    const printer = open(defaultProfile(80), 300);
    fake.setStatus({ online: false, paperOut: true });
    await rejectsWith(printer.send(encodeJob(receipt, defaultProfile(80))), 'printer-timeout', true);
    assert.equal(fake.printed.length, 0);
    assert.equal((await printer.status()).paperOut, true);
    fake.setStatus({ online: true, paperOut: false }); // paper loaded: the held job prints
    assert.equal(fake.printed.length, 1);
    await printer.close();
  });

  it('a printer set to "no acknowledgement" resolves on write, even one that never reads', async () => {
    fake.mode = 'never-read';
    const profile = defaultProfile(80, { acknowledgement: 'none' });
    const printer = open(profile, 300);
    assert.deepEqual(await printer.send(encodeJob(receipt, profile)), { acknowledgedBy: 'write' });
    await printer.close();
  });

  it('refused connection: printer-unreachable, and nothing can have printed', async () => {
    await fake.stop();
    fake = new FakeEscposPrinter(); // afterEach stops this one
    await fake.start();
    const printer = open(defaultProfile(80));
    await rejectsWith(printer.send(encodeJob(receipt, defaultProfile(80))), 'printer-unreachable', false);
    await rejectsWith(printer.status(), 'printer-unreachable', false);
    await printer.close();
  });

  it('the printer closes the connection mid-job (bytes it cannot parse): printer-unreachable, may have printed', async () => {
    const printer = open(defaultProfile(80));
    await rejectsWith(printer.send(Buffer.from('1b40410a1bff0a', 'hex')), 'printer-unreachable', true);
    assert.match(fake.errors[0]!, /unknown ESC command at byte 4: 1b ff/);
    assert.equal(fake.acknowledged, 0);
    await printer.close();
  });

  it('prints concurrent jobs one connection after the other, in the order they were sent', async () => {
    const printer = open(defaultProfile(80));
    const jobs = ['first', 'second', 'third'].map((t) => encodeJob({ ops: [{ op: 'text', text: t }, { op: 'cut' }] }, defaultProfile(80)));
    await Promise.all(jobs.map((j) => printer.send(j)));
    assert.deepEqual(fake.printed.map((p) => p.lines[0]!.text), ['first', 'second', 'third']);
    assert.equal(fake.acknowledged, 3);
    assert.equal(fake.maxOpen, 1);
    assert.equal(fake.connections, 3);
    await printer.close();
  });

  it('writes the job, then GS r 1 as 1d 72 01 (pinned from the reference, not from commands.ts), and waits for its answer; DLE EOT n as 10 04 n', async () => {
    // a bare TCP peer that records the bytes and answers by hand: no shared decoder in the loop
    const got: Buffer[] = [];
    const server = net.createServer((s) => {
      s.on('data', (d) => {
        got.push(d);
        const all = Buffer.concat(got);
        if (all.subarray(-3).equals(Buffer.from([0x1d, 0x72, 0x01]))) s.write(Buffer.from([0x00]));
        if (all.subarray(-12).equals(Buffer.from('100401100402100403100404', 'hex'))) s.write(Buffer.from([0x12, 0x12, 0x12, 0x12]));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const printer = new NetworkPrinter({ address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, profile: defaultProfile(80), ackTimeoutMs: 2000 });
    const job = Buffer.from('1b401b741341420a1b64041d5600', 'hex');
    assert.deepEqual(await printer.send(job), { acknowledgedBy: 'gs-r', paper: { nearEnd: false, out: false } });
    assert.equal(Buffer.concat(got).toString('hex'), '1b401b741341420a1b64041d5600' + '1d7201');
    got.length = 0;
    assert.equal((await printer.status()).online, true);
    assert.equal(Buffer.concat(got).toString('hex'), '100401100402100403100404');
    await printer.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('after close(), send and status reject with printer-closed', async () => {
    const printer = open(defaultProfile(80));
    await printer.close();
    await rejectsWith(printer.send(Buffer.from('1b40', 'hex')), 'printer-closed', false);
    await rejectsWith(printer.status(), 'printer-closed', false);
  });
});
