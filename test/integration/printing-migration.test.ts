import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import { createTestDb, type TestDb } from '../helpers/pg';
import { migrateLatest, migrationSource } from '../../server/db/migrations';

/**
 * Migration 0021: the terminal defaults' free-text printer becomes a reference to a printer. Each
 * distinct text becomes one printer of that name: at that address when the text is one, else the
 * simulator (its address to be set in the back office); the terminals point at it.
 */
describe('migration 0021: terminals\' printer text → printers', function () {
  this.timeout(120_000);
  let t: TestDb;
  before(async () => {
    t = await createTestDb({ empty: true });
  });
  after(async () => {
    await t.drop();
  });

  it('makes one printer per distinct text, at its address when it is one, and points the terminals at it', async () => {
    const names = await migrationSource.getMigrations([]);
    const before: Knex.MigrationSource<string> = { ...migrationSource, getMigrations: async () => names.filter((n) => n < '0021') };
    await t.db.migrate.latest({ migrationSource: before, tableName: 'knex_migrations' });
    const now = new Date();
    const terminal = (name: string, printer: string | null) => ({ name, kind: 'counter', token_hash: 'x', default_printer: printer, created_at: now });
    await t.db('terminals').insert([
      terminal('Counter 1', '192.168.1.50'),
      terminal('Counter 2', ' 192.168.1.50 '),
      terminal('Bar', 'bar-printer.local:9101'),
      terminal('Patio', 'Patio printer'),
      terminal('Kiosk', null),
      terminal('Office', ''),
    ]);
    await migrateLatest(t.db);
    const printers = (await t.db('printers').select('name', 'address', 'paper_width', 'columns', 'code_page', 'acknowledgement')).sort((a, b) => (a.name < b.name ? -1 : 1));
    assert.deepEqual(printers, [
      { name: '192.168.1.50', address: '192.168.1.50:9100', paper_width: 80, columns: 48, code_page: 19, acknowledgement: true },
      { name: 'Patio printer', address: 'simulator', paper_width: 80, columns: 48, code_page: 19, acknowledgement: true },
      { name: 'bar-printer.local:9101', address: 'bar-printer.local:9101', paper_width: 80, columns: 48, code_page: 19, acknowledgement: true },
    ]);
    const byTerminal = Object.fromEntries((await t.db('terminals as t').leftJoin('printers as p', 'p.id', 't.receipt_printer_id').select('t.name', 'p.name as printer')).map((r) => [r.name, r.printer]));
    assert.deepEqual(byTerminal, { 'Counter 1': '192.168.1.50', 'Counter 2': '192.168.1.50', Bar: 'bar-printer.local:9101', Patio: 'Patio printer', Kiosk: null, Office: null });
    assert.equal((await t.db.raw(`select 1 from information_schema.columns where table_name = 'terminals' and column_name = 'default_printer'`)).rows.length, 0, 'the free text is gone');
  });
});
