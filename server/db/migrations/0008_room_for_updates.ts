import type { Knex } from 'knex';

/**
 * Room on each page for the rows a sale updates over and over: an open order's row is rewritten
 * on every change (totals, version), its lines at send and at close, the day's counter at every
 * open, the send counter at every send. With free space on the page PostgreSQL updates in place
 * (HOT: no new index entries, dead versions pruned as the page is read) instead of leaving work
 * for autovacuum, whose catch-up slowed every rush run after the first (docs/PERFORMANCE.md).
 * Applies to pages written from now on.
 */
const FILL: Array<[string, number]> = [
  ['orders', 70],
  ['order_lines', 80],
  ['order_counters', 50],
  ['order_sends', 50],
];

export async function up(knex: Knex): Promise<void> {
  for (const [table, fill] of FILL) await knex.raw(`alter table ?? set (fillfactor = ${fill})`, [table]);
}

export async function down(knex: Knex): Promise<void> {
  for (const [table] of FILL) await knex.raw('alter table ?? reset (fillfactor)', [table]);
}
