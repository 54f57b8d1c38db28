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
import { addLineAndView, getOrderView, openOrder, setQuantity, tenderCash, tenderCashAndView, voidOrder, type NewLine, type OrderDeps } from '../../server/orders/service';
import { verifyJournal } from '../../server/journal/verify';
import { forgetOrder, orderMemorySize } from '../../server/orders/memory';
import { holdCourse, sendOrderAndView } from '../../server/kitchen/service';
import { transferToTable } from '../../server/tables/checks';

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

  describe('a kitchen send', () => {
    const tickets: number[] = [];
    const kitchen = () => ({
      db: t.db, clock: deps.clock,
      events: { ticketCreated: (x: { ticketId: number }) => tickets.push(x.ticketId), ticketChanged() {}, orderReady() {}, orderChanged() {}, floorChanged() {} },
    });
    const itemsOf = async (orderId: number) =>
      (await t.db('kitchen_ticket_items as i').join('kitchen_tickets as k', 'k.id', 'i.ticket_id').where('k.order_id', orderId).orderBy('i.id')
        .select('k.send_no', 'k.station_id', 'i.marker', 'i.quantity', 'i.name', 'i.note', 'i.modifiers'));
    /** an order with a latte (large, oat) and two croissants, added as a terminal adds them */
    const sale = async () => {
      const o = await openOrder(deps, { type: 'counter' });
      const latte = await store.product('Latte');
      await addLineAndView(deps, o.id, line(latte.id, { modifierIds: [(await store.modifier('Size', 'Large')).id, (await store.modifier('Milk', 'Oat milk')).id], note: 'hot' }));
      await addLineAndView(deps, o.id, line((await store.product('Croissant')).id, { quantity: 2 }));
      return o.id;
    };

    it('is one statement and sends what the locking path sends; an addition after it is an ADDITION', async () => {
      const kept = await sale();
      const locked = await sale();
      forgetOrder(t.db, locked.valueOf());
      const a = await sent(() => sendOrderAndView(kitchen(), kept));
      assert.equal(a.sql.length, 1, a.sql.join('\n'));
      const b = await sent(() => sendOrderAndView(kitchen(), locked));
      assert.ok(b.sql.length > 1);
      assert.deepEqual(a.result.view, await getOrderView(t.db, kept));
      assert.ok(a.result.tickets.length >= 1);
      assert.deepEqual(await itemsOf(kept), await itemsOf(locked));
      assert.ok(a.result.tickets.every((x) => tickets.includes(x.ticketId)), 'each ticket announced');

      // more for the same order, then Send again: only the new line, from memory again
      await addLineAndView(deps, kept, line((await store.product('Croissant')).id));
      const again = await sent(() => sendOrderAndView(kitchen(), kept));
      assert.equal(again.sql.length, 1);
      const items = await itemsOf(kept);
      assert.deepEqual(items.filter((i) => i.send_no === 2).map((i) => [i.marker, i.quantity, i.name]), [['ADDITION', 1, 'Croissant']]);
      assert.deepEqual(again.result.view, await getOrderView(t.db, kept));
      // nothing new: a third Send sends nothing
      const third = await sendOrderAndView(kitchen(), kept);
      assert.deepEqual(third.tickets, []);
      assert.equal((await itemsOf(kept)).length, items.length);
    });

    it('writes nothing from memory once the order moved on elsewhere: no send number, ticket or mark', async () => {
      const id = await sale();
      const lineId = (await t.db('order_lines').where({ order_id: id }).orderBy('id').first()).id;
      await other.query('update order_lines set quantity = 3 where id = $1', [lineId]);
      await other.query('update orders set version = version + 1 where id = $1', [id]);
      const sends: string[] = [];
      const onSendNo = (q: { sql: string }) => { if (/order_sends/.test(q.sql)) sends.push(q.sql); };
      t.db.on('query', onSendNo);
      try {
        await sendOrderAndView(kitchen(), id);
      } finally {
        t.db.off('query', onSendNo);
      }
      assert.equal(sends.length, 2, 'tried from memory, then sent under the lock');
      assert.equal((await t.db('order_sends').where({ order_id: id }).first()).sends, 1, 'one send counted');
      const items = await itemsOf(id);
      assert.deepEqual(items.map((i) => [i.send_no, i.marker, i.quantity, i.name]), [[1, 'NEW', 3, 'Latte'], [1, 'NEW', 2, 'Croissant']]);
    });

    it('a product moved to another station by anyone goes to that station', async () => {
      const id = await sale();
      const croissant = await store.product('Croissant');
      const stations = await t.db('stations').orderBy('id').pluck('id');
      const before = (await t.db('products').where({ id: croissant.id }).first()).station_id;
      const moved = stations.find((s: number) => s !== before)!;
      await other.query('update products set station_id = $1 where id = $2', [moved, croissant.id]);
      try {
        await until('the catalog notice', () => orderMemorySize(t.db).products === 0, 5000);
        await sendOrderAndView(kitchen(), id);
        const items = await itemsOf(id);
        assert.equal(items.find((i) => i.name === 'Croissant')!.station_id, moved);
      } finally {
        await other.query('update products set station_id = $1 where id = $2', [before, croissant.id]);
      }
    });
  });

  describe('a cash tender', () => {
    const head = async () => (await t.db('journal_head').where({ id: 1 }).first()) as { seq: number; receipt_no: number; hash: string };
    const kept = async () => {
      const o = await openOrder(deps, { type: 'counter' });
      const { view } = await addLineAndView(deps, o.id, line((await store.product('Croissant')).id, { quantity: 2 }));
      return { id: o.id, due: view.cashDue };
    };

    it('closes in one statement from memory, with the entry, the event and the screen a locking close gives', async () => {
      const o = await kept();
      const before = await head();
      const { result, sql } = await sent(() => tenderCashAndView(deps, o.id, o.due + 500, `mem-close-${o.id}`));
      assert.deepEqual(sql.filter((s) => !/^(begin|commit)$/i.test(s)).length, 1, sql.join('\n'));
      assert.equal(result.result.closed, true);
      assert.equal(result.result.change, 500);
      assert.deepEqual(result.view, await getOrderView(t.db, o.id));
      const after = await head();
      assert.equal(Number(after.seq), Number(before.seq) + 1);
      assert.equal(result.result.receiptNo, Number(before.receipt_no) + 1);
      const row = await order(o.id);
      assert.deepEqual([row.status, Number(row.receipt_no), Number(row.journal_seq)], ['paid', result.result.receiptNo, Number(after.seq)]);
      const entry = (await t.db('journal').where({ seq: after.seq }).first()).entry;
      assert.deepEqual([entry.order_id, entry.total, entry.tenders[0].tendered], [o.id, o.due, o.due + 500]);
      const event = await t.db('webhook_events').orderBy('seq', 'desc').first();
      assert.deepEqual([event.type, event.data.orderId, event.data.receiptNo, event.data.journalSeq], ['order.paid', o.id, result.result.receiptNo, Number(after.seq)]);
      assert.deepEqual(await verifyJournal(t.db), { ok: true, checked: Number(after.seq) });
    });

    it('a key already used for another payment writes nothing from memory: no payment, no entry, no change', async () => {
      const first = await kept();
      await tenderCash(deps, first.id, first.due, `mem-used-${first.id}`);
      const o = await kept();
      const before = { head: await head(), counts: await counts(t.db, 'payments', 'journal', 'webhook_events'), version: (await order(o.id)).version };
      await expectError(tenderCash(deps, o.id, o.due, `mem-used-${first.id}`), 422, 'idempotency-mismatch');
      assert.deepEqual({ head: await head(), counts: await counts(t.db, 'payments', 'journal', 'webhook_events'), version: (await order(o.id)).version }, before);
      assert.deepEqual(await t.db('order_lines').where({ order_id: o.id }).pluck('net'), [null], 'no line amounts written');
      // the same key for the same payment again: the first outcome, nothing new
      const again = await tenderCash(deps, first.id, first.due, `mem-used-${first.id}`);
      assert.equal(again.replayed, true);
      assert.deepEqual(await counts(t.db, 'payments', 'journal', 'webhook_events'), before.counts);
    });

    it('part payments from memory leave a balance, the close takes the rest; an order changed elsewhere closes with what it holds', async () => {
      const o = await kept();
      const part = await tenderCash(deps, o.id, 100, `mem-part-${o.id}`);
      assert.equal(part.closed, false);
      assert.equal((await order(o.id)).paid_total, 100);
      // kept again by a line, then changed elsewhere: a discount the memory does not know
      const croissant = await store.product('Croissant');
      await addLineAndView(deps, o.id, line(croissant.id));
      await other.query("update orders set discount_kind = 'amount', discount_value = 50, version = version + 1 where id = $1", [o.id]);
      const fresh = await getOrderView(t.db, o.id);
      const closed = await tenderCashAndView(deps, o.id, fresh.cashDue, `mem-rest-${o.id}`);
      assert.equal(closed.result.closed, true);
      assert.equal(closed.result.amount, fresh.due);
      const entry = (await t.db('journal').where({ seq: (await order(o.id)).journal_seq }).first()).entry;
      assert.equal(entry.total, 3 * croissant.price - 50);
      assert.deepEqual(entry.tenders.map((x: { amount: number }) => x.amount), [100, fresh.due]);
    });

    it('two tills closing one check at once: one sale in the journal, the other told it is paid', async () => {
      const o = await kept();
      const before = await head();
      const results = await Promise.allSettled([0, 1, 2].map((i) => tenderCash(deps, o.id, o.due, `mem-race-${o.id}-${i}`)));
      const ok = results.filter((r) => r.status === 'fulfilled');
      assert.equal(ok.length, 1, JSON.stringify(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))));
      for (const r of results) if (r.status === 'rejected') assert.ok(isAppError(r.reason) && r.reason.id === 'order-closed', String(r.reason));
      assert.equal(Number((await head()).seq), Number(before.seq) + 1);
      assert.equal(Number((await t.db('payments').where({ order_id: o.id }).count('* as n'))[0].n), 1);
    });
  });

  it('a course held, a transfer or a void drops the kept copy: the next change makes no try from memory', async () => {
    const croissant = await store.product('Croissant');
    const events = { ...deps.events, ticketCreated() {}, ticketChanged() {}, orderReady() {}, floorChanged() {} };
    const table = await t.db('tables').orderBy('id').first();
    const changes: Array<[string, (id: number) => Promise<unknown>]> = [
      ['hold', (id) => holdCourse({ ...deps, events }, id, 2)],
      ['transfer', (id) => transferToTable({ ...deps, events }, id, table.id)],
      ['void', (id) => voidOrder(deps, id, 'customer left')],
    ];
    for (const [what, change] of changes) {
      const o = await openOrder(deps, { type: 'counter' });
      await addLineAndView(deps, o.id, line(croissant.id));
      await change(o.id);
      const next = await sent(() => addLineAndView(deps, o.id, line(croissant.id)).catch((err) => err));
      assert.ok(!next.sql.some((s) => /^with guard as/.test(s)), `${what}: ${next.sql.join('\n')}`);
    }
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
