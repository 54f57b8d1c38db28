import type { Knex } from 'knex';

/**
 * One outbox for every kind of after-commit work (server/outbox/): a row per thing to deliver,
 * written in the business transaction, delivered by the worker in id order per (topic,
 * ordering_key), with its attempts, next due time and state kept here and nowhere else.
 *
 * Webhooks move onto it: a webhook delivery keeps what is its own (the subscription, the event,
 * the last HTTP status, its attempt log in webhook_attempts) and points at its outbox row, which
 * holds the delivery's state; the state columns leave webhook_deliveries, so the state lives once.
 * Existing deliveries, pending and delivered, become outbox rows in event order per subscription.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('outbox', (t) => {
    t.bigIncrements('id'); // the order of the rows of one (topic, ordering_key)
    t.text('topic').notNullable(); // which handler delivers it: 'webhook', later 'print', …
    t.text('ordering_key').notNullable(); // rows of one key are delivered one at a time, in id order
    t.jsonb('payload').notNullable();
    t.text('state').notNullable().defaultTo('pending'); // pending → delivered
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable();
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('delivered_at', { useTz: true });
  });
  await knex.raw("alter table outbox add constraint outbox_state check (state in ('pending', 'delivered'))");
  // the worker reads only pending rows, which are few: the head of each key, and the rows behind it
  await knex.raw("create index outbox_pending on outbox (topic, ordering_key, id) include (next_attempt_at) where state = 'pending'");
  // the prune job finds delivered rows by age
  await knex.raw("create index outbox_delivered on outbox (delivered_at) where state = 'delivered'");

  await knex.schema.alterTable('webhook_deliveries', (t) => {
    t.bigInteger('outbox_id').unique().references('outbox.id').onDelete('CASCADE');
  });
  await knex.raw(`
    insert into outbox (topic, ordering_key, payload, state, attempts, next_attempt_at, last_error, created_at, delivered_at)
    select 'webhook', 'subscription:' || d.subscription_id, jsonb_build_object('subscriptionId', d.subscription_id, 'eventSeq', d.event_seq),
           d.state, d.attempts, d.next_attempt_at, d.last_error, e.created_at, d.delivered_at
      from webhook_deliveries d join webhook_events e on e.seq = d.event_seq
     order by d.subscription_id, d.event_seq`);
  await knex.raw(`
    update webhook_deliveries d set outbox_id = o.id from outbox o
     where o.topic = 'webhook' and (o.payload ->> 'subscriptionId')::bigint = d.subscription_id and (o.payload ->> 'eventSeq')::bigint = d.event_seq`);
  await knex.raw('alter table webhook_deliveries alter column outbox_id set not null');
  // (their indexes, 0006's and 0013's, go with the columns)
  await knex.schema.alterTable('webhook_deliveries', (t) => {
    t.dropColumns('state', 'attempts', 'next_attempt_at', 'delivered_at', 'last_error');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhook_deliveries', (t) => {
    t.text('state').notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true });
    t.timestamp('delivered_at', { useTz: true });
    t.text('last_error');
  });
  await knex.raw(`
    update webhook_deliveries d set state = o.state, attempts = o.attempts, next_attempt_at = o.next_attempt_at, delivered_at = o.delivered_at, last_error = o.last_error
      from outbox o where o.id = d.outbox_id`);
  await knex.raw('alter table webhook_deliveries alter column next_attempt_at set not null');
  await knex.schema.alterTable('webhook_deliveries', (t) => {
    t.dropColumn('outbox_id');
    t.index(['subscription_id', 'state', 'event_seq']);
  });
  await knex.raw("create index webhook_deliveries_pending on webhook_deliveries (next_attempt_at, subscription_id) where state = 'pending'");
  await knex.schema.dropTable('outbox');
}
