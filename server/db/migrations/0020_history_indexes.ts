import type { Knex } from 'knex';

/**
 * The sales history (server/orders/history.ts) lists a business day's closed sales newest first
 * and finds one by its receipt number on any day; a share of a split check names the check it
 * came from, and that check its shares.
 *
 * - orders_closed_by_day: a day's paid and voided orders by receipt number (gapless, so newest
 *   first is receipt number descending, and a page's cursor is the last number shown). Partial:
 *   open orders, rewritten on every tap, are not in it, and its columns change only when an order
 *   closes, so an open order's updates stay HOT (migration 0008). Queries write the status
 *   condition out (history.ts, CLOSED) so the planner can prove the predicate.
 * - orders_receipt_no: a receipt number typed into the search, whatever its day.
 * - orders_split_from: a split check's shares, and a share's siblings.
 * No index on amounts or names: they are searched within one day's closed orders.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw("create index orders_closed_by_day on orders (business_date, receipt_no desc) where status in ('paid', 'voided')");
  await knex.raw('create index orders_receipt_no on orders (receipt_no) where receipt_no is not null');
  await knex.raw('create index orders_split_from on orders (split_from) where split_from is not null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index orders_split_from');
  await knex.raw('drop index orders_receipt_no');
  await knex.raw('drop index orders_closed_by_day');
}
