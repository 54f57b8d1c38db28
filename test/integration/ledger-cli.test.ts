import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { getSettings } from '../../server/settings/service';
import { ledgerBackoffMs, MAX_BACKOFF_MS } from '../../server/ledger/service';
import { openSecret, readSecret, sealSecret } from '../../server/ledger/secret';
import { LedgerReceiver, type Entry } from '../fakes/ledger-receiver';
import { FakeClock } from '../helpers/clock';
import { tempDir } from '../helpers/config';
import { appendSales, LEDGER_SECRET } from '../helpers/ledger';
import { createTestDb, type TestDb } from '../helpers/pg';
import { spawnCli, waitForListening } from '../helpers/spawn';
import { listEntries } from '../../server/journal/service';

/** `ledger-config`, `ledger-status` and `ledger-verify` from the box, as an installer runs them; and the pieces they stand on. */
describe('the ledger from the command line', function () {
  this.timeout(120_000);
  let t: TestDb;
  const r = new LedgerReceiver();
  let url: string;
  let dataDir = '';
  const SECRET_KEY = 'ledger-cli-test-secret-key-0123456789abcdef';
  const env = () => ({ DATA_DIR: dataDir, DATABASE_URL: t.url, SECRET_KEY, LOG_LEVEL: 'warn' });
  const run = async (...args: string[]) => {
    const s = spawnCli(args, env());
    const code = await s.exited;
    return { code, out: s.output() };
  };

  before(async () => {
    dataDir = tempDir('store-ledger-cli-');
    t = await createTestDb();
    r.secret = LEDGER_SECRET;
    url = await r.start();
  });
  after(async () => {
    await r.stop();
    await t.drop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('backs off 2 s, 4 s, 8 s … with ±20 % jitter, never past 10 minutes', () => {
    assert.equal(ledgerBackoffMs(1, () => 0.5), 2000);
    assert.equal(ledgerBackoffMs(1, () => 0), 1600);
    assert.equal(ledgerBackoffMs(1, () => 1), 2400);
    assert.equal(ledgerBackoffMs(4, () => 0.5), 16_000);
    for (const n of [9, 10, 50, 10_000]) for (const x of [0, 0.5, 1]) assert.ok(ledgerBackoffMs(n, () => x) <= MAX_BACKOFF_MS);
    assert.equal(ledgerBackoffMs(9, () => 0), 409_600);
    assert.equal(ledgerBackoffMs(9, () => 1), MAX_BACKOFF_MS, 'the jitter does not take it past the cap');
    assert.equal(ledgerBackoffMs(10, () => 0), MAX_BACKOFF_MS);
  });

  it('seals the store secret under the server key: another key cannot open it', () => {
    const box = sealSecret(SECRET_KEY, LEDGER_SECRET);
    assert.ok(!box.includes(LEDGER_SECRET));
    assert.equal(openSecret(SECRET_KEY, box), LEDGER_SECRET);
    assert.throws(() => openSecret('another-key-of-this-server-0123456789', box));
  });

  it('ledger-config sets the URL, store id and secret (from a file, never printed), audited; bad input exits 2 and changes nothing', async () => {
    const file = path.join(dataDir, 'ledger.secret');
    fs.writeFileSync(file, LEDGER_SECRET + '\n', { mode: 0o600 });
    const ok = await run('ledger-config', '--url', url, '--store-id', 'store-1', '--secret-file', file);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /ledger settings changed: ledgerUrl, ledgerStoreId, secret/);
    assert.doesNotMatch(ok.out, new RegExp(LEDGER_SECRET));
    const s = await getSettings(t.db);
    assert.deepEqual([s.ledgerUrl, s.ledgerStoreId], [url, 'store-1']);
    assert.equal(await readSecret(t.db, SECRET_KEY), LEDGER_SECRET);
    const [audit] = await t.db('audit_log').where({ action: 'settings_changed' }).orderBy('id', 'desc').limit(1).select('staff_id', 'details');
    assert.equal(audit.staff_id, null);
    assert.equal(audit.details.via, 'cli');
    assert.deepEqual(audit.details.ledgerUrl, { from: '', to: url });
    assert.doesNotMatch(JSON.stringify(audit.details), new RegExp(LEDGER_SECRET));

    const bad = await run('ledger-config', '--url', 'ftp://nowhere');
    assert.equal(bad.code, 2, bad.out);
    assert.match(bad.out, /ledgerUrl/);
    assert.equal((await getSettings(t.db)).ledgerUrl, url);
    assert.equal((await run('ledger-config')).code, 2, 'nothing to set: usage');
  });

  it('ledger-status and ledger-verify: a backlog, then in step, then a ledger holding another entry (exit 1), and one that cannot be asked (exit 1)', async () => {
    await appendSales(t.db, new FakeClock(), 20);
    const status = await run('ledger-status');
    assert.equal(status.code, 0, status.out);
    assert.match(status.out, /shipping: to http:\/\/127\.0\.0\.1:\d+ as store store-1/);
    assert.match(status.out, /backlog: 20 entries/);
    assert.match(status.out, /last success: never/);

    const behind = await run('ledger-verify');
    assert.equal(behind.code, 0, behind.out);
    assert.match(behind.out, /journal OK: 20 entries, chain intact/);
    assert.match(behind.out, /ledger OK: the ledger holds 0 of 20 entries/);

    const entries = (await listEntries(t.db, 0, 100)) as unknown as Entry[];
    r.plant(entries);
    const same = await run('ledger-verify');
    assert.equal(same.code, 0, same.out);
    assert.match(same.out, /ledger OK: the ledger holds all 20 entries; its last hash is the journal's/);

    r.plant([{ ...entries[19], hash: 'f'.repeat(64) }]);
    const differs = await run('ledger-verify');
    assert.equal(differs.code, 1, differs.out);
    assert.match(differs.out, /ledger DIFFERS: the ledger's entry 20 is not the journal's entry 20/);

    r.mode = 'down';
    const down = await run('ledger-verify');
    r.mode = 'up';
    assert.equal(down.code, 1, down.out);
    assert.match(down.out, /ledger NOT COMPARED: .*HTTP 503/);
  });

  it('start --after-restore: no sale closes until the heads were compared', async () => {
    r.mode = 'down';
    const server = spawnCli(['start', '--after-restore'], { ...env(), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
    try {
      await waitForListening(server);
      assert.match(server.output(), /started after a restore: sales wait until the journal was compared with the cloud ledger/);
      assert.equal((await t.db('ledger_state').first()).restore_pending, true);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      r.mode = 'up';
    }
  });
});
