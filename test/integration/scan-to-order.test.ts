import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import { io as ioClient, type Socket } from 'socket.io-client';
import { createApp, type App } from '../../server/app';
import { socketAuthorizer } from '../../server/auth/socket-auth';
import type { Db } from '../../server/db/knex';
import { ScannerService, addScanner } from '../../server/devices/scanners';
import { createEventBus, type EventBus } from '../../server/events';
import { listen, type HttpServer } from '../../server/http/server';
import type { Io } from '../../server/realtime/io';
import { seedSettings } from '../../server/settings/service';
import { createApiToken } from '../../server/api/tokens';
import type { HidDeviceInfo, HidHandle, NodeHid } from '../../drivers/scanner/hid-source';
import { reportsFor } from '../../drivers/scanner/simulated-source';
import { gtinCheckDigit } from '../../drivers/scanner/barcode';
import { ApiRecorder } from '../helpers/api';
import { Client, pairedClient, PINS } from '../helpers/client';
import { FakeClock } from '../helpers/clock';
import { testConfig } from '../helpers/config';
import { testLog } from '../helpers/log';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { until } from '../helpers/wait';
import type { TestApp } from '../helpers/app';

const WATER = '4006040000013'; // Sparkling water 0.5 l in the demo catalog
const COLA = '5000112548167'; // Cola 0.33 l

/** node-hid as the scanner service sees it: a device list the test edits, handles the test feeds with reports. */
class FakeNodeHid implements NodeHid {
  devices: HidDeviceInfo[] = [];
  opened: Array<HidHandle & EventEmitter> = [];
  async devicesAsync() {
    return [...this.devices];
  }
  HIDAsync = {
    open: async (path: string) => {
      if (!this.devices.some((d) => d.path === path)) throw new Error(`cannot open device with path ${path}`);
      const h = Object.assign(new EventEmitter(), { close: async () => undefined });
      this.opened.push(h);
      return h;
    },
  };
}
const USB_SCANNER: HidDeviceInfo = { vendorId: 0x05e0, productId: 0x1200, path: '/dev/hidraw7', product: 'Symbol Bar Code Scanner', usagePage: 1, usage: 6 };

interface Booted {
  url: string;
  db: Db;
  clock: FakeClock;
  app: App;
  http: HttpServer;
  events: EventBus;
  scanners: ScannerService;
  close(): Promise<void>;
}

/** The app wired as main.ts wires it, the scanner service included (test/helpers/app.ts has none). */
async function bootWithScanners(db: Db, hid: NodeHid): Promise<Booted> {
  const clock = new FakeClock();
  const config = testConfig();
  await seedSettings(db, clock, {});
  const realtime: { io?: Io } = {};
  const events = createEventBus(testLog);
  const scanners = new ScannerService({ db, clock, events, log: testLog, io: () => realtime.io, loadHid: async () => hid, pollMs: 10 });
  const app = createApp({ config, db, clock, log: testLog, realtime, secretKey: config.SECRET_KEY!, events, scanners });
  const http = await listen(app, { port: 0, host: '127.0.0.1', timeoutMs: 5000, log: testLog, authorize: socketAuthorizer(db, config.SECRET_KEY!) });
  realtime.io = http.io;
  await scanners.start();
  return {
    url: `http://127.0.0.1:${http.port}`, db, clock, app, http, events, scanners,
    close: async () => {
      await scanners.stop();
      await http.close();
    },
  };
}

/** A terminal's page as terminal.js and wedge.js connect it: a socket with the browser's cookies. */
class TerminalSocket {
  readonly updated: number[] = [];
  readonly opened: number[] = [];
  readonly refused: Array<{ code: string; message: string }> = [];
  private constructor(readonly socket: Socket) {
    socket.on('order:updated', (p) => this.updated.push(p.orderId));
    socket.on('scan:opened', (p) => this.opened.push(p.orderId));
    socket.on('scan:refused', (p) => this.refused.push(p));
  }
  static connect(url: string, c: Client): Promise<TerminalSocket> {
    const socket = ioClient(url, { transports: ['websocket'], extraHeaders: { Cookie: c.cookieHeader() }, reconnection: false, forceNew: true });
    return new Promise((resolve, reject) => {
      socket.on('connect', () => resolve(new TerminalSocket(socket)));
      socket.on('connect_error', reject);
    });
  }
  watch(orderId: number): Promise<boolean> {
    return new Promise((resolve) => this.socket.emit('order:watch', { orderId }, (ok: boolean) => resolve(ok)));
  }
  close() {
    this.socket.close();
  }
}

describe('scan to order: a scanner bound to a terminal adds to the order that terminal shows', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: Booted;
  let hid: FakeNodeHid;
  let store: Awaited<ReturnType<typeof seedStore>>;
  let counter: Client; // terminal T: the scanner's
  let other: Client; // another terminal, which must hear nothing of T's scans
  let counterId: number;
  const sockets: TerminalSocket[] = [];
  before(async () => {
    t = await createTestDb();
    store = await seedStore(t.db);
    hid = new FakeNodeHid();
    app = await bootWithScanners(t.db, hid);
    counter = await pairedClient(app as unknown as TestApp, { pin: PINS.cashier, name: 'Counter T' });
    other = await pairedClient(app as unknown as TestApp, { pin: PINS.owner, name: 'Other' });
    counterId = Number((await t.db('terminals').where({ name: 'Counter T' }).first()).id);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  after(async () => {
    await app.close();
    await t.drop();
  });

  const connect = async (c: Client) => {
    const s = await TerminalSocket.connect(app.url, c);
    sockets.push(s);
    return s;
  };
  const bindSimulated = async (terminalId: number | null = counterId) => {
    const b = await addScanner(t.db, app.clock, { name: `Sim ${crypto.randomUUID().slice(0, 6)}`, kind: 'simulated', vendorId: null, productId: null, path: null, terminalId, enabled: true });
    await app.scanners.reload();
    const source = app.scanners.simulated(b.id);
    assert.ok(source, 'the service opened the simulated scanner');
    return { binding: b, source };
  };
  const lines = async (orderId: number) =>
    (await t.db('order_lines').where({ order_id: orderId }).orderBy('id').select('name', 'quantity', 'unit_price')) as Array<{ name: string; quantity: number; unit_price: number }>;
  const ordersOf = async () => Number((await t.db('orders').count<{ n: string }[]>('* as n'))[0].n);
  /** a counter order with one line, open on terminal T's screen */
  const openOnT = async (): Promise<number> => {
    const before = await ordersOf();
    const r = await counter.post('/terminal/scan', { code: COLA });
    assert.equal(r.status, 204, r.text);
    assert.equal(await ordersOf(), before + 1);
    return Number(/\/orders\/(\d+)/.exec(r.headers.get('HX-Redirect')!)![1]);
  };

  it('a simulated HID source feeding the real decoder: the product is added to the order on T, and T is told over socket.io', async () => {
    const orderId = await openOnT();
    const ts = await connect(counter);
    assert.equal(await ts.watch(orderId), true);
    const { source } = await bindSimulated();
    source.feed(reportsFor(`${WATER}\n`)); // key down / release reports, then Enter, through HidReportDecoder
    await until('the order:updated nudge on T', () => ts.updated.includes(orderId), 5000);
    assert.deepEqual((await lines(orderId)).map((l) => l.name), ['Cola 0.33 l', 'Sparkling water 0.5 l']);
    assert.deepEqual(ts.refused, []);
    assert.deepEqual(ts.opened, [], 'the order was on screen: nothing to open');
  });

  it('a USB scanner (node-hid) by vendor/product id: opened when plugged in, its reports become lines, re-opened after a replug', async () => {
    const orderId = await openOnT();
    const ts = await connect(counter);
    await ts.watch(orderId);
    const b = await addScanner(t.db, app.clock, { name: 'USB', kind: 'hid', vendorId: 0x05e0, productId: 0x1200, path: null, terminalId: counterId, enabled: true });
    await app.scanners.reload();
    assert.equal(app.scanners.state(b), 'waiting', 'not plugged in yet');
    hid.devices = [USB_SCANNER];
    await until('the scanner opened', () => app.scanners.state(b) === 'open', 5000);
    for (const r of reportsFor(`${WATER}\n`)) hid.opened.at(-1)!.emit('data', Buffer.from(r));
    await until('the line', async () => (await lines(orderId)).length === 2, 5000);
    // unplugged, then back: the service reads it again
    hid.devices = [];
    hid.opened.at(-1)!.emit('error', new Error('could not read from HID device'));
    assert.equal(app.scanners.state(b), 'waiting');
    hid.devices = [USB_SCANNER];
    await until('re-opened', () => app.scanners.state(b) === 'open', 5000);
    // a hidraw report numbered with a report id (9 bytes) reads the same
    for (const r of reportsFor(`${WATER}\n`)) hid.opened.at(-1)!.emit('data', Buffer.concat([Buffer.from([0]), Buffer.from(r)]));
    await until('the second line', async () => (await lines(orderId)).length === 3, 5000);
    assert.deepEqual((await lines(orderId)).map((l) => l.name), ['Cola 0.33 l', 'Sparkling water 0.5 l', 'Sparkling water 0.5 l']);
    await t.db('scanners').where({ id: b.id }).update({ enabled: false });
    await app.scanners.reload();
    assert.equal(app.scanners.state({ ...b, enabled: false }), 'disabled');
    hid.devices = [];
  });

  it('with no order on T, a scan opens a counter order with that line and tells T to show it; the next scan lands on it too', async () => {
    const ts = await connect(counter); // T's idle page: it watches no order
    const { source } = await bindSimulated();
    const before = await ordersOf();
    source.scan(WATER);
    source.scan(COLA); // before T has even shown the first one
    await until('scan:opened on T', () => ts.opened.length === 1, 5000);
    const orderId = ts.opened[0]!;
    await until('both lines', async () => (await lines(orderId)).length === 2, 5000);
    assert.equal(await ordersOf(), before + 1, 'one sale, not two');
    const order = await t.db('orders').where({ id: orderId }).first();
    assert.equal(order.type, 'counter');
    assert.equal(order.status, 'open');
    assert.equal(Number(order.terminal_id), counterId);
    assert.deepEqual((await lines(orderId)).map((l) => l.name), ['Sparkling water 0.5 l', 'Cola 0.33 l']);
  });

  it('an order paid meanwhile is not changed: the scan starts a new sale', async () => {
    const paidId = await openOnT();
    const ts = await connect(counter);
    await ts.watch(paidId);
    await t.db('orders').where({ id: paidId }).update({ status: 'paid' }); // as if paid on another terminal
    const { source } = await bindSimulated();
    source.scan(WATER);
    await until('scan:opened', () => ts.opened.length === 1, 5000);
    assert.notEqual(ts.opened[0], paidId);
    assert.equal((await lines(paidId)).length, 1, 'the paid order kept its lines');
    assert.deepEqual((await lines(ts.opened[0]!)).map((l) => l.name), ['Sparkling water 0.5 l']);
  });

  it('an unknown code: an alert with the code on T alone; another terminal hears nothing, and nothing is added', async () => {
    const orderId = await openOnT();
    const ts = await connect(counter);
    await ts.watch(orderId);
    const elsewhere = await connect(other);
    assert.equal(await elsewhere.watch(orderId), true, 'even watching the same order');
    const { source } = await bindSimulated();
    source.scan('ABC-12345');
    await until('scan:refused on T', () => ts.refused.length === 1, 5000);
    assert.equal(ts.refused[0]!.code, 'ABC-12345');
    assert.match(ts.refused[0]!.message, /No product has the barcode ABC-12345/);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(elsewhere.refused, []);
    assert.deepEqual(elsewhere.opened, []);
    assert.equal((await lines(orderId)).length, 1);
  });

  it('refuses an EAN-13 or UPC-A with a wrong check digit (alert), and finds a UPC-A stored as its EAN-13', async () => {
    const orderId = await openOnT();
    const ts = await connect(counter);
    await ts.watch(orderId);
    const { source } = await bindSimulated();
    const bad = WATER.slice(0, 12) + String((Number(WATER[12]) + 1) % 10);
    source.scan(bad);
    source.scan('036000291453');
    await until('two alerts', () => ts.refused.length === 2, 5000);
    assert.match(ts.refused[0]!.message, new RegExp(`Barcode ${bad} did not read right \\(its EAN-13 check digit is wrong\\)`));
    assert.match(ts.refused[1]!.message, /its UPC-A check digit is wrong/);
    const mug = await store.product('Café mug');
    await t.db('product_barcodes').insert({ barcode: '0036000291452', product_id: mug.id });
    source.scan('036000291452');
    await until('the mug', async () => (await lines(orderId)).length === 2, 5000);
    assert.equal((await lines(orderId))[1]!.name, 'Café mug');
  });

  it('a price-embedded EAN-13 (setting on) adds the item at the price on its label; with the setting off it is an unknown code', async () => {
    const voucher = await store.product('Gift voucher'); // open price
    await t.db('product_barcodes').insert({ barcode: '12345', product_id: voucher.id });
    const label = `221234501995`;
    const code = label + gtinCheckDigit(label); // 22 · item 12345 · 01995 = 19.95
    const orderId = await openOnT();
    const ts = await connect(counter);
    await ts.watch(orderId);
    const { source } = await bindSimulated();
    source.scan(code);
    await until('refused while the setting is off', () => ts.refused.length === 1, 5000);
    assert.match(ts.refused[0]!.message, new RegExp(`No product has the barcode ${code}`));
    await t.db('settings').insert({ key: 'embeddedPriceBarcodes', value: JSON.stringify(true), updated_at: new Date() }).onConflict('key').merge();
    source.scan(code);
    await until('the line', async () => (await lines(orderId)).length === 2, 5000);
    const line = (await lines(orderId))[1]!;
    assert.equal(line.name, 'Gift voucher');
    assert.equal(Number(line.unit_price), 1995);
    // a fixed-price item's label cannot set its price
    const water = await store.product('Sparkling water 0.5 l');
    await t.db('product_barcodes').insert({ barcode: '54321', product_id: water.id });
    const fixed = `235432100450`;
    source.scan(fixed + gtinCheckDigit(fixed));
    await until('refused', () => ts.refused.length === 2, 5000);
    assert.match(ts.refused[1]!.message, /Sparkling water 0\.5 l has a fixed price/);
    await t.db('settings').where({ key: 'embeddedPriceBarcodes' }).delete();
  });

  it('the back office settings page has the price-label checkbox, and saving it turns the setting on and off', async () => {
    const owner = other;
    /** the settings form as a browser would send it: every field as drawn, checkboxes only when ticked */
    const drawn = async () => {
      const html = (await owner.get('/backoffice/settings', { htmx: false })).text;
      const form = html.slice(html.indexOf('id="settings-form"'), html.indexOf('</form>', html.indexOf('id="settings-form"')));
      const fields: Record<string, string> = {};
      for (const m of form.matchAll(/<input([^>]*)>/g)) {
        const name = /name="([^"]+)"/.exec(m[1]!)?.[1];
        if (!name || name === '_csrf') continue;
        if (/type="checkbox"/.test(m[1]!)) { if (/\schecked/.test(m[1]!)) fields[name] = 'on'; continue; }
        fields[name] = (/value="([^"]*)"/.exec(m[1]!)?.[1] ?? '').replace(/&amp;/g, '&');
      }
      for (const m of form.matchAll(/<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)<\/textarea>/g)) fields[m[1]!] = m[2]!.replace(/&#10;/g, '\n');
      return fields;
    };
    const setting = async () => (await t.db('settings').where({ key: 'embeddedPriceBarcodes' }).first())?.value;
    const before = await drawn();
    assert.equal(before.embeddedPriceBarcodes, undefined, 'off by default');
    const on = await owner.post('/backoffice/settings', { ...before, embeddedPriceBarcodes: 'on' }, { htmx: false });
    assert.equal(on.status, 200, on.text.slice(0, 300));
    assert.equal(await setting(), true);
    assert.equal((await drawn()).embeddedPriceBarcodes, 'on', 'drawn ticked');
    const { embeddedPriceBarcodes: _, ...off } = await drawn();
    assert.equal((await owner.post('/backoffice/settings', off, { htmx: false })).status, 200);
    assert.equal(await setting(), false);
  });

  describe('POST /terminal/scan: a keyboard-wedge scan from the terminal page', () => {
    it('adds to the order on the page and answers its panel', async () => {
      const orderId = await openOnT();
      const r = await counter.post('/terminal/scan', { code: WATER, order_id: String(orderId), idempotency_key: crypto.randomUUID() });
      assert.equal(r.status, 200, r.text);
      assert.match(r.text, new RegExp(`id="order-panel"[^>]*data-order-id="${orderId}"`));
      assert.match(r.text, /Sparkling water 0\.5 l/);
      assert.equal((await lines(orderId)).length, 2);
    });

    it('a retry with the same key adds nothing more', async () => {
      const orderId = await openOnT();
      const key = crypto.randomUUID();
      for (let i = 0; i < 2; i++) assert.equal((await counter.post('/terminal/scan', { code: WATER, order_id: String(orderId), idempotency_key: key })).status, 200);
      assert.equal((await lines(orderId)).length, 2);
    });

    it('refuses an unknown code with 422 shown in #flash, and adds nothing', async () => {
      const orderId = await openOnT();
      const r = await counter.post('/terminal/scan', { code: '999999', order_id: String(orderId) });
      assert.equal(r.status, 422);
      assert.equal(r.headers.get('HX-Retarget'), '#flash');
      assert.match(r.text, /No product has the barcode 999999/);
      assert.equal((await lines(orderId)).length, 1);
    });
  });

  describe('back office: /backoffice/scanners', () => {
    it('lists the bindings and the HID devices plugged in, binds one to a terminal, disables and removes it', async () => {
      hid.devices = [{ ...USB_SCANNER, path: '/dev/hidraw9', vendorId: 0x0c2e, productId: 0x0b61, product: 'Honeywell 1900' }, { ...USB_SCANNER, path: '/dev/hidraw8', usage: 2 }];
      const owner = other;
      const list = await owner.get('/backoffice/scanners');
      assert.equal(list.status, 200);
      assert.match(list.text, /id="scanners"/);
      assert.match(list.text, /Honeywell 1900/);
      assert.match(list.text, /0c2e:0b61/);
      assert.doesNotMatch(list.text, /hidraw8/, 'a device that is not a keyboard is not offered');
      const added = await owner.post('/backoffice/scanners', { name: 'Till scanner', vendor_id: '0c2e', product_id: '0b61', terminal_id: String(counterId) });
      assert.equal(added.status, 200, added.text);
      const row = await t.db('scanners').where({ name: 'Till scanner' }).first();
      assert.deepEqual([row.vendor_id, row.product_id, Number(row.terminal_id), row.enabled], [0x0c2e, 0x0b61, counterId, true]);
      assert.match(added.text, /Till scanner/);
      await until('opened', () => app.scanners.state({ id: Number(row.id), enabled: true, kind: 'hid' } as never) === 'open', 5000);
      assert.match((await owner.get('/backoffice/scanners')).text, /Connected/);
      assert.equal((await owner.post(`/backoffice/scanners/${row.id}`, { enabled: 'false' })).status, 200);
      assert.equal((await t.db('scanners').where({ id: row.id }).first()).enabled, false);
      assert.match((await owner.get('/backoffice/scanners')).text, /Disabled/);
      assert.equal((await owner.post(`/backoffice/scanners/${row.id}`, { terminal_id: '' })).status, 200);
      assert.equal((await t.db('scanners').where({ id: row.id }).first()).terminal_id, null);
      const audit = await t.db('audit_log').where({ action: 'settings_changed' }).whereRaw("details->'scanner' is not null").count<{ n: string }[]>('* as n');
      assert.equal(Number(audit[0].n), 3);
      assert.equal((await owner.post(`/backoffice/scanners/${row.id}/delete`)).status, 200);
      assert.equal(await t.db('scanners').where({ id: row.id }).first(), undefined);
      hid.devices = [];
    });

    it('refuses a USB scanner with no way to find it, and a cashier may not open the page', async () => {
      const r = await other.post('/backoffice/scanners', { name: 'Nowhere' });
      assert.equal(r.status, 422);
      assert.match(r.text, /USB vendor and product id, or its device path/);
      assert.equal((await counter.get('/backoffice/scanners')).status, 403);
    });

    it('types a test scan on a simulated scanner into its terminal', async () => {
      const { binding } = await bindSimulated();
      const ts = await connect(counter);
      const r = await other.post(`/backoffice/scanners/${binding.id}/test-scan`, { code: 'NOPE-1' });
      assert.equal(r.status, 200, r.text);
      await until('the alert on T', () => ts.refused.length === 1, 5000);
    });
  });

  describe('the API: /api/v1/scanners (scope devices:admin)', () => {
    it('lists, binds, changes and removes scanners, as the OpenAPI document says', async () => {
      const api = await ApiRecorder.load(app.url);
      const token = (await createApiToken(t.db, app.clock, { name: 'Installer', scopes: ['devices:admin'] })).token;
      const other = (await createApiToken(t.db, app.clock, { name: 'Shop', scopes: ['catalog:read'] })).token;
      assert.equal((await api.call('GET', '/scanners', { token: other })).status, 403);
      hid.devices = [USB_SCANNER];
      const listed = await api.call<{ items: unknown[]; detected: Array<{ path: string }>; feature: string }>('GET', '/scanners', { token });
      assert.equal(listed.status, 200);
      assert.equal(listed.body.feature, 'on');
      assert.deepEqual(listed.body.detected.map((d) => d.path), ['/dev/hidraw7']);
      const made = await api.call<{ id: number; state: string; terminalId: number }>('POST', '/scanners', { token, json: { name: 'Bar scanner', vendorId: 0x05e0, productId: 0x1200, terminalId: counterId } });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      assert.equal(made.body.terminalId, counterId);
      await until('open', async () => (await api.call<{ state: string }>('GET', `/scanners/${made.body.id}`, { token })).body.state === 'open', 5000);
      const patched = await api.call<{ enabled: boolean; terminalId: number | null; kind: string }>('PATCH', `/scanners/${made.body.id}`, { token, json: { enabled: false, terminalId: null } });
      assert.equal(patched.status, 200);
      assert.deepEqual([patched.body.enabled, patched.body.terminalId, patched.body.kind], [false, null, 'hid'], 'only what was sent changed');
      assert.equal((await api.call('PATCH', `/scanners/${made.body.id}`, { token, json: { colour: 'red' } })).status, 400);
      assert.equal((await api.call('POST', '/scanners', { token, json: { name: 'X', terminalId: 999 } })).status, 422);
      assert.equal((await api.call('DELETE', `/scanners/${made.body.id}`, { token })).status, 204);
      assert.equal((await api.call('GET', `/scanners/${made.body.id}`, { token })).status, 404);
      hid.devices = [];
    });
  });
});
