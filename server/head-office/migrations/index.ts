import type { Knex } from 'knex';
import * as m0001 from './0001_ledger';

/**
 * The head office's migrations (its own database, its own list, its own bookkeeping table), bundled
 * as a static list like the store's (server/db/migrations/). Append only.
 */
const migrations: Array<[string, Knex.Migration]> = [['0001_ledger', m0001]];

/** knex's bookkeeping tables for this list: apart from the store's, should both share a database. */
export const MIGRATIONS_TABLE = 'ho_knex_migrations';

const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => migrations.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations.find(([n]) => n === name)![1],
};

export async function migrateHeadOffice(db: Knex): Promise<string[]> {
  const [, applied] = await db.migrate.latest({ migrationSource, tableName: MIGRATIONS_TABLE });
  return applied as string[];
}
