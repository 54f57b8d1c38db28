import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { bootApp, type TestApp } from '../helpers/app';
import { login, pairedClient, PINS, type Client } from '../helpers/client';
import { testConfig } from '../helpers/config';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { FakeClock } from '../helpers/clock';
import { createApiToken } from '../../server/api/tokens';

/**
 * Reports, the drawer and the close of day through HTTP as the terminals and the back office
 * use them: the float asked before a cash sale (and the pay dialog's way through it), no sale as
 * a journal entry, each report page and its CSV, and GET /api/v1/reports/sales/daily.
 */
describe('reports and cash drawers over HTTP', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: TestApp;
  let store: Awaited<ReturnType<typeof seedStore>>;
  let owner: Client;
  let cashier: Client;
  const clock = new FakeClock('2026-03-13T12:00:00Z');
  const key = () => crypto.randomUUID();

  before(async () => {
    t = await createTestDb();
    store = await seedStore(t.db);
    app = await bootApp(t.db, { clock, config: testConfig({ RATE_LIMIT_PAIR_PER_MIN: '1000', RATE_LIMIT_LOGIN_PER_MIN: '1000' }) });
    owner = await pairedClient(app, { pin: PINS.owner, name: 'Office' });
    cashier = await pairedClient(app, { pin: PINS.cashier, name: 'Till 1' });
  });
  after(async () => {
    await app.close();
    await t.drop();
  });

  async function newOrder(c: Client, items: Array<[string, number]>): Promise<number> {
    const r = await c.post('/orders', { type: 'counter' });
    const id = Number(/^\/orders\/(\d+)$/.exec(r.headers.get('HX-Redirect') ?? '')![1]);
    for (const [name, quantity] of items) {
      const added = await c.post(`/orders/${id}/lines`, { product_id: String((await store.product(name)).id), quantity: String(quantity), idempotency_key: key() });
      assert.equal(added.status, 200, added.text);
    }
    return id;
  }
  const pay = (c: Client, id: number, tendered: string) => c.post(`/orders/${id}/payments`, { tendered, idempotency_key: key() });

  it('a sale the day before (for the comparison), with no float asked while the setting is off', async () => {
    const id = await newOrder(cashier, [['Croissant', 1]]);
    assert.equal((await pay(cashier, id, '2.80')).status, 200);
  });

  it('with "ask for a float" on, the pay dialog offers the float and then goes on to the payment', async () => {
    clock.set('2026-03-14T12:00:00Z');
    await login(owner, PINS.owner); // a day later: the terminals locked themselves meanwhile
    await login(cashier, PINS.cashier);
    const saved = await owner.post('/backoffice/close/settings', { exportTime: '05:00', requireDrawerSession: 'on' });
    assert.equal(saved.status, 200, saved.text);
    const id = await newOrder(cashier, [['Brownie', 2]]); // 7.00
    const dialog = await cashier.get(`/orders/${id}/pay`);
    assert.match(dialog.text, /hx-get="\/cash\/float-check\?then=\/orders\/\d+\/pay"/);
    const check = await cashier.get(`/cash/float-check?then=/orders/${id}/pay`);
    assert.match(check.text, /Open the drawer with a float/);
    const refused = await pay(cashier, id, '10.00');
    assert.equal(refused.status, 409);
    assert.match(refused.text, /no float yet/);
    const form = await cashier.get(`/cash/open?then=/orders/${id}/pay`);
    assert.match(form.text, /id="float-dialog"/);
    const bad = await cashier.post('/cash/open', { idempotency_key: key(), float: 'abc', then: `/orders/${id}/pay` });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /an amount like 12.50/);
    const opened = await cashier.post('/cash/open', { idempotency_key: key(), float: '', count_2000: '2', count_500: '2', then: `/orders/${id}/pay` });
    assert.equal(opened.status, 200, opened.text);
    assert.match(opened.text, new RegExp(`hx-get="/orders/${id}/pay"`));
    assert.equal((await t.db('drawer_sessions').where({ status: 'open' }).first()).opening_float, 5000);
    assert.match((await cashier.get(`/cash/float-check?then=/orders/${id}/pay`)).text, /<div id="drawer-float-check"><\/div>/);
    assert.equal((await pay(cashier, id, '10.00')).status, 200);
    const payment = await t.db('payments').where({ order_id: id }).first();
    assert.ok(payment.drawer_session_id, 'the cash went into the open drawer');
  });

  it('paid out with a reason; a paid out of more than the drawer holds is refused', async () => {
    const r = await cashier.post('/cash/movements', { idempotency_key: key(), kind: 'paid_out', amount: '3.00', reason: 'milk' });
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /milk/);
    const tooMuch = await cashier.post('/cash/movements', { idempotency_key: key(), kind: 'drop', amount: '500.00', reason: 'safe' });
    assert.equal(tooMuch.status, 422);
    const entry = await t.db('journal').where({ kind: 'paid_out' }).first();
    assert.equal(entry.entry.amount, 300);
    assert.equal(entry.entry.business_date, '2026-03-14');
  });

  it('no sale needs the drawer open and writes a no_sale journal entry', async () => {
    const [printer] = await t.db('printers').insert({ name: 'Counter printer', address: 'simulator', created_at: clock.now(), updated_at: clock.now() }).returning('id');
    const office = await t.db('terminals').where({ name: 'Office' }).first();
    await t.db('terminals').where({ id: office.id }).update({ receipt_printer_id: printer.id });
    await owner.get('/terminal', { htmx: false });
    const refused = await owner.post('/drawer/open', {});
    assert.equal(refused.status, 409);
    assert.equal(await t.db('journal').where({ kind: 'no_sale' }).first(), undefined);
    assert.equal((await owner.post('/cash/open', { idempotency_key: key(), float: '50' })).status, 200);
    const ok = await owner.post('/drawer/open', { reason: 'change for a note' });
    assert.equal(ok.status, 200, ok.text);
    const entry = (await t.db('journal').where({ kind: 'no_sale' }).first()).entry;
    assert.equal(entry.reason, 'change for a note');
    assert.equal(entry.receipt_no, undefined);
    assert.equal(entry.drawer.name, 'Counter printer');
    // the back office's drawer button (devices page) is a no sale too
    assert.equal((await owner.post(`/backoffice/devices/printers/${printer.id}/drawer`, {})).status, 200);
    assert.equal((await t.db('journal').where({ kind: 'no_sale' })).length, 2);
  });

  it('each report renders for a range, compares with the period before, and downloads as CSV', async () => {
    const q = 'from=2026-03-14&to=2026-03-14';
    const summary = await owner.get(`/backoffice/reports?report=summary&${q}`, { htmx: false });
    assert.equal(summary.status, 200);
    assert.match(summary.text, /<tr data-figure="salesTotal"><th scope="row">Sales total<\/th>\s*<td>€7.00<\/td><td>€2.80<\/td>/);
    const csv = parse((await owner.get(`/backoffice/reports/csv/summary?${q}`)).text, { columns: true }) as Array<Record<string, string>>;
    assert.deepEqual(csv.find((r) => r.figure === 'Sales total'), { figure: 'Sales total', '2026-03-14..2026-03-14': '7', 'previous period': '2.8' });
    const products = await owner.get(`/backoffice/reports/csv/products?${q}`);
    assert.equal(products.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.deepEqual(parse(products.text, { columns: true }), [{ product: 'Brownie', category: 'Cakes & pastries', quantity: '2', revenue: '7' }]);
    const hourly = await owner.get(`/backoffice/reports?report=hourly&${q}`);
    assert.match(hourly.text, /<svg[^>]*id="hourly-chart"/);
    assert.match(hourly.text, /<rect class="bar" data-hour="12"/);
    const exceptions = await owner.get(`/backoffice/reports/csv/exceptions?${q}`);
    assert.match(exceptions.text, /^no-sale,/m);
    for (const name of ['products', 'staff', 'exceptions', 'open']) assert.equal((await owner.get(`/backoffice/reports?report=${name}&${q}`)).status, 200, name);
    assert.equal((await owner.get('/backoffice/reports?report=summary&from=2026-03-15&to=2026-03-14')).status, 400);
  });

  it('GET /api/v1/reports/sales/daily serves the summary with the reports:read scope', async () => {
    const { token } = await createApiToken(t.db, clock, { name: 'Accounts', scopes: ['reports:read'] });
    const { token: other } = await createApiToken(t.db, clock, { name: 'Shop', scopes: ['catalog:read'] });
    const get = (path: string, tk: string) => fetch(app.url + path, { headers: { Authorization: `Bearer ${tk}` } });
    const r = await get('/api/v1/reports/sales/daily?date=2026-03-14', token);
    assert.equal(r.status, 200);
    const body = await r.json();
    assert.equal(body.summary.salesTotal, 700);
    assert.equal(body.summary.checks, 1);
    assert.equal(body.previous.salesTotal, 280);
    assert.deepEqual(body.summary.tenders.map((x: { method: string; amount: number }) => [x.method, x.amount]), [['cash', 700]]);
    assert.equal((await get('/api/v1/reports/sales/daily?date=2026-03-14', other)).status, 403);
    assert.equal((await get('/api/v1/reports/sales/daily?date=14.03.2026', token)).status, 400);
  });

  it('the close of day page closes the day once', async () => {
    const page = await owner.get('/backoffice/close', { htmx: false });
    const zKey = /name="idempotency_key" value="([^"]+)"/.exec(page.text)![1];
    assert.match(page.text, /Close business day 2026-03-13/, 'the oldest day not closed comes first');
    const first = await owner.post('/backoffice/close/z', { idempotency_key: zKey, business_date: '2026-03-13' });
    assert.equal(first.status, 204, first.text);
    const again = await owner.post('/backoffice/close/z', { idempotency_key: key(), business_date: '2026-03-13' });
    assert.equal(again.status, 409);
    assert.match(again.text, /already closed/);
    assert.equal((await t.db('journal').where({ kind: 'z_closure' })).length, 1);
    // the Z printed on this terminal's receipt printer (the simulator), and an X on demand
    const zJob = await t.db('print_jobs').where({ kind: 'day-report' }).orderBy('id').first();
    assert.match(zJob.input.title, /^Z REPORT 1$/);
    assert.equal((await owner.post('/backoffice/close/x/print', {})).status, 204);
    const xJob = await t.db('print_jobs').where({ kind: 'day-report' }).orderBy('id', 'desc').first();
    assert.equal(xJob.input.title, 'X REPORT');
    assert.equal(xJob.input.businessDate, '2026-03-14');
  });
});
