import type { Knex } from 'knex';

/**
 * A paid order's screen and receipt sum what was refunded per line (refund_lines joined to the
 * order's refunds). refund_lines had no index on refund_id, so that join read every refund line
 * ever made: a cost that grew with the store's history on every receipt.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('refund_lines', (t) => {
    t.index('refund_id');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('refund_lines', (t) => {
    t.dropIndex('refund_id');
  });
}
