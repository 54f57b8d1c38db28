import type { Knex } from 'knex';

/**
 * The idempotency keys of terminal taps that add to an order ("add line", and the first tap that
 * opens a sale). A terminal that lost its link retries such a tap with the same key once the
 * server answers again (static/js/ui.js, "connection lost"); the key, written in the change's own
 * transaction, makes the retry answer the order as it is instead of adding the line again. A
 * row names the order it was used on; kept for a day (server/retention.ts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('request_keys', (t) => {
    t.text('key').primary();
    t.bigInteger('order_id').notNullable().references('orders.id').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index(['created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('request_keys');
}
