import type { Knex } from 'knex';

/**
 * USB barcode scanners plugged into the store server, each bound to the terminal whose open
 * order its scans go to (issue 21; server/devices/scanners.ts). A scanner is found by USB vendor
 * and product id, or by its device path when two of one model are plugged in; `kind` 'simulated'
 * is the simulator (demos, tests: drivers/scanner/simulated-source.ts). No terminal: scans are
 * dropped with a log line. Disabled: not opened.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('scanners', (t) => {
    t.bigIncrements('id');
    t.text('name').notNullable();
    t.text('kind').notNullable().defaultTo('hid');
    t.integer('vendor_id');
    t.integer('product_id');
    t.text('path');
    t.bigInteger('terminal_id').references('terminals.id');
    t.boolean('enabled').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.index(['terminal_id']);
  });
  await knex.raw("ALTER TABLE scanners ADD CONSTRAINT scanners_kind CHECK (kind IN ('hid', 'simulated'))");
  // a USB scanner is found by vendor and product id (both), or by path
  await knex.raw(`ALTER TABLE scanners ADD CONSTRAINT scanners_match CHECK (
    kind = 'simulated' OR path IS NOT NULL OR (vendor_id IS NOT NULL AND product_id IS NOT NULL))`);
  await knex.raw('ALTER TABLE scanners ADD CONSTRAINT scanners_usb_ids CHECK (vendor_id BETWEEN 0 AND 65535 AND product_id BETWEEN 0 AND 65535)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('scanners');
}
