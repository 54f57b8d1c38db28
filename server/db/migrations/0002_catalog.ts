import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('stations', (t) => {
    t.bigIncrements('id');
    t.text('name').notNullable().unique();
    t.integer('position').notNullable().defaultTo(0);
  });
  await knex.schema.createTable('tax_rates', (t) => {
    t.bigIncrements('id');
    t.text('name').notNullable().unique();
    t.integer('rate_ppm').notNullable().checkBetween([0, 1_000_000]);
  });
  await knex.schema.createTable('categories', (t) => {
    t.bigIncrements('id');
    t.text('name').notNullable().unique();
    t.integer('position').notNullable().defaultTo(0);
    t.text('colour').notNullable().defaultTo('#6b7280');
    t.boolean('active').notNullable().defaultTo(true);
  });
  await knex.schema.createTable('products', (t) => {
    t.bigIncrements('id');
    t.text('name').notNullable();
    t.bigInteger('category_id').notNullable().references('categories.id');
    t.bigInteger("price").notNullable(); // minor units
    t.bigInteger('tax_rate_id').notNullable().references('tax_rates.id');
    t.text('sku').unique();
    t.bigInteger('station_id').references('stations.id');
    t.boolean('active').notNullable().defaultTo(true);
    t.boolean('available').notNullable().defaultTo(true);
    t.boolean('open_price').notNullable().defaultTo(false);
    t.integer('position').notNullable().defaultTo(0);
    t.index(['category_id', 'position']);
  });
  await knex.raw('ALTER TABLE products ADD CONSTRAINT products_price_nonneg CHECK (price >= 0)');
  await knex.schema.createTable('product_barcodes', (t) => {
    t.text('barcode').primary();
    t.bigInteger('product_id').notNullable().references('products.id').onDelete('CASCADE');
    t.index('product_id');
  });
  await knex.schema.createTable('modifier_groups', (t) => {
    t.bigIncrements('id');
    t.text('name').notNullable().unique();
    t.integer('min_select').notNullable().defaultTo(0);
    t.integer('max_select').notNullable().defaultTo(1);
    t.boolean('required').notNullable().defaultTo(false);
  });
  await knex.raw(
    'ALTER TABLE modifier_groups ADD CONSTRAINT modifier_groups_bounds CHECK (min_select >= 0 AND max_select >= 1 AND min_select <= max_select)',
  );
  await knex.schema.createTable('modifiers', (t) => {
    t.bigIncrements('id');
    t.bigInteger('group_id').notNullable().references('modifier_groups.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.bigInteger('price_delta').notNullable().defaultTo(0);
    t.integer('position').notNullable().defaultTo(0);
    t.unique(['group_id', 'name']);
  });
  await knex.schema.createTable('product_modifier_groups', (t) => {
    t.bigInteger('product_id').notNullable().references('products.id').onDelete('CASCADE');
    t.bigInteger('group_id').notNullable().references('modifier_groups.id').onDelete('CASCADE');
    t.integer('position').notNullable().defaultTo(0);
    t.primary(['product_id', 'group_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['product_modifier_groups', 'modifiers', 'modifier_groups', 'product_barcodes', 'products', 'categories', 'tax_rates', 'stations']) {
    await knex.schema.dropTable(t);
  }
}
