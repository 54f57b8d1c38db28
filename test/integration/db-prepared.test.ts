import assert from 'node:assert/strict';
import { MAX_PREPARED, createDb } from '../../server/db/knex';
import { createTestDb, type TestDb } from '../helpers/pg';
import { loadConfig } from '../../server/config';
import { openDatabase } from '../../server/db/database';
import { tempDir } from '../helpers/config';
import { testLog } from '../helpers/log';

describe('prepared statements on each database connection', function () {
  this.timeout(60_000);
  let t: TestDb;
  before(async () => {
    t = await createTestDb({ poolMax: 1 }); // one connection: what it prepared is what we see
  });
  after(() => t.drop());

  const prepared = async (): Promise<string[]> => (await t.db.raw('select statement from pg_prepared_statements')).rows.map((r: { statement: string }) => r.statement);

  it('prepares a statement on its first use and answers from it afterwards, bindings and all', async () => {
    const sql = 'select ?::int * 2 as doubled';
    assert.equal((await t.db.raw(sql, [21])).rows[0].doubled, 42);
    assert.equal((await t.db.raw(sql, [5])).rows[0].doubled, 10);
    const found = (await prepared()).filter((s) => s.includes('* 2 as doubled'));
    assert.equal(found.length, 1);
    // a builder query is prepared the same way
    await t.db('settings').where({ key: 'currency' }).first();
    assert.ok((await prepared()).some((s) => s.includes('from "settings"')));
  });

  it('leaves transaction control unprepared', async () => {
    await t.db.transaction(async (trx) => {
      await trx.raw('select 1 as one');
    });
    assert.ok(!(await prepared()).some((s) => /^\s*(begin|commit)/i.test(s)));
  });

  it(`keeps at most ${MAX_PREPARED} per connection; later texts still run, unprepared`, async () => {
    for (let i = 0; i < MAX_PREPARED + 50; i++) {
      assert.equal((await t.db.raw(`select ?::int + ${i} as n`, [1])).rows[0].n, 1 + i);
    }
    assert.ok((await prepared()).length <= MAX_PREPARED, 'no more than the cap');
  });
});

describe("the server's database pool", function () {
  this.timeout(60_000);

  it('holds at most DB_POOL_MAX connections: concurrent queries past it wait for one', async () => {
    const t = await createTestDb({ poolMax: 1 });
    const database = await openDatabase(loadConfig({ DATA_DIR: tempDir(), DATABASE_URL: t.url, DB_POOL_MAX: '3' }), testLog);
    try {
      await Promise.all(Array.from({ length: 12 }, () => database.db.raw('select pg_sleep(0.05)')));
      const seen = await t.db.raw("select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'store-server'");
      // the test's own one connection is a store-server connection too
      assert.equal(seen.rows[0].n, 3 + 1);
    } finally {
      await database.close();
      await t.drop();
    }
  });
});

describe('the pool\'s connections are replaced when they are old', function () {
  this.timeout(60_000);
  let t: TestDb;
  before(async () => {
    t = await createTestDb({ empty: true, poolMax: 1 });
  });
  after(() => t.drop());

  it('hands out a connection until its age is up, then a new one, which plans its statements afresh', async () => {
    let now = 0;
    const db = createDb(t.url, { poolMax: 1, connectionAge: { maxMs: 60_000, jitterMs: 0, now: () => now } });
    try {
      const backend = async () => Number((await db.raw('select pg_backend_pid() as pid')).rows[0].pid);
      const planOf = async () => (await db.raw("select count(*)::int as n from pg_prepared_statements where position('from ag' || 'es where k' in statement) > 0")).rows[0].n; // (not matching itself)
      await db.raw('create table ages (id serial primary key, k int not null)');
      await db.raw('select count(*) from ages where k = ?', [1]);
      const first = await backend();
      assert.equal(await planOf(), 1, 'prepared on the first connection');
      now = 59_999;
      assert.equal(await backend(), first, 'still young: the same connection');
      now = 60_000;
      const second = await backend();
      assert.notEqual(second, first, 'old: a new connection');
      assert.equal(await planOf(), 0, 'the new connection has not prepared it yet');
      await db.raw('select count(*) from ages where k = ?', [1]);
      assert.equal(await planOf(), 1, 'and prepares it on its next use');
      // the old backend is gone, not left idle
      for (let i = 0; i < 100; i++) {
        const left = (await db.raw('select count(*)::int as n from pg_stat_activity where pid = ?', [first])).rows[0].n;
        if (left === 0) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.fail('the old connection was not closed');
    } finally {
      await db.destroy();
    }
  });
});
