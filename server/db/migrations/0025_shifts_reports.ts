import type { Knex } from 'knex';

/**
 * Shifts, cash and the close of day (issue 23; server/cash/, server/reports/, server/export/):
 *
 * - `drawer_sessions`: a cash drawer's session from its float to its blind count. The drawer is
 *   a receipt printer's (key `printer:<id>`), shared by every terminal printing there, or the
 *   terminal's own when it has no printer (`terminal:<id>`); at most one open session a drawer.
 *   The float and the count may be given by denomination (`*_counts`: value in minor units →
 *   how many). Over/short is recorded at close and never blocks it.
 * - `cash_movements`: paid in, paid out (each with a reason and its journal entry) and cash
 *   drops (cash taken to the safe, no change to the store's takings) in a session.
 * - `payments.drawer_session_id`, `refunds.drawer_session_id`: the session whose drawer a cash
 *   payment went into, or a cash refund came out of.
 * - `orders.sales_date`, `refunds.business_date`: the business date a closed sale, a void or a
 *   refund counts on, as its journal entry says (an open check carried over a Z counts on the
 *   day it closes); filled from the journal for what exists.
 * - the journal read by business date and its Z closures found at once (the Z and the append
 *   read the last Z), by expression and partial indexes; no column is added to the journal,
 *   which refuses updates.
 * - print jobs of kind 'day-report': the X and Z on the receipt printer.
 * - `export_runs`: each business date's export folder and when it was written, so a night the
 *   server was off is exported at the next start.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('drawer_sessions', (t) => {
    t.bigIncrements('id');
    t.text('drawer_key').notNullable();
    t.text('drawer_name').notNullable();
    t.bigInteger('printer_id').references('printers.id').onDelete('SET NULL');
    t.bigInteger('terminal_id').references('terminals.id');
    t.text('status').notNullable().defaultTo('open');
    t.bigInteger('opening_float').notNullable();
    t.jsonb('float_counts');
    t.bigInteger('opened_by').references('staff.id');
    t.timestamp('opened_at', { useTz: true }).notNullable();
    t.text('open_key').notNullable().unique();
    t.bigInteger('counted');
    t.jsonb('counted_counts');
    t.bigInteger('expected');
    t.bigInteger('over_short');
    t.bigInteger('closed_by').references('staff.id');
    t.timestamp('closed_at', { useTz: true });
    t.text('close_key').unique();
    t.text('close_note');
    t.index(['opened_at']);
  });
  await knex.raw("alter table drawer_sessions add constraint drawer_sessions_status check (status in ('open', 'closed'))");
  await knex.raw('alter table drawer_sessions add constraint drawer_sessions_float check (opening_float >= 0 and (counted is null or counted >= 0))');
  await knex.raw("create unique index drawer_sessions_one_open on drawer_sessions (drawer_key) where status = 'open'");

  await knex.schema.createTable('cash_movements', (t) => {
    t.bigIncrements('id');
    t.bigInteger('session_id').notNullable().references('drawer_sessions.id');
    t.text('kind').notNullable();
    t.bigInteger('amount').notNullable();
    t.text('reason').notNullable();
    t.bigInteger('staff_id').references('staff.id');
    t.bigInteger('journal_seq');
    t.text('idempotency_key').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index(['session_id']);
  });
  await knex.raw("alter table cash_movements add constraint cash_movements_kind check (kind in ('paid_in', 'paid_out', 'drop'))");
  await knex.raw('alter table cash_movements add constraint cash_movements_amount check (amount > 0)');

  await knex.schema.alterTable('payments', (t) => {
    t.bigInteger('drawer_session_id').references('drawer_sessions.id');
    t.index(['drawer_session_id']);
  });
  await knex.schema.alterTable('orders', (t) => t.date('sales_date'));
  await knex.schema.alterTable('refunds', (t) => {
    t.date('business_date');
    t.bigInteger('drawer_session_id').references('drawer_sessions.id');
  });
  await knex.raw(`update orders o set sales_date = (j.entry->>'business_date')::date from journal j
    where j.seq = o.journal_seq and o.status in ('paid', 'voided') and j.entry->>'business_date' is not null`);
  await knex.raw("update orders set sales_date = business_date where sales_date is null and status in ('paid', 'voided')");
  await knex.raw(`update refunds r set business_date = (j.entry->>'business_date')::date from journal j
    where j.seq = r.journal_seq and j.entry->>'business_date' is not null`);
  await knex.raw('create index orders_by_sales_date on orders (sales_date, id) where sales_date is not null');
  await knex.raw('create index refunds_by_business_date on refunds (business_date) where business_date is not null');

  await knex.raw("create index journal_by_business_date on journal ((entry->>'business_date'), seq)");
  await knex.raw("create index journal_z_closures on journal (seq) where kind = 'z_closure'");

  // the X and Z reports print on the receipt printer (server/printing/layouts.ts, 'day-report')
  await knex.raw('alter table print_jobs drop constraint print_jobs_kind');
  await knex.raw("alter table print_jobs add constraint print_jobs_kind check (kind in ('receipt', 'kitchen', 'guest-check', 'refund', 'test', 'drawer', 'day-report'))");

  await knex.schema.createTable('export_runs', (t) => {
    t.date('business_date').primary();
    t.text('dir').notNullable();
    t.text('manifest_sha256').notNullable();
    t.text('trigger').notNullable(); // 'nightly' | 'start' | 'manual' | 'cli'
    t.timestamp('written_at', { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('export_runs');
  await knex.raw("delete from print_jobs where kind = 'day-report'");
  await knex.raw('alter table print_jobs drop constraint print_jobs_kind');
  await knex.raw("alter table print_jobs add constraint print_jobs_kind check (kind in ('receipt', 'kitchen', 'guest-check', 'refund', 'test', 'drawer'))");
  await knex.raw('drop index if exists journal_z_closures');
  await knex.raw('drop index if exists journal_by_business_date');
  await knex.schema.alterTable('refunds', (t) => {
    t.dropColumn('drawer_session_id');
    t.dropColumn('business_date');
  });
  await knex.schema.alterTable('orders', (t) => t.dropColumn('sales_date'));
  await knex.schema.alterTable('payments', (t) => t.dropColumn('drawer_session_id'));
  await knex.schema.dropTable('cash_movements');
  await knex.schema.dropTable('drawer_sessions');
}
