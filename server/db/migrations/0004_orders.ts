import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('order_counters', (t) => {
    t.date('business_date').primary();
    t.integer('last_number').notNullable();
  });
  await knex.schema.createTable('orders', (t) => {
    t.bigIncrements('id');
    t.integer('number').notNullable(); // short number per business day, for kitchen and customer
    t.date('business_date').notNullable();
    t.text('type').notNullable();
    t.text('status').notNullable().defaultTo('open');
    t.boolean('parked').notNullable().defaultTo(false);
    t.text('customer_name');
    t.bigInteger('table_id').references('tables.id');
    t.text('discount_kind');
    t.bigInteger('discount_value');
    t.bigInteger('subtotal').notNullable().defaultTo(0);
    t.bigInteger('discount_total').notNullable().defaultTo(0);
    t.bigInteger('tax_total').notNullable().defaultTo(0);
    t.bigInteger('total').notNullable().defaultTo(0);
    t.bigInteger('paid_total').notNullable().defaultTo(0);
    t.bigInteger('rounding').notNullable().defaultTo(0); // cash rounding taken at close
    t.integer('version').notNullable().defaultTo(1);
    t.bigInteger('receipt_no'); // gapless, from the journal chain head, when paid or voided
    t.bigInteger('journal_seq');
    t.text('void_reason');
    t.bigInteger('staff_id').references('staff.id');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.timestamp('closed_at', { useTz: true });
    t.unique(['business_date', 'number']);
    t.index(['status', 'parked']);
  });
  await knex.raw("ALTER TABLE orders ADD CONSTRAINT orders_status CHECK (status IN ('open','paid','voided'))");
  await knex.raw("ALTER TABLE orders ADD CONSTRAINT orders_type CHECK (type IN ('counter','takeaway','dine_in'))");
  await knex.raw("ALTER TABLE orders ADD CONSTRAINT orders_discount CHECK (discount_kind IS NULL OR discount_kind IN ('percent','amount'))");
  await knex.raw('ALTER TABLE orders ADD CONSTRAINT orders_totals CHECK (total >= 0 AND subtotal >= 0 AND tax_total >= 0 AND paid_total >= 0)');

  await knex.schema.createTable('order_lines', (t) => {
    t.bigIncrements('id');
    t.bigInteger('order_id').notNullable().references('orders.id').onDelete('CASCADE');
    t.bigInteger('product_id').notNullable().references('products.id');
    t.text('name').notNullable(); // snapshot at sale
    t.bigInteger('base_price').notNullable(); // product price, or the typed open price, or the override
    t.bigInteger('unit_price').notNullable(); // base + modifier deltas
    t.integer('quantity').notNullable();
    t.text('note');
    t.bigInteger('tax_rate_id').notNullable().references('tax_rates.id');
    t.text('tax_name').notNullable();
    t.integer('tax_ppm').notNullable();
    t.text('discount_kind');
    t.bigInteger('discount_value');
    t.text('override_reason');
    t.bigInteger('original_price'); // list price when overridden
    // filled at close: the line's final amounts, so refunds take exact shares
    t.bigInteger('net');
    t.bigInteger('tax');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index('order_id');
  });
  await knex.raw('ALTER TABLE order_lines ADD CONSTRAINT order_lines_qty CHECK (quantity > 0 AND quantity <= 9999)');
  await knex.raw('ALTER TABLE order_lines ADD CONSTRAINT order_lines_price CHECK (unit_price >= 0 AND base_price >= 0)');

  await knex.schema.createTable('order_line_modifiers', (t) => {
    t.bigIncrements('id');
    t.bigInteger('line_id').notNullable().references('order_lines.id').onDelete('CASCADE');
    t.bigInteger('modifier_id').notNullable().references('modifiers.id');
    t.text('group_name').notNullable();
    t.text('name').notNullable();
    t.bigInteger('price_delta').notNullable();
    t.index('line_id');
  });

  await knex.schema.createTable('payments', (t) => {
    t.bigIncrements('id');
    t.bigInteger('order_id').notNullable().references('orders.id');
    t.text('method').notNullable();
    t.bigInteger('amount').notNullable(); // applied to the order
    t.bigInteger('tendered').notNullable();
    t.bigInteger('change').notNullable();
    t.text('idempotency_key').notNullable().unique();
    t.bigInteger('staff_id').references('staff.id');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index('order_id');
  });
  await knex.raw("ALTER TABLE payments ADD CONSTRAINT payments_method CHECK (method IN ('cash'))");
  await knex.raw('ALTER TABLE payments ADD CONSTRAINT payments_amounts CHECK (amount > 0 AND tendered >= 0 AND change >= 0)');

  await knex.schema.createTable('refunds', (t) => {
    t.bigIncrements('id');
    t.bigInteger('order_id').notNullable().references('orders.id');
    t.bigInteger('receipt_no').notNullable().unique();
    t.bigInteger('journal_seq').notNullable();
    t.text('reason').notNullable();
    t.bigInteger('total').notNullable(); // positive: what went back to the customer
    t.bigInteger('tax_total').notNullable();
    t.text('method').notNullable().defaultTo('cash');
    t.text('idempotency_key').unique();
    t.bigInteger('staff_id').references('staff.id');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index('order_id');
  });
  await knex.schema.createTable('refund_lines', (t) => {
    t.bigIncrements('id');
    t.bigInteger('refund_id').notNullable().references('refunds.id');
    t.bigInteger('order_line_id').notNullable().references('order_lines.id');
    t.integer('quantity').notNullable();
    t.bigInteger('net').notNullable();
    t.bigInteger('tax').notNullable();
    t.index('order_line_id');
  });

  // The journal: append-only and hash-chained. One chain-head row, locked by every append, hands
  // out seq, prev_hash and the gapless receipt / Z numbers (never a PostgreSQL sequence).
  await knex.schema.createTable('journal_head', (t) => {
    t.integer('id').primary();
    t.bigInteger('seq').notNullable();
    t.text('hash').notNullable();
    t.bigInteger('receipt_no').notNullable();
    t.bigInteger('z_no').notNullable();
    t.bigInteger('grand_sales').notNullable();
    t.bigInteger('grand_refunds').notNullable();
    t.bigInteger('grand_voids').notNullable();
  });
  await knex.raw('ALTER TABLE journal_head ADD CONSTRAINT journal_head_single CHECK (id = 1)');
  await knex('journal_head').insert({ id: 1, seq: 0, hash: '0'.repeat(64), receipt_no: 0, z_no: 0, grand_sales: 0, grand_refunds: 0, grand_voids: 0 });
  await knex.schema.createTable('journal', (t) => {
    t.bigInteger('seq').primary();
    t.text('kind').notNullable();
    t.text('prev_hash').notNullable();
    t.text('hash').notNullable();
    t.jsonb('entry').notNullable(); // the entry's one JSON form, hash included
    t.timestamp('created_at', { useTz: true }).notNullable();
  });
  await knex.raw(`
    CREATE FUNCTION journal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'the journal is append-only: % refused (a correction is a new entry)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
    END $$;
    CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE ON journal
      FOR EACH ROW EXECUTE FUNCTION journal_refuse_change();
    CREATE TRIGGER journal_no_truncate BEFORE TRUNCATE ON journal
      FOR EACH STATEMENT EXECUTE FUNCTION journal_refuse_change();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS journal, journal_head, refund_lines, refunds, payments, order_line_modifiers, order_lines, orders, order_counters CASCADE');
  await knex.raw('DROP FUNCTION IF EXISTS journal_refuse_change()');
}
