import type { Knex } from 'knex';

/**
 * The server keeps the auth lookup's answers (terminal, session, staff) and the business settings
 * in memory (its auth cache and the settings service, since removed). These triggers tell it, through
 * NOTIFY on the channel `store_auth_changed`, when anything changes them: its own writes and
 * anyone else's (another process, psql). The payload is the table's name.
 *
 * A session's last_active_at moves every few seconds on every terminal: that alone notifies
 * nobody (the server that moved it knows).
 */
export const AUTH_CHANNEL = 'store_auth_changed';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function notify_auth_changed() returns trigger language plpgsql as $$
    begin
      perform pg_notify('${AUTH_CHANNEL}', tg_table_name);
      return null;
    end $$`);
  for (const table of ['terminals', 'staff']) {
    await knex.raw(`create trigger ${table}_auth_changed after insert or update or delete or truncate on ${table}
      for each statement execute function notify_auth_changed()`);
  }
  await knex.raw(`create trigger sessions_auth_changed after update on sessions for each row
    when (old.ended_at is distinct from new.ended_at or old.staff_id is distinct from new.staff_id
          or old.terminal_id is distinct from new.terminal_id or old.id is distinct from new.id)
    execute function notify_auth_changed()`);
  await knex.raw(`create trigger sessions_auth_removed after delete or truncate on sessions
    for each statement execute function notify_auth_changed()`);
  // per row: an insert that a conflict turned into nothing (a secret made on first use) is silent
  await knex.raw(`create trigger settings_changed after insert or update or delete on settings
    for each row execute function notify_auth_changed()`);
  await knex.raw(`create trigger settings_truncated after truncate on settings
    for each statement execute function notify_auth_changed()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger settings_truncated on settings');
  await knex.raw('drop trigger settings_changed on settings');
  await knex.raw('drop trigger sessions_auth_removed on sessions');
  await knex.raw('drop trigger sessions_auth_changed on sessions');
  for (const table of ['terminals', 'staff']) await knex.raw(`drop trigger ${table}_auth_changed on ${table}`);
  await knex.raw('drop function notify_auth_changed()');
}
