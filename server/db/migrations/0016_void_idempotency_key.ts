import type { Knex } from 'knex';

/**
 * A void's idempotency key, written with the void in its transaction (like a payment's and a
 * refund's): the void dialog sent again, after a lost answer or a double tap, answers the void
 * that was made instead of refusing a voided order.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (t) => {
    t.text('void_idempotency_key').unique();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (t) => {
    t.dropColumn('void_idempotency_key');
  });
}
