import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FakeClock } from '../helpers/clock';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import * as orders from '../../server/orders/service';
import * as checks from '../../server/tables/checks';
import { floor, openTable } from '../../server/tables/service';
import { sendOrder, bumpTicket } from '../../server/kitchen/service';
import { seedSettings } from '../../server/settings/service';
import { createEventBus } from '../../server/events';
import { testLog } from '../helpers/log';

interface Sums {
  total: number;
  taxByRate: Record<string, number>;
  lines: number;
}

describe('check operations keep totals and tax exact', function () {
  this.timeout(300_000);
  let t: TestDb;
  const clock = new FakeClock();
  const noop = createEventBus(testLog); // heard by nobody
  let deps: orders.OrderDeps & checks.CheckDeps;
  let catalog: Array<{ id: number; groups: Array<{ min: number; ids: number[] }> }>;

  before(async () => {
    t = await createTestDb({ poolMax: 10 });
    await seedStore(t.db);
    await seedSettings(t.db, clock, {});
    deps = { db: t.db, clock, events: noop };
    const products = await t.db('products').where({ open_price: false }).select('id');
    catalog = [];
    for (const p of products) {
      const groups = await t.db('product_modifier_groups as pg').join('modifier_groups as g', 'g.id', 'pg.group_id').where('pg.product_id', p.id).select('g.id', 'g.min_select');
      const out = [];
      for (const g of groups) out.push({ min: g.min_select as number, ids: (await t.db('modifiers').where({ group_id: g.id }).orderBy('id').pluck('id')) as number[] });
      catalog.push({ id: p.id, groups: out });
    }
  });
  after(async () => t.drop());

  async function setInclusive(inclusive: boolean) {
    await t.db('settings').where({ key: 'pricesIncludeTax' }).update({ value: JSON.stringify(inclusive) });
  }

  /** Sums over a set of checks: what must not change. */
  async function sums(ids: number[]): Promise<Sums> {
    const out: Sums = { total: 0, taxByRate: {}, lines: 0 };
    for (const id of ids) {
      const v = await orders.getOrderView(t.db, id);
      if (v.order.status !== 'open') continue;
      out.total += v.totals.total;
      for (const x of v.totals.taxes) out.taxByRate[x.taxRateId] = (out.taxByRate[x.taxRateId] ?? 0) + x.tax;
      assert.equal(v.order.total, v.totals.total, 'stored and computed totals agree');
      out.lines += 1;
    }
    for (const k of Object.keys(out.taxByRate)) if (out.taxByRate[k] === 0) delete out.taxByRate[k];
    return out;
  }

  const lineArb = fc.record({ product: fc.nat(), qty: fc.integer({ min: 1, max: 4 }), seat: fc.integer({ min: 1, max: 3 }), pct: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }) });
  const checkArb = fc.record({
    inclusive: fc.boolean(),
    lines: fc.array(lineArb, { minLength: 2, maxLength: 6 }),
    orderDiscount: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
  });

  async function makeCheck(spec: { inclusive: boolean; lines: Array<{ product: number; qty: number; seat: number; pct?: number }>; orderDiscount?: number }): Promise<number> {
    await setInclusive(spec.inclusive);
    const o = await orders.openOrder(deps, { type: 'dine_in' });
    for (const l of spec.lines) {
      const p = catalog[l.product % catalog.length];
      const mods = p.groups.flatMap((g) => (g.min > 0 ? [g.ids[l.qty % g.ids.length]] : []));
      const lineId = await orders.addLine(deps, o.id, { productId: p.id, quantity: l.qty, modifierIds: mods, note: null, seat: l.seat });
      if (l.pct) await orders.setLineDiscount(deps, o.id, lineId, 'percent', String(l.pct));
    }
    if (spec.orderDiscount) await orders.setOrderDiscount(deps, o.id, 'percent', String(spec.orderDiscount));
    return o.id;
  }

  const family = async (id: number) => [id, ...(await t.db('orders').where({ split_from: id }).pluck('id'))];

  it('split by seat', async () => {
    await fc.assert(
      fc.asyncProperty(checkArb, async (spec) => {
        const id = await makeCheck(spec);
        const before = await sums([id]);
        const seats = new Set(spec.lines.map((l) => l.seat));
        if (seats.size < 2) return;
        await checks.splitBySeat(deps, id);
        const after = await sums(await family(id));
        assert.deepEqual({ total: after.total, taxByRate: after.taxByRate }, { total: before.total, taxByRate: before.taxByRate });
        assert.equal(after.lines, seats.size, 'one check per seat');
      }),
      { numRuns: 12 },
    );
  });

  it('split by item (partial quantities)', async () => {
    await fc.assert(
      fc.asyncProperty(checkArb, fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), async (spec, picks) => {
        const id = await makeCheck(spec);
        const before = await sums([id]);
        const lines = await t.db('order_lines').where({ order_id: id }).orderBy('id');
        const part = new Map<number, number>();
        for (const p of picks) {
          const l = lines[p % lines.length];
          part.set(l.id, 1 + (p % l.quantity));
        }
        await checks.splitByItems(deps, id, [part]);
        const after = await sums(await family(id));
        assert.deepEqual({ total: after.total, taxByRate: after.taxByRate }, { total: before.total, taxByRate: before.taxByRate });
      }),
      { numRuns: 12 },
    );
  });

  it('split evenly into N and by amount', async () => {
    await fc.assert(
      fc.asyncProperty(checkArb, fc.integer({ min: 2, max: 5 }), fc.integer({ min: 1, max: 99 }), async (spec, n, pct) => {
        const id = await makeCheck(spec);
        const before = await sums([id]);
        const ids = await checks.splitByAmounts(deps, id, { evenly: n });
        const parts = await sums(ids);
        assert.deepEqual({ total: parts.total, taxByRate: parts.taxByRate }, { total: before.total, taxByRate: before.taxByRate });
        const totals = await Promise.all(ids.map(async (x) => (await t.db('orders').where({ id: x }).first()).total));
        assert.ok(Math.max(...totals) - Math.min(...totals) <= 1, 'even shares differ by at most one unit');
        assert.equal((await t.db('orders').where({ id }).first()).status, 'split');

        const id2 = await makeCheck(spec);
        const b2 = await sums([id2]);
        const amount = Math.max(1, Math.floor((b2.total * pct) / 100));
        if (amount >= b2.total) return;
        const ids2 = await checks.splitByAmounts(deps, id2, { amounts: [amount] });
        const first = await t.db('orders').where({ id: ids2[0] }).first();
        assert.equal(first.total, amount, 'the share is exactly the amount asked');
        const p2 = await sums(ids2);
        assert.deepEqual({ total: p2.total, taxByRate: p2.taxByRate }, { total: b2.total, taxByRate: b2.taxByRate });
      }),
      { numRuns: 12 },
    );
  });

  it('merge and transfer', async () => {
    const tables = await t.db('tables').orderBy('id').pluck('id');
    await fc.assert(
      fc.asyncProperty(checkArb, checkArb, async (a, b) => {
        b.inclusive = a.inclusive;
        const target = await makeCheck(a);
        const source = await makeCheck(b);
        const before = await sums([target, source]);
        await checks.mergeChecks(deps, target, source);
        const after = await sums([target, source]);
        assert.deepEqual({ total: after.total, taxByRate: after.taxByRate }, { total: before.total, taxByRate: before.taxByRate });
        assert.equal((await t.db('orders').where({ id: source }).first()).status, 'merged');
        const free = [];
        for (const tid of tables) if (!(await t.db('orders').where({ table_id: tid, status: 'open' }).first())) free.push(tid);
        await checks.transferToTable(deps, target, free[0]);
        const moved = await sums([target]);
        assert.deepEqual(moved.taxByRate, before.taxByRate);
        await t.db('orders').where({ id: target }).update({ table_id: null });
      }),
      { numRuns: 12 },
    );
  });

  it('a split part pays and journals like any check; paying all parts adds up to the original', async () => {
    await setInclusive(true);
    const id = await makeCheck({ inclusive: true, lines: [{ product: 1, qty: 3, seat: 1 }, { product: 7, qty: 1, seat: 2 }, { product: 45, qty: 2, seat: 2 }], orderDiscount: 7 });
    const before = await sums([id]);
    const ids = await checks.splitByAmounts(deps, id, { evenly: 3 });
    let paid = 0;
    for (const x of ids) {
      const o = await t.db('orders').where({ id: x }).first();
      await orders.tenderCash(deps, x, o.total, `pay-${x}-${Date.now()}`);
      const after = await t.db('orders').where({ id: x }).first();
      const entry = (await t.db('journal').where({ seq: after.journal_seq }).first()).entry;
      assert.equal(entry.total, o.total);
      assert.equal(entry.tax_total, o.tax_total);
      paid += entry.total;
    }
    assert.equal(paid, before.total);
  });

  it('refuses to split or merge a check that is partly paid', async () => {
    await setInclusive(true);
    const id = await makeCheck({ inclusive: true, lines: [{ product: 2, qty: 2, seat: 1 }, { product: 3, qty: 1, seat: 2 }] });
    await orders.tenderCash(deps, id, 100, `part-${id}`);
    await assert.rejects(checks.splitBySeat(deps, id), /partly paid|paid already/);
    const other = await makeCheck({ inclusive: true, lines: [{ product: 2, qty: 1, seat: 1 }, { product: 4, qty: 1, seat: 1 }] });
    await assert.rejects(checks.mergeChecks(deps, other, id), /paid already/);
  });

  it('the floor shows each table free, ordering, sent, ready, paying; seating an occupied table returns its check', async () => {
    await setInclusive(true);
    const table = await t.db('tables').where({ name: 'Table 9' }).first();
    const state = async () => (await floor(t.db, clock)).find((x) => x.id === table.id)!;
    assert.equal((await state()).state, 'free');
    const kitchenDeps = { db: t.db, clock, events: noop };
    const id = await openTable(deps, table.id, 2, {});
    assert.equal(await openTable(deps, table.id, 4, {}), id, 'picked up, not opened twice');
    assert.equal((await state()).state, 'ordering');
    const soup = await t.db('products').where({ name: 'Soup of the day' }).first();
    await orders.addLine(deps, id, { productId: soup.id, quantity: 2, modifierIds: [], note: null, seat: 1 });
    await sendOrder(kitchenDeps, id);
    assert.equal((await state()).state, 'sent');
    clock.advance(12 * 60_000);
    assert.equal((await state()).seatedMinutes, 12);
    const ticket = await t.db('kitchen_tickets').where({ order_id: id }).first();
    await bumpTicket(kitchenDeps, ticket.id);
    assert.equal((await state()).state, 'ready');
    await orders.tenderCash(deps, id, 100, `floor-${id}`);
    assert.equal((await state()).state, 'paying');
    await orders.tenderCash(deps, id, 100_000, `floor2-${id}`);
    assert.equal((await state()).state, 'free');
  });
});
