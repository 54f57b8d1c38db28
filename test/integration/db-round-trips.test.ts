import assert from 'node:assert/strict';
import type pg from 'pg';
import { writeAll } from '../../server/db/write-all';
import { inTransaction } from '../../server/db/round-trips';
import { createTestDb, type TestDb } from '../helpers/pg';

/**
 * BEGIN rides with a transaction's first statement and COMMIT with a statement marked
 * commitAfter (server/db/round-trips.ts). Round trips are counted as PostgreSQL's
 * ReadyForQuery messages on the one connection of the pool.
 */
describe('transaction control without round trips of its own', function () {
  this.timeout(60_000);
  let t: TestDb;
  let conn: pg.Client & { connection: { on(ev: string, f: () => void): void; removeListener(ev: string, f: () => void): void } };
  let trips = 0;

  before(async () => {
    t = await createTestDb({ poolMax: 1 });
    conn = await t.db.client.acquireConnection();
    await t.db.client.releaseConnection(conn);
    conn.connection.on('readyForQuery', () => trips++);
    await t.db.raw(`create table rt_items (id int primary key, label text not null check (label <> ''))`);
    await t.db.raw(`create table rt_deferred (id int, constraint rt_deferred_once unique (id) deferrable initially deferred)`);
  });
  after(() => t.drop());
  beforeEach(async () => {
    await t.db.raw('truncate rt_items, rt_deferred');
    trips = 0;
  });

  const rows = async () => (await t.db.raw('select id, label from rt_items order by id')).rows as Array<{ id: number; label: string }>;
  const countTrips = () => {
    const n = trips;
    trips = 0;
    return n;
  };

  it('a transaction of two statements and a commitAfter write takes 2 round trips, not 5, and commits', async () => {
    await t.db.transaction(async (trx) => {
      await trx.raw('select id from rt_items where id = ? for update', [1]);
      await writeAll(trx, [{ sql: 'insert into rt_items (id, label) values (?, ?)', bindings: [1, 'one'] }], undefined, { commitAfter: true });
    });
    assert.equal(countTrips(), 2);
    assert.deepEqual(await rows(), [{ id: 1, label: 'one' }]);
    assert.equal(inTransaction(conn), false, 'the connection is back outside any transaction');
  });

  it('without commitAfter the COMMIT is its own round trip; an empty transaction sends nothing', async () => {
    await t.db.transaction(async (trx) => {
      await trx('rt_items').insert({ id: 2, label: 'two' });
    });
    assert.equal(countTrips(), 2);
    await t.db.transaction(async () => {});
    assert.equal(countTrips(), 0);
    assert.deepEqual(await rows(), [{ id: 2, label: 'two' }]);
  });

  it('a failing first statement rolls the whole transaction back and leaves the connection usable', async () => {
    await assert.rejects(
      t.db.transaction(async (trx) => {
        await trx('rt_items').insert({ id: 3, label: '' }); // the check refuses it
      }),
      /rt_items_label_check/,
    );
    assert.equal(inTransaction(conn), false);
    await assert.rejects(
      t.db.transaction(async (trx) => {
        await trx('rt_items').insert({ id: 4, label: 'four' });
        await trx('rt_items').insert({ id: 4, label: 'again' }); // duplicate key
      }),
      /duplicate key/,
    );
    assert.deepEqual(await rows(), [], 'neither transaction left a row');
    await t.db('rt_items').insert({ id: 5, label: 'five' });
    assert.deepEqual(await rows(), [{ id: 5, label: 'five' }]);
  });

  it('a COMMIT that fails (a deferred constraint) is the caller\'s error and commits nothing', async () => {
    await assert.rejects(
      t.db.transaction(async (trx) => {
        await trx('rt_items').insert({ id: 6, label: 'six' });
        await writeAll(trx, [{ sql: 'insert into rt_deferred (id) values (?), (?)', bindings: [7, 7] }], undefined, { commitAfter: true });
      }),
      /rt_deferred_once/,
    );
    assert.deepEqual(await rows(), []);
    assert.equal((await t.db.raw('select count(*)::int as n from rt_deferred')).rows[0].n, 0);
    assert.equal(inTransaction(conn), false);
    await t.db.transaction(async (trx) => {
      await trx('rt_items').insert({ id: 8, label: 'eight' });
    });
    assert.deepEqual(await rows(), [{ id: 8, label: 'eight' }]);
  });

  it('refuses a statement after the commitAfter one, and commitAfter outside a transaction', async () => {
    await assert.rejects(
      t.db.transaction(async (trx) => {
        await writeAll(trx, [{ sql: 'insert into rt_items (id, label) values (?, ?)', bindings: [9, 'nine'] }], undefined, { commitAfter: true });
        await trx('rt_items').insert({ id: 10, label: 'ten' });
      }),
      /after its transaction had committed/,
    );
    // what the commitAfter statement wrote is committed: that is what it is for
    assert.deepEqual(await rows(), [{ id: 9, label: 'nine' }]);
    await assert.rejects(t.db.raw('select 1').options({ commitAfter: true }), /commitAfter outside a transaction/);
    assert.equal(inTransaction(conn), false);
  });

  it('commitAfter inside a nested transaction (a savepoint) leaves the commit to the outer one', async () => {
    await assert.rejects(
      t.db.transaction(async (outer) => {
        await outer('rt_items').insert({ id: 11, label: 'eleven' });
        await outer.transaction(async (inner) => {
          await writeAll(inner, [{ sql: 'insert into rt_items (id, label) values (?, ?)', bindings: [12, 'twelve'] }], undefined, { commitAfter: true });
        });
        await outer('rt_items').insert({ id: 13, label: 'thirteen' });
        throw new Error('the outer transaction fails');
      }),
      /the outer transaction fails/,
    );
    assert.deepEqual(await rows(), [], 'the outer rollback took the nested write with it');
    assert.equal(inTransaction(conn), false);
  });

  it('a value pg cannot send (caught before Execute) leaves no transaction open behind it, with or without commitAfter', async () => {
    // pg turns a binding into text while it writes the Bind message; this one refuses
    const unsendable = { toPostgres: () => { throw new Error('this value cannot be sent'); } };
    for (const commitAfter of [false, true]) {
      await assert.rejects(
        t.db.transaction(async (trx) => {
          await trx.raw('select ?::text as j', [unsendable as never]).options({ commitAfter });
        }),
        /this value cannot be sent/,
      );
      assert.equal(inTransaction(conn), false);
      assert.equal((conn as unknown as { _txStatus: string })._txStatus, 'I', 'PostgreSQL says: idle, no transaction');
      await t.db('rt_items').insert({ id: 20, label: 'twenty' });
      assert.deepEqual(await rows(), [{ id: 20, label: 'twenty' }]);
      await t.db('rt_items').delete();
    }
  });

  it('a prepared statement first used in a failing transaction still runs afterwards, and a bad one keeps its own error', async () => {
    const sql = 'select 10 / ?::int as q, now() as rt_marker_a';
    await assert.rejects(t.db.transaction((trx) => trx.raw(sql, [0])), /division by zero/);
    await t.db.transaction(async (trx) => {
      assert.equal((await trx.raw(sql, [5])).rows[0].q, 2);
    });
    assert.equal((await t.db.raw(sql, [2])).rows[0].q, 5);
    const bad = 'select no_such_column_rt from rt_items where id = ?';
    for (let i = 0; i < 2; i++) {
      // 42703 undefined_column each time (not 26000: a statement name pg wrongly took as parsed)
      await assert.rejects(t.db.transaction((trx) => trx.raw(bad, [1])), (err: Error & { code?: string }) => err.code === '42703');
    }
    assert.equal(inTransaction(conn), false);
  });

  it('a prepared statement is described once per connection: later runs send no Describe and parse their rows the same', async () => {
    let descriptions = 0;
    const onDescription = () => descriptions++;
    conn.connection.on('rowDescription', onDescription);
    try {
      await t.db('rt_items').insert({ id: 40, label: 'forty' });
      const sql = `select id, label, now() as at, json_build_object('n', id) as j, (id * 10)::int8 as big from rt_items where id = ? -- described once`;
      const first = await t.db.raw(sql, [40]);
      assert.equal(descriptions, 1);
      for (let i = 0; i < 3; i++) {
        const again = await t.db.raw(sql, [40]);
        assert.deepEqual(again.rows.map((r: { at: Date }) => ({ ...r, at: r.at instanceof Date })), [{ id: 40, label: 'forty', at: true, j: { n: 40 }, big: 400 }]);
        assert.deepEqual(again.fields.map((f: { name: string }) => f.name), first.fields.map((f: { name: string }) => f.name));
      }
      assert.equal(descriptions, 1, 'no RowDescription after the first run');
      // inside a transaction whose BEGIN rides with it, and with its COMMIT
      await t.db.transaction((trx) => trx.raw(sql, [40]).options({ commitAfter: true }).then((r: { rows: unknown[] }) => assert.equal(r.rows.length, 1)));
      assert.equal(descriptions, 1);
      // a statement whose first run failed is parsed and described afresh, then reused again
      const fresh = 'select id, label from rt_items where id = ? and 1 / (?::int - 1) = 1 -- described again';
      descriptions = 0;
      await assert.rejects(t.db.raw(fresh, [40, 1]), /division by zero/);
      assert.equal(descriptions, 1, 'described, then it failed as it ran (a generic plan: the division is not folded in advance)');
      assert.equal((await t.db.raw(fresh, [40, 2])).rows.length, 1);
      assert.equal(descriptions, 2, 'parsed and described afresh');
      assert.equal((await t.db.raw(fresh, [40, 2])).rows.length, 1);
      assert.equal(descriptions, 2, 'then reused');
    } finally {
      conn.connection.removeListener('rowDescription', onDescription);
    }
  });
});
