import type { Knex } from 'knex';
import * as m0010 from './0010_auth_change_notices';
import * as m0011 from './0011_catalog_change_notices';

/**
 * The change notices of migrations 0010 and 0011 told the server when to drop what it kept in
 * memory (terminals, sessions, staff, settings, products, open orders). It keeps nothing now:
 * every request reads what it needs from the database, so nothing listens and the triggers go.
 */
export async function up(knex: Knex): Promise<void> {
  await m0011.down(knex);
  await m0010.down(knex);
}

export async function down(knex: Knex): Promise<void> {
  await m0010.up(knex);
  await m0011.up(knex);
}
