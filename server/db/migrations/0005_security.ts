import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('terminals', (t) => {
    t.bigIncrements('id');
    t.text('name').notNullable();
    t.text('kind').notNullable();
    t.text('token_hash').notNullable(); // sha256 of the device secret in the signed cookie
    t.text('default_printer');
    t.bigInteger('default_station_id').references('stations.id');
    t.bigInteger('paired_by').references('staff.id');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('revoked_at', { useTz: true });
    t.timestamp('last_seen_at', { useTz: true });
  });
  await knex.raw("ALTER TABLE terminals ADD CONSTRAINT terminals_kind CHECK (kind IN ('counter','waiter','kitchen','back_office','kiosk'))");

  await knex.schema.createTable('pairing_codes', (t) => {
    t.bigIncrements('id');
    t.text('code_hash').notNullable(); // keyed HMAC of the 6 digits
    t.text('terminal_name').notNullable();
    t.text('kind').notNullable();
    t.bigInteger('created_by').references('staff.id');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
    t.bigInteger('terminal_id').references('terminals.id');
    t.index('code_hash');
  });

  await knex.schema.createTable('sessions', (t) => {
    t.text('id').primary(); // random; a new one at every login
    t.bigInteger('terminal_id').notNullable().references('terminals.id');
    t.bigInteger('staff_id').references('staff.id');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('last_active_at', { useTz: true }).notNullable();
    t.timestamp('ended_at', { useTz: true });
    t.index('terminal_id');
  });

  await knex.schema.createTable('pin_lockouts', (t) => {
    t.bigInteger('terminal_id').primary().references('terminals.id');
    t.integer('failures').notNullable().defaultTo(0);
    t.integer('lockouts').notNullable().defaultTo(0); // each lockout doubles the next
    t.timestamp('locked_until', { useTz: true });
  });

  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id');
    t.timestamp('at', { useTz: true }).notNullable();
    t.text('action').notNullable();
    t.bigInteger('staff_id').references('staff.id');
    t.bigInteger('approved_by').references('staff.id'); // manager override
    t.bigInteger('terminal_id').references('terminals.id');
    t.jsonb('details').notNullable().defaultTo('{}');
    t.index(['at']);
    t.index(['action']);
  });
  await knex.raw(`
    CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$;
    CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
    CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
  `);

  await knex.schema.alterTable('orders', (t) => {
    t.bigInteger('terminal_id').references('terminals.id');
    t.bigInteger('void_approved_by').references('staff.id');
  });
  await knex.schema.alterTable('refunds', (t) => {
    t.bigInteger('approved_by').references('staff.id');
    t.bigInteger('terminal_id').references('terminals.id');
  });
  await knex.schema.alterTable('payments', (t) => {
    t.bigInteger('terminal_id').references('terminals.id');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('payments', (t) => t.dropColumn('terminal_id'));
  await knex.schema.alterTable('refunds', (t) => {
    t.dropColumn('approved_by');
    t.dropColumn('terminal_id');
  });
  await knex.schema.alterTable('orders', (t) => {
    t.dropColumn('terminal_id');
    t.dropColumn('void_approved_by');
  });
  await knex.raw('DROP TABLE audit_log, pin_lockouts, sessions, pairing_codes, terminals');
  await knex.raw('DROP FUNCTION audit_refuse_change()');
}
