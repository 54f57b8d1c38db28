import type { Knex } from 'knex';

/**
 * The back office (issue 24): what an owner edits without calling anyone.
 *
 * - `products.stock`: units on hand, null = not counted; `low_stock_at`: terminals are told
 *   when a sale leaves the stock at or below it. A sale takes its stock in the transaction
 *   that closes it (server/inventory/).
 * - `product_tax_rates`: a product's tax rate for one order type where the law differs from its
 *   own rate (EU VAT on eat-in against take-away); an order changing type is taxed afresh.
 * - `stock_movements`: every change of a product's stock, with why (sale, received, waste,
 *   count, refund), who, and the stock it left; an adjustment's idempotency key makes a retried
 *   request count once. Append-only, like the audit log.
 * - `staff_clock`: a staff member's clock-in and clock-out, for the hours on the staff report;
 *   at most one open per person.
 * - `staff.deactivated_at`: when a staff member was deactivated (their history stays).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('products', (t) => {
    t.integer('stock');
    t.integer('low_stock_at');
  });
  await knex.schema.createTable('product_tax_rates', (t) => {
    t.bigInteger('product_id').notNullable().references('products.id').onDelete('CASCADE');
    t.text('order_type').notNullable();
    t.bigInteger('tax_rate_id').notNullable().references('tax_rates.id');
    t.primary(['product_id', 'order_type']);
  });
  await knex.raw("ALTER TABLE product_tax_rates ADD CONSTRAINT product_tax_rates_type CHECK (order_type IN ('counter','takeaway','dine_in'))");
  await knex.schema.createTable('stock_movements', (t) => {
    t.bigIncrements('id');
    t.bigInteger('product_id').notNullable().references('products.id');
    t.integer('delta').notNullable();
    t.integer('stock_after').notNullable();
    t.text('reason').notNullable();
    t.text('note');
    t.bigInteger('staff_id').references('staff.id');
    t.bigInteger('order_id').references('orders.id');
    t.text('idempotency_key').unique();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index(['product_id', 'id']);
  });
  await knex.raw("ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_reason CHECK (reason IN ('sale','refund','received','waste','count'))");
  await knex.raw(`
    CREATE FUNCTION stock_movements_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'stock_movements is append-only'; END $$;
    CREATE TRIGGER stock_movements_append_only BEFORE UPDATE OR DELETE ON stock_movements FOR EACH ROW EXECUTE FUNCTION stock_movements_refuse_change();
  `);
  await knex.schema.createTable('staff_clock', (t) => {
    t.bigIncrements('id');
    t.bigInteger('staff_id').notNullable().references('staff.id');
    t.timestamp('clock_in', { useTz: true }).notNullable();
    t.timestamp('clock_out', { useTz: true });
    t.bigInteger('terminal_id').references('terminals.id');
    t.index(['staff_id', 'clock_in']);
  });
  await knex.raw('CREATE UNIQUE INDEX staff_clock_one_open ON staff_clock (staff_id) WHERE clock_out IS NULL');
  await knex.raw('ALTER TABLE staff_clock ADD CONSTRAINT staff_clock_order CHECK (clock_out IS NULL OR clock_out >= clock_in)');
  await knex.schema.alterTable('staff', (t) => {
    t.timestamp('deactivated_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff', (t) => t.dropColumn('deactivated_at'));
  await knex.schema.dropTable('staff_clock');
  await knex.schema.dropTable('stock_movements');
  await knex.raw('DROP FUNCTION stock_movements_refuse_change()');
  await knex.schema.dropTable('product_tax_rates');
  await knex.schema.alterTable('products', (t) => {
    t.dropColumn('stock');
    t.dropColumn('low_stock_at');
  });
}
