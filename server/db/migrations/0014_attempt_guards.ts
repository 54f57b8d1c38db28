import type { Knex } from 'knex';

/**
 * Secret guesses (PINs at login and override, pairing codes) are counted in the database, one
 * row per thing guarded: a terminal, a staff member making overrides, the store's pairing. An
 * attempt is claimed (counted) before the secret is evaluated, so parallel guesses cannot slip
 * past the limit (server/auth/attempts.ts). The old per-terminal lockout table goes.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('attempt_guards', (t) => {
    t.text('key').primary(); // 'terminal:12', 'staff:3', 'pairing'
    t.integer('attempts').notNullable().defaultTo(0); // claimed and not refunded since the window began
    t.integer('lockouts').notNullable().defaultTo(0); // each lockout doubles the next, up to the cap
    t.timestamp('locked_until', { useTz: true });
    t.timestamp('last_attempt_at', { useTz: true });
  });
  await knex.raw('DROP TABLE pin_lockouts');
  await knex.schema.alterTable('staff', (t) => {
    // someone else typed this member's PIN where it could not act: an owner must set a new one
    t.integer('pin_misuses').notNullable().defaultTo(0);
    t.boolean('pin_reset_required').notNullable().defaultTo(false);
  });
  await knex.schema.alterTable('pairing_codes', (t) => {
    t.integer('failures').notNullable().defaultTo(0); // wrong codes tried while this one was open
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('pairing_codes', (t) => t.dropColumn('failures'));
  await knex.schema.alterTable('staff', (t) => {
    t.dropColumn('pin_misuses');
    t.dropColumn('pin_reset_required');
  });
  await knex.schema.createTable('pin_lockouts', (t) => {
    t.bigInteger('terminal_id').primary().references('terminals.id');
    t.integer('failures').notNullable().defaultTo(0);
    t.integer('lockouts').notNullable().defaultTo(0);
    t.timestamp('locked_until', { useTz: true });
  });
  await knex.schema.dropTable('attempt_guards');
}
