import type { Knex } from 'knex';

/**
 * The server keeps products (with their tax rate and modifier groups) and the open orders it
 * last changed in memory, so that adding a line is one statement (the order memory, since removed;
 * migration 0014 drops these triggers).
 * These triggers tell it, through NOTIFY on the channel `store_catalog_changed`, when anything
 * changes what a kept product says: its own writes and anyone else's (the back office, another
 * process, psql). The payload is the table's name. The floor plan's tables notify too: an
 * order's screen shows its table's name.
 *
 * Statement-level: a price list imported in one statement is one notice.
 */
export const CATALOG_CHANNEL = 'store_catalog_changed';

export const CATALOG_TABLES = ['products', 'tax_rates', 'modifier_groups', 'modifiers', 'product_modifier_groups', 'tables'] as const;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function notify_catalog_changed() returns trigger language plpgsql as $$
    begin
      perform pg_notify('${CATALOG_CHANNEL}', tg_table_name);
      return null;
    end $$`);
  for (const table of CATALOG_TABLES) {
    await knex.raw(`create trigger ${table}_catalog_changed after insert or update or delete or truncate on ${table}
      for each statement execute function notify_catalog_changed()`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of CATALOG_TABLES) await knex.raw(`drop trigger ${table}_catalog_changed on ${table}`);
  await knex.raw('drop function notify_catalog_changed()');
}
