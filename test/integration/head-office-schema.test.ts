import assert from 'node:assert/strict';
import { createDb, type Db } from '../../server/db/knex';
import { DISTRIBUTED_TABLES, REFERENCE_TABLES, schemaProblems } from '../../server/head-office/citus';
import { runsAsSuperuser } from '../../server/head-office/database';
import { migrateHeadOffice } from '../../server/head-office/migrations';
import { createLedgerDb, makeChain, postBatch, registerStore, startInstance, type LedgerDb } from '../helpers/head-office';

/**
 * Issue 26, "Done means": the schema is ready for Citus (store_id in every primary key and unique
 * index of every distributed table) and stored entries are append-only by privilege: UPDATE,
 * DELETE and TRUNCATE refused for the service's own database role (no trigger).
 */
describe('the head office schema', function () {
  this.timeout(60_000);
  let l: LedgerDb;
  let db: Db;

  before(async () => {
    l = await createLedgerDb();
    db = createDb(l.url, { poolMax: 2 });
    await migrateHeadOffice(db);
  });
  after(async () => {
    await db?.destroy();
    await l?.drop();
  });

  it('has store_id in every primary key and unique index, every table listed as distributed or reference', async () => {
    assert.deepEqual(await schemaProblems(db), []);
    const tables = (await db.raw(`select tablename from pg_tables where schemaname = current_schema() and tablename like 'ho\\_%' and tablename not like 'ho\\_knex%' order by 1`)).rows.map((r: { tablename: string }) => r.tablename);
    assert.deepEqual(tables, [...DISTRIBUTED_TABLES, ...REFERENCE_TABLES].sort());
  });

  it('the check fails for a key without store_id: a primary key, a unique index, a table without the column', async () => {
    await db.schema.createTable('ho_probe', (t) => {
      t.text('store_id').notNullable();
      t.bigInteger('n').notNullable();
      t.text('code').notNullable();
      t.primary(['n']);
      t.unique(['code', 'store_id']);
    });
    await db.raw('create unique index ho_probe_code_only on ho_probe (code)');
    await db.schema.createTable('ho_probe_two', (t) => t.bigInteger('n').primary());
    try {
      const problems = await schemaProblems(db);
      assert.ok(problems.includes('ho_probe: primary key ho_probe_pkey without store_id'), problems.join('\n'));
      assert.ok(problems.includes('ho_probe: unique index ho_probe_code_only without store_id'), problems.join('\n'));
      assert.ok(!problems.some((p) => p.includes('ho_probe_code_store_id_unique')), 'a unique key holding store_id is fine');
      assert.ok(problems.includes('ho_probe_two: no store_id column'), problems.join('\n'));
      assert.ok(problems.includes('ho_probe_two: primary key ho_probe_two_pkey without store_id'), problems.join('\n'));
    } finally {
      await db.schema.dropTable('ho_probe');
      await db.schema.dropTable('ho_probe_two');
    }
    assert.deepEqual(await schemaProblems(db), []);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of stored entries and batches to the service\'s own role (it may still insert and read)', async () => {
    assert.equal(await runsAsSuperuser(db), false, 'the service runs as an ordinary role');
    const app = await startInstance(l.url);
    try {
      const secret = await registerStore(db, 'cafe-1');
      assert.equal((await postBatch(`http://127.0.0.1:${app.port}`, 'cafe-1', secret, makeChain(3))).status, 200);
    } finally {
      await app.stop();
    }
    const refused = async (sql: string) => {
      await assert.rejects(db.raw(sql), (err: { code?: string }) => err.code === '42501', sql);
    };
    await refused(`update ho_entries set line = '{}' where store_id = 'cafe-1' and seq = 2`);
    await refused(`delete from ho_entries where store_id = 'cafe-1'`);
    await refused('truncate ho_entries');
    await refused(`update ho_batches set acked_through = 0 where store_id = 'cafe-1'`);
    await refused(`delete from ho_batches where store_id = 'cafe-1'`);
    const [{ n }] = await db('ho_entries').where({ store_id: 'cafe-1' }).count<{ n: string }[]>('* as n');
    assert.equal(Number(n), 3);
    // the table's owner is this role: the refusal is the REVOKE, not a missing grant from someone else
    const owner = await db.raw(`select tableowner from pg_tables where tablename = 'ho_entries'`);
    assert.equal(owner.rows[0].tableowner, l.role);
    const triggers = await db.raw(`select count(*)::int as n from pg_trigger t join pg_class c on c.oid = t.tgrelid where c.relname like 'ho\\_%' and not t.tgisinternal`);
    assert.equal(triggers.rows[0].n, 0, 'append-only by privilege, not by a trigger');
  });
});
