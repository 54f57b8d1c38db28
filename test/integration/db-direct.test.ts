import assert from 'node:assert/strict';
import type pg from 'pg';
import { query, rows, toNative, transaction } from '../../server/db/direct';
import { inTransaction } from '../../server/db/round-trips';
import { createTestDb, type TestDb } from '../helpers/pg';

/**
 * The hot paths' SQL without knex's runner (server/db/direct.ts): statements on the pool or in a
 * light transaction, with the same prepared names, round-trip rules and knex events.
 */
describe('SQL without knex on the hot paths', function () {
  this.timeout(60_000);
  let t: TestDb;
  let trips = 0;
  let conn: pg.Client & { connection: { on(ev: string, f: () => void): void }; processID: number };

  before(async () => {
    t = await createTestDb({ poolMax: 1 });
    conn = await t.db.client.acquireConnection();
    await t.db.client.releaseConnection(conn);
    conn.connection.on('readyForQuery', () => trips++);
    await t.db.raw(`create table dx_items (id int primary key, label text not null check (label <> ''))`);
  });
  after(() => t.drop());
  beforeEach(async () => {
    await t.db.raw('truncate dx_items');
    trips = 0;
  });

  const labels = async () => (await t.db('dx_items').orderBy('id').select('id', 'label')) as Array<{ id: number; label: string }>;

  it('turns ? into $n, keeps an escaped \\? and refuses an undefined or knex-built binding before sending anything', async () => {
    assert.equal(toNative('select ? as a, ?::int as b, \'\\?\' as c'), "select $1 as a, $2::int as b, '?' as c");
    assert.deepEqual((await query(t.db, 'select ?::int + 1 as n, ?::text as s', [41, 'x'])).rows, [{ n: 42, s: 'x' }]);
    trips = 0;
    await assert.rejects(query(t.db, 'select ?::int as n', [undefined]), /Undefined binding 1/);
    await assert.rejects(query(t.db, 'select ? as n', [t.db.raw('1')]), /knex for those/);
    assert.equal(trips, 0, 'nothing went to PostgreSQL');
    assert.deepEqual(await rows(t.db, 'select 1 as one'), [{ one: 1 }], 'the pool of one connection is free again');
  });

  it('a transaction commits what its statements and its query builders wrote, in one connection, COMMIT riding with the last write', async () => {
    const seen = await transaction(t.db, async (trx) => {
      await trx('dx_items').insert({ id: 1, label: 'built' });
      await query(trx, 'insert into dx_items (id, label) values (?, ?)', [2, 'direct']);
      const inside = await trx.raw('select count(*)::int as n from dx_items');
      await query(trx, 'update dx_items set label = label || ? where id = ?', ['!', 1], { commitAfter: true });
      return inside.rows[0].n;
    });
    assert.equal(seen, 2, 'the builder and the direct statement shared the transaction');
    assert.equal(trips, 4, 'four statements, four round trips: BEGIN rode with the first, COMMIT with the last');
    assert.deepEqual(await labels(), [{ id: 1, label: 'built!' }, { id: 2, label: 'direct' }]);
    assert.equal(inTransaction(conn), false);
  });

  it('a transaction whose function throws leaves nothing, and so does one whose statement fails; the connection goes back usable', async () => {
    await assert.rejects(
      transaction(t.db, async (trx) => {
        await trx('dx_items').insert({ id: 3, label: 'three' });
        await query(trx, 'insert into dx_items (id, label) values (?, ?)', [4, 'four']);
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    await assert.rejects(
      transaction(t.db, async (trx) => {
        await query(trx, 'insert into dx_items (id, label) values (?, ?)', [5, 'five']);
        await query(trx, 'insert into dx_items (id, label) values (?, ?)', [6, '']); // the check refuses it
      }),
      /dx_items_label_check/,
    );
    assert.deepEqual(await labels(), []);
    assert.equal(inTransaction(conn), false);
    await query(t.db, 'insert into dx_items (id, label) values (?, ?)', [7, 'seven']);
    assert.deepEqual(await labels(), [{ id: 7, label: 'seven' }]);
  });

  it('refuses a statement after the transaction ended and a nested transaction; given a knex transaction it runs inside it', async () => {
    let kept: ((table: string) => unknown) | undefined;
    let keptTrx: Parameters<Parameters<typeof transaction>[1]>[0] | undefined;
    await transaction(t.db, async (trx) => {
      keptTrx = trx;
      kept = trx;
      await assert.rejects(trx.transaction(async () => {}), /nested transaction/);
    });
    await assert.rejects(query(keptTrx!, 'insert into dx_items (id, label) values (?, ?)', [8, 'late']), /after its transaction ended/);
    await assert.rejects(Promise.resolve(kept!('dx_items')).then((b) => (b as { insert(r: object): Promise<unknown> }).insert({ id: 9, label: 'late' })), /after its transaction ended/);
    await assert.rejects(
      t.db.transaction(async (outer) => {
        await transaction(outer, (trx) => query(trx, 'insert into dx_items (id, label) values (?, ?)', [10, 'inner']));
        throw new Error('outer fails');
      }),
      /outer fails/,
    );
    assert.deepEqual(await labels(), [], 'the inner work was part of the outer transaction and rolled back with it');
  });

  it('a connection that dies inside a transaction is released and replaced, not lent again: the next query works', async () => {
    const before = conn.processID;
    await assert.rejects(
      transaction(t.db, async (trx) => {
        await query(trx, 'insert into dx_items (id, label) values (?, ?)', [11, 'eleven']);
        // another session ends this backend: the ROLLBACK fails on a dead connection
        const ended = new Promise((r) => conn.once('end', r));
        const other = await createTestDbConnection(t.url);
        await other.query('select pg_terminate_backend($1)', [before]);
        await other.end();
        await ended; // the pool's connection has seen its backend go
        throw new Error('gave up');
      }),
      /gave up/,
    );
    assert.deepEqual(await rows(t.db, 'select 1 as one'), [{ one: 1 }], 'the pool made a new connection');
    const now = await t.db.client.acquireConnection();
    await t.db.client.releaseConnection(now);
    assert.notEqual(now.processID, before);
    conn = now;
    conn.connection.on('readyForQuery', () => trips++);
    assert.deepEqual(await labels(), []);
  });

  it('emits knex\'s query events with the transaction id, so a capture of the SQL sees every statement, BEGIN and COMMIT too', async () => {
    const seen: Array<{ sql: string; tx?: string; commitAfter: boolean }> = [];
    const responses: unknown[] = [];
    const onQuery = (q: { sql: string; __knexTxId?: string; options?: { commitAfter?: boolean } }) => seen.push({ sql: q.sql, tx: q.__knexTxId, commitAfter: q.options?.commitAfter === true });
    const onResponse = (r: unknown) => responses.push(r);
    t.db.on('query', onQuery);
    t.db.on('query-response', onResponse);
    try {
      await query(t.db, 'select ?::int as n', [1]);
      await transaction(t.db, async (trx) => {
        await trx('dx_items').insert({ id: 12, label: 'twelve' });
        await query(trx, 'update dx_items set label = ? where id = ?', ['12', 12], { commitAfter: true });
      });
    } finally {
      t.db.off('query', onQuery);
      t.db.off('query-response', onResponse);
    }
    assert.equal(seen[0].sql, 'select $1::int as n');
    assert.equal(seen[0].tx, undefined);
    assert.equal(seen[1].sql, 'BEGIN', 'the capture sees where the transaction starts');
    assert.equal(seen.at(-1)!.sql, 'COMMIT');
    assert.ok(seen.slice(1).every((s) => s.tx === seen[1].tx));
    const inTx = seen.slice(1).filter((s) => !/^(begin|commit)/i.test(s.sql));
    assert.equal(inTx.length, 2);
    assert.ok(inTx[0].tx && inTx[0].tx === inTx[1].tx, 'both statements carry the same transaction id');
    assert.match(inTx[0].sql, /^insert into "dx_items"/);
    assert.deepEqual(inTx.map((s) => s.commitAfter), [false, true]);
    assert.ok(responses.length >= 3);
  });
});

async function createTestDbConnection(url: string) {
  const { default: pgLib } = await import('pg');
  const c = new pgLib.Client({ connectionString: url });
  await c.connect();
  return c;
}
