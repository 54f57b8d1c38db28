import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { FakeClock } from '../helpers/clock';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { testLog } from '../helpers/log';
import * as orders from '../../server/orders/service';
import * as cash from '../../server/cash/service';
import * as reports from '../../server/reports/service';
import { verifyJournal } from '../../server/journal/verify';
import { seedSettings } from '../../server/settings/service';
import { createEventBus } from '../../server/events';
import { AppError } from '../../server/errors';

type Entry = Record<string, unknown> & { seq: number; kind: string; business_date?: string; total?: number; amount?: number; tenders?: Array<{ method: string; amount: number; tip?: number }> };

/**
 * X and Z on a day with mixed tenders (card and cash on one check), a refund, a void, tips,
 * paid in / out and a discount, against figures worked out by hand; the Z against its journal.
 */
describe('Z closure: a mixed day', function () {
  this.timeout(120_000);
  let t: TestDb;
  let store: Awaited<ReturnType<typeof seedStore>>;
  const clock = new FakeClock('2026-03-14T09:30:00Z'); // UTC store, day starts 04:00: business day 2026-03-14
  const events = createEventBus(testLog);
  let deps: orders.OrderDeps;
  let actor: orders.Actor;
  let readerId: number;
  const DAY = '2026-03-14';
  const key = () => crypto.randomUUID();

  before(async () => {
    t = await createTestDb();
    store = await seedStore(t.db);
    await seedSettings(t.db, clock, {});
    await t.db('settings').where({ key: 'requireDrawerSession' }).update({ value: 'true' });
    deps = { db: t.db, clock, events };
    const [till] = await t.db('terminals').insert({ name: 'Till 1', kind: 'counter', token_hash: 'x', created_at: clock.now() }).returning('id');
    const staff = await t.db('staff').where({ role: 'cashier' }).first();
    actor = { staffId: staff.id, staffName: staff.name, terminal: 'Till 1', terminalId: till.id };
    [{ id: readerId }] = await t.db('card_readers').insert({ stripe_reader_id: 'tmr_1', label: 'Reader', device_type: 'simulated_wisepos_e', created_at: clock.now(), updated_at: clock.now() }).returning('id');
  });
  after(async () => t.drop());

  async function order(items: Array<[string, number]>): Promise<number> {
    const o = await orders.openOrder(deps, { type: 'counter' }, actor);
    for (const [name, quantity] of items) await orders.addLine(deps, o.id, { productId: (await store.product(name)).id, quantity, modifierIds: [], note: null });
    return o.id;
  }
  async function card(orderId: number, amount: number, tip: number, ok: boolean) {
    const { payment } = await orders.beginCardPayment(deps, orderId, { amount, tip, tipOnReader: false, readerId, idempotencyKey: key() }, actor, () => ({}));
    await orders.settleCardPayment(deps, payment.id, ok ? { status: 'succeeded', chargeId: `ch_${payment.id}`, brand: 'visa', last4: '4242', tip, received: amount + tip } : { status: 'failed', message: 'declined' });
  }
  const refused = async (p: Promise<unknown>, id: string) => {
    await assert.rejects(p, (err: unknown) => err instanceof AppError && err.id === id);
  };

  let carriedId: number;
  let zSeq: number;

  it('a cash tender with no drawer open asks for the float first; with the float it goes through', async () => {
    const id = await order([['Croissant', 3]]); // 840
    await refused(orders.tenderCash(deps, id, 400, key(), actor), 'drawer-not-open');
    await cash.openSession(deps, actor, { counts: { 5000: 2 }, idempotencyKey: key() }); // float 100.00
    await card(id, 500, 100, true); // card 5.00 + 1.00 tip
    const r = await orders.tenderCash(deps, id, 400, key(), actor); // cash due 3.40, change 0.60
    assert.equal(r.closed, true);
    assert.equal(r.change, 60);
  });

  it('runs the rest of the day: discount, failed card, tip, refund, void, paid in and out, a check left open', async () => {
    const b = await order([['Croissant', 1], ['Brownie', 1]]); // 630, 10 % off → 567
    await orders.setOrderDiscount(deps, b, 'percent', '10', actor);
    await card(b, 100, 0, false); // declined: must count nowhere
    assert.equal((await orders.tenderCash(deps, b, 1000, key(), actor)).change, 433);
    const c = await order([['Espresso', 1]]); // 250, paid 3.00 with 0.50 tip, then refunded
    assert.equal((await orders.tenderCash(deps, c, 300, key(), actor, 50)).closed, true);
    await orders.refundOrder(deps, c, { reason: 'spilt', idempotencyKey: key() }, actor);
    const d = await order([['Keep cup', 1]]); // 1500, voided
    await orders.voidOrder(deps, d, 'changed mind', actor);
    await cash.moveCash(deps, actor, { kind: 'paid_in', amount: 500, reason: 'change from the bank', idempotencyKey: key() });
    await cash.moveCash(deps, actor, { kind: 'paid_out', amount: 300, reason: 'window cleaner', idempotencyKey: key() });
    carriedId = await order([['Brownie', 1]]); // a late table: still open at the Z
  });

  const expected = {
    sales: { count: 3, gross: 1720, discounts: 63, total: 1657 },
    refunds: { count: 1, total: 250 },
    voids: { count: 1, total: 1500 },
    paid_in: { count: 1, total: 500 },
    paid_out: { count: 1, total: 300 },
    net: 1407,
    tips: 150,
    tax: 134 + 91 + 40 - 40, // 19 % included in 8.40, 5.67 and 2.50, less the refund's
    cash: 340 + 567 + 300 - 250 + 500 - 300,
  };

  function check(totals: reports.DayTotals) {
    assert.deepEqual({ count: totals.sales.count, gross: totals.sales.gross, discounts: totals.sales.discounts, total: totals.sales.total }, expected.sales);
    assert.deepEqual(totals.refunds.count, 1);
    assert.equal(totals.refunds.total, expected.refunds.total);
    assert.deepEqual(totals.voids, expected.voids);
    assert.deepEqual(totals.paid_in, expected.paid_in);
    assert.deepEqual(totals.paid_out, expected.paid_out);
    assert.equal(totals.net, expected.net);
    assert.equal(totals.tips, expected.tips);
    assert.deepEqual(totals.tenders, [{ method: 'card', count: 1, amount: 500, tips: 100 }, { method: 'cash', count: 3, amount: 340 + 567 + 250, tips: 50 }]);
    assert.deepEqual(totals.refund_tenders, [{ method: 'cash', count: 1, amount: 250 }]);
    assert.equal(totals.taxes.reduce((s, x) => s + x.tax, 0), expected.tax);
    assert.equal(totals.cash_movement, expected.cash);
  }

  it('X report: the figures so far, by hand, and nothing reset', async () => {
    const x = await reports.xReport(t.db, clock);
    assert.equal(x.date, DAY);
    check(x.totals);
    assert.deepEqual(x.carried, { count: 1, total: 350 });
    check((await reports.xReport(t.db, clock)).totals); // again: the same
  });

  it('Z closure: the same figures, a Z number, grand totals; a second Z for the day is refused', async () => {
    clock.set('2026-03-14T22:00:00Z');
    const { entry } = await reports.closeDay({ db: t.db, clock, events }, actor, { idempotencyKey: key() });
    zSeq = entry.seq;
    assert.equal(entry.kind, 'z_closure');
    assert.equal(entry.business_date, DAY);
    assert.equal(entry.z_no, 1);
    check(entry as unknown as reports.DayTotals);
    assert.deepEqual(entry.carried_over, { count: 1, total: 350 });
    assert.deepEqual(entry.grand_totals, { sales: 1657, refunds: 250, voids: 1500 });
    await refused(reports.closeDay({ db: t.db, clock, events }, actor, { businessDate: DAY, idempotencyKey: key() }), 'z-done');
    assert.equal((await t.db('journal').where({ kind: 'z_closure' })).length, 1);
  });

  it('the Z equals the sum of its business date\'s journal entries, its grand totals the chain\'s (from the journal alone)', async () => {
    const entries: Entry[] = (await t.db('journal').orderBy('seq').select('entry')).map((r: { entry: Entry }) => r.entry);
    const z = entries.find((e) => e.seq === zSeq)!;
    const day = entries.filter((e) => e.business_date === DAY && e.kind !== 'z_closure');
    const sum = (kind: string, f: (e: Entry) => number) => day.filter((e) => e.kind === kind).reduce((s, e) => s + f(e), 0);
    const zs = z as unknown as reports.DayTotals;
    assert.equal(zs.sales.total, sum('sale', (e) => e.total!));
    assert.equal(zs.sales.count, day.filter((e) => e.kind === 'sale').length);
    assert.equal(zs.refunds.total, -sum('refund', (e) => e.total!));
    assert.equal(zs.voids.total, sum('void', (e) => e.total!));
    assert.equal(zs.paid_in.total, sum('paid_in', (e) => e.amount!));
    assert.equal(zs.paid_out.total, sum('paid_out', (e) => e.amount!));
    const tenders = new Map<string, number>();
    for (const e of day.filter((x) => x.kind === 'sale')) for (const tn of e.tenders!) tenders.set(tn.method, (tenders.get(tn.method) ?? 0) + tn.amount);
    assert.deepEqual(new Map(zs.tenders.map((x) => [x.method, x.amount])), tenders);
    // grand totals: every sale, refund and void in the chain before the Z
    const before = entries.filter((e) => e.seq < zSeq);
    const grand = {
      sales: before.filter((e) => e.kind === 'sale').reduce((s, e) => s + e.total!, 0),
      refunds: before.filter((e) => e.kind === 'refund').reduce((s, e) => s - e.total!, 0),
      voids: before.filter((e) => e.kind === 'void').reduce((s, e) => s + e.total!, 0),
    };
    assert.deepEqual(z.grand_totals, grand);
    // paid in / out and no sale take no receipt number; sales, refunds and voids run without a gap
    const receipts = entries.filter((e) => e.receipt_no !== undefined).map((e) => e.receipt_no);
    assert.deepEqual(receipts, receipts.map((_, i) => i + 1));
    assert.ok(entries.filter((e) => e.kind === 'paid_in' || e.kind === 'paid_out').every((e) => e.receipt_no === undefined));
    assert.ok((await verifyJournal(t.db)).ok);
  });

  it('a payment after the Z counts on the next business day: the open check carried over', async () => {
    clock.set('2026-03-14T22:30:00Z'); // still the 14th by the clock, but the 14th is closed
    const r = await orders.tenderCash(deps, carriedId, 350, key(), actor);
    const entry = (await t.db('journal').where({ seq: (await t.db('orders').where({ id: carriedId }).first()).journal_seq }).first()).entry;
    assert.ok(r.closed);
    assert.equal(entry.business_date, '2026-03-15');
    assert.equal((await t.db('orders').where({ id: carriedId }).first()).sales_date, '2026-03-15');
    const x = await reports.xReport(t.db, clock);
    assert.equal(x.date, '2026-03-15');
    assert.equal(x.totals.sales.total, 350);
  });

  it('the drawer closes blind: over/short recorded, the close not blocked', async () => {
    const { session, figures } = await cash.closeSession(deps, actor, { amount: 11100 + 350, idempotencyKey: key() });
    assert.equal(figures.expected, 10000 + expected.cash + 350);
    assert.equal(session.over_short, 11450 - (10000 + expected.cash + 350));
    assert.equal(session.status, 'closed');
  });
});

describe('Z closure: the business day on a daylight-saving change day', function () {
  this.timeout(60_000);
  let t: TestDb;
  let store: Awaited<ReturnType<typeof seedStore>>;
  const clock = new FakeClock('2026-03-29T01:30:00Z'); // Europe/Berlin: 03:30 CEST, just after the clocks went forward
  const events = createEventBus(testLog);

  before(async () => {
    t = await createTestDb();
    store = await seedStore(t.db);
    await seedSettings(t.db, clock, { timezone: 'Europe/Berlin', businessDayStart: '04:00' });
  });
  after(async () => t.drop());

  it('counts a sale at 03:30 CEST on the day before and one at 04:30 CEST on the new day', async () => {
    const deps = { db: t.db, clock, events };
    const sell = async () => {
      const o = await orders.openOrder(deps, { type: 'counter' });
      await orders.addLine(deps, o.id, { productId: (await store.product('Espresso')).id, quantity: 1, modifierIds: [], note: null });
      await orders.tenderCash(deps, o.id, 250, crypto.randomUUID());
      return (await t.db('journal').orderBy('seq', 'desc').first()).entry.business_date as string;
    };
    assert.equal(await sell(), '2026-03-28');
    clock.set('2026-03-29T02:30:00Z'); // 04:30 CEST: 4 absolute hours back is 23:30 CET on the 28th, but the wall clock says the new day began
    assert.equal(await sell(), '2026-03-29');
    // the Z of the 28th closes the first sale only
    const { entry } = await reports.closeDay({ db: t.db, clock, events }, {}, { idempotencyKey: crypto.randomUUID() });
    assert.equal(entry.business_date, '2026-03-28');
    assert.equal((entry as unknown as reports.DayTotals).sales.count, 1);
  });
});
