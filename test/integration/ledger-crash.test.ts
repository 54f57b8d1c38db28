import assert from 'node:assert/strict';
import fs from 'node:fs';
import { verifyJournal } from '../../server/journal/verify';
import { LedgerReceiver } from '../fakes/ledger-receiver';
import { tempDir } from '../helpers/config';
import { FakeClock } from '../helpers/clock';
import { appendSales, assertChainsEqual, LEDGER_SECRET, pointAt, seller } from '../helpers/ledger';
import { createTestDb, type TestDb } from '../helpers/pg';
import { spawnCli, waitForListening, type Spawned } from '../helpers/spawn';
import { seedStore } from '../helpers/store';
import { until } from '../helpers/wait';
import { configureLedger } from '../../server/ledger/service';

/**
 * Issue 25: "kill -9 of the server mid-shipment → after restart shipping resumes, nothing lost
 * or doubled". The real server process (the CLI's `start`, on the suite's PostgreSQL through
 * DATABASE_URL) ships a 3000-entry backlog to the fake ledger in batches of 100 and is killed
 * twice while a batch is in flight: once after the ledger stored it but before the store heard
 * the answer, once before the ledger stored it. Each restart picks up from what the ledger holds.
 */
const ENTRIES = 3000;
const SECRET_KEY = 'ledger-crash-test-secret-key-0123456789abcdef';

describe('the ledger shipper after kill -9 mid-shipment', function () {
  this.timeout(300_000);
  let t: TestDb;
  const r = new LedgerReceiver();
  const running: Spawned[] = [];
  let dataDir = '';

  before(async () => {
    dataDir = tempDir('store-ledger-crash-');
    t = await createTestDb();
    r.secret = LEDGER_SECRET;
  });

  after(async () => {
    for (const s of running) {
      if (s.child.exitCode === null && s.child.signalCode === null) {
        s.child.kill('SIGKILL');
        await s.exited;
      }
    }
    r.discardStalled();
    await r.stop();
    await t?.drop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('resumes from what the ledger holds after each kill: the ledger ends with the journal, each entry stored once', async () => {
    const brownie = (await (await seedStore(t.db)).product('Brownie')).id;
    const url = await r.start();
    await pointAt(t.db, SECRET_KEY, url, { ledgerBatchSize: 100 });
    await configureLedger(t.db, new FakeClock(), SECRET_KEY, { ledgerIntervalSeconds: 5 }, { via: 'cli' });
    await appendSales(t.db, new FakeClock(), ENTRIES);
    const env = { DATA_DIR: dataDir, DATABASE_URL: t.url, PORT: '0', HOST: '127.0.0.1', SECRET_KEY, RATE_LIMIT_API_PER_MIN: '1000000' };
    const start = async () => {
      const s = spawnCli(['start'], env);
      running.push(s);
      return { s, url: await waitForListening(s) };
    };
    const kill = async (s: Spawned) => {
      s.child.kill('SIGKILL');
      await s.exited;
      assert.equal(s.child.signalCode, 'SIGKILL');
    };

    // 1: the ledger stores the batch that reaches it holding 1000, and holds its answer; the store is killed waiting for it
    r.stallWhenHolding = { atLeast: 1000, how: 'after' };
    const first = await start();
    await until('a batch stored and its answer held', () => r.stalledCount > 0, 120_000);
    await kill(first.s);
    r.discardStalled();
    const heldAtFirstKill = r.held.length;
    assert.ok(heldAtFirstKill >= 1100, `the ledger stored the batch in flight (${heldAtFirstKill})`);
    const open = await t.db('ledger_batches').where({ state: 'open' }).first();
    assert.equal(open?.last_seq, heldAtFirstKill, 'the store had not heard the answer for it');

    // 2: restarted; the next batch after 2000 is held before the ledger stores it, and the store is killed again
    r.stallWhenHolding = { atLeast: 2000, how: 'before' };
    const second = await start();
    const s = await seller({ url: second.url, db: t.db });
    for (let i = 0; i < 5; i++) assert.equal((await s.sell(brownie)).status, 201, 'sales go on while it catches up');
    await until('a batch held before it is stored', () => r.stalledCount > 0, 120_000);
    await kill(second.s);
    const heldAtSecondKill = r.held.length;
    r.discardStalled();
    assert.ok(heldAtSecondKill >= 2000);

    // 3: restarted with the ledger answering: it catches up
    const third = await start();
    const total = ENTRIES + 5;
    await until('the ledger holds the whole journal', () => r.held.length >= total, 120_000);
    await until('the store heard it', async () => !(await t.db('ledger_batches').where({ state: 'open' }).first()), 20_000);

    assert.equal(await assertChainsEqual(t.db, r), total);
    const seqs = r.stored.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, k) => a + k));
    assert.deepEqual(seqs, Array.from({ length: total }, (_, k) => k + 1), 'each entry stored once, in order: nothing lost, nothing doubled');
    assert.ok((await verifyJournal(t.db)).ok);
    assert.equal(r.replays, 0, 'each restart asked the ledger\'s head first, so the batch it had stored unanswered was not sent again');
    const states = await t.db('ledger_batches').select('state').count<{ state: string; n: string }[]>('* as n').groupBy('state');
    assert.equal(Object.fromEntries(states.map((x) => [x.state, Number(x.n)])).open, undefined, 'no batch left open');
    const state = await t.db('ledger_state').first();
    assert.equal(state.acked_through, total);
    await kill(third.s);
  });
});
