import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('order_lines', (t) => {
    t.integer('course').notNullable().defaultTo(1);
    t.integer('seat'); // seat number at the table, when given
    t.integer('sent_quantity').notNullable().defaultTo(0); // what the kitchen has been told to make
    t.text('sent_note'); // the note the kitchen last saw
    t.text('void_reason'); // a sent line taken back (not made)
    t.text('comp_reason'); // made and given away
    t.bigInteger('comp_approved_by').references('staff.id');
  });
  // a sent line voided to quantity 0 stays, so the kitchen diff can say VOID
  await knex.raw('ALTER TABLE order_lines DROP CONSTRAINT order_lines_qty');
  await knex.raw('ALTER TABLE order_lines ADD CONSTRAINT order_lines_qty CHECK (quantity >= 0 AND quantity <= 9999)');
  await knex.raw('ALTER TABLE order_lines ALTER COLUMN product_id DROP NOT NULL'); // share lines of an even split
  await knex.schema.alterTable('orders', (t) => {
    t.specificType('held_courses', 'integer[]').notNullable().defaultTo('{}');
    t.integer('covers');
    t.timestamp('seated_at', { useTz: true });
    t.timestamp('first_sent_at', { useTz: true });
    t.jsonb('tax_adjustments'); // per tax rate id: set by a split so the parts' taxes add up exactly
    t.bigInteger('split_from').references('orders.id');
  });
  await knex.raw('ALTER TABLE orders DROP CONSTRAINT orders_status');
  await knex.raw("ALTER TABLE orders ADD CONSTRAINT orders_status CHECK (status IN ('open','paid','voided','merged','split'))");

  await knex.schema.createTable('kitchen_tickets', (t) => {
    t.bigIncrements('id');
    t.bigInteger('order_id').notNullable().references('orders.id');
    t.bigInteger('station_id').notNullable().references('stations.id');
    t.integer('send_no').notNullable(); // the order's nth send
    t.text('status').notNullable().defaultTo('open'); // open → bumped
    t.text('table_name');
    t.text('server_name');
    t.integer('order_number').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('bumped_at', { useTz: true });
    t.index(['station_id', 'status']);
    t.index(['order_id']);
  });
  await knex.schema.createTable('kitchen_ticket_items', (t) => {
    t.bigIncrements('id');
    t.bigInteger('ticket_id').notNullable().references('kitchen_tickets.id');
    t.bigInteger('line_id').notNullable().references('order_lines.id');
    t.text('marker').notNullable(); // NEW | ADDITION | VOID | NOTE
    t.integer('quantity').notNullable();
    t.text('name').notNullable();
    t.jsonb('modifiers').notNullable().defaultTo('[]');
    t.text('note');
    t.integer('seat');
    t.integer('course').notNullable();
    t.timestamp('bumped_at', { useTz: true });
    t.index('ticket_id');
  });
  await knex.raw("ALTER TABLE kitchen_ticket_items ADD CONSTRAINT kitchen_items_marker CHECK (marker IN ('NEW','ADDITION','VOID','NOTE'))");
  await knex.schema.createTable('order_sends', (t) => {
    t.bigInteger('order_id').primary().references('orders.id');
    t.integer('sends').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE order_sends, kitchen_ticket_items, kitchen_tickets');
  await knex.raw('ALTER TABLE orders DROP CONSTRAINT orders_status');
  await knex.raw("ALTER TABLE orders ADD CONSTRAINT orders_status CHECK (status IN ('open','paid','voided'))");
  await knex.schema.alterTable('orders', (t) => {
    for (const c of ['held_courses', 'covers', 'seated_at', 'first_sent_at', 'tax_adjustments', 'split_from']) t.dropColumn(c);
  });
  await knex.raw('ALTER TABLE order_lines DROP CONSTRAINT order_lines_qty');
  await knex.raw('ALTER TABLE order_lines ADD CONSTRAINT order_lines_qty CHECK (quantity > 0 AND quantity <= 9999)');
  await knex.schema.alterTable('order_lines', (t) => {
    for (const c of ['course', 'seat', 'sent_quantity', 'sent_note', 'void_reason', 'comp_reason', 'comp_approved_by']) t.dropColumn(c);
  });
}
