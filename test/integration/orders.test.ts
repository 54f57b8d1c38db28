import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { bootApp, type TestApp } from '../helpers/app';
import { pairedClient, PINS, type Client } from '../helpers/client';
import { createTestDb, type TestDb } from '../helpers/pg';
import { counts, seedStore } from '../helpers/store';
import { verifyJournal } from '../../server/journal/verify';

const key = () => crypto.randomUUID();

describe('selling at the counter (HTTP, as htmx sends it)', () => {
  let t: TestDb;
  let app: TestApp;
  let store: Awaited<ReturnType<typeof seedStore>>;
  let c: Client;
  before(async () => {
    t = await createTestDb();
    store = await seedStore(t.db);
    app = await bootApp(t.db);
    c = await pairedClient(app, { pin: PINS.owner });
  });
  after(async () => {
    await app.close();
    await t.drop();
  });

  async function newOrder(): Promise<number> {
    const r = await c.post(`/orders`, { type: 'counter' });
    assert.equal(r.status, 204, r.text);
    const m = /^\/orders\/(\d+)$/.exec(r.headers.get('HX-Redirect') ?? '');
    assert.ok(m, 'HX-Redirect to the new order');
    return Number(m[1]);
  }
  const order = (id: number) => t.db('orders').where({ id }).first();

  it('opens an order with a short number per business day', async () => {
    const a = await newOrder();
    const b = await newOrder();
    const [oa, ob] = [await order(a), await order(b)];
    assert.equal(ob.number, oa.number + 1);
    assert.equal(oa.business_date, ob.business_date);
  });

  it('adds products with modifiers and a note, computes inclusive tax per rate, and renders the panel', async () => {
    const id = await newOrder();
    const latte = await store.product('Latte');
    const large = await store.modifier('Size', 'Large');
    const oat = await store.modifier('Milk', 'Oat milk');
    const r = await c.post(`/orders/${id}/lines`, { product_id: String(latte.id), quantity: '2', modifier_ids: [String(large.id), String(oat.id)], note: 'extra hot' });
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /id="order-panel"/);
    assert.match(r.text, /Oat milk/);
    assert.match(r.text, /extra hot/);
    const o = await order(id);
    const unit = latte.price + large.price_delta + oat.price_delta;
    assert.equal(o.total, 2 * unit);
    const ppm = 190_000;
    const expectedTax = Math.round((2 * unit * ppm) / (1_000_000 + ppm));
    assert.equal(o.tax_total, expectedTax);
  });

  it('refuses bad input with a clear error partial and changes nothing', async () => {
    const id = await newOrder();
    const latte = await store.product('Latte');
    const espresso = await store.product('Espresso');
    const small = await store.modifier('Size', 'Small');
    const large = await store.modifier('Size', 'Large');
    const before = await counts(t.db, 'order_lines', 'order_line_modifiers', 'payments', 'journal');
    const v0 = (await order(id)).version;
    const cases: Array<[Record<string, string | string[]>, number, RegExp]> = [
      [{ product_id: '999999' }, 422, /no product with id 999999/],
      [{ product_id: 'abc' }, 400, /product_id/],
      [{ product_id: String(espresso.id), quantity: '0' }, 400, /quantity: must be at least 1/],
      [{ product_id: String(espresso.id), quantity: '-3' }, 400, /quantity: must be at least 1/],
      [{ product_id: String(espresso.id), quantity: '100000000000000000000' }, 400, /quantity: must be at most 999/],
      [{ product_id: String(espresso.id), quantity: '1.5' }, 400, /quantity: must be a whole number/],
      [{ product_id: String(latte.id) }, 422, /Size: choose at least 1/],
      [{ product_id: String(latte.id), modifier_ids: [String(small.id), String(large.id)] }, 422, /Size: choose at most 1/],
      [{ product_id: String(espresso.id), modifier_ids: [String(small.id)] }, 422, /does not belong to Espresso/],
      [{ product_id: String(espresso.id), note: 'n'.repeat(10_000) }, 400, /note: must be at most 500 characters/],
      [{ product_id: String(espresso.id), note: 'extra\u0000hot' }, 400, /NUL character/],
      [{ product_id: String(espresso.id), ['not\u0000e']: 'x' }, 400, /NUL character/],
    ];
    for (const [form, status, message] of cases) {
      const r = await c.post(`/orders/${id}/lines`, form);
      assert.equal(r.status, status, `${JSON.stringify(form).slice(0, 80)} → ${r.status} ${r.text}`);
      assert.equal(r.headers.get('HX-Retarget'), '#flash');
      assert.match(r.text, /class="flash flash-error"/);
      assert.match(r.text, message);
    }
    assert.deepEqual(await counts(t.db, 'order_lines', 'order_line_modifiers', 'payments', 'journal'), before);
    assert.equal((await order(id)).version, v0, 'the order did not change');
  });

  it('shows <script> in a note literally, escaped', async () => {
    const id = await newOrder();
    const espresso = await store.product('Espresso');
    const r = await c.post(`/orders/${id}/lines`, { product_id: String(espresso.id), note: '<script>alert(1)</script>' });
    assert.equal(r.status, 200);
    assert.ok(!r.text.includes('<script>alert(1)</script>'));
    assert.match(r.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });

  it('takes cash: less leaves a balance, the rest closes with change; a replayed tender records one payment', async () => {
    const id = await newOrder();
    const croissant = await store.product('Croissant'); // 2.80
    await c.post(`/orders/${id}/lines`, { product_id: String(croissant.id), quantity: '2' }); // 5.60
    const k1 = key();
    const part = await c.post(`/orders/${id}/payments`, { tendered: '2.00', idempotency_key: k1 });
    assert.equal(part.status, 200, part.text);
    assert.match(part.text, /Balance due/);
    assert.equal((await order(id)).status, 'open');
    const again = await c.post(`/orders/${id}/payments`, { tendered: '2.00', idempotency_key: k1 });
    assert.equal(again.status, 200);
    assert.equal((await t.db('payments').where({ order_id: id })).length, 1, 'the replay recorded nothing');

    const k2 = key();
    const [r1, r2] = await Promise.all([
      c.post(`/orders/${id}/payments`, { tendered: '10', idempotency_key: k2 }),
      c.post(`/orders/${id}/payments`, { tendered: '10', idempotency_key: k2 }),
    ]);
    assert.equal(r1.status, 200, r1.text);
    assert.equal(r2.status, 200, r2.text);
    const payments = await t.db('payments').where({ order_id: id }).orderBy('id');
    assert.equal(payments.length, 2, 'a double tap records one payment');
    assert.equal(payments[1].amount, 360);
    assert.equal(payments[1].change, 640);
    const o = await order(id);
    assert.equal(o.status, 'paid');
    assert.ok(o.receipt_no > 0);
    assert.match(r1.text + r2.text, /id="change-due">€6\.40</);
    const mismatch = await c.post(`/orders/${id}/payments`, { tendered: '20', idempotency_key: k2 });
    assert.equal(mismatch.status, 422);
    assert.match(mismatch.text, /already used for a different payment/);
  });

  it('refuses a tender on a closed order and changes nothing', async () => {
    const id = await newOrder();
    const brownie = await store.product('Brownie');
    await c.post(`/orders/${id}/lines`, { product_id: String(brownie.id) });
    assert.equal((await c.post(`/orders/${id}/payments`, { tendered: '3.50', idempotency_key: key() })).status, 200);
    const before = await counts(t.db, 'payments', 'journal');
    const r = await c.post(`/orders/${id}/payments`, { tendered: '5', idempotency_key: key() });
    assert.equal(r.status, 409);
    assert.match(r.text, /already paid/);
    assert.deepEqual(await counts(t.db, 'payments', 'journal'), before);
    const add = await c.post(`/orders/${id}/lines`, { product_id: String(brownie.id) });
    assert.equal(add.status, 409);
  });

  it('renders the receipt with tax per rate; every later print says DUPLICATE', async () => {
    const id = await newOrder();
    const beans = await store.product('House blend beans 250 g'); // 7%
    const cola = await store.product('Cola 0.33 l'); // 19%
    await c.post(`/orders/${id}/lines`, { product_id: String(beans.id) });
    await c.post(`/orders/${id}/lines`, { product_id: String(cola.id) });
    const paid = await c.post(`/orders/${id}/payments`, { tendered: '20', idempotency_key: key() });
    assert.doesNotMatch(paid.text, /DUPLICATE/);
    assert.match(paid.text, /Reduced 7%/);
    assert.match(paid.text, /Standard 19%/);
    const reprint = await c.get(`/orders/${id}/receipt`, { htmx: false });
    const html = reprint.text;
    assert.equal(reprint.status, 200);
    assert.match(html, /\*\*\* DUPLICATE \*\*\*/);
    assert.match(html, /Mar 2026/);
  });

  it('keeps line edits: quantity, price override with reason, line and order discounts, remove, park and resume', async () => {
    const id = await newOrder();
    const burger = await store.product('Veggie burger'); // 13.50
    await c.post(`/orders/${id}/lines`, { product_id: String(burger.id) });
    const line = await t.db('order_lines').where({ order_id: id }).first();
    await c.post(`/orders/${id}/lines/${line.id}/quantity`, { quantity: '3' });
    assert.equal((await order(id)).total, 4050);
    const noReason = await c.post(`/orders/${id}/lines/${line.id}/price`, { price: '10', reason: '' });
    assert.equal(noReason.status, 400);
    await c.post(`/orders/${id}/lines/${line.id}/price`, { price: '10.00', reason: 'staff meal' });
    assert.equal((await order(id)).total, 3000);
    await c.post(`/orders/${id}/lines/${line.id}/discount`, { kind: 'percent', value: '10' });
    assert.equal((await order(id)).total, 2700);
    await c.post(`/orders/${id}/discount`, { kind: 'amount', value: '2.00' });
    assert.equal((await order(id)).total, 2500);
    const tooBig = await c.post(`/orders/${id}/discount`, { kind: 'percent', value: '150' });
    assert.equal(tooBig.status, 400);
    assert.equal((await order(id)).total, 2500);
    await c.post(`/orders/${id}/park`);
    assert.equal((await order(id)).parked, true);
    const list = (await c.get('/orders', { htmx: false })).text;
    assert.match(list, new RegExp(`href="/orders/${id}"`));
    await c.post(`/orders/${id}/resume`);
    assert.equal((await order(id)).parked, false);
    await c.post(`/orders/${id}/lines/${line.id}/remove`);
    assert.equal((await order(id)).total, 0);
  });

  it('voids an unpaid order with a reason into the journal; a paid one must be refunded', async () => {
    const id = await newOrder();
    const soup = await store.product('Soup of the day');
    await c.post(`/orders/${id}/lines`, { product_id: String(soup.id) });
    const noReason = await c.post(`/orders/${id}/void`, { reason: '' });
    assert.equal(noReason.status, 400);
    const r = await c.post(`/orders/${id}/void`, { reason: 'customer left' });
    assert.equal(r.status, 200, r.text);
    const o = await order(id);
    assert.equal(o.status, 'voided');
    const entry = (await t.db('journal').where({ seq: o.journal_seq }).first()).entry;
    assert.equal(entry.kind, 'void');
    assert.equal(entry.reason, 'customer left');
    assert.equal(entry.lines[0].name, 'Soup of the day');
    assert.ok((await verifyJournal(t.db)).ok);
  });

  it('finds products by name, SKU and barcode', async () => {
    const byBarcode = await c.get(`/terminal/products?q=4260123450045&order=1`);
    assert.match(byBarcode.text, /Ground coffee 500 g/);
    const bySku = await c.get(`/terminal/products?q=RET-MUG&order=1`);
    assert.match(bySku.text, /Café mug/);
    const byName = await c.get(`/terminal/products?q=croiss&order=1`);
    assert.match(byName.text, /Croissant/);
    const nothing = await c.get(`/terminal/products?q=${encodeURIComponent('<b>zzz')}`);
    assert.match(nothing.text, /Nothing matches “&lt;b&gt;zzz”/);
  });
});
