import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { bootApp, type TestApp } from '../helpers/app';
import { Client, pairedClient, PINS } from '../helpers/client';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import * as orders from '../../server/orders/service';
import { createApiToken } from '../../server/api/tokens';
import { historyPage, PAGE_SIZE } from '../../server/orders/history';
import { getSettings } from '../../server/settings/service';
import { FakeClock } from '../helpers/clock';

const TODAY = '2026-03-14T09:30:00Z'; // business day 2026-03-14 (UTC, day starts 04:00)
const YESTERDAY = '2026-03-13T18:00:00Z';
const key = () => crypto.randomUUID();

/** The order ids of the history rows in a page or fragment, in order. */
const rowIds = (html: string) => [...html.matchAll(/<tr class="history-row" data-order-id="(\d+)"/g)].map((m) => Number(m[1]));

describe('sales history and refunds (issue 20)', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: TestApp;
  let store: Awaited<ReturnType<typeof seedStore>>;
  let deps: orders.OrderDeps;
  let manager: Client;
  let cashier: Client;
  const staff: Record<string, number> = {};

  /** A paid counter sale of `items` at the clock's time, sold by `who`. */
  async function sale(items: Array<[string, number]>, who: keyof typeof PINS = 'cashier') {
    const actor = { staffId: staff[who] };
    const o = await orders.openOrder(deps, { type: 'counter' }, actor);
    for (const [name, quantity] of items) await orders.addLine(deps, o.id, { productId: (await store.product(name)).id, quantity, modifierIds: [], note: null });
    const view = await orders.getOrderView(t.db, o.id);
    await orders.tenderCash(deps, o.id, view.totals.total, key(), actor);
    return orders.getOrderView(t.db, o.id);
  }

  const history = (c: Client, query: string, htmx = false) => c.get(`/orders/history${query}`, { htmx });

  let latte: orders.OrderView; // today, cashier: 2× Homemade lemonade
  let brownie: orders.OrderView; // today, manager: 1× Brownie
  let voided: orders.OrderRow; // today, voided
  let open: orders.OrderRow; // today, still open
  let fish: orders.OrderView; // yesterday, cashier

  before(async () => {
    t = await createTestDb();
    store = await seedStore(t.db);
    app = await bootApp(t.db, { clock: new FakeClock(TODAY) });
    deps = { db: t.db, clock: app.clock, events: app.events };
    for (const [role, pin] of Object.entries(PINS)) staff[role] = (await t.db('staff').where('name', 'like', `%(${role})`).first()).id;
    void PINS;

    app.clock.set(YESTERDAY);
    fish = await sale([['Fish & chips', 1]]);
    app.clock.set(TODAY);
    latte = await sale([['Homemade lemonade', 2]]);
    brownie = await sale([['Brownie', 1]], 'manager');
    voided = await orders.openOrder(deps, { type: 'counter' }, { staffId: staff.cashier });
    await orders.addLine(deps, voided.id, { productId: (await store.product('Croissant')).id, quantity: 1, modifierIds: [], note: null });
    await orders.voidOrder(deps, voided.id, 'customer left', { staffId: staff.cashier });
    open = await orders.openOrder(deps, { type: 'counter' }, { staffId: staff.cashier });
    await orders.addLine(deps, open.id, { productId: (await store.product('Croissant')).id, quantity: 1, modifierIds: [], note: null });

    manager = await pairedClient(app, { pin: PINS.manager, name: 'Office' });
    cashier = await pairedClient(app, { pin: PINS.cashier, name: 'Counter' });
  });
  after(async () => {
    await app?.close();
    await t?.drop();
  });

  describe('GET /orders/history', () => {
    it('lists the business day\'s paid and voided orders, newest first, and no open one; each row links the order\'s page', async () => {
      const r = await history(cashier, '');
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(rowIds(r.text), [voided.id, brownie.order.id, latte.order.id]);
      assert.match(r.text, new RegExp(`href="/orders/${latte.order.id}"`));
      assert.match(r.text, /Voided<\/span> <span class="muted">customer left/);
      assert.match(r.text, /2× Homemade lemonade/);
      assert.match(r.text, /Chloe \(cashier\)/);
      assert.match(r.text, /href="\/orders\/history\?date=2026-03-13"/, 'a way to the day before');
      assert.doesNotMatch(r.text, /id="next-day"/, 'nothing after today');
    });

    it('shows the day before through the date, and an empty day says so', async () => {
      const y = await history(cashier, '?date=2026-03-13');
      assert.deepEqual(rowIds(y.text), [fish.order.id]);
      assert.match(y.text, /href="\/orders\/history\?date=2026-03-14"/);
      const empty = await history(cashier, '?date=2026-03-01');
      assert.deepEqual(rowIds(empty.text), []);
      assert.match(empty.text, /class="empty"[\s\S]*No sales on 2026-03-01 yet/);
      assert.equal((await history(cashier, '?date=2026-02-30')).status, 400, 'not a date');
    });

    it('searches by order number, receipt number (any day, a refund\'s too), amount, product and staff', async () => {
      const ids = async (q: string, date = '') => rowIds((await history(cashier, `?q=${encodeURIComponent(q)}${date}`, true)).text);
      assert.ok((await ids(String(brownie.order.number))).includes(brownie.order.id), 'order number');
      assert.ok((await ids(String(latte.order.receipt_no))).includes(latte.order.id), 'receipt number');
      assert.ok((await ids(String(fish.order.receipt_no))).includes(fish.order.id), 'a receipt number of yesterday, from today');
      assert.deepEqual(await ids('8.00'), [latte.order.id], 'amount typed as money');
      assert.deepEqual(await ids('8,00'), [latte.order.id], 'with a decimal comma');
      assert.deepEqual(await ids('3.50'), [brownie.order.id]);
      assert.deepEqual(await ids('brown'), [brownie.order.id], 'product');
      assert.deepEqual(await ids('LEMONADE'), [latte.order.id], 'product, any case');
      assert.deepEqual(await ids('marco'), [brownie.order.id], 'staff');
      assert.deepEqual(await ids('fish'), [], 'a product searches the day shown');
      assert.deepEqual(await ids('fish', '&date=2026-03-13'), [fish.order.id]);
      assert.deepEqual(await ids('100%_'), [], 'wildcards are plain characters');
      const none = await history(cashier, '?q=zzz', true);
      assert.match(none.text, /No sale matches “zzz”/);
      assert.match(none.text, /^\s*<section id="history-results"/, 'htmx gets the results alone');
      assert.doesNotMatch(none.text, /<html/);
    });

    it('pages a busy day 25 at a time: "Load more" gives the next rows once each', async () => {
      app.clock.set('2026-03-10T12:00:00Z');
      const made: number[] = [];
      for (let i = 0; i < PAGE_SIZE + 5; i++) made.push((await sale([['Croissant', 1]])).order.id);
      app.clock.set(TODAY);
      const first = await history(cashier, '?date=2026-03-10');
      const page1 = rowIds(first.text);
      assert.equal(page1.length, PAGE_SIZE);
      const more = /hx-get="([^"]+before=\d+)"/.exec(first.text)![1].replace(/&amp;/g, '&');
      const next = await cashier.get(more);
      assert.doesNotMatch(next.text, /<section|<table/, 'rows only');
      const page2 = rowIds(next.text);
      assert.equal(page2.length, 5);
      assert.doesNotMatch(next.text, /history-more/, 'the last page offers no more');
      assert.deepEqual([...page1, ...page2], [...made].reverse());
    });

    it('reads a day through the day\'s index (migration 0020), not every order', async () => {
      const settings = await getSettings(t.db);
      const sent: Array<{ sql: string; bindings: readonly Knex.Value[] }> = [];
      const onQuery = (q: { sql: string; bindings: readonly Knex.Value[] }) => sent.push(q);
      t.db.on('query', onQuery);
      try {
        await historyPage(t.db, settings, app.clock.now(), { date: '2026-03-10' });
      } finally {
        t.db.off('query', onQuery);
      }
      const main = sent.find((q) => /from "orders" as "o"/.test(q.sql))!;
      // on a test's few rows a sequential scan is cheapest; forbid it to see what the planner can use
      const plan = await t.db.transaction(async (trx) => {
        await trx.raw('set local enable_seqscan = off');
        return (await trx.raw(`explain ${main.sql.replace(/\$\d+/g, '?')}`, main.bindings)).rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
      });
      assert.match(plan, /orders_closed_by_day/, plan);
    });

    it('is mounted before /orders/:id, and needs a signed-in member of staff', async () => {
      assert.equal((await history(cashier, '')).status, 200);
      const stranger = new Client(app.url);
      assert.notEqual((await stranger.get('/orders/history', { htmx: false })).status, 200);
    });
  });

  describe('POST /orders/:id/refunds by amount', () => {
    it('gives back an amount, recorded in the journal as a cash refund of that amount, spread over the lines', async () => {
      const s = await sale([['Homemade lemonade', 2], ['Brownie', 2]]); // 8.00 + 7.00
      const page = await manager.get(`/orders/${s.order.id}/refund`, { htmx: false });
      assert.match(page.text, /Up to €15\.00/);
      const r = await manager.post(`/orders/${s.order.id}/refunds`, { reason: 'cold coffee', scope: 'amount', amount: '5.00', idempotency_key: key() });
      assert.equal(r.status, 200, r.text);
      assert.match(r.text, /id="refund-receipt"[\s\S]*REFUND[\s\S]*Amount refunded, taken from/);
      const refund = await t.db('refunds').where({ order_id: s.order.id }).first();
      assert.equal(refund.total, 500);
      const lines = await t.db('refund_lines').where({ refund_id: refund.id });
      assert.deepEqual(lines.map((l) => l.quantity), [0, 0], 'no item came back');
      assert.equal(lines.reduce((a, l) => a + l.net, 0), 500, 'prices include tax: the nets are the amount');
      const entry = await t.db('journal').where({ seq: refund.journal_seq }).first();
      const record = entry.entry;
      assert.equal(record.scope, 'amount');
      assert.equal(record.amount, 500);
      assert.equal(record.total, -500);
      assert.deepEqual(record.tenders, [{ method: 'cash', amount: -500 }]);

      // more than is left: refused beside the field, with what was typed
      const tooMuch = await manager.post(`/orders/${s.order.id}/refunds`, { reason: 'again', scope: 'amount', amount: '10.01', idempotency_key: key() });
      assert.equal(tooMuch.status, 422);
      assert.equal(tooMuch.headers.get('hx-retarget'), '#refund-panel');
      assert.match(tooMuch.text, /name="amount"[^>]*value="10.01"[^>]*aria-invalid="true"/);
      assert.match(tooMuch.text, /at most €10\.00/);
      const noAmount = await manager.post(`/orders/${s.order.id}/refunds`, { reason: 'again', scope: 'amount', amount: '', idempotency_key: key() });
      assert.equal(noAmount.status, 400);
      assert.match(noAmount.text, /enter the amount to refund/);

      // one Latte back after the amount: its share, never more than is left of the line
      const latteLine = s.lines.find((l) => l.name === 'Homemade lemonade')!;
      const one = await manager.post(`/orders/${s.order.id}/refunds`, { reason: 'one lemonade', scope: 'lines', [`line_${latteLine.id}`]: '1', idempotency_key: key() });
      assert.equal(one.status, 200, one.text);
      // and everything left: the refunds add up to the sale exactly
      const rest = await manager.post(`/orders/${s.order.id}/refunds`, { reason: 'closing', scope: 'all', idempotency_key: key() });
      assert.equal(rest.status, 200, rest.text);
      const [{ sum }] = await t.db('refunds').where({ order_id: s.order.id }).sum({ sum: 'total' });
      assert.equal(Number(sum), s.totals.total);
      assert.match(rest.text, /Everything on this sale has been refunded/);
      const after = await manager.post(`/orders/${s.order.id}/refunds`, { reason: 'more', scope: 'amount', amount: '0.01', idempotency_key: key() });
      assert.equal(after.status, 422);
    });

    it('through the API: an amount instead of lines', async () => {
      const s = await sale([['Brownie', 1]]);
      const token = (await createApiToken(t.db, app.clock, { name: 'Shop', scopes: ['payments:write'] })).token;
      const call = (json: unknown) => fetch(`${app.url}/api/v1/payments/${s.payments[0].id}/refunds`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(json) });
      const both = await call({ reason: 'broken', amount: 100, lines: [{ lineId: s.lines[0].id, qty: 1 }], idempotencyKey: key() });
      assert.equal(both.status, 400);
      const r = await call({ reason: 'broken', amount: 100, idempotencyKey: key() });
      assert.equal(r.status, 201);
      assert.equal(((await r.json()) as { total: number }).total, 100);
      assert.equal((await call({ reason: 'broken', amount: 251, idempotencyKey: key() })).status, 422, 'only 2.50 is left');
    });
  });

  describe('a refund\'s receipt, and the order showing its refunds', () => {
    it('prints the refund: REFUND, the original receipt, the lines, tax, cash, reason, staff and time; a reprint says DUPLICATE', async () => {
      const s = await sale([['Homemade lemonade', 2], ['Croissant', 1]]);
      const latteLine = s.lines.find((l) => l.name === 'Homemade lemonade')!;
      // a cashier may not refund alone: an htmx refusal that opens the approval dialog, not a bare 403
      const refused = await cashier.post(`/orders/${s.order.id}/refunds`, { reason: 'spilt', scope: 'lines', [`line_${latteLine.id}`]: '1', idempotency_key: key() });
      assert.equal(refused.status, 403);
      assert.equal(refused.headers.get('hx-retarget'), '#modal');
      assert.match(refused.text, /id="override-form"/);
      const approved = await cashier.post(`/orders/${s.order.id}/refunds`, { reason: 'spilt', scope: 'lines', [`line_${latteLine.id}`]: '1', idempotency_key: key() }, { headers: { 'X-Override-PIN': PINS.manager } });
      assert.equal(approved.status, 200, approved.text);
      const refund = await t.db('refunds').where({ order_id: s.order.id }).first();
      assert.equal(refund.approved_by, staff.manager);
      assert.match(approved.text, new RegExp(`href="/orders/${s.order.id}/refunds/${refund.id}/receipt"`), 'the receipt page is linked');
      assert.doesNotMatch(approved.text, /DUPLICATE/, 'shown as it goes through: the original');

      const page = await cashier.get(`/orders/${s.order.id}/refunds/${refund.id}/receipt`, { htmx: false });
      assert.equal(page.status, 200);
      const text = page.text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
      assert.match(text, /DUPLICATE/);
      assert.match(text, /REFUND/);
      assert.match(text, new RegExp(`Refund receipt ${refund.receipt_no} Original receipt ${s.order.receipt_no} · Order #${s.order.number}`));
      assert.match(text, /1× Homemade lemonade −€4\.00/);
      assert.match(text, /Refunded −€4\.00/);
      assert.match(text, /incl\. Standard 19% −€0\.6\d/);
      assert.match(text, /Paid back in cash €4\.00/);
      assert.match(text, /Reason: spilt/);
      assert.match(text, /Staff: Chloe \(cashier\) · Approved by Marco \(manager\)/);
      assert.match(text, /14 Mar 2026/);
      assert.match(page.text, /data-print/);

      // not this order's refund
      assert.equal((await cashier.get(`/orders/${latte.order.id}/refunds/${refund.id}/receipt`, { htmx: false })).status, 404);

      // the sale's receipt and its refund page list the refund; the history row says refunded
      const receipt = await cashier.get(`/orders/${s.order.id}/receipt`, { htmx: false });
      assert.match(receipt.text, /id="receipt-refunds"[\s\S]*Refund receipt \d+[\s\S]*−€4\.00[\s\S]*1× Homemade lemonade/);
      // the order's page on the terminal lists it, linking its receipt
      const orderPage = await cashier.get(`/orders/${s.order.id}`, { htmx: false });
      assert.match(orderPage.text, new RegExp(`id="panel-refunds"[\\s\\S]*href="/orders/${s.order.id}/refunds/${refund.id}/receipt">−€4\\.00</a>[\\s\\S]*1× Homemade lemonade[\\s\\S]*spilt`));
      const refundPage = await cashier.get(`/orders/${s.order.id}/refund`, { htmx: false });
      assert.match(refundPage.text, /class="refund-item"[\s\S]*€4\.00[\s\S]*1× Homemade lemonade — spilt · Chloe \(cashier\) \(approved by Marco \(manager\)\)/);
      assert.match((await history(cashier, `?q=${refund.receipt_no}`)).text, /Refunded €4\.00/, 'found by the refund\'s receipt number');
    });
  });
});
