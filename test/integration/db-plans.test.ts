import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { FakeClock } from '../helpers/clock';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import * as orders from '../../server/orders/service';
import { sendOrderAndView, type KitchenEvents } from '../../server/kitchen/service';
import { escapeLiteral, type ClientBase } from 'pg';
import { listenForAuthChanges } from '../../server/auth/cache';
import { testLog } from '../helpers/log';
import { until } from '../helpers/wait';
import type { Db } from '../../server/db/knex';
import { openOrders } from '../../server/orders/queries';
import { floor, openTable } from '../../server/tables/service';
import { DUE_SQL } from '../../server/webhooks/worker';
import { toNative } from '../../server/db/direct';
import { forgetOrderMemory } from '../../server/orders/memory';
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
  const clock = new FakeClock();
  const store = seededStore(async (db) => {
    // statistics taken while the store was new, as autovacuum's first ANALYZE leaves them: the
    // tables that grow by the thousand per day look empty to the planner until its next one
    await db.raw('analyze');
    await addHistory(db);
    // (no ANALYZE since)
  });

  it('finds an order\'s rows through indexes, even with a generic plan', async () => {
    const statements = await saleStatements(store.t.db, clock);
    const scans: string[] = [];
    await withGenericPlans(store.t.db, async (conn) => {
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
    });
    assert.deepEqual(scans, []);
  });

  it('the server\'s connections plan each prepared statement once, never afresh per run', async () => {
    const conn = await store.t.db.client.acquireConnection();
    try {
      assert.equal((await conn.query('show plan_cache_mode')).rows[0].plan_cache_mode, 'force_generic_plan');
    } finally {
      await store.t.db.client.releaseConnection(conn);
    }
    const one = (await import('../../server/db/knex')).createDb(store.t.url, { poolMax: 1 });
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

/** A seeded store's database for the suite, made ready by `prepare` and dropped after it. */
function seededStore(prepare: (db: Db) => Promise<void>): { t: TestDb } {
  const store = {} as { t: TestDb };
  before(async () => {
    store.t = await createTestDb({ poolMax: 4 });
    await seedStore(store.t.db);
    await prepare(store.t.db);
  });
  after(() => store.t.drop());
  return store;
}

const kitchenEvents: KitchenEvents = { ticketCreated() {}, ticketChanged() {}, orderReady() {}, orderChanged() {}, floorChanged() {} };
const BIG = ['orders', 'order_lines', 'order_line_modifiers', 'payments', 'journal', 'kitchen_tickets', 'kitchen_ticket_items', 'refunds', 'refund_lines'];

/**
 * A past: 4 000 orders of 3 lines with 2 modifiers each, a payment each, a bumped kitchen ticket
 * each, a refund every tenth. The first 2 000 are still open, so that a lookup through an index on
 * the status reads them all, and a search for open orders through the primary key reads the
 * 2 000 newer paid ones first.
 */
async function addHistory(db: Db): Promise<void> {
  const product = await db('products').where({ name: 'Brownie' }).first();
  const modifier = await db('modifiers').orderBy('id').first();
  await db.raw(
    `with o as (
       insert into orders (number, business_date, type, status, created_at, updated_at)
       select g, date '2026-01-01' + (g / 200), 'counter', case when g <= 2000 then 'open' else 'paid' end, now(), now()
       from generate_series(1, 4000) g returning id, number),
     l as (
       insert into order_lines (order_id, product_id, name, base_price, unit_price, quantity, tax_rate_id, tax_name, tax_ppm, created_at)
       select o.id, ?, 'Brownie', 300, 300, 1, ?, 'VAT', 200000, now() from o, generate_series(1, 3) returning id, order_id),
     m as (
       insert into order_line_modifiers (line_id, modifier_id, group_name, name, price_delta)
       select l.id, ?, 'Size', 'Large', 50 from l, generate_series(1, 2)),
     k as (
       insert into kitchen_tickets (order_id, station_id, send_no, status, order_number, created_at, bumped_at)
       select o.id, (select min(id) from stations), 1, 'bumped', o.number, now(), now() from o returning id, order_id),
     ki as (
       insert into kitchen_ticket_items (ticket_id, line_id, marker, quantity, name, course)
       select k.id, l.id, 'NEW', 1, 'Brownie', 1 from k join l on l.order_id = k.order_id)
     insert into payments (order_id, method, amount, tendered, change, tip, idempotency_key, created_at)
     select o.id, 'cash', 900, 1000, 100, 0, 'history-' || o.id, now() from o`,
    [product.id, product.tax_rate_id, modifier.id],
  );
  await db.raw(
    `with r as (
       insert into refunds (order_id, receipt_no, journal_seq, reason, total, tax_total, idempotency_key, created_at)
       select o.id, 100000 + o.id, 100000 + o.id, 'history', 300, 50, 'history-refund-' || o.id, now() from orders o where o.id % 10 = 0
       returning id, order_id)
     insert into refund_lines (refund_id, order_line_id, quantity, net, tax)
     select r.id, (select min(l.id) from order_lines l where l.order_id = r.order_id), 1, 250, 50 from r`,
  );
}

interface Captured {
  sql: string;
  bindings: unknown[];
}

/**
 * The statements a day's selling sends, as the server sends them: a table seated, its check's
 * lines sent and paid in two parts, a counter sale from the server's memory (orders/memory.ts)
 * sent and paid, an integration API sale, the open orders list and the live floor.
 */
async function saleStatements(db: Db, clock: FakeClock): Promise<Captured[]> {
  const deps: orders.OrderDeps = { db, clock, events: { orderChanged: () => {} } };
  const captured: Captured[] = [];
  const onQuery = (q: { sql: string; bindings?: unknown[] }) => captured.push({ sql: q.sql, bindings: [...(q.bindings ?? [])] });
  const table = await db('tables').orderBy('id').first();
  const product = await db('products').where({ name: 'Brownie' }).first();
  const withGroups = await db('product_modifier_groups').first();
  const listener = listenForAuthChanges(db, testLog, { retryMs: 100 });
  db.on('query', onQuery);
  try {
    const id = await openTable(deps, table.id, 2, {});
    await orders.addLineAndView(deps, id, { productId: product.id, quantity: 1, modifierIds: [], note: null });
    if (withGroups) {
      const mods = await db('modifiers').where({ group_id: withGroups.group_id }).orderBy('id').limit(1).pluck('id');
      await orders.addLineAndView(deps, id, { productId: withGroups.product_id, quantity: 1, modifierIds: mods, note: null }).catch(() => undefined);
    }
    await sendOrderAndView({ ...deps, events: kitchenEvents }, id);
    await orders.getOrderView(db, id);
    await floor(db, clock);
    await orders.tenderCashAndView(deps, id, 100, crypto.randomUUID()); // a part payment
    await orders.tenderCashAndView(deps, id, 100_000, crypto.randomUUID()); // the close
    await orders.getOrderView(db, id);
    // a counter sale while the server keeps the order and product (orders/memory.ts)
    await until('the change listener', () => listener.live, 10_000);
    const counter = await orders.openOrder(deps, { type: 'counter' });
    for (let i = 0; i < 2; i++) await orders.addLineAndView(deps, counter.id, { productId: product.id, quantity: 1, modifierIds: [], note: null });
    await sendOrderAndView({ ...deps, events: kitchenEvents }, counter.id);
    await orders.tenderCashAndView(deps, counter.id, 100_000, crypto.randomUUID());
    // an integration API sale, as server/api/routes.ts makes it: the number taken on its own, the
    // order and its lines in one transaction (openOrderWithLines), then the payment
    const api: orders.Actor = { terminal: 'api:plans' };
    const apiLines: orders.NewLine[] = [{ productId: product.id, quantity: 1, modifierIds: [], note: null }];
    if (withGroups) {
      const mods = await db('modifiers').where({ group_id: withGroups.group_id }).orderBy('id').limit(1).pluck('id');
      apiLines.push({ productId: withGroups.product_id, quantity: 1, modifierIds: mods, note: null });
    }
    forgetOrderMemory(db); // (its products read in the transaction, as by a server that has not kept them)
    const apiOrder = await orders.openOrderWithLines(deps, { type: 'takeaway' }, apiLines, api, await orders.reserveOrderNumber(deps));
    await orders.getOrderView(db, apiOrder);
    await orders.tenderCashAndView(deps, apiOrder, 100_000, crypto.randomUUID(), api);
    await openOrders(db);
  } finally {
    db.off('query', onQuery);
    await listener.stop();
  }
  assert.ok(captured.some((s) => RESERVED_NUMBER.test(s.sql)), 'the API order with its number taken first was captured');
  for (const fromMemory of [/^with guard as \(update/, /^with guard as \(select/]) {
    assert.ok(captured.some((s) => fromMemory.test(s.sql)), `a step from memory was captured (${fromMemory})`);
  }
  const statements = captured.filter((s) => !/^\s*(begin|commit|rollback)\b/i.test(s.sql));
  assert.ok(statements.length >= 12, `a day's statements were captured (${statements.length})`);
  return statements;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

/**
 * `fn` on one pooled connection planning each prepared statement once, as the server's do; its
 * prepared statements and the setting are gone when it is handed back.
 */
async function withGenericPlans(db: Db, fn: (conn: ClientBase) => Promise<void>): Promise<void> {
  const conn = (await db.client.acquireConnection()) as ClientBase;
  try {
    await conn.query('set plan_cache_mode = force_generic_plan');
    await fn(conn);
  } finally {
    await conn.query('deallocate all').catch(() => undefined);
    await conn.query('reset plan_cache_mode').catch(() => undefined);
    await db.client.releaseConnection(conn);
  }
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
/**
 * What a new store's first minutes leave: the server's connections plan each statement once, on
 * tables that are still small and not yet analyzed, and keep those plans until an ANALYZE of the
 * table replaces them (autovacuum's first comes a minute or more later). A plan that reads an
 * order by an index on its status rather than by its id reads every open order to find one:
 * the bench's rush read 221 status-index entries per lookup, 4.8 million in 36 s.
 */
describe('the plans a new store makes, once it has a history', function () {
  this.timeout(120_000);
  const clock = new FakeClock();
  const store = seededStore(async (db) => {
    // no ANALYZE here, and none from autovacuum while the test runs: the plans made now must
    // still be the ones used once the history is in
    for (const table of BIG) await db.raw(`alter table ${table} set (autovacuum_enabled = off)`);
  });

  it('reads only the rows of the order at hand, with the plans made while the store was new', async () => {
    const statements = await saleStatements(store.t.db, clock);
    const wide: string[] = [];
    await withGenericPlans(store.t.db, async (conn) => {
      const run = (i: number, s: Captured, explain: string, rerun = false) => {
        // run again, a payment's idempotency key would refuse it: a new one stands in; so would an
        // API order's number, taken before its insert: one no order has stands in
        const fresh = (b: unknown, k: number) => (typeof b === 'string' && UUID.test(b) ? crypto.randomUUID() : k === 0 && RESERVED_NUMBER.test(s.sql) ? 999_999 : b);
        const args = s.bindings.map((b, k) => literal(rerun ? fresh(b, k) : b));
        return conn.query(`explain (${explain}) execute plan_new_${i}${args.length ? `(${args.join(', ')})` : ''}`);
      };
      // each statement planned on the new store, as a connection of the server plans it on first use
      assert.equal(statements.filter((s) => EVERY_OPEN_ORDER.some((re) => re.test(s.sql))).length, EVERY_OPEN_ORDER.length, 'the floor and the open orders list were captured');
      for (const [i, s] of statements.entries()) {
        await conn.query(`prepare plan_new_${i} as ${s.sql}`);
        await run(i, s, 'format json');
      }
      await addHistory(store.t.db);
      const open = Number((await store.t.db('orders').where({ status: 'open' }).count({ n: '*' }))[0].n);
      // the same plans, run on the store with a history, each in a transaction that is rolled back
      for (const [i, s] of statements.entries()) {
        // the live floor and the open orders list show every open order: they may read those, and no more
        const most = EVERY_OPEN_ORDER.some((re) => re.test(s.sql)) ? open + 10 : 250;
        await conn.query('begin');
        try {
          const res = await run(i, s, 'analyze, format json', true);
          for (const r of rowsRead(res.rows[0]['QUERY PLAN'][0].Plan)) {
            if (BIG.includes(r.relation) && r.rows > most) wide.push(`${r.relation} (${r.node}${r.index ? ` on ${r.index}` : ''}): ${r.rows} rows read in: ${s.sql.replace(/\s+/g, ' ').slice(0, 120)}`);
          }
        } finally {
          await conn.query('rollback');
        }
      }
    });
    assert.deepEqual(wide, []);
  });

  it('finds the webhook deliveries that are due without reading the delivered ones', async () => {
    const [sub] = await store.t.db('webhook_subscriptions').insert({ url: 'http://127.0.0.1:9/hook', events: ['order.paid'], secret: 'x', created_at: new Date() }).returning('id');
    await withGenericPlans(store.t.db, async (conn) => {
      // planned while the store has no deliveries, as the worker's connection first does
      await conn.query(`prepare due_check as ${toNative(DUE_SQL)}`);
      await conn.query('explain (format json) execute due_check(now())');
      // a history of 20 000 delivered events and 4 still pending
      await store.t.db.raw(
        `with e as (
           insert into webhook_events (id, type, data, created_at)
           select gen_random_uuid(), 'order.paid', '{}'::jsonb, now() from generate_series(1, 20000) returning seq)
         insert into webhook_deliveries (subscription_id, event_seq, state, next_attempt_at, delivered_at)
         select ?, e.seq, case when e.seq % 5000 = 0 then 'pending' else 'delivered' end, now() - interval '1 minute', now() from e`,
        [sub.id],
      );
      const res = await conn.query('explain (analyze, buffers, format json) execute due_check(now())');
      const plan = res.rows[0]['QUERY PLAN'][0].Plan as { 'Shared Hit Blocks': number; 'Shared Read Blocks': number; 'Actual Rows': number };
      assert.equal(plan['Actual Rows'], 1, 'the subscription with due deliveries');
      // the index of every delivery is about 100 pages here; the pending ones fit in a few
      const pages = plan['Shared Hit Blocks'] + plan['Shared Read Blocks'];
      assert.ok(pages <= 20, `pages read: ${pages}`);
    });
  });
});

const EVERY_OPEN_ORDER = [/^select t\.id, .* from tables t\s+join areas a .*left join orders o /s, /^select \* from "orders" where (status = 'open'|"status" = \$1) order by "id" desc limit \$\d$/];
/** openOrder's insert with a number reserveOrderNumber took (its first binding) */
const RESERVED_NUMBER = /^insert into orders \(number, business_date/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface AnalyzedNode extends PlanNode {
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: AnalyzedNode[];
}

/** For each node that reads a table: the rows it read, kept or filtered out, over all its loops. */
function rowsRead(node: AnalyzedNode): Array<{ relation: string; node: string; index?: string; rows: number }> {
  const here = node['Relation Name']
    ? [{
        relation: node['Relation Name'],
        node: node['Node Type'],
        index: node['Index Name'],
        rows: ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * (node['Actual Loops'] ?? 1),
      }]
    : [];
  return [...here, ...(node.Plans ?? []).flatMap(rowsRead)];
}
