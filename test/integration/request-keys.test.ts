import assert from 'node:assert/strict';
import { bootApp, type TestApp } from '../helpers/app';
import { pairedClient, PINS, type Client } from '../helpers/client';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';

/**
 * A terminal tap's idempotency key (server/orders/request-keys.ts; issue 20, "Wi-Fi blips"): a
 * terminal that lost its link sends "add line" again with the same key, and the line lands once,
 * whether or not the first request reached the server.
 */
describe('add line with an idempotency key: a retried tap lands once', function () {
  this.timeout(60_000);
  let t: TestDb;
  let app: TestApp;
  let till: Client;
  let productId: number;

  before(async () => {
    t = await createTestDb();
    await seedStore(t.db);
    app = await bootApp(t.db);
    till = await pairedClient(app, { pin: PINS.cashier, name: 'Till' });
    productId = (await t.db('products').where({ name: 'Fish & chips' }).first()).id;
  });
  after(async () => {
    await app?.close();
    await t?.drop();
  });

  const openOrder = async () => Number(/(\d+)$/.exec((await till.post('/orders', { type: 'counter' })).headers.get('HX-Redirect')!)![1]);
  const quantityOn = async (orderId: number) => Number((await t.db('order_lines').where({ order_id: orderId }).sum({ q: 'quantity' }))[0].q ?? 0);
  const add = (orderId: number, key?: string) => till.post(`/orders/${orderId}/lines`, { product_id: String(productId), ...(key ? { idempotency_key: key } : {}) });

  it('the same key twice adds one line, and the retry answers the order panel as it is', async () => {
    const order = await openOrder();
    const first = await add(order, 'tap-0001-aaaa');
    assert.equal(first.status, 200);
    const again = await add(order, 'tap-0001-aaaa');
    assert.equal(again.status, 200);
    assert.match(again.text, /Fish &amp; chips/, 'the retry shows the order with the line');
    assert.equal(await quantityOn(order), 1);
    // a new tap (a new key) is a new line
    assert.equal((await add(order, 'tap-0002-bbbb')).status, 200);
    assert.equal(await quantityOn(order), 2);
  });

  it('taps without a key each count (a product tile tapped three times is three)', async () => {
    const order = await openOrder();
    for (let i = 0; i < 3; i++) assert.equal((await add(order)).status, 200);
    assert.equal(await quantityOn(order), 3);
  });

  it('a retry racing the first request (both in flight) still lands once', async () => {
    const order = await openOrder();
    const answers = await Promise.all(Array.from({ length: 6 }, () => add(order, 'tap-race-cccc')));
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200, 200, 200]);
    assert.equal(await quantityOn(order), 1);
    assert.equal((await t.db('request_keys').where({ key: 'tap-race-cccc' })).length, 1);
  });

  it('a key used on one order is refused on another, which stays unchanged', async () => {
    const a = await openOrder();
    const b = await openOrder();
    assert.equal((await add(a, 'tap-cross-dddd')).status, 200);
    const refused = await add(b, 'tap-cross-dddd');
    assert.equal(refused.status, 422);
    assert.equal(await quantityOn(b), 0);
  });

  it('a malformed key is a 400 naming the field, and adds nothing', async () => {
    const order = await openOrder();
    const bad = await till.post(`/orders/${order}/lines`, { product_id: String(productId), idempotency_key: 'x' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /8–100 letters/);
    assert.equal(await quantityOn(order), 0);
  });
});
