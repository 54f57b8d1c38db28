import type { Knex } from 'knex';

/**
 * Open orders are found through two small partial indexes instead of an index on every order's
 * status.
 *
 * The server's connections plan each prepared statement once (plan_cache_mode=
 * force_generic_plan) and keep the plan until an ANALYZE of the table replaces it. A new store's
 * first plans are made on small tables that were never analyzed, where an index on (status,
 * parked) looked as cheap as the primary key for the guards that find an order by id, version
 * and a bound status. Planned that way, each line added, send and tender read every open order's
 * index entry to find one: in the bench's rush, 221 entries per lookup.
 *
 * A plan made for a bound status cannot use an index whose predicate is `status = 'open'`, so
 * the guards can only find an order by its primary key. The queries that look for open orders
 * write `status = 'open'` out (orders/queries.ts, isOpen) and use these:
 * - orders_open: the open orders list, newest first;
 * - orders_open_by_table: a table's open check, and the live floor.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw("create index orders_open on orders (id) where status = 'open'");
  await knex.raw("create index orders_open_by_table on orders (table_id, id) where status = 'open'");
  await knex.schema.alterTable('orders', (t) => t.dropIndex(['status', 'parked']));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (t) => t.index(['status', 'parked']));
  await knex.raw('drop index orders_open_by_table');
  await knex.raw('drop index orders_open');
}
