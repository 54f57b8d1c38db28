import type { Knex } from 'knex';

/**
 * The webhook worker looks for due deliveries after every close that wrote events (and on a
 * timer): `state = 'pending' and next_attempt_at <= now` over every active subscription. The only
 * index had the state second, after subscription_id, so each look read the index of every
 * delivery ever made: on 20 000 delivered ones, 0.9 ms to find 4, growing by the day. The pending
 * deliveries are few; this partial index holds only them.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw("create index webhook_deliveries_pending on webhook_deliveries (next_attempt_at, subscription_id) where state = 'pending'");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index webhook_deliveries_pending');
}
