import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDb, type TestDb } from '../helpers/pg';
import { FakeClock } from '../helpers/clock';
import { testLog } from '../helpers/log';
import { counts, seedStore } from '../helpers/store';
import { until } from '../helpers/wait';
import { listenForAuthChanges, type AuthListener } from '../../server/auth/cache';
import { seedSettings } from '../../server/settings/service';
import type { Clock } from '../../server/clock';
import { isAppError } from '../../server/errors';
import { addLineAndView, getOrderView, openOrder, setQuantity, tenderCash, type NewLine, type OrderDeps } from '../../server/orders/service';
import { orderMemorySize } from '../../server/orders/memory';

/**
 * Adding a line from memory (server/orders/memory.ts): one statement when the server keeps the
 * order and the product, and never a line or a total that a locking read would not give.
 */
describe('adding a line from the orders and products the server keeps', function () {
  this.timeout(60_000);
  let t: TestDb;
  let listener: AuthListener;
  let other: pg.Client;
  let store: Awaited<ReturnType<typeof seedStore>>;
  const changed: Array<[number, number]> = [];
  let deps: OrderDeps;
  let statements: string[] = [];
  const onQuery = (q: { sql: string }) => statements.push(q.sql);
  /** the statements sent while `fn` ran */
  const sent = async <T>(fn: () => Promise<T>): Promise<{ result: T; sql: string[] }> => {
    statements = [];
    const result = await fn();
    const sql = statements;
    statements = [];
    return { result, sql };
  };
  const line = (productId: number, more: Partial<NewLine> = {}): NewLine => ({ productId, quantity: 1, modifierIds: [], note: null, ...more });
  const order = (id: number) => t.db('orders').where({ id }).first();
  const expectError = async (p: Promise<unknown>, status: number, id: string) => {
    await assert.rejects(p, (err) => {
      assert.ok(isAppError(err), String(err));
      assert.deepEqual([err.status, err.id], [status, id], err.message);
      return true;
    });
  };

  before(async () => {
    t = await createTestDb();
    store = await seedStore(t.db);
    const clock = new FakeClock();
    await seedSettings(t.db, clock as Clock, {});
    deps = { db: t.db, clock, events: { orderChanged: (id, v) => changed.push([id, v]) } };
    listener = listenForAuthChanges(t.db, testLog, { retryMs: 100 });
    await until('the change listener', () => listener.live, 10_000);
    // another process's connection: the back office of another server, psql
    other = new pg.Client({ connectionString: t.url });
    await other.connect();
    t.db.on('query', onQuery);
  });
  after(async () => {
    t.db.off('query', onQuery);
    await other.end();
    await listener.stop();
    await t.drop();
  });

  it('is one statement, without a transaction around it, and answers the screen a fresh read shows', async () => {
    const espresso = await store.product('Espresso');
    const latte = await store.product('Latte');
    const large = await store.modifier('Size', 'Large');
    const oat = await store.modifier('Milk', 'Oat milk');
    const o = await openOrder(deps, { type: 'counter' });
    // the products are not kept yet: the locking path reads them (and keeps them)
    const first = await sent(() => addLineAndView(deps, o.id, line(espresso.id)));
    assert.ok(first.sql.length > 1, first.sql.join('\n'));
    await addLineAndView(deps, o.id, line(latte.id, { modifierIds: [large.id, oat.id] }));

    changed.length = 0;
    const { result, sql } = await sent(() => addLineAndView(deps, o.id, line(latte.id, { quantity: 2, modifierIds: [large.id], note: 'extra hot' })));
    assert.equal(sql.length, 1, sql.join('\n'));
    assert.match(sql[0], /^with guard as \(update "orders"/);
    const fresh = await getOrderView(t.db, o.id);
    assert.deepEqual(result.view, fresh);
    assert.equal(result.view.lines.length, 3);
    assert.equal(result.lineId, fresh.lines[2].id);
    assert.deepEqual(fresh.lines[2].modifiers.map((m) => m.name), ['Large']);
    assert.equal(fresh.order.total, espresso.price + (latte.price + large.price_delta + oat.price_delta) + 2 * (latte.price + large.price_delta));
    assert.deepEqual(changed, [[o.id, fresh.order.version]]);
  });

  it('never writes over a change made another way: the order moved on, so the add locks and reads it', async () => {
    const espresso = await store.product('Espresso');
    const o = await openOrder(deps, { type: 'counter' });
    const a = await addLineAndView(deps, o.id, line(espresso.id));
    // a change the memory does not see: a quantity set through the locking path
    await setQuantity(deps, o.id, a.lineId, 3);
    const b = await sent(() => addLineAndView(deps, o.id, line(espresso.id)));
    assert.ok(b.sql.length > 1, 'the kept version no longer matches');
    const fresh = await getOrderView(t.db, o.id);
    assert.deepEqual(b.result.view, fresh);
    assert.deepEqual(fresh.lines.map((l) => l.quantity), [3, 1]);
    assert.equal((await order(o.id)).total, 4 * espresso.price);

    // and one made by another connection (it bumps the version, as every change to an order does)
    await other.query("update orders set discount_kind = 'amount', discount_value = 100, version = version + 1 where id = $1", [o.id]);
    const c = await addLineAndView(deps, o.id, line(espresso.id));
    const after = await getOrderView(t.db, o.id);
    assert.deepEqual(c.view, after);
    assert.equal(after.order.total, 5 * espresso.price - 100);
    assert.equal((await order(o.id)).total, 5 * espresso.price - 100);
  });

  it('two terminals adding to one check at once: every line lands once and the totals count them all', async () => {
    const croissant = await store.product('Croissant');
    const o = await openOrder(deps, { type: 'counter' });
    await addLineAndView(deps, o.id, line(croissant.id));
    const results = await Promise.all(Array.from({ length: 6 }, () => addLineAndView(deps, o.id, line(croissant.id))));
    const fresh = await getOrderView(t.db, o.id);
    assert.equal(fresh.lines.length, 7);
    assert.equal(new Set(results.map((r) => r.lineId)).size, 6);
    assert.equal((await order(o.id)).total, 7 * croissant.price);
    assert.equal(fresh.order.version, o.version + 7);
  });

  it('a price changed by anyone shows on the next add, once its notice arrives; a renamed table drops the kept orders', async () => {
    const croissant = await store.product('Croissant');
    const o = await openOrder(deps, { type: 'counter' });
    await addLineAndView(deps, o.id, line(croissant.id));
    assert.ok(orderMemorySize(t.db).products > 0, 'the product is kept');
    await other.query('update products set price = price + 30 where id = $1', [croissant.id]);
    await until('the catalog notice', () => orderMemorySize(t.db).products === 0, 5000);
    const { view } = await addLineAndView(deps, o.id, line(croissant.id));
    assert.deepEqual(view.lines.map((l) => l.unit_price), [croissant.price, croissant.price + 30]);

    // taken off sale (86'd) at another till
    assert.ok(orderMemorySize(t.db).products > 0);
    await other.query('update products set available = false where id = $1', [croissant.id]);
    await until('the catalog notice', () => orderMemorySize(t.db).products === 0, 5000);
    await expectError(addLineAndView(deps, o.id, line(croissant.id)), 422, 'unavailable-product');
    await other.query('update products set available = true where id = $1', [croissant.id]);
    // kept again once that notice too has come and gone
    await until('the order kept again', async () => {
      await addLineAndView(deps, o.id, line(croissant.id));
      return orderMemorySize(t.db).orders > 0;
    }, 5000);
    await other.query("update tables set name = name || ' ' where id = (select min(id) from tables)");
    await until('the tables notice', () => orderMemorySize(t.db).orders === 0, 5000);
  });

  it('keeps nothing while the listener is down, and adds through the locking path', async () => {
    const espresso = await store.product('Espresso');
    await listener.stop();
    try {
      assert.deepEqual(orderMemorySize(t.db), { orders: 0, products: 0, live: false });
      const o = await openOrder(deps, { type: 'counter' });
      await addLineAndView(deps, o.id, line(espresso.id));
      const { result, sql } = await sent(() => addLineAndView(deps, o.id, line(espresso.id)));
      assert.ok(sql.length > 1, sql.join('\n'));
      assert.deepEqual(result.view, await getOrderView(t.db, o.id));
      assert.deepEqual(orderMemorySize(t.db), { orders: 0, products: 0, live: false });
    } finally {
      listener = listenForAuthChanges(t.db, testLog, { retryMs: 100 });
      await until('the change listener', () => listener.live, 10_000);
    }
  });

  it('bad input gives the same error as the locking path and writes nothing', async () => {
    const espresso = await store.product('Espresso');
    const latte = await store.product('Latte');
    const small = await store.modifier('Size', 'Small');
    const large = await store.modifier('Size', 'Large');
    const o = await openOrder(deps, { type: 'counter' });
    await addLineAndView(deps, o.id, line(latte.id, { modifierIds: [small.id] }));
    await addLineAndView(deps, o.id, line(espresso.id));
    const before = await counts(t.db, 'order_lines', 'order_line_modifiers');
    const v = (await order(o.id)).version;
    await expectError(addLineAndView(deps, o.id, line(latte.id)), 422, 'modifier-choice');
    await expectError(addLineAndView(deps, o.id, line(latte.id, { modifierIds: [small.id, large.id] })), 422, 'modifier-choice');
    await expectError(addLineAndView(deps, o.id, line(espresso.id, { modifierIds: [small.id] })), 422, 'modifier-choice');
    await expectError(addLineAndView(deps, o.id, line(espresso.id, { openPrice: '1.00' })), 400, 'validation');
    await expectError(addLineAndView(deps, o.id, line(999_999)), 422, 'unknown-product');
    assert.deepEqual(await counts(t.db, 'order_lines', 'order_line_modifiers'), before);
    assert.equal((await order(o.id)).version, v);

    // closed by someone else while this server still keeps it open: the order's 409 comes first
    await other.query("update orders set status = 'voided', void_reason = 'test', version = version + 1 where id = $1", [o.id]);
    await expectError(addLineAndView(deps, o.id, line(espresso.id)), 409, 'order-closed');
    await expectError(addLineAndView(deps, o.id, line(latte.id)), 409, 'order-closed');
    assert.deepEqual(await counts(t.db, 'order_lines', 'order_line_modifiers'), before);
  });

  it('forgets an order once it is paid', async () => {
    const espresso = await store.product('Espresso');
    const o = await openOrder(deps, { type: 'counter' });
    await addLineAndView(deps, o.id, line(espresso.id));
    const kept = orderMemorySize(t.db).orders;
    await tenderCash(deps, o.id, 10_000, `memory-${o.id}`);
    assert.equal(orderMemorySize(t.db).orders, kept - 1);
    await expectError(addLineAndView(deps, o.id, line(espresso.id)), 409, 'order-closed');
  });
});
