import type { Knex } from 'knex';
import * as m0001 from './0001_settings';
import * as m0002 from './0002_catalog';
import * as m0003 from './0003_floor_and_staff';
import * as m0004 from './0004_orders';
import * as m0005 from './0005_security';
import * as m0006 from './0006_api_and_webhooks';
import * as m0007 from './0007_kitchen_and_tables';
import * as m0008 from './0008_room_for_updates';
import * as m0009 from './0009_refund_lines_by_refund';
import * as m0010 from './0010_auth_change_notices';
import * as m0011 from './0011_catalog_change_notices';
import * as m0012 from './0012_open_orders_indexes';
import * as m0013 from './0013_pending_deliveries_index';
import * as m0014 from './0014_attempt_guards';
import * as m0015 from './0015_drop_change_notices';
import * as m0016 from './0016_void_idempotency_key';
import * as m0017 from './0017_outbox';
import * as m0018 from './0018_request_keys';
import * as m0020 from './0020_history_indexes';
import * as m0021 from './0021_printers';
import * as m0022 from './0022_scanners';
import * as m0023 from './0023_ledger';
import * as m0024 from './0024_card_payments';
import * as m0025 from './0025_shifts_reports';
import * as m0026 from './0026_backoffice';
import * as m0027 from './0027_restored_records';

/**
 * Every migration, in order, bundled as a static list so the binary, the CLI and the tests run
 * the same list without reading a directory. Append only: never edit one that has shipped.
 */
const migrations: Array<[string, Knex.Migration]> = [
  ['0001_settings', m0001],
  ['0002_catalog', m0002],
  ['0003_floor_and_staff', m0003],
  ['0004_orders', m0004],
  ['0005_security', m0005],
  ['0006_api_and_webhooks', m0006],
  ['0007_kitchen_and_tables', m0007],
  ['0008_room_for_updates', m0008],
  ['0009_refund_lines_by_refund', m0009],
  ['0010_auth_change_notices', m0010],
  ['0011_catalog_change_notices', m0011],
  ['0012_open_orders_indexes', m0012],
  ['0013_pending_deliveries_index', m0013],
  ['0014_attempt_guards', m0014],
  ['0015_drop_change_notices', m0015],
  ['0016_void_idempotency_key', m0016],
  ['0017_outbox', m0017],
  ['0018_request_keys', m0018],
  ['0020_history_indexes', m0020],
  ['0021_printers', m0021],
  ['0022_scanners', m0022],
  ['0023_ledger', m0023],
  ['0024_card_payments', m0024],
  ['0025_shifts_reports', m0025],
  ['0026_backoffice', m0026],
  ['0027_restored_records', m0027],
];

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => migrations.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations.find(([n]) => n === name)![1],
};

export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = await db.migrate.latest({ migrationSource, tableName: 'knex_migrations' });
  return applied as string[];
}
