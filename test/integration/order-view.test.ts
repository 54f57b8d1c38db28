import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { FakeClock } from '../helpers/clock';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import * as orders from '../../server/orders/service';
import { openTable } from '../../server/tables/service';
import { AppError } from '../../server/errors';
import { getSettings } from '../../server/settings/service';
import { holdCourse, sendOrder, sendOrderAndView } from '../../server/kitchen/service';
import { createEventBus } from '../../server/events';
import { testLog } from '../helpers/log';

const kitchenEvents = createEventBus(testLog); // heard by nobody

describe('the order screen a line add answers', function () {
  this.timeout(60_000);
  let t: TestDb;
  let deps: orders.OrderDeps;
  let store: Awaited<ReturnType<typeof seedStore>>;
  const clock = new FakeClock();

  before(async () => {
    t = await createTestDb({ poolMax: 10 });
    store = await seedStore(t.db);
    deps = { db: t.db, clock, events: createEventBus(testLog) };
  });
  after(() => t.drop());

  /** a product with modifier groups, and a valid choice of its modifiers */
  async function withModifiers() {
    const rows = await t.db('product_modifier_groups as pg').join('modifier_groups as g', 'g.id', 'pg.group_id').select('pg.product_id', 'g.id', 'g.min_select');
    const productId = rows[0].product_id as number;
    const modifierIds: number[] = [];
    for (const g of rows.filter((r: { product_id: number }) => r.product_id === productId)) {
      const ids = await t.db('modifiers').where({ group_id: g.id }).orderBy('id').pluck('id');
      modifierIds.push(...ids.slice(0, Math.max(1, g.min_select)));
    }
    return { productId, modifierIds };
  }

  it('is the screen read back after commit: a table check with a part payment, lines with modifiers', async () => {
    const table = await t.db('tables').orderBy('id').first();
    const orderId = await openTable(deps, table.id, 2, {});
    const brownie = await store.product('Brownie');
    await orders.addLine(deps, orderId, { productId: brownie.id, quantity: 2, modifierIds: [], note: 'warm' });
    await orders.tenderCash(deps, orderId, 100, crypto.randomUUID()); // a part payment
    const { productId, modifierIds } = await withModifiers();
    clock.advance(60_000);
    const { lineId, view } = await orders.addLineAndView(deps, orderId, { productId, quantity: 1, modifierIds, note: null, seat: 2 });
    const after = await orders.getOrderView(t.db, orderId);
    assert.deepEqual(view, after);
    assert.equal(view.tableName, table.name);
    assert.equal(view.payments.length, 1);
    assert.equal(view.lines.find((l) => l.id === lineId)!.modifiers.length, modifierIds.length);
  });

  it('under concurrent adds every answer is a consistent screen with its own line; the last is the final screen', async () => {
    const o = await orders.openOrder(deps, { type: 'counter' });
    const brownie = await store.product('Brownie');
    const results = await Promise.all(Array.from({ length: 8 }, () => orders.addLineAndView(deps, o.id, { productId: brownie.id, quantity: 1, modifierIds: [], note: null })));
    // each answer is a consistent screen (lines and version agree) showing at least its own line
    for (const r of results) {
      assert.equal(r.view.lines.length, r.view.order.version - 1);
      assert.ok(r.view.lines.some((l) => l.id === r.lineId));
    }
    const last = results.find((r) => r.view.order.version === 9);
    assert.ok(last, 'one answer shows the last change');
    assert.deepEqual(last.view, await orders.getOrderView(t.db, o.id));
  });

  it('refuses an unknown product, a huge id and options of another product, changing nothing; keeps any note text as typed', async () => {
    const o = await orders.openOrder(deps, { type: 'counter' });
    const before = await t.db('orders').where({ id: o.id }).first();
    for (const productId of [999_999, Number.MAX_SAFE_INTEGER]) {
      await assert.rejects(orders.addLineAndView(deps, o.id, { productId, quantity: 1, modifierIds: [], note: null }), (e: AppError) => e.status === 422 && e.id === 'unknown-product');
    }
    const brownie = await store.product('Brownie');
    const { modifierIds } = await withModifiers();
    await assert.rejects(orders.addLineAndView(deps, o.id, { productId: brownie.id, quantity: 1, modifierIds, note: null }), (e: AppError) => e.status === 422 && e.id === 'modifier-choice');
    assert.deepEqual(await t.db('orders').where({ id: o.id }).first(), before, 'the order is untouched');
    assert.equal((await t.db('order_lines').where({ order_id: o.id })).length, 0);
    const note = 'ohne Nüsse 🥜 <script>alert(1)</script> \'; drop table orders; --';
    const { view } = await orders.addLineAndView(deps, o.id, { productId: brownie.id, quantity: 1, modifierIds: [], note });
    assert.equal(view.lines[0].note, note);
    assert.equal((await t.db('order_lines').where({ order_id: o.id }).first()).note, note);
  });

  it('a cash tender answers the screen after it from its own transaction: a part payment, then the close', async () => {
    const table = await t.db('tables').orderBy('id', 'desc').first();
    const orderId = await openTable(deps, table.id, 3, {});
    const { productId, modifierIds } = await withModifiers();
    await orders.addLine(deps, orderId, { productId, quantity: 2, modifierIds, note: 'no ice' });
    await orders.addLine(deps, orderId, { productId: (await store.product('Brownie')).id, quantity: 1, modifierIds: [], note: null });
    clock.advance(90_000);
    const part = await orders.tenderCashAndView(deps, orderId, 150, crypto.randomUUID());
    assert.equal(part.result.closed, false);
    assert.deepEqual(part.view, await orders.getOrderView(t.db, orderId));
    assert.equal(part.view.payments.length, 1);
    clock.advance(60_000);
    const key = crypto.randomUUID();
    const full = await orders.tenderCashAndView(deps, orderId, part.view.cashDue + 1000, key);
    assert.equal(full.result.closed, true);
    assert.deepEqual(full.view, await orders.getOrderView(t.db, orderId));
    assert.equal(full.view.tableName, table.name);
    assert.equal(full.view.order.status, 'paid');
    assert.ok(full.view.lines.every((l) => l.net !== null && l.tax !== null));
    // the same key again is a replay: the screen is read, and is the same
    const again = await orders.tenderCashAndView(deps, orderId, part.view.cashDue + 1000, key);
    assert.equal(again.result.replayed, true);
    assert.deepEqual(again.view, full.view);
  });

  it('a kitchen send answers the screen after it from its own transaction: first send, an addition, a held course fired', async () => {
    const table = await t.db('tables').orderBy('id').offset(1).first();
    const orderId = await openTable(deps, table.id, 2, {});
    const kdeps = { ...deps, events: kitchenEvents };
    const { productId, modifierIds } = await withModifiers();
    await orders.addLine(deps, orderId, { productId, quantity: 2, modifierIds, note: 'well done', seat: 1 });
    await orders.tenderCash(deps, orderId, 100, crypto.randomUUID()); // a part payment shows on the screen too
    clock.advance(30_000);
    const first = await sendOrderAndView(kdeps, orderId);
    assert.ok(first.tickets.length >= 1);
    assert.deepEqual(first.view, await orders.getOrderView(t.db, orderId));
    assert.ok(first.view.lines.every((l) => l.sent_quantity === l.quantity));
    await orders.addLine(deps, orderId, { productId: (await store.product('Brownie')).id, quantity: 1, modifierIds: [], note: null, course: 2 });
    await holdCourse(kdeps, orderId, 2);
    clock.advance(30_000);
    const held = await sendOrderAndView(kdeps, orderId);
    assert.deepEqual(held.view, await orders.getOrderView(t.db, orderId));
    assert.equal(held.view.lines.find((l) => l.course === 2)!.sent_quantity, 0, 'the held course stays back');
    const fired = await sendOrderAndView(kdeps, orderId, { fireCourse: 2 });
    assert.deepEqual(fired.view, await orders.getOrderView(t.db, orderId));
    assert.ok(fired.view.lines.every((l) => l.sent_quantity === l.quantity));
  });

  it('seating a table opens its check with covers, or answers the check it has; terminals seating one table at once all get its one check', async () => {
    const [a, b] = await t.db('tables').where({ active: true }).orderBy('id', 'desc').limit(2);
    const id = await openTable(deps, a.id, 3, {});
    assert.equal(await openTable(deps, a.id, 5, {}), id, 'an occupied table: its check');
    const row = await t.db('orders').where({ id }).first();
    assert.deepEqual({ table: row.table_id, covers: row.covers, seated: row.seated_at.getTime(), type: row.type }, { table: a.id, covers: 3, seated: clock.now().getTime(), type: 'dine_in' });
    // six connections open first, so the six seatings run side by side rather than one after another
    const warm = await Promise.all(Array.from({ length: 6 }, () => t.db.client.acquireConnection()));
    for (const c of warm) await t.db.client.releaseConnection(c);
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => openTable(deps, b.id, i + 1, {})));
    assert.equal(new Set(ids).size, 1, `one check for the table: ${ids.join(', ')}`);
    assert.equal(Number((await t.db('orders').where({ table_id: b.id, status: 'open' }).count({ n: '*' }))[0].n), 1);
    await assert.rejects(openTable(deps, 2 ** 40, 2, {}), (e: AppError) => e.status === 404);
  });

  it('seats a table inside a caller\'s transaction too, which goes on after it and can still roll back', async () => {
    const table = (await t.db('tables').where({ active: true }).orderBy('id', 'desc').offset(3).first())!;
    const id = await t.db.transaction(async (trx) => {
      const seated = await openTable({ ...deps, db: trx }, table.id, 4, {});
      await trx('orders').where({ id: seated }).update({ customer_name: 'Party of four' }); // the caller's own statement after it
      return seated;
    });
    assert.deepEqual(await t.db('orders').where({ id }).first('covers', 'customer_name'), { covers: 4, customer_name: 'Party of four' });
    const other = (await t.db('tables').where({ active: true }).orderBy('id', 'desc').offset(4).first())!;
    await assert.rejects(
      t.db.transaction(async (trx) => {
        await openTable({ ...deps, db: trx }, other.id, 2, {});
        throw new Error('the caller changed its mind');
      }),
      /changed its mind/,
    );
    assert.equal(Number((await t.db('orders').where({ table_id: other.id }).count({ n: '*' }))[0].n), 0);
  });

  it('the totals every change writes are the totals of its lines; an order made with its lines, sent and paid, answers the screen it leaves', async () => {
    const d = deps;
    const o = await orders.openOrder(d, { type: 'counter' });
    const { productId, modifierIds } = await withModifiers();
    const added = await orders.addLineAndView(d, o.id, { productId, quantity: 3, modifierIds, note: null });
    const again = await orders.addLineAndView(d, o.id, { productId, quantity: 1, modifierIds, note: null });
    assert.deepEqual(again.view, await orders.getOrderView(t.db, o.id));
    const brownie = await store.product('Brownie');
    await orders.addLine(d, o.id, { productId: brownie.id, quantity: 2, modifierIds: [], note: null });
    const row = await t.db('orders').where({ id: o.id }).first();
    const lines = await t.db('order_lines').where({ order_id: o.id }).orderBy('id');
    const expected = orders.totalsFor(row, lines, await getSettings(t.db));
    assert.deepEqual(
      { subtotal: row.subtotal, discount: row.discount_total, tax: row.tax_total, total: row.total, version: row.version },
      { subtotal: expected.subtotal, discount: expected.discountTotal, tax: expected.taxTotal, total: expected.total, version: 4 },
    );
    assert.ok(added.view.order.total > 0 && row.total > added.view.order.total);
    const sent = await sendOrderAndView({ ...d, events: kitchenEvents }, o.id);
    assert.equal(sent.tickets.length > 0, true);
    assert.deepEqual(sent.view, await orders.getOrderView(t.db, o.id));
    const paid = await orders.tenderCashAndView(d, o.id, row.total + 1000, crypto.randomUUID());
    assert.equal(paid.result.closed, true);
    assert.deepEqual(paid.view, await orders.getOrderView(t.db, o.id));

    // an order made with its lines (the integration API's create)
    const number = await orders.reserveOrderNumber(d);
    const wanted = [{ productId, quantity: 1, modifierIds, note: null }, { productId: brownie.id, quantity: 2, modifierIds: [], note: 'warm' }, { productId, quantity: 3, modifierIds, note: null }];
    const made = await orders.openOrderWithLines(d, { type: 'takeaway' }, wanted, {}, number);
    const madeView = await orders.getOrderView(t.db, made);
    assert.deepEqual(madeView.lines.map((l) => [l.quantity, l.modifiers.length, l.note]), [[1, modifierIds.length, null], [2, 0, 'warm'], [3, modifierIds.length, null]]);
    const madeRow = await t.db('orders').where({ id: made }).first();
    const madeLines = await t.db('order_lines').where({ order_id: made }).orderBy('id');
    assert.equal(madeRow.total, orders.totalsFor(madeRow, madeLines, await getSettings(t.db)).total);
    assert.equal(madeRow.number, number.number);
    assert.equal((await orders.tenderCashAndView(d, made, madeRow.total, crypto.randomUUID())).result.closed, true);
    // a bad line fails the whole order: nothing is left behind
    const before = Number((await t.db('orders').count({ n: '*' }))[0].n);
    await assert.rejects(orders.openOrderWithLines(d, { type: 'takeaway' }, [wanted[1], { productId: 2 ** 40, quantity: 1, modifierIds: [], note: null }], {}, await orders.reserveOrderNumber(d)));
    assert.equal(Number((await t.db('orders').count({ n: '*' }))[0].n), before);

    // a check seated at a table: its first line's screen names the table
    const table = (await t.db('tables').where({ active: true }).orderBy('id', 'desc').offset(2).first())!;
    const check = await openTable(d, table.id, 2, {});
    const first = await orders.addLineAndView(d, check, { productId, quantity: 1, modifierIds, note: null });
    assert.equal(first.view.tableName, table.name);
    assert.deepEqual(first.view, await orders.getOrderView(t.db, check));
  });
});
