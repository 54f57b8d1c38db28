import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import canonicalize from 'canonicalize';
import { createApiToken } from '../../server/api/tokens';
import { listEntries } from '../../server/journal/service';
import { verifyJournal } from '../../server/journal/verify';
import { ledgerBackoffMs, ledgerStatus, MAX_BACKOFF_MS } from '../../server/ledger/service';
import { LedgerReceiver, type Entry } from '../fakes/ledger-receiver';
import { ApiRecorder } from '../helpers/api';
import { PINS } from '../helpers/client';
import { appendSales, assertChainsEqual, bootLedgerApp, LEDGER_SECRET, pairWith, pointAt, seller, type LedgerApp } from '../helpers/ledger';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';

/**
 * Issue 25, "Done means": the journal reaches the cloud ledger exactly, through outages, lost
 * answers, a ledger that lost entries, a wrong secret, and sales made meanwhile; a fork stops it.
 * Each scenario runs on its own store (a fresh database), its own fake ledger on loopback
 * (test/fakes/ledger-receiver.ts) and the real app; the shipper is driven by its own methods
 * and the fake clock, so no test waits out a backoff.
 */
describe('shipping the journal to the cloud ledger', function () {
  this.timeout(180_000);

  interface Store {
    t: TestDb;
    app: LedgerApp;
    r: LedgerReceiver;
    sell: () => Promise<{ status: number; body: Record<string, unknown> }>;
  }
  const opened: Store[] = [];

  async function store(opts: { batchSize?: number; secret?: string } = {}): Promise<Store> {
    const t = await createTestDb();
    const demo = await seedStore(t.db);
    const brownie = await demo.product('Brownie');
    const r = new LedgerReceiver();
    r.secret = LEDGER_SECRET;
    const url = await r.start();
    const app = await bootLedgerApp(t.db);
    await pointAt(t.db, app.config.SECRET_KEY!, url, { ledgerBatchSize: opts.batchSize ?? 500, secret: opts.secret });
    const s = await seller(app);
    const st = { t, app, r, sell: () => s.sell(brownie.id) };
    opened.push(st);
    return st;
  }

  afterEach(async () => {
    for (const s of opened.splice(0)) {
      await s.app.close();
      await s.r.stop();
      await s.t.drop();
    }
  });

  const ranges = (r: LedgerReceiver) => r.requests.map((q) => [Number(q.headers['x-batch-first-seq']), Number(q.headers['x-batch-last-seq'])]);
  const status = (s: Store) => ledgerStatus(s.t.db, s.app.clock);

  it('10 000 entries through the journal service and 200 sales over HTTP, in batches of 500: the ledger holds the journal entry for entry', async () => {
    const s = await store({ batchSize: 500 });
    await appendSales(s.t.db, s.app.clock, 5000);
    // shipping runs while the rest is written: sales over HTTP, ten at a time, and the second 5000
    const shipping = s.app.ledger.shipNow();
    for (let i = 0; i < 200; i += 10) {
      const paid = await Promise.all(Array.from({ length: 10 }, () => s.sell()));
      for (const p of paid) assert.equal(p.status, 201, JSON.stringify(p.body));
    }
    await shipping;
    await appendSales(s.t.db, s.app.clock, 5000);
    for (let i = 0; i < 5 && (await status(s)).backlog; i++) await s.app.ledger.shipNow();

    assert.equal(await assertChainsEqual(s.t.db, s.r), 10_200);
    for (const [first, last] of ranges(s.r)) assert.ok(last - first + 1 <= 500, `a batch of ${last - first + 1}`);
    assert.ok(s.r.requests.length >= 21, `${s.r.requests.length} batches`);
    assert.deepEqual(s.r.statuses.filter((x) => x !== 200), [], 'every batch taken at once');
    const st = await status(s);
    assert.equal(st.backlog, 0);
    assert.equal(st.ackedThrough, 10_200);
    assert.equal(await s.t.db('ledger_batches').where({ state: 'acked' }).count<{ n: string }[]>('* as n').then((x) => Number(x[0].n)), s.r.requests.length);
  });

  it('ledger down for a whole busy period: the backlog is kept, retries back off up to 10 minutes, then it catches up with no gap and no duplicate', async () => {
    const s = await store({ batchSize: 100 });
    s.r.mode = 'down';
    await appendSales(s.t.db, s.app.clock, 300);
    const delays: number[] = [];
    for (let i = 1; i <= 12; i++) {
      for (let k = 0; k < 2; k++) assert.equal((await s.sell()).status, 201, 'sales go on while the ledger is down');
      await s.app.ledger.tick();
      const st = await status(s);
      assert.equal(st.failures, i);
      assert.match(st.lastError!, /no answer|HTTP 503/);
      delays.push(st.nextAttemptAt!.getTime() - s.app.clock.now().getTime());
      // not due before the backoff: a tick now does nothing
      await s.app.ledger.tick();
      assert.equal((await status(s)).failures, i);
      s.app.clock.advance(delays[delays.length - 1]);
    }
    assert.deepEqual(delays, Array.from({ length: 12 }, (_, i) => ledgerBackoffMs(i + 1, () => 0.5)));
    assert.deepEqual(delays.slice(0, 4), [2000, 4000, 8000, 16_000], 'exponential');
    assert.equal(Math.max(...delays), MAX_BACKOFF_MS, 'capped at 10 minutes');
    const before = await status(s);
    assert.equal(before.backlog, 324, 'nothing was taken off the backlog');
    assert.equal(s.r.held.length, 0);

    s.r.mode = 'up';
    await s.app.ledger.tick();
    assert.equal(await assertChainsEqual(s.t.db, s.r), 324);
    const accepted = ranges(s.r).filter((_, i) => s.r.statuses[i] === 200);
    const seqs = accepted.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, k) => a + k));
    assert.deepEqual(seqs, Array.from({ length: 324 }, (_, k) => k + 1), 'each entry sent and taken once, in order');
    assert.equal((await status(s)).failures, 0);
  });

  it('the ledger stores a batch and drops the connection before answering: the retry carries the same key and the same bytes, and is recognised', async () => {
    const s = await store({ batchSize: 100 });
    await appendSales(s.t.db, s.app.clock, 250);
    s.r.dropAfterStore = 1;
    await s.app.ledger.shipNow();
    const st = await status(s);
    assert.equal(s.r.held.length, 100, 'the ledger stored the first batch');
    assert.equal(st.ackedThrough, 0, 'the store never heard so');
    assert.match(st.lastError!, /no answer/);
    const open = await s.t.db('ledger_batches').where({ state: 'open' }).first();
    assert.deepEqual([open.first_seq, open.last_seq, open.attempts], [1, 100, 1]);

    s.app.clock.advance(st.nextAttemptAt!.getTime() - s.app.clock.now().getTime());
    await s.app.ledger.tick();
    const [first, retry] = s.r.requests;
    assert.equal(retry.headers['idempotency-key'], first.headers['idempotency-key']);
    assert.equal(retry.headers['idempotency-key'], open.id, 'the key is the batch row\'s id');
    assert.ok(retry.body.equals(first.body), 'the same bytes');
    assert.equal(s.r.replays, 1, 'the ledger recognised the retry');
    assert.equal(await assertChainsEqual(s.t.db, s.r), 250);
  });

  it('409 with an earlier expectedSeq (the ledger lost entries): the shipper resends from there', async () => {
    const s = await store({ batchSize: 100 });
    await appendSales(s.t.db, s.app.clock, 200);
    await s.app.ledger.shipNow();
    assert.equal(s.r.held.length, 200);
    s.r.truncate(120);
    await appendSales(s.t.db, s.app.clock, 60);
    await s.app.ledger.shipNow();
    const sent = ranges(s.r).slice(2);
    assert.deepEqual(sent, [[201, 260], [121, 220], [221, 260]]);
    assert.deepEqual(s.r.statuses.slice(2), [409, 200, 200]);
    assert.equal(await assertChainsEqual(s.t.db, s.r), 260);
  });

  it('a wrong secret: the status (back office and API) says so, the backlog is kept, sales go on; setting the right one is enough', async () => {
    const wrong = 'a-wrong-secret-9876543210xyz';
    const s = await store({ batchSize: 500, secret: wrong });
    await appendSales(s.t.db, s.app.clock, 40);
    await s.app.ledger.shipNow();
    assert.equal(s.r.statuses[0], 401);
    assert.equal((await s.sell()).status, 201, 'a sale closes');
    const st = await status(s);
    assert.equal(st.backlog, 41);
    assert.equal(s.r.held.length, 0);

    const owner = await pairWith(s.app, { pin: PINS.owner, kind: 'back_office', name: 'Office' });
    const page = await owner.get('/backoffice/ledger', { htmx: false });
    assert.equal(page.status, 200);
    assert.match(page.text, /<p class="notice notice-warn" id="ledger-error">The cloud ledger refused the signature \(HTTP 401\): the store secret is wrong/);
    assert.match(page.text, /id="ledger-backlog">41 entries/);
    assert.doesNotMatch(page.text, new RegExp(wrong), 'the secret is never shown');
    const { token } = await createApiToken(s.t.db, s.app.clock, { name: 'Head office', scopes: ['ledger:admin'] });
    const api = await ApiRecorder.load(s.app.url);
    const viaApi = await api.call<{ failing: boolean; lastError: string; backlog: number; secretSet: boolean }>('GET', '/ledger/status', { token });
    assert.equal(viaApi.status, 200);
    assert.deepEqual([viaApi.body.failing, viaApi.body.backlog, viaApi.body.secretSet], [true, 41, true]);
    assert.match(viaApi.body.lastError, /store secret is wrong/);

    // a refused save says what is wrong beside each field, keeps what was typed, and never draws a typed secret back
    const refusedSave = await owner.post('/backoffice/ledger', { ledgerUrl: 'ledger.example.com', ledgerStoreId: 'store 1', secret: 'short-secret', ledgerIntervalSeconds: '60', ledgerBatchSize: '500', ledgerAlertHours: '24' }, { htmx: false });
    assert.equal(refusedSave.status, 400);
    assert.match(refusedSave.text, /id="ledgerUrl-error">An address starting with https:\/\//);
    assert.match(refusedSave.text, /name="ledgerUrl" value="ledger.example.com"/);
    assert.match(refusedSave.text, /id="secret-error">/);
    assert.doesNotMatch(refusedSave.text, /short-secret/);
    assert.equal((await status(s)).url, st.url, 'nothing saved');
    // the owner types the right one on the Ledger page: it ships at once
    const saved = await owner.post('/backoffice/ledger', { ledgerUrl: st.url, ledgerStoreId: 'store-1', secret: LEDGER_SECRET, ledgerIntervalSeconds: '60', ledgerBatchSize: '500', ledgerAlertHours: '24' }, { htmx: false });
    assert.equal(saved.status, 200, saved.text.slice(0, 500));
    assert.doesNotMatch(saved.text, new RegExp(LEDGER_SECRET));
    await s.app.ledger.idle();
    assert.equal(await assertChainsEqual(s.t.db, s.r), 41);
    const shipNow = await owner.post('/backoffice/ledger/ship'); // htmx: the status card alone
    assert.equal(shipNow.status, 200);
    assert.match(shipNow.text, /^\s*<section class="card" id="ledger-status"/);
    assert.match(shipNow.text, /id="ledger-backlog">nothing: the ledger holds all 41 entries/);
    assert.doesNotMatch(shipNow.text, /id="ledger-error"/);
    const shipped = await api.call<{ failing: boolean; backlog: number }>('POST', '/ledger/ship', { token });
    assert.deepEqual([shipped.status, shipped.body.failing, shipped.body.backlog], [200, false, 0]);
    const audit = await s.t.db('audit_log').where({ action: 'settings_changed' }).select('details');
    assert.ok(audit.some((a) => a.details.ledgerSecret), 'the secret change is audited');
    assert.doesNotMatch(JSON.stringify(audit), new RegExp(`${LEDGER_SECRET}|${wrong}`), 'without its value');
    const stored = await s.t.db('settings').where({ key: 'secret:ledger' }).first();
    assert.doesNotMatch(JSON.stringify(stored.value), new RegExp(LEDGER_SECRET), 'stored sealed, not in clear');
  });

  it('a sale made while a batch is in flight is neither held up nor skipped', async () => {
    const s = await store({ batchSize: 500 });
    await appendSales(s.t.db, s.app.clock, 400);
    s.r.stall = 'after'; // stored, the answer held back
    const shipping = s.app.ledger.shipNow();
    while (s.r.stalledCount === 0) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    const paid = await s.sell();
    const ms = Date.now() - started;
    assert.equal(paid.status, 201);
    assert.equal(paid.body.receiptNo, 401);
    assert.ok(ms < 1500, `the sale took ${ms} ms while the ledger held its answer`);
    s.r.release();
    await shipping;
    await s.app.ledger.shipNow();
    assert.equal(await assertChainsEqual(s.t.db, s.r), 401);
    assert.deepEqual(ranges(s.r), [[1, 400], [401, 401]]);
  });

  it('a ledger holding a different entry answers 422: shipping stops, the back office shows the red alert, nothing is overwritten', async () => {
    const s = await store({ batchSize: 500 });
    await appendSales(s.t.db, s.app.clock, 100);
    await s.app.ledger.shipNow();
    assert.equal(s.r.held.length, 100);
    // the ledger gets an entry 101 of another chain (from elsewhere); the store writes its own 101…150
    const theirs: Entry = { ...(s.r.held[99].entry as Entry), seq: 101, receipt_no: 101, prev_hash: s.r.held[99].entry.hash, note: 'not this store' };
    s.r.plant([theirs]);
    await appendSales(s.t.db, s.app.clock, 50);
    await s.app.ledger.shipNow();
    assert.deepEqual(s.r.statuses, [200, 422]);
    const st = await status(s);
    assert.deepEqual([st.fork?.atSeq, st.backlog], [101, 50]);
    assert.equal(st.nextAttemptAt, null);

    await s.app.ledger.shipNow();
    s.app.clock.advance(3600_000);
    await s.app.ledger.tick();
    assert.equal(s.r.requests.length, 2, 'nothing is sent once stopped');
    assert.equal(s.r.held[100].entry.note, 'not this store', 'the ledger\'s entry is left as it is');
    assert.equal((await listEntries(s.t.db, 100, 1))[0].seq, 101);
    assert.ok((await verifyJournal(s.t.db)).ok, 'and the journal too');
    assert.equal((await s.sell()).status, 201, 'sales go on');

    const owner = await pairWith(s.app, { pin: PINS.owner, kind: 'back_office', name: 'Office' });
    const page = await owner.get('/backoffice/ledger', { htmx: false });
    assert.match(page.text, /<div class="notice" role="alert" id="ledger-fork">\s*<p><strong>Shipping has stopped: the cloud ledger holds a different entry at number 101\./);
    const till = await pairWith(s.app, { pin: PINS.cashier });
    const banner = await till.get('/ledger/banner');
    assert.equal(banner.status, 200);
    assert.match(banner.text, /id="ledger-banner" class="notice "[^>]*>\s*The cloud ledger holds a different entry/);
    // "Check again": the heads are compared again, the fork is still there
    const again = await owner.post('/backoffice/ledger/clear-fork');
    assert.equal(again.status, 200);
    assert.match(again.text, /id="ledger-fork"/);
    assert.equal(s.r.requests.length, 2);
  });

  it('a batch is what ARCHITECTURE says: decoded from the captured request with nothing but zlib, an HMAC and the hash rule', async () => {
    const s = await store({ batchSize: 500 });
    await appendSales(s.t.db, s.app.clock, 30);
    for (let i = 0; i < 3; i++) assert.equal((await s.sell()).status, 201);
    await s.app.ledger.shipNow();
    const [req] = s.r.requests;
    assert.equal(req.headers['content-type'], 'application/x-ndjson');
    assert.equal(req.headers['content-encoding'], 'gzip');
    assert.match(String(req.headers['idempotency-key']), /^[0-9a-f-]{36}$/);
    assert.equal(req.headers['x-signature'], 'sha256=' + crypto.createHmac('sha256', LEDGER_SECRET).update(req.body).digest('hex'));
    const lines = zlib.gunzipSync(req.body).toString('utf8').split('\n');
    assert.equal(lines.pop(), '', 'NDJSON: every line ends with a newline');
    assert.equal(lines.length, 33);
    let prev = '0'.repeat(64);
    const local = await listEntries(s.t.db, 0, 100);
    const { token } = await createApiToken(s.t.db, s.app.clock, { name: 'Auditor', scopes: ['journal:read'] });
    const viaApi = (await (await fetch(`${s.app.url}/api/v1/journal?afterSeq=0&limit=100`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { entries: unknown[] };
    lines.forEach((line, i) => {
      const e = JSON.parse(line) as Record<string, unknown>;
      const { hash, ...rest } = e;
      assert.equal(e.seq, i + 1);
      assert.equal(e.prev_hash, prev, `entry ${i + 1} follows entry ${i}`);
      assert.equal(hash, crypto.createHash('sha256').update(prev + canonicalize(rest), 'utf8').digest('hex'), `entry ${i + 1}: hash = SHA-256(prev_hash + RFC 8785)`);
      assert.equal(line, JSON.stringify(viaApi.entries[i]), 'each line is the entry in its one JSON form, as the journal API gives it');
      assert.deepEqual(e, local[i]);
      prev = hash as string;
    });
    assert.deepEqual([req.headers['x-batch-first-seq'], req.headers['x-batch-last-seq']], ['1', '33']);
    const sale = JSON.parse(lines[32]);
    assert.equal(sale.kind, 'sale');
    assert.ok(Array.isArray(sale.lines) && sale.tenders.length === 1, 'a sale over HTTP ships its complete record');
  });
});
