import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('areas', (t) => {
    t.bigIncrements('id');
    t.text('name').notNullable().unique();
    t.integer('position').notNullable().defaultTo(0);
  });
  await knex.schema.createTable('tables', (t) => {
    t.bigIncrements('id');
    t.bigInteger('area_id').notNullable().references('areas.id');
    t.text('name').notNullable().unique();
    t.integer('seats').notNullable().defaultTo(2);
    t.integer('x').notNullable().defaultTo(0);
    t.integer('y').notNullable().defaultTo(0);
    t.boolean('active').notNullable().defaultTo(true);
  });
  await knex.schema.createTable('staff', (t) => {
    t.bigIncrements('id');
    t.text('name').notNullable();
    t.text('role').notNullable();
    t.text('pin_hash').notNullable(); // scrypt, salted
    t.text('pin_lookup').notNullable().unique(); // keyed HMAC of the PIN: PINs are unique per store
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable();
  });
  await knex.raw("ALTER TABLE staff ADD CONSTRAINT staff_role CHECK (role IN ('server','cashier','manager','owner'))");
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('staff');
  await knex.schema.dropTable('tables');
  await knex.schema.dropTable('areas');
}
