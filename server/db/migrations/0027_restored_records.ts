import type { Knex } from 'knex';

/**
 * Orders, payments and refunds rebuilt from journal entries the cloud ledger held beyond a
 * restored backup (issue 25; server/orders/replay.ts). They are marked `restored`, so anyone
 * reading them knows they came back from the journal's record rather than from the terminal
 * that made them. A restored line whose product, tax rate or modifier is not in the restored
 * catalog (made after the backup) keeps the journal's name, rate and price without the link;
 * every other line still needs its tax rate.
 */
export async function up(knex: Knex): Promise<void> {
  for (const table of ['orders', 'order_lines', 'payments', 'refunds']) {
    await knex.schema.alterTable(table, (t) => {
      t.boolean('restored').notNullable().defaultTo(false);
    });
  }
  // product_id may already be null (the share lines of an even split, 0007)
  await knex.raw('ALTER TABLE order_lines ALTER COLUMN tax_rate_id DROP NOT NULL');
  await knex.raw('ALTER TABLE order_lines ADD CONSTRAINT order_lines_tax_rate CHECK (restored OR tax_rate_id IS NOT NULL)');
  await knex.raw('ALTER TABLE order_line_modifiers ALTER COLUMN modifier_id DROP NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE order_line_modifiers ALTER COLUMN modifier_id SET NOT NULL');
  await knex.raw('ALTER TABLE order_lines DROP CONSTRAINT order_lines_tax_rate');
  await knex.raw('ALTER TABLE order_lines ALTER COLUMN tax_rate_id SET NOT NULL');
  for (const table of ['orders', 'order_lines', 'payments', 'refunds']) {
    await knex.schema.alterTable(table, (t) => t.dropColumn('restored'));
  }
}
