import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { FakeClock } from '../helpers/clock';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import * as orders from '../../server/orders/service';
import { sendOrderAndView, type KitchenEvents } from '../../server/kitchen/service';
import { escapeLiteral } from 'pg';
import { listenForAuthChanges } from '../../server/auth/cache';
import { testLog } from '../helpers/log';
import { until } from '../helpers/wait';
// pg's own conversion of a binding to the text it sends (its typings do not cover lib/utils)
const { prepareValue } = require('pg/lib/utils') as { prepareValue(v: unknown): string | Buffer | null | undefined };

/**
 * The statements of a sale, planned as the server runs them: prepared, so after five calls
 * PostgreSQL may keep one generic plan that does not know which order it is for. On a store
 * with a history, planned with the statistics of a new store (what the first ANALYZE leaves until
 * the next), none of them may read a whole table of order rows to find one order's. The bench
 * met an order's modifiers read that way (30 million rows in a 50-terminal rush after a restart)
 * and refund lines had no index to be found by.
 */
describe('the plans of a sale\'s statements on a store with a history', function () {
  this.timeout(120_000);
  let t: TestDb;
  const clock = new FakeClock();
  const kitchenEvents: KitchenEvents = { ticketCreated() {}, ticketChanged() {}, orderReady() {}, orderChanged() {}, floorChanged() {} };
  const BIG = ['orders', 'order_lines', 'order_line_modifiers', 'payments', 'journal', 'kitchen_tickets', 'kitchen_ticket_items', 'refunds', 'refund_lines'];

  before(async () => {
    t = await createTestDb({ poolMax: 4 });
    const store = await seedStore(t.db);
    const product = await t.db('products').where({ id: (await store.product('Brownie')).id }).first();
    const modifier = await t.db('modifiers').orderBy('id').first();
    // statistics taken while the store was new, as autovacuum's first ANALYZE leaves them: the
    // tables that grow by the thousand per day look empty to the planner until its next one
    await t.db.raw('analyze');
    // a past: 4 000 orders of 3 lines with 2 modifiers each, a payment each, a refund every tenth
    await t.db.raw(
      `with o as (
         insert into orders (number, business_date, type, status, created_at, updated_at)
         select g, date '2026-01-01' + (g / 200), 'counter', 'open', now(), now() from generate_series(1, 4000) g returning id),
       l as (
         insert into order_lines (order_id, product_id, name, base_price, unit_price, quantity, tax_rate_id, tax_name, tax_ppm, created_at)
         select o.id, ?, 'Brownie', 300, 300, 1, ?, 'VAT', 200000, now() from o, generate_series(1, 3) returning id),
       m as (
         insert into order_line_modifiers (line_id, modifier_id, group_name, name, price_delta)
         select l.id, ?, 'Size', 'Large', 50 from l, generate_series(1, 2))
       insert into payments (order_id, method, amount, tendered, change, tip, idempotency_key, created_at)
       select o.id, 'cash', 900, 1000, 100, 0, 'history-' || o.id, now() from o`,
      [product.id, product.tax_rate_id, modifier.id],
    );
    await t.db.raw(
      `with r as (
         insert into refunds (order_id, receipt_no, journal_seq, reason, total, tax_total, idempotency_key, created_at)
         select o.id, 100000 + o.id, 100000 + o.id, 'history', 300, 50, 'history-refund-' || o.id, now() from orders o where o.id % 10 = 0
         returning id, order_id)
       insert into refund_lines (refund_id, order_line_id, quantity, net, tax)
       select r.id, (select min(l.id) from order_lines l where l.order_id = r.order_id), 1, 250, 50 from r`,
    );
    // (no ANALYZE since)
  });
  after(() => t.drop());

  it('finds an order\'s rows through indexes, even with a generic plan', async () => {
    const deps: orders.OrderDeps = { db: t.db, clock, events: { orderChanged: () => {} } };
    const captured: Array<{ sql: string; bindings: unknown[] }> = [];
    const onQuery = (q: { sql: string; bindings?: unknown[] }) => captured.push({ sql: q.sql, bindings: [...(q.bindings ?? [])] });
    const table = await t.db('tables').orderBy('id').first();
    const product = await t.db('products').where({ name: 'Brownie' }).first();
    const withGroups = await t.db('product_modifier_groups').first();
    const listener = listenForAuthChanges(t.db, testLog, { retryMs: 100 });
    t.db.on('query', onQuery);
    try {
      const o = await orders.openOrder(deps, { type: 'dine_in', tableId: table.id });
      await orders.addLineAndView(deps, o.id, { productId: product.id, quantity: 1, modifierIds: [], note: null });
      if (withGroups) {
        const mods = await t.db('modifiers').where({ group_id: withGroups.group_id }).orderBy('id').limit(1).pluck('id');
        await orders.addLineAndView(deps, o.id, { productId: withGroups.product_id, quantity: 1, modifierIds: mods, note: null }).catch(() => undefined);
      }
      await sendOrderAndView({ ...deps, events: kitchenEvents }, o.id);
      await orders.getOrderView(t.db, o.id);
      await orders.tenderCashAndView(deps, o.id, 100, crypto.randomUUID()); // a part payment
      await orders.tenderCashAndView(deps, o.id, 100_000, crypto.randomUUID()); // the close
      await orders.getOrderView(t.db, o.id);
      // a counter sale's lines while the server keeps the order and product (orders/memory.ts)
      await until('the change listener', () => listener.live, 10_000);
      const counter = await orders.openOrder(deps, { type: 'counter' });
      for (let i = 0; i < 2; i++) await orders.addLineAndView(deps, counter.id, { productId: product.id, quantity: 1, modifierIds: [], note: null });
    } finally {
      t.db.off('query', onQuery);
      await listener.stop();
    }
    assert.ok(captured.some((s) => /^with guard as/.test(s.sql)), 'a line added from memory was captured');
    const statements = captured.filter((s) => !/^\s*(begin|commit|rollback)\b/i.test(s.sql));
    assert.ok(statements.length >= 8, `a sale's statements were captured (${statements.length})`);
    const conn = await t.db.client.acquireConnection();
    const scans: string[] = [];
    try {
      await conn.query('set plan_cache_mode = force_generic_plan');
      for (const [i, s] of statements.entries()) {
        const name = `plan_check_${i}`;
        await conn.query(`prepare ${name} as ${s.sql}`);
        const args = s.bindings.map(literal);
        const res = await conn.query(`explain (format json) execute ${name}${args.length ? `(${args.join(', ')})` : ''}`);
        await conn.query(`deallocate ${name}`);
        for (const rel of seqScans(res.rows[0]['QUERY PLAN'][0].Plan)) {
          if (BIG.includes(rel)) scans.push(`${rel} in: ${s.sql.replace(/\s+/g, ' ').slice(0, 160)}`);
        }
      }
    } finally {
      await conn.query('reset plan_cache_mode').catch(() => undefined);
      await t.db.client.releaseConnection(conn);
    }
    assert.deepEqual(scans, []);
  });

  it('the server\'s connections plan each prepared statement once, never afresh per run', async () => {
    const conn = await t.db.client.acquireConnection();
    try {
      assert.equal((await conn.query('show plan_cache_mode')).rows[0].plan_cache_mode, 'force_generic_plan');
    } finally {
      await t.db.client.releaseConnection(conn);
    }
    const one = (await import('../../server/db/knex')).createDb(t.url, { poolMax: 1 });
    try {
      const order = await one('orders').orderBy('id', 'desc').first('id');
      for (let i = 0; i < 8; i++) await orders.getOrderView(one, order.id);
      const plans = (await one.raw(`select generic_plans, custom_plans from pg_prepared_statements where statement like 'select o.*, t.name as x_table_name%'`)).rows;
      assert.equal(plans.length, 1);
      assert.deepEqual(plans[0], { generic_plans: 8, custom_plans: 0 });
    } finally {
      await one.destroy();
    }
  });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function seqScans(node: PlanNode): string[] {
  const here = node['Node Type'] === 'Seq Scan' && node['Relation Name'] ? [node['Relation Name']] : [];
  return [...here, ...(node.Plans ?? []).flatMap(seqScans)];
}

/** A binding as the SQL literal of the text pg would send for it (arrays, dates and JSON as pg writes them). */
function literal(v: unknown): string {
  const text = prepareValue(v);
  return text === null || text === undefined ? 'null' : escapeLiteral(String(text));
}