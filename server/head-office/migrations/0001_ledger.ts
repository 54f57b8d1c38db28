import type { Knex } from 'knex';

/**
 * The head office's own database (issue 26; docs/HEAD-OFFICE.md): the cloud ledger's tables.
 * Every table but `ho_operators` is keyed by `store_id` first, in its primary key and in every
 * unique index, so a chain that outgrows one PostgreSQL server distributes them by store_id with
 * Citus and every query of one store stays on one shard. `ho_operators` (the status page's
 * logins) is small and global: a Citus reference table.
 *
 * - `ho_stores`: one row per registered store: its secret (sealed with the service's key: the
 *   service must compute HMACs with it), and the chain's head (the last seq held and its hash),
 *   locked by every batch that appends, and what the status page shows.
 * - `ho_entries`: every entry held, as the line it came in, append-only.
 * - `ho_batches`: every batch stored, by its Idempotency-Key: a retry gets the first answer.
 * - `ho_rate_limits`: a token bucket per store, shared by every instance.
 *
 * Append-only is a privilege, not a trigger (Citus runs triggers on distributed tables only when
 * told it is unsafe): UPDATE, DELETE and TRUNCATE on the entries and batches are revoked from
 * everyone, the role that owns them (the service's own) included.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('ho_stores', (t) => {
    t.text('store_id').primary();
    t.text('secret_sealed').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('revoked_at', { useTz: true });
    t.bigInteger('head_seq').notNullable().defaultTo(0);
    t.text('head_hash').notNullable().defaultTo('0'.repeat(64));
    t.timestamp('head_entry_at', { useTz: true }); // the `at` of the newest entry held
    t.timestamp('last_batch_at', { useTz: true });
    t.bigInteger('fork_at_seq'); // the store sent a different entry at this seq
    t.text('fork_error');
    t.timestamp('fork_seen_at', { useTz: true });
    t.text('last_refusal');
    t.timestamp('last_refusal_at', { useTz: true });
  });
  await knex.schema.createTable('ho_entries', (t) => {
    t.text('store_id').notNullable();
    t.bigInteger('seq').notNullable();
    t.text('prev_hash').notNullable();
    t.text('hash').notNullable();
    t.text('kind');
    t.date('business_date');
    t.timestamp('at', { useTz: true });
    t.text('line').notNullable(); // the entry exactly as it came
    t.text('batch_id').notNullable();
    t.primary(['store_id', 'seq']);
  });
  await knex.schema.createTable('ho_batches', (t) => {
    t.text('store_id').notNullable();
    t.text('batch_id').notNullable();
    t.bigInteger('first_seq').notNullable();
    t.bigInteger('last_seq').notNullable();
    t.text('body_sha256').notNullable();
    t.bigInteger('acked_through').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable();
    t.primary(['store_id', 'batch_id']);
  });
  await knex.schema.createTable('ho_rate_limits', (t) => {
    t.text('store_id').primary();
    t.double('tokens').notNullable();
    t.timestamp('at', { useTz: true }).notNullable();
  });
  await knex.schema.createTable('ho_operators', (t) => {
    t.text('name').primary();
    t.text('password_hash').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
  });
  await knex.raw('revoke update, delete, truncate on ho_entries, ho_batches from public, current_user');
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['ho_operators', 'ho_rate_limits', 'ho_batches', 'ho_entries', 'ho_stores']) await knex.schema.dropTableIfExists(t);
}
