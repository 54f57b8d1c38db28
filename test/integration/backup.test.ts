import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bootApp, type TestApp } from '../helpers/app';
import { cashSale } from '../helpers/appliance';
import { tempDir } from '../helpers/config';
import { createTestDb, type TestDb } from '../helpers/pg';
import { spawnCli } from '../helpers/spawn';
import { seedStore } from '../helpers/store';
import { needTools } from '../helpers/tools';
import { createApiToken } from '../../server/api/tokens';
import { systemClock } from '../../server/clock';
import { verifyJournal } from '../../server/journal/verify';
import { ledgerStatus } from '../../server/ledger/service';
import { listBackups } from '../../server/backup/service';

async function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const s = spawnCli(args, env);
  const code = await s.exited;
  return { code, out: s.output() };
}

/** What a restore must bring back exactly: every order with its money and receipt, and the journal's head. */
async function snapshot(t: TestDb) {
  const orders = await t.db('orders').orderBy('id').select('id', 'status', 'total', 'receipt_no', 'journal_seq');
  const payments = await t.db('payments').orderBy('id').select('id', 'order_id', 'amount', 'method');
  const head = await t.db('journal').orderBy('seq', 'desc').first('seq', 'hash');
  return { orders, payments, head };
}

describe('backup and restore through the command line (pg_dump custom format)', function () {
  this.timeout(180_000);
  let t: TestDb;
  let app: TestApp | undefined;
  const dataDir = tempDir('store-backup-');
  const copyDir = tempDir('store-backup-usb-');

  before(function () {
    needTools(this, 'pg_dump', 'pg_restore');
  });

  after(async () => {
    await app?.close();
    await t?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(copyDir, { recursive: true, force: true });
  });

  it('backup → wipe → restore keeps every order, the journal chain verifies, and the next start waits for the ledger', async () => {
    t = await createTestDb();
    await seedStore(t.db);
    app = await bootApp(t.db);
    const { token } = await createApiToken(t.db, systemClock, { name: 'Backup test', scopes: ['catalog:read', 'orders:write', 'payments:write'] });
    for (let i = 0; i < 3; i++) assert.equal((await cashSale(app.url, token)).status, 'paid');
    await app.close();
    app = undefined;
    // a ledger is configured: after a restore the ledger rule must hold (compare before selling)
    await t.db('settings').insert([
      { key: 'ledgerUrl', value: JSON.stringify('http://127.0.0.1:9/ledger'), updated_at: new Date() },
      { key: 'ledgerStoreId', value: JSON.stringify('store-1'), updated_at: new Date() },
      { key: 'backupCopyDir', value: JSON.stringify(copyDir), updated_at: new Date() },
      { key: 'backupRetention', value: JSON.stringify(2), updated_at: new Date() },
    ]).onConflict('key').merge();
    const before = await snapshot(t);
    assert.equal(before.orders.filter((o) => o.status === 'paid').length, 3);

    const env = { DATA_DIR: dataDir, DATABASE_URL: t.url, LOG_LEVEL: 'warn' };
    const made = await cli(['backup'], env);
    assert.equal(made.code, 0, made.out);
    const file = /backup written: (\S+)/.exec(made.out)?.[1];
    assert.ok(file && fs.existsSync(file), made.out);
    assert.equal(path.dirname(file), path.join(dataDir, 'backups'));
    assert.equal(fs.readFileSync(file).subarray(0, 5).toString(), 'PGDMP', 'custom format');
    assert.ok(fs.existsSync(path.join(copyDir, path.basename(file))), 'copied to the second folder');

    // wipe: the database loses everything
    await t.db.raw('drop schema public cascade; create schema public');
    assert.equal((await t.db.raw("select count(*)::int as n from pg_tables where schemaname = 'public'")).rows[0].n, 0);

    const restored = await cli(['restore', file], env);
    assert.equal(restored.code, 0, restored.out);
    assert.match(restored.out, /compares the journal with the cloud ledger/);
    assert.deepEqual(await snapshot(t), before, 'every order, payment and the journal head as they were');
    const chain = await verifyJournal(t.db);
    assert.ok(chain.ok, JSON.stringify(chain));
    assert.ok(chain.checked >= 3);
    assert.equal((await ledgerStatus(t.db, systemClock)).restorePending, true, 'no sale before the ledger was compared');
    const verified = await cli(['journal-verify'], env);
    assert.equal(verified.code, 0, verified.out);
  });

  it('keeps the newest backups only (the retention setting), in both folders', async () => {
    const env = { DATA_DIR: dataDir, DATABASE_URL: t.url, LOG_LEVEL: 'warn' };
    // the restore above kept the wiped database as a backup of its own; two more are made now
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 1100)); // names carry the second
      const r = await cli(['backup'], env);
      assert.equal(r.code, 0, r.out);
    }
    assert.equal(listBackups(path.join(dataDir, 'backups')).length, 2);
    assert.equal(listBackups(copyDir).length, 2);
  });

  it('refuses a file that is not a backup, and changes nothing', async () => {
    const bogus = path.join(dataDir, 'not-a-backup.dump');
    fs.writeFileSync(bogus, 'hello');
    const before = await snapshot(t);
    const r = await cli(['restore', bogus], { DATA_DIR: dataDir, DATABASE_URL: t.url, LOG_LEVEL: 'warn' });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /not a backup this server made/);
    assert.deepEqual(await snapshot(t), before);
  });
});
