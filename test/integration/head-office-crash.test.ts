import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Clock } from '../../server/clock';
import { freePort } from '../../server/db/embedded';
import type { Trx } from '../../server/db/knex';
import { listEntries } from '../../server/journal/service';
import { adoptEntries } from '../../server/journal/sync';
import { configureLedger, LedgerShipper, ledgerStatus } from '../../server/ledger/service';
import { seedSettings } from '../../server/settings/service';
import { FakeClock } from '../helpers/clock';
import { tempDir } from '../helpers/config';
import { createLedgerDb, heldEntries, HO_SECRET_KEY, makeChain, type LedgerDb } from '../helpers/head-office';
import { testLog } from '../helpers/log';
import { createTestDb, type TestDb } from '../helpers/pg';
import { spawnCli, type Spawned } from '../helpers/spawn';
import { until } from '../helpers/wait';

/**
 * Issue 26, "Done means": the head office killed (SIGKILL) mid-batch → after a restart the
 * store's retry completes it, nothing lost or doubled. The real `ledger serve` process (the CLI,
 * on a database of its own role through DATABASE_URL) is killed twice while a batch is inside its
 * transaction: once waiting for the store's head row (held by the test), once with part of the
 * batch's entries written but not committed (an uncommitted entry of the test's stops it there).
 * The store is the store's own shipper; its retries carry the same batch id. Then SIGTERM stops
 * it cleanly.
 */
const STORE_KEY = 'head-office-crash-store-key-0123456789abcdef';

describe('the head office killed mid-batch', function () {
  this.timeout(240_000);
  let l: LedgerDb;
  let t: TestDb;
  let dataDir = '';
  const running: Spawned[] = [];

  before(async () => {
    l = await createLedgerDb();
    t = await createTestDb();
    dataDir = tempDir('head-office-crash-');
  });
  after(async () => {
    for (const s of running) {
      if (s.child.exitCode === null && s.child.signalCode === null) {
        s.child.kill('SIGKILL');
        await s.exited;
      }
    }
    await t?.drop();
    await l?.drop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('after each restart the store\'s retry (same batch id) completes the batch: the ledger ends with the journal, each entry once', async () => {
    const port = await freePort();
    const env = { DATABASE_URL: l.url, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', SECRET_KEY: HO_SECRET_KEY, LOG_LEVEL: 'info' };
    const serve = async () => {
      const s = spawnCli(['ledger', 'serve'], env);
      running.push(s);
      await until('the head office listening', () => {
        if (s.child.exitCode !== null) throw new Error(`ledger serve exited: ${s.output()}`);
        return s.output().includes('"msg":"head office listening"');
      }, 60_000);
      return s;
    };
    const kill = async (s: Spawned) => {
      s.child.kill('SIGKILL');
      await s.exited;
      assert.equal(s.child.signalCode, 'SIGKILL');
    };
    // a backend of the service's role waiting for a lock the test holds: the batch is inside its transaction
    const blocked = async () => (await l.admin.raw(`select count(*)::int as n from pg_stat_activity where usename = ? and wait_event_type = 'Lock'`, [l.role])).rows[0].n > 0;

    // the store registered with the CLI: its secret is the last word printed
    const add = spawnCli(['ledger', 'add-store', '--id', 'cafe-1'], { ...env, LOG_LEVEL: 'warn' });
    assert.equal(await add.exited, 0, add.output());
    const secret = add.output().trim().split(/\s+/).pop()!;
    assert.match(secret, /^[A-Za-z0-9_-]{40,}$/);

    const clock = new FakeClock();
    await seedSettings(t.db, clock as Clock, {});
    await t.db.transaction((trx) => adoptEntries(trx, makeChain(3000)));
    await configureLedger(t.db, clock, STORE_KEY, { ledgerUrl: `http://127.0.0.1:${port}`, ledgerStoreId: 'cafe-1', ledgerBatchSize: 1000, secret }, { via: 'cli' });
    const shipper = new LedgerShipper({ db: t.db, clock, log: testLog, secretKey: STORE_KEY, pollMs: 3_600_000, timeoutMs: 60_000, random: () => 0.5 });
    const held = async () => Number((await l.admin('ho_entries').count<{ n: string }[]>('* as n'))[0].n);
    const retryDue = async () => {
      const st = await ledgerStatus(t.db, clock);
      clock.set(st.nextAttemptAt!);
    };
    try {
      // 1: killed while the batch waits for the store's head row
      let s = await serve();
      const hold1 = await l.admin.transaction();
      await hold1('ho_stores').where({ store_id: 'cafe-1' }).forUpdate().first();
      const first = shipper.shipNow();
      await until('the batch waiting for the head row', blocked, 60_000);
      await kill(s);
      await hold1.rollback();
      await first;
      const open1 = await t.db('ledger_batches').where({ state: 'open' }).first();
      assert.deepEqual([open1?.first_seq, open1?.last_seq], [1, 1000], 'the store still holds the batch as unanswered');
      assert.match((await ledgerStatus(t.db, clock)).lastError ?? '', /no answer/);
      assert.equal(await held(), 0, 'nothing stored');

      // 2: restarted; the retry goes through, then the next batch is killed with its entries written, not committed
      s = await serve();
      // an uncommitted entry 1500 of the test's: the second batch's insert writes up to it and waits there
      const hold2: Trx = await l.admin.transaction();
      await hold2('ho_entries').insert({ store_id: 'cafe-1', seq: 1500, prev_hash: '0'.repeat(64), hash: '0'.repeat(64), line: '{}', batch_id: 'test' });
      await retryDue();
      const second = shipper.tick();
      await until('the second batch written and waiting to record itself', blocked, 60_000);
      await kill(s);
      await hold2.rollback();
      await second;
      assert.equal(await held(), 1000, 'the first batch was stored on its retry, the second not at all');
      const got1 = await l.admin('ho_batches').where({ store_id: 'cafe-1' }).orderBy('first_seq').select('batch_id', 'first_seq');
      assert.deepEqual(got1, [{ batch_id: open1.id, first_seq: 1 }], 'stored under the id the store gave it before the kill');
      const open2 = await t.db('ledger_batches').where({ state: 'open' }).first();
      assert.deepEqual([open2?.first_seq, open2?.last_seq], [1001, 2000]);

      // 3: restarted; the retry of the second batch and the rest
      s = await serve();
      await retryDue();
      await shipper.tick();
      const st = await ledgerStatus(t.db, clock);
      assert.equal(st.backlog, 0, st.lastError ?? '');
      const local = await listEntries(t.db, 0, 10_000);
      assert.deepEqual(await heldEntries(`http://127.0.0.1:${port}`, 'cafe-1'), local, 'the ledger holds the journal, nothing lost');
      assert.equal(await held(), 3000, 'nothing doubled');
      const batches = await l.admin('ho_batches').where({ store_id: 'cafe-1' }).orderBy('first_seq').select('batch_id', 'first_seq', 'last_seq');
      assert.deepEqual(batches.map((b) => [b.first_seq, b.last_seq]), [[1, 1000], [1001, 2000], [2001, 3000]]);
      assert.equal(batches[1].batch_id, open2.id, 'the second batch too kept its id across the kill');

      // and an ordinary stop: SIGTERM ends it cleanly
      s.child.kill('SIGTERM');
      assert.equal(await s.exited, 0, s.output());
      assert.match(s.output(), /"msg":"head office: stopped"/);
    } finally {
      await shipper.stop();
    }
  });
});
