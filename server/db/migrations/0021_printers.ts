import type { Knex } from 'knex';

/**
 * Printers the store server drives (issue 21), and the print queue on the outbox:
 *
 * - `printers`: a network ESC/POS printer (`host:port`) or the simulator, its paper and code
 *   page, whether it answers `GS r 1`, and the printer its jobs fail over to after it has been
 *   failing for `failover_after_s`; `down_since` / `last_error` say how it is doing (the worker
 *   writes them, the back office and the terminals' alerts read them);
 * - `station_printers`: the printer each kitchen station's chits go to;
 * - `terminals.receipt_printer_id` replaces the free-text `default_printer` of the terminal
 *   defaults: each distinct text becomes a printer of that name, at that address when the text is
 *   one (`host` or `host:port`), else a simulator to be given its address in the back office;
 * - `print_jobs`: one per job, with the layout input it was rendered from beside its bytes (a job
 *   that fails over to a printer of another width or code page is rendered again), its state
 *   (queued → sending → printed; a job left `sending` by a crash may have printed) and the
 *   outbox row that delivers it (topic 'print', ordering key = the printer's id). Pruned with
 *   that row, by cascade, once delivered rows age out.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('printers', (t) => {
    t.bigIncrements('id');
    t.text('name').notNullable().unique();
    t.text('address').notNullable(); // 'host:port', or 'simulator'
    t.smallint('paper_width').notNullable().defaultTo(80);
    t.smallint('columns').notNullable().defaultTo(48);
    t.smallint('code_page').notNullable().defaultTo(19); // ESC t n: 19 is PC858 (with €) on Epson's table
    t.boolean('acknowledgement').notNullable().defaultTo(true); // waits for the answer to GS r 1
    t.bigInteger('fallback_printer_id').references('printers.id').onDelete('SET NULL');
    t.integer('failover_after_s').notNullable().defaultTo(60);
    t.timestamp('down_since', { useTz: true });
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
  });
  await knex.raw(`alter table printers
    add constraint printers_paper check (paper_width = 58 and columns = 32 or paper_width = 80 and columns in (42, 48)),
    add constraint printers_code_page check (code_page between 0 and 255),
    add constraint printers_failover check (failover_after_s between 5 and 86400),
    add constraint printers_fallback_other check (fallback_printer_id <> id)`);

  await knex.schema.createTable('station_printers', (t) => {
    t.bigInteger('station_id').primary().references('stations.id').onDelete('CASCADE');
    t.bigInteger('printer_id').notNullable().references('printers.id').onDelete('CASCADE');
  });

  await knex.schema.alterTable('terminals', (t) => {
    t.bigInteger('receipt_printer_id').references('printers.id').onDelete('SET NULL');
  });
  const texts: Array<{ text: string }> = (await knex.raw(
    `select distinct btrim(default_printer) as text from terminals where btrim(coalesce(default_printer, '')) <> '' order by 1`,
  )).rows;
  const now = new Date();
  for (const { text } of texts) {
    const m = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/.exec(text);
    const address = m && (!m[2] || Number(m[2]) <= 65535) ? `${m[1]}:${m[2] ?? 9100}` : 'simulator';
    const [p] = await knex('printers').insert({ name: text.slice(0, 60), address, created_at: now, updated_at: now }).returning('id');
    await knex('terminals').whereRaw('btrim(default_printer) = ?', [text]).update({ receipt_printer_id: p.id });
  }
  await knex.schema.alterTable('terminals', (t) => {
    t.dropColumn('default_printer');
  });

  await knex.schema.createTable('print_jobs', (t) => {
    t.bigIncrements('id');
    t.bigInteger('printer_id').notNullable().references('printers.id'); // the queue it is in
    t.text('kind').notNullable();
    t.jsonb('input').notNullable(); // the layout input: what it is rendered from again
    t.binary('bytes').notNullable(); // rendered for printer_id when it was queued
    t.text('rendered_for').notNullable(); // the profile those bytes fit (a changed printer renders again)
    t.text('state').notNullable().defaultTo('queued');
    t.boolean('possible_duplicate').notNullable().defaultTo(false);
    t.bigInteger('printed_on').references('printers.id'); // where it came out (the fallback, after a failover)
    t.bigInteger('order_id').references('orders.id').onDelete('SET NULL');
    t.bigInteger('reprint_of').references('print_jobs.id').onDelete('SET NULL');
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error');
    t.bigInteger('outbox_id').notNullable().unique().references('outbox.id').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('printed_at', { useTz: true });
    t.index(['order_id']);
  });
  await knex.raw(`alter table print_jobs
    add constraint print_jobs_state check (state in ('queued', 'sending', 'printed')),
    add constraint print_jobs_kind check (kind in ('receipt', 'kitchen', 'guest-check', 'refund', 'test', 'drawer'))`);
  // a printer's queue: what is not printed yet, in order
  await knex.raw("create index print_jobs_waiting on print_jobs (printer_id, id) where state <> 'printed'");
  await knex.raw('create index print_jobs_recent on print_jobs (printer_id, id desc)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('print_jobs');
  await knex.schema.alterTable('terminals', (t) => {
    t.text('default_printer');
  });
  await knex.raw('update terminals t set default_printer = p.name from printers p where p.id = t.receipt_printer_id');
  await knex.schema.alterTable('terminals', (t) => {
    t.dropColumn('receipt_printer_id');
  });
  await knex.schema.dropTable('station_printers');
  await knex.schema.dropTable('printers');
}
