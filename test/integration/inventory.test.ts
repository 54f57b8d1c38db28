import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { bootApp, type TestApp } from '../helpers/app';
import { pairedClient, PINS, type Client } from '../helpers/client';
import { testConfig } from '../helpers/config';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { addLine, openOrder } from '../../server/orders/service';

/**
 * Stock taken by the sale's close (issue 24): concurrent sales of one counted product queue on
 * its row, so with overselling refused exactly the stock there is gets sold and every other
 * sale is refused with a message before its payment is recorded; with overselling allowed the
 * stock goes below zero. Adjustments are audited with the staff member.
 */
describe('inventory: stock taken by sales, overselling, adjustments', function () {
  this.timeout(180_000);
  let t: TestDb;
  let app: TestApp;
  let owner: Client;
  let tills: Client[];
  let croissant: { id: number; price: number };
  let ownerId: number;

  before(async () => {
    t = await createTestDb({ poolMax: 30 });
    const store = await seedStore(t.db);
    app = await bootApp(t.db, { config: testConfig({ RATE_LIMIT_PAIR_PER_MIN: '1000', RATE_LIMIT_LOGIN_PER_MIN: '1000' }) });
    owner = await pairedClient(app, { pin: PINS.owner, name: 'Back office' });
    tills = [owner];
    for (const [i, pin] of [PINS.manager, PINS.cashier, PINS.server].entries()) tills.push(await pairedClient(app, { pin, name: `Till ${i + 2}` }));
    croissant = await store.product('Croissant');
    ownerId = (await t.db('staff').where({ role: 'owner' }).first('id')).id;
  });
  after(async () => {
    await app.close();
    await t.drop();
  });

  const messageOf = (text: string) => text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
  const setSetting = (key: string, value: unknown) =>
    t.db('settings').insert({ key, value: JSON.stringify(value), updated_at: new Date() }).onConflict('key').merge();
  const stockOf = async (id: number) => (await t.db('products').where({ id }).first('stock')).stock as number | null;

  /** A count through the back office's stock page: the stock set to `n`, as the owner. */
  async function count(n: number) {
    await owner.get('/backoffice/inventory', { htmx: false });
    const r = await owner.post('/backoffice/inventory/adjustments', { product_id: String(croissant.id), reason: 'count', quantity: String(n), idempotency_key: crypto.randomUUID() });
    assert.equal(r.status, 204, r.text.slice(0, 300));
    assert.equal(await stockOf(croissant.id), n);
  }

  /** `n` open orders of one croissant each (made through the order service, as a terminal's tap would). */
  async function openOrders(n: number): Promise<number[]> {
    const deps = { db: t.db, clock: app.clock, events: app.events };
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      const o = await openOrder(deps, { type: 'counter' });
      await addLine(deps, o.id, { productId: croissant.id, quantity: 1, modifierIds: [], note: null });
      ids.push(o.id);
    }
    return ids;
  }

  /** Pays every order in cash at once, spread over the four tills; returns each answer. */
  function payAll(ids: number[]) {
    return Promise.all(ids.map((id, i) => tills[i % tills.length].post(`/orders/${id}/payments`, { tendered: '5.00', idempotency_key: crypto.randomUUID() })));
  }

  it('100 parallel sales of a product with stock 50, overselling refused: exactly 50 succeed, stock 0, the rest refused with a clear message', async () => {
    await setSetting('stockAllowOversell', false);
    await count(50);
    const ids = await openOrders(100);
    const paymentsBefore = Number((await t.db('payments').count('* as n'))[0].n);
    const replies = await payAll(ids);
    const ok = replies.filter((r) => r.status === 200);
    const refused = replies.filter((r) => r.status !== 200);
    assert.equal(ok.length, 50, `succeeded: ${ok.length}; statuses ${[...new Set(replies.map((r) => r.status))].join(',')}`);
    assert.equal(refused.length, 50);
    for (const r of refused) {
      assert.equal(r.status, 409, r.text.slice(0, 300));
      assert.match(messageOf(r.text), /Croissant is out of stock: take it off the order before paying\./);
    }
    assert.equal(await stockOf(croissant.id), 0);
    // a refused sale recorded no payment and stays open; each sold one has one sale movement
    assert.equal(Number((await t.db('payments').count('* as n'))[0].n) - paymentsBefore, 50);
    assert.equal(Number((await t.db('orders').whereIn('id', ids).where({ status: 'paid' }).count('* as n'))[0].n), 50);
    assert.equal(Number((await t.db('orders').whereIn('id', ids).where({ status: 'open' }).count('* as n'))[0].n), 50);
    const sold = await t.db('stock_movements').where({ product_id: croissant.id, reason: 'sale' }).whereIn('order_id', ids).select('delta', 'stock_after');
    assert.equal(sold.length, 50);
    assert.deepEqual(sold.map((m) => m.stock_after).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
    // a refused sale's pay dialog says so before any payment is asked for
    const open = await t.db('orders').whereIn('id', ids).where({ status: 'open' }).first('id');
    const pay = await owner.get(`/orders/${open.id}/pay`);
    assert.equal(pay.status, 409);
    assert.match(messageOf(pay.text), /Croissant is out of stock/);
  });

  it('with overselling allowed the same 100 sales all succeed and the stock goes to −50', async () => {
    await setSetting('stockAllowOversell', true);
    await count(50);
    const replies = await payAll(await openOrders(100));
    assert.deepEqual([...new Set(replies.map((r) => r.status))], [200]);
    assert.equal(await stockOf(croissant.id), -50);
  });

  it('a product nobody counts sells without limit and without movements', async () => {
    await setSetting('stockAllowOversell', false);
    const espresso = await t.db('products').where({ name: 'Espresso' }).first('id', 'stock');
    assert.equal(espresso.stock, null);
    const deps = { db: t.db, clock: app.clock, events: app.events };
    const o = await openOrder(deps, { type: 'counter' });
    await addLine(deps, o.id, { productId: espresso.id, quantity: 3, modifierIds: [], note: null });
    const r = await owner.post(`/orders/${o.id}/payments`, { tendered: '20.00', idempotency_key: crypto.randomUUID() });
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.equal(await t.db('stock_movements').where({ product_id: espresso.id }).first(), undefined);
  });

  it('at zero the product is marked 86 when the store asks for it, and terminals are told', async () => {
    await setSetting('stockAllowOversell', false);
    await setSetting('stockAutoUnavailable', true);
    await count(1);
    const heard: Array<{ productId: number; level: string }> = [];
    const off = app.events.subscribe('stock:alert', (a) => void heard.push(a));
    const [id] = await openOrders(1);
    const r = await owner.post(`/orders/${id}/payments`, { tendered: '5.00', idempotency_key: crypto.randomUUID() });
    off();
    assert.equal(r.status, 200, r.text.slice(0, 300));
    const p = await t.db('products').where({ id: croissant.id }).first('stock', 'available');
    assert.deepEqual(p, { stock: 0, available: false });
    assert.deepEqual(heard.map((h) => [h.productId, h.level]), [[croissant.id, 'out']]);
    // a delivery brings it back
    const back = await owner.post('/backoffice/inventory/adjustments', { product_id: String(croissant.id), reason: 'received', quantity: '12', idempotency_key: crypto.randomUUID() });
    assert.equal(back.status, 204, back.text.slice(0, 300));
    assert.deepEqual(await t.db('products').where({ id: croissant.id }).first('stock', 'available'), { stock: 12, available: true });
    await setSetting('stockAutoUnavailable', false);
  });

  it('a stock adjustment is audited with the staff member; a retried one (same key) counts once; bad input changes nothing', async () => {
    const before = (await stockOf(croissant.id))!;
    const key = crypto.randomUUID();
    for (let i = 0; i < 2; i++) {
      const r = await owner.post('/backoffice/inventory/adjustments', { product_id: String(croissant.id), reason: 'waste', quantity: '2', note: 'dropped', idempotency_key: key });
      assert.equal(r.status, 204, r.text.slice(0, 300));
    }
    assert.equal(await stockOf(croissant.id), before - 2);
    const rows = await t.db('audit_log').where({ action: 'stock_adjusted' }).orderBy('id', 'desc').limit(1);
    assert.equal(rows[0].staff_id, ownerId);
    assert.deepEqual({ ...rows[0].details }, { productId: croissant.id, product: 'Croissant', reason: 'waste', from: before, to: before - 2, delta: -2, note: 'dropped' });
    // the audit page, filtered to this action and this staff member, shows it with their name
    const page = await owner.get(`/backoffice/audit?action=stock_adjusted&staff=${ownerId}`, { htmx: false });
    assert.equal(page.status, 200);
    assert.match(messageOf(page.text), /Stock adjusted.*Olivia/);
    const bad = await owner.post('/backoffice/inventory/adjustments', { product_id: String(croissant.id), reason: 'waste', quantity: '-3', idempotency_key: crypto.randomUUID() });
    assert.equal(bad.status, 400);
    assert.equal(await stockOf(croissant.id), before - 2);
  });

  it('settings: time zone and currency from lists, the currency fixed once a sale exists, the stock settings saved', async () => {
    const page = (await owner.get('/backoffice/settings', { htmx: false })).text;
    assert.match(page, /<select name="timezone" id="timezone"[^>]*>[\s\S]*<option>Europe\/Paris<\/option>/);
    assert.match(page, /<select id="currency" disabled><option>EUR<\/option><\/select><span class="hint">Fixed: sales in EUR exist\.<\/span>/);
    assert.match(page, /href="\/backoffice\/ledger"/);
    const form = { storeName: 'Corner Café', timezone: 'Europe/Paris', currency: 'EUR', cashRounding: '1', businessDayStart: '04:00', idleLockSeconds: '300', sessionMaxHours: '16', discountLimitPercent: '10', kitchenWarnMinutes: '5', kitchenLateMinutes: '10', pricesIncludeTax: 'on', kitchenOnPayCounter: 'on', kitchenOnPayTakeaway: 'on', stockAutoUnavailable: 'on' };
    const refused = await owner.post('/backoffice/settings', { ...form, currency: 'USD' }, { htmx: false });
    assert.equal(refused.status, 409);
    assert.match(refused.text, /The currency is fixed once a sale exists/);
    const saved = await owner.post('/backoffice/settings', form, { htmx: false });
    assert.equal(saved.status, 200, saved.text.slice(0, 300));
    const rows = Object.fromEntries((await t.db('settings').whereIn('key', ['stockAllowOversell', 'stockAutoUnavailable', 'timezone']).select('key', 'value')).map((r) => [r.key, r.value]));
    assert.deepEqual(rows, { stockAllowOversell: false, stockAutoUnavailable: true, timezone: 'Europe/Paris' });
    const audit = await t.db('audit_log').where({ action: 'settings_changed' }).orderBy('id', 'desc').first();
    assert.equal(audit.staff_id, ownerId);
    assert.deepEqual(audit.details.stockAutoUnavailable, { from: false, to: true });
    await setSetting('stockAutoUnavailable', false);
    await setSetting('timezone', 'UTC');
  });

  it('the count sheet sets several products in one go', async () => {
    const a = await t.db('products').where({ name: 'Brownie' }).first('id');
    const b = await t.db('products').where({ name: 'Cheesecake' }).first('id');
    const r = await owner.post('/backoffice/inventory/count', { [`count_${a.id}`]: '7', [`count_${b.id}`]: '3', idempotency_key: crypto.randomUUID() });
    assert.equal(r.status, 204, r.text.slice(0, 300));
    assert.deepEqual([await stockOf(a.id), await stockOf(b.id)], [7, 3]);
    const sheet = await owner.get('/backoffice/inventory/count', { htmx: false });
    assert.equal(sheet.status, 200);
    assert.match(sheet.text, new RegExp(`name="count_${a.id}"`));
    // at or below its low mark, the terminal's tile says how many are left
    await t.db('products').where({ id: a.id }).update({ low_stock_at: 10 });
    const cat = (await t.db('products').where({ id: a.id }).first('category_id')).category_id;
    const grid = await owner.get(`/terminal/products?category=${cat}`);
    assert.match(messageOf(grid.text), /Brownie €3\.50 · 7 left/);
    assert.doesNotMatch(messageOf(grid.text), /Cheesecake €[\d.]+ · \d+ left/, 'above its low mark (none) it says nothing');
  });
});
