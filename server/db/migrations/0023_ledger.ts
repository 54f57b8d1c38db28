import type { Knex } from 'knex';

/**
 * Shipping the journal to the cloud ledger (issue 25; server/ledger/). The journal itself is the
 * queue: these tables hold only where the shipper stands and what it sent.
 *
 * - `ledger_state`, one row: the ledger's acknowledged mark (how far the ledger holds the
 *   journal, for the ledger at `target`), when the heads were last compared, the failure count
 *   and next attempt of the backoff, the last success and error, a fork when the ledger holds a
 *   different entry (shipping stops until someone looks), and whether a start after a restore
 *   still has to compare heads before a sale may close.
 * - `ledger_batches`: one row per range sent; its id is the Idempotency-Key of every retry of
 *   that range, written before the first POST so a crash cannot change it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('ledger_state', (t) => {
    t.integer('id').primary();
    t.text('target'); // "<url> <store id>" the mark belongs to; another target learns its mark from its head
    t.bigInteger('acked_through').notNullable().defaultTo(0);
    t.timestamp('head_checked_at', { useTz: true });
    t.boolean('restore_pending').notNullable().defaultTo(false);
    t.bigInteger('fork_at_seq');
    t.text('fork_error');
    t.timestamp('fork_at', { useTz: true });
    t.integer('attempts').notNullable().defaultTo(0); // failures in a row, for the backoff
    t.text('last_error');
    t.timestamp('last_error_at', { useTz: true });
    t.timestamp('last_success_at', { useTz: true });
    t.timestamp('next_attempt_at', { useTz: true });
  });
  await knex.raw('alter table ledger_state add constraint ledger_state_single check (id = 1)');
  await knex('ledger_state').insert({ id: 1 });

  await knex.schema.createTable('ledger_batches', (t) => {
    t.uuid('id').primary(); // the Idempotency-Key
    t.text('target').notNullable();
    t.bigInteger('first_seq').notNullable();
    t.bigInteger('last_seq').notNullable();
    t.text('last_hash').notNullable(); // the chain's hash at last_seq
    t.text('body_sha256').notNullable(); // of the gzip body as sent
    t.integer('bytes').notNullable();
    t.text('state').notNullable().defaultTo('open'); // open → acked | superseded
    t.integer('attempts').notNullable().defaultTo(0);
    t.integer('last_status');
    t.text('last_error');
    t.timestamp('last_attempt_at', { useTz: true });
    t.bigInteger('acked_through');
    t.timestamp('acked_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable();
  });
  await knex.raw("alter table ledger_batches add constraint ledger_batches_state check (state in ('open', 'acked', 'superseded'))");
  await knex.raw('alter table ledger_batches add constraint ledger_batches_range check (first_seq >= 1 and last_seq >= first_seq)');
  // at most one open batch: the range being sent
  await knex.raw("create unique index ledger_batches_one_open on ledger_batches ((true)) where state = 'open'");
  await knex.raw('create index ledger_batches_created on ledger_batches (created_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('ledger_batches');
  await knex.schema.dropTable('ledger_state');
}
