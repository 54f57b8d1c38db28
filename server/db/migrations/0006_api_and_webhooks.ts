import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('api_tokens', (t) => {
    t.bigIncrements('id');
    t.text('name').notNullable();
    t.text('token_hash').notNullable().unique(); // sha256 of the token; the token itself is shown once
    t.specificType('scopes', 'text[]').notNullable();
    t.bigInteger('created_by').references('staff.id');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('revoked_at', { useTz: true });
    t.timestamp('last_used_at', { useTz: true });
  });
  await knex.schema.createTable('api_idempotency', (t) => {
    t.bigInteger('token_id').notNullable().references('api_tokens.id');
    t.text('key').notNullable();
    t.text('request_hash').notNullable(); // method + path + canonical body
    t.integer('status'); // null while the first request is still running
    t.jsonb('response');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.primary(['token_id', 'key']);
  });
  await knex.schema.alterTable('payments', (t) => {
    t.bigInteger('tip').notNullable().defaultTo(0);
  });

  await knex.schema.createTable('webhook_subscriptions', (t) => {
    t.bigIncrements('id');
    t.text('url').notNullable();
    t.specificType('events', 'text[]').notNullable();
    t.text('secret').notNullable();
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable();
  });
  // the outbox: written in the business transaction, delivered after commit
  await knex.schema.createTable('webhook_events', (t) => {
    t.bigIncrements('seq'); // order of events; an identity is fine here (gaps do not matter)
    t.uuid('id').notNullable().unique();
    t.text('type').notNullable();
    t.jsonb('data').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
  });
  await knex.schema.createTable('webhook_deliveries', (t) => {
    t.bigIncrements('id');
    t.bigInteger('subscription_id').notNullable().references('webhook_subscriptions.id').onDelete('CASCADE');
    t.bigInteger('event_seq').notNullable().references('webhook_events.seq');
    t.text('state').notNullable().defaultTo('pending'); // pending → delivered
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable();
    t.timestamp('delivered_at', { useTz: true });
    t.integer('last_status');
    t.text('last_error');
    t.unique(['subscription_id', 'event_seq']);
    t.index(['subscription_id', 'state', 'event_seq']);
  });
  await knex.schema.createTable('webhook_attempts', (t) => {
    t.bigIncrements('id');
    t.bigInteger('delivery_id').notNullable().references('webhook_deliveries.id').onDelete('CASCADE');
    t.timestamp('at', { useTz: true }).notNullable();
    t.integer('status');
    t.text('error');
    t.integer('duration_ms').notNullable();
    t.index('delivery_id');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE webhook_attempts, webhook_deliveries, webhook_events, webhook_subscriptions, api_idempotency, api_tokens');
  await knex.schema.alterTable('payments', (t) => t.dropColumn('tip'));
}
