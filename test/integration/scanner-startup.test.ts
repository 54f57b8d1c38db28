import assert from 'node:assert/strict';
import { loadConfig } from '../../server/config';
import { createLogger } from '../../server/logger';
import { startServer, type RunningServer } from '../../server/main';
import { addScanner } from '../../server/devices/scanners';
import { Client, pairedClient, PINS } from '../helpers/client';
import { FakeClock } from '../helpers/clock';
import { tempDir } from '../helpers/config';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { until } from '../helpers/wait';
import type { TestApp } from '../helpers/app';

/**
 * Issue 21: the server must start and sell on a machine where node-hid cannot load (no libusb or
 * libudev): the scanner feature is then off, said once in the log, and nothing else changes.
 */
describe('the server without USB scanner support (node-hid fails to load)', function () {
  this.timeout(120_000);
  let t: TestDb;
  let server: RunningServer | undefined;
  const lines: Array<{ level: number; msg: string }> = [];
  let loads = 0;
  const clock = new FakeClock();
  before(async () => {
    t = await createTestDb();
    await seedStore(t.db);
    // a USB scanner and a simulated one bound to a terminal before the start
    const [terminal] = await t.db('terminals').insert({ name: 'Till', kind: 'counter', token_hash: 'x', created_at: clock.now() }).returning('id');
    await addScanner(t.db, clock, { name: 'USB', kind: 'hid', vendorId: 0x05e0, productId: 0x1200, path: null, terminalId: Number(terminal.id), enabled: true });
    await addScanner(t.db, clock, { name: 'Another USB', kind: 'hid', vendorId: null, productId: null, path: '/dev/hidraw3', terminalId: null, enabled: true });
    await addScanner(t.db, clock, { name: 'Demo', kind: 'simulated', vendorId: null, productId: null, path: null, terminalId: Number(terminal.id), enabled: true });
    const log = createLogger('info', { write: (s: string) => void lines.push(JSON.parse(s)) });
    const config = loadConfig({ DATA_DIR: tempDir(), DATABASE_URL: t.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SECRET_KEY: 'y'.repeat(40) });
    server = await startServer(config, {
      log, clock,
      loadHid: async () => {
        loads++;
        throw new Error('libusb-1.0.so.0: cannot open shared object file: No such file or directory\n    at dlopen (node:internal)');
      },
    });
  });
  after(async () => {
    await server?.stop();
    await t.drop();
  });

  it('starts, and says "scanner feature off" once, with the reason, whatever the number of USB scanners bound', async () => {
    assert.equal(loads, 1, 'node-hid is tried once');
    const scannerLines = lines.filter((l) => /scanner/i.test(l.msg ?? ''));
    assert.deepEqual(scannerLines.map((l) => l.msg), ['scanner feature off: libusb-1.0.so.0: cannot open shared object file: No such file or directory']);
    assert.equal(scannerLines[0]!.level, 40, 'a warning');
    assert.equal(server!.scanners.feature, 'off');
    assert.ok(lines.some((l) => l.msg === 'store server listening'));
    assert.equal((await fetch(`${server!.url}/healthz`)).status, 200);
  });

  it('sells: a sale is opened by a scan typed on the terminal, and paid in cash', async () => {
    const app = { url: server!.url, db: server!.db, clock } as unknown as TestApp;
    const c: Client = await pairedClient(app, { pin: PINS.cashier });
    const r = await c.post('/terminal/scan', { code: '4006040000013' });
    assert.equal(r.status, 204, r.text);
    const orderId = Number(/\/orders\/(\d+)/.exec(r.headers.get('HX-Redirect')!)![1]);
    await c.get(`/orders/${orderId}`, { htmx: false });
    const paid = await c.post(`/orders/${orderId}/payments`, { tendered: '10.00', idempotency_key: 'startup-sale-0001' });
    assert.equal(paid.status, 200, paid.text.slice(0, 300));
    assert.equal((await t.db('orders').where({ id: orderId }).first()).status, 'paid');
  });

  it('a simulated scanner still works, and the USB ones show as off', async () => {
    const [usb, demo] = await Promise.all([t.db('scanners').where({ name: 'USB' }).first(), t.db('scanners').where({ name: 'Demo' }).first()]);
    const asBinding = (r: { id: number; kind: 'hid' | 'simulated' }) => ({ id: Number(r.id), kind: r.kind, enabled: true }) as Parameters<RunningServer['scanners']['state']>[0];
    assert.equal(server!.scanners.state(asBinding(usb)), 'off');
    assert.equal(server!.scanners.state(asBinding(demo)), 'open');
    const before = Number((await t.db('order_lines').count<{ n: string }[]>('* as n'))[0].n);
    server!.scanners.simulated(Number(demo.id))!.scan('5000112548167');
    await until('the scanned line', async () => Number((await t.db('order_lines').count<{ n: string }[]>('* as n'))[0].n) === before + 1, 5000);
    assert.equal(lines.filter((l) => /scanner feature off/.test(l.msg ?? '')).length, 1, 'still said once');
  });
});
