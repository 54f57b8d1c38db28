import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Clock } from '../../server/clock';
import { listEntries, type JournalEntry } from '../../server/journal/service';
import { adoptEntries } from '../../server/journal/sync';
import { configureLedger, LedgerShipper, ledgerStatus } from '../../server/ledger/service';
import { seedSettings } from '../../server/settings/service';
import type { RunningHeadOffice } from '../../server/head-office/main';
import { FakeClock } from '../helpers/clock';
import { tempDir } from '../helpers/config';
import { createLedgerDb, heldEntries, makeChain, registerStore, startInstance, type LedgerDb } from '../helpers/head-office';
import { testLog } from '../helpers/log';
import { createTestDb, type TestDb } from '../helpers/pg';
import { spawnCli } from '../helpers/spawn';

/**
 * Issue 26, "Done means": the store server's own shipper (server/ledger/, its LedgerShipper, as
 * the store runs it) against the real head office: two instances of it on loopback, one
 * database, nothing in front; each store's shipper is pointed at one instance, then the other,
 * turn by turn, while the three stores ship at once. 10 000 entries from three stores: each
 * store's chain on the ledger is its journal, and the store's own `ledger-verify` says so.
 */
const STORE_KEY = 'head-office-shipping-store-key-0123456789abcdef';
const STORES: Array<[string, number]> = [['cafe-north', 3334], ['cafe-south', 3333], ['shop-east', 3333]];
const ROUND = 700;

describe('the store\'s shipper against two head office instances', function () {
  this.timeout(300_000);
  let l: LedgerDb;
  const instances: RunningHeadOffice[] = [];
  const stores: Array<{ id: string; chain: JournalEntry[]; t: TestDb; clock: FakeClock; shipper: LedgerShipper }> = [];
  const dirs: string[] = [];

  before(async () => {
    l = await createLedgerDb();
    instances.push(await startInstance(l.url), await startInstance(l.url));
    for (const [id, n] of STORES) {
      const t = await createTestDb();
      const clock = new FakeClock();
      await seedSettings(t.db, clock as Clock, {});
      const secret = await registerStore(instances[0].db, id);
      await configureLedger(t.db, clock, STORE_KEY, { ledgerUrl: urlOf(0), ledgerStoreId: id, ledgerBatchSize: 250, secret }, { via: 'cli' });
      const shipper = new LedgerShipper({ db: t.db, clock, log: testLog, secretKey: STORE_KEY, pollMs: 3_600_000, timeoutMs: 60_000, random: () => 0.5 });
      // the store's journal, written in bulk through the journal's own adopt path (each entry checked as the next link)
      stores.push({ id, chain: makeChain(n, undefined, id), t, clock, shipper });
    }
  });
  after(async () => {
    for (const s of stores) {
      await s.shipper.stop();
      await s.t.drop();
    }
    for (const i of instances) await i.stop();
    await l?.drop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  const urlOf = (i: number) => `http://127.0.0.1:${instances[i % 2].port}`;

  it('10 000 entries from three stores, shipped turn by turn to either instance: each store\'s chain on the ledger is its journal, and ledger-verify agrees', async () => {
    const total = STORES.reduce((sum, [, n]) => sum + n, 0);
    assert.equal(total, 10_000);
    for (let round = 0; stores.some((s) => s.chain.length > 0); round++) {
      await Promise.all(stores.map(async (s, k) => {
        if (!s.chain.length) return;
        const chunk = s.chain.splice(0, ROUND);
        await s.t.db.transaction((trx) => adoptEntries(trx, chunk));
        // this round's instance: the stores take turns, so both instances receive at once
        await configureLedger(s.t.db, s.clock, STORE_KEY, { ledgerUrl: urlOf(round + k) }, { via: 'cli' });
        await s.shipper.shipNow();
      }));
    }
    for (const [k, s] of stores.entries()) {
      const st = await ledgerStatus(s.t.db, s.clock);
      assert.equal(st.backlog, 0, `${s.id}: ${st.lastError ?? ''}`);
      assert.equal(st.fork, null);
      const local = await listEntries(s.t.db, 0, 1_000_000);
      assert.equal(local.length, STORES[k][1]);
      // as either instance serves it, and as the database holds it
      assert.deepEqual(await heldEntries(urlOf(0), s.id), local, `${s.id}: the ledger holds the journal, entry for entry`);
      const head = await l.admin('ho_stores').where({ store_id: s.id }).first('head_seq', 'head_hash', 'fork_at_seq');
      assert.deepEqual(head, { head_seq: local.length, head_hash: local[local.length - 1].hash, fork_at_seq: null });
      // each instance stored some of it: the shipper really went to both
      const targets = await s.t.db('ledger_batches').where({ state: 'acked' }).distinct('target').pluck('target');
      assert.equal(targets.length, 2, `${s.id} shipped to ${targets.join(', ')}`);
    }
    const [{ n }] = await l.admin('ho_entries').count<{ n: string }[]>('* as n');
    assert.equal(Number(n), 10_000, 'nothing doubled');

    const verdicts = await Promise.all(stores.map(async (s) => {
      const dir = tempDir('head-office-verify-');
      dirs.push(dir);
      const run = spawnCli(['ledger-verify'], { DATABASE_URL: s.t.url, DATA_DIR: dir, SECRET_KEY: STORE_KEY, LOG_LEVEL: 'warn' });
      return { code: await run.exited, out: run.output(), id: s.id };
    }));
    for (const v of verdicts) {
      assert.equal(v.code, 0, `${v.id}: ${v.out}`);
      assert.match(v.out, /journal OK: 333\d entries, chain intact/);
      assert.match(v.out, /ledger OK: the ledger holds all 333\d entries; its last hash is the journal's/);
    }
  });
});
