/**
 * The reports' figures (ARCHITECTURE, "Performance budget"): the sales summary and the product
 * mix over 1 000 000 order lines (< 1 s each), and the Z closure of a business day of 10 000
 * orders (< 2 s), on a scratch cluster of the server's own embedded PostgreSQL with the demo
 * catalog. The order lines are generated in bulk by SQL (250 000 paid orders of four lines over
 * 30 business days, with their payments) and analysed, as a store's tables would be after a
 * month; the Z's day is written through the journal's one append (appendEntry), as sales write
 * it. Times are the server's service calls (server/reports/), each the median of 3 runs.
 *
 * Alone: `npx tsx scripts/bench/reports.ts` (BENCH_REPORT_LINES, BENCH_Z_ORDERS to change the sizes).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Clock } from '../../server/clock';
import { PgCluster } from '../../server/db/embedded';
import { createDb, type Db } from '../../server/db/knex';
import { migrateLatest } from '../../server/db/migrations';
import { seedDemo } from '../../server/demo/seed';
import { appendEntry } from '../../server/journal/append';
import { createLogger } from '../../server/logger';
import { seedSettings } from '../../server/settings/service';
import { closeDay, productMix, salesSummary } from '../../server/reports/service';
import type { Row } from './report';
import { fmt, median } from './stats';

const DAYS = 30;

/** The bench's clock: the Z's day is written at one moment of it (the server's rules read time from a clock). */
class BenchClock implements Clock {
  constructor(private readonly at: string) {}
  now(): Date {
    return new Date(this.at);
  }
}

/** `lines` order lines, four to a paid order, spread over DAYS business days ending 2026-02-28, with one cash payment each. */
async function generateLines(db: Db, lines: number): Promise<void> {
  const orders = Math.ceil(lines / 4);
  await db.raw(`create temporary table bench_products as
    select row_number() over (order by p.id) - 1 as k, p.id, p.name, p.price, t.id as tax_id, t.name as tax_name, t.rate_ppm
    from products p join tax_rates t on t.id = p.tax_rate_id where p.price > 0`);
  const [{ n }] = (await db.raw('select count(*)::int as n from bench_products')).rows;
  await db.raw(`insert into orders (id, number, business_date, sales_date, type, status, subtotal, discount_total, tax_total, total, paid_total, receipt_no, covers, created_at, updated_at, closed_at)
    select g, g, d, d, 'counter', 'paid', 0, 0, 0, 0, 0, g, 1 + g % 4, ts, ts, ts
    from generate_series(1, ?) g,
      lateral (select (date '2026-02-28' - (g % ${DAYS}))::date as d, timestamptz '2026-02-28 08:00Z' - (g % ${DAYS}) * interval '1 day' + (g % 720) * interval '1 minute' as ts) x`, [orders]);
  await db.raw(`insert into order_lines (order_id, product_id, name, base_price, unit_price, quantity, tax_rate_id, tax_name, tax_ppm, net, tax, created_at)
    select (l - 1) / 4 + 1, p.id, p.name, p.price, p.price, 1 + l % 2, p.tax_id, p.tax_name, p.rate_ppm,
      p.price * (1 + l % 2), round(p.price * (1 + l % 2) * p.rate_ppm / (1000000.0 + p.rate_ppm)), timestamptz '2026-02-01 08:00Z'
    from generate_series(1, ?) l join bench_products p on p.k = (l::bigint * 7919) % ?`, [lines, n]);
  await db.raw(`update orders o set subtotal = s.net, total = s.net, tax_total = s.tax, paid_total = s.net
    from (select order_id, sum(net) as net, sum(tax) as tax from order_lines group by order_id) s where s.order_id = o.id`);
  await db.raw(`insert into payments (order_id, method, amount, tendered, change, tip, idempotency_key, created_at)
    select id, 'cash', total, total, 0, 0, 'bench-' || id, closed_at from orders`);
  await db.raw("select setval(pg_get_serial_sequence('orders', 'id'), (select max(id) from orders))");
  await db.raw('analyze');
}

/** A business day of `n` sales in the journal, through appendEntry, 500 to a transaction. */
async function writeDay(db: Db, clock: BenchClock, n: number): Promise<void> {
  for (let done = 0; done < n; ) {
    const k = Math.min(500, n - done);
    await db.transaction(async (trx) => {
      for (let i = 0; i < k; i++) {
        const total = 350 + ((done + i) % 17) * 25;
        const tax = total - Math.round(total / 1.19);
        await appendEntry(trx, clock, {
          kind: 'sale',
          record: {
            order_id: done + i + 1, order_number: done + i + 1, order_type: 'counter', currency: 'EUR', prices_include_tax: true, staff: { id: 1, name: 'Owner' }, terminal: 'Counter 1',
            lines: [{ line_id: done + i + 1, product_id: 1, name: 'Flat white', quantity: 1, unit_price: total, modifiers: [], note: null, gross: total, net: total, tax }],
            taxes: [{ tax_rate_id: 1, name: 'Standard 19%', ppm: 190_000, base: total - tax, tax }],
            subtotal: total, discount_total: 0, tax_total: tax, total, rounding: 0,
            tenders: [{ method: (done + i) % 3 ? 'cash' : 'card', amount: total, tendered: total, change: 0 }],
          },
          sales: total,
        });
      }
    });
    done += k;
  }
}

async function timed(f: () => Promise<unknown>, runs = 3): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await f();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(ms);
}

export async function measureReportFigures(opts: { lines?: number; zOrders?: number; note?: (msg: string) => void } = {}): Promise<Row[]> {
  const lines = opts.lines ?? 1_000_000;
  const zOrders = opts.zOrders ?? 10_000;
  const note = opts.note ?? ((m: string) => process.stderr.write(`[bench reports] ${m}\n`));
  const log = createLogger('silent');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-reports-'));
  const cluster = new PgCluster({ dir: path.join(root, 'pg'), log });
  let db: Db | undefined;
  try {
    await cluster.start();
    db = createDb(cluster.connectionString('postgres'), { poolMax: 4 });
    await migrateLatest(db);
    const clock = new BenchClock('2026-03-14T10:00:00Z');
    await seedSettings(db, clock, {});
    await seedDemo(db, clock);
    note(`generating ${fmt(lines)} order lines`);
    const g0 = Date.now();
    await generateLines(db, lines);
    const genS = (Date.now() - g0) / 1000;
    const range = { from: '2026-01-30', to: '2026-02-28' };
    const [{ n: counted }] = (await db.raw('select count(*)::int as n from order_lines l join orders o on o.id = l.order_id where o.sales_date between ? and ?', [range.from, range.to])).rows;
    note(`timing the sales summary and the product mix over ${fmt(counted)} lines`);
    const summaryMs = await timed(() => salesSummary(db!, range));
    const mixMs = await timed(() => productMix(db!, range, { limit: 51, offset: 0 }));
    note(`writing a day of ${fmt(zOrders)} sales through appendEntry`);
    await writeDay(db, clock, zOrders);
    const t0 = process.hrtime.bigint();
    const { entry } = await closeDay({ db, clock, events: { publish: () => undefined } }, {}, { idempotencyKey: crypto.randomUUID() });
    const zMs = Number(process.hrtime.bigint() - t0) / 1e6;
    if ((entry.sales as { count: number }).count !== zOrders) throw new Error(`the Z counted ${String((entry.sales as { count: number }).count)} sales, not ${zOrders}`);
    const load = `load average ${os.loadavg()[0].toFixed(1)}`;
    return [
      { figure: 'Report: sales summary over 1 000 000 order lines', now: `${fmt(summaryMs)} ms`, before: '', ratio: '', aim: '< 1 s', met: summaryMs < 1000 ? 'yes' : 'no', note: `${fmt(counted)} lines of ${fmt(Math.ceil(lines / 4))} paid orders over ${DAYS} business days (generated in ${fmt(genS)} s, not counted); median of 3; ${load}` },
      { figure: 'Report: product mix over 1 000 000 order lines', now: `${fmt(mixMs)} ms`, before: '', ratio: '', aim: '< 1 s', met: mixMs < 1000 ? 'yes' : 'no', note: `the first page (50 products by revenue) over the same range; median of 3; ${load}` },
      { figure: 'Z closure of a day with 10 000 orders', now: `${fmt(zMs)} ms`, before: '', ratio: '', aim: '< 2 s', met: zMs < 2000 ? 'yes' : 'no', note: `closeDay (server/reports/): the day's ${fmt(zOrders)} journal entries summed by PostgreSQL and the Z appended, one transaction; ${load}` },
    ];
  } finally {
    await db?.destroy();
    await cluster.stop().catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (require.main === module) {
  measureReportFigures({ lines: Number(process.env.BENCH_REPORT_LINES ?? 1_000_000), zOrders: Number(process.env.BENCH_Z_ORDERS ?? 10_000) }).then(
    (rows) => process.stdout.write(JSON.stringify(rows, null, 2) + '\n'),
    (err) => {
      process.stderr.write(`${(err as Error).stack}\n`);
      process.exitCode = 1;
    },
  );
}
