import assert from 'node:assert/strict';
import { createDb, type Db } from '../../server/db/knex';
import { listEntries } from '../../server/journal/service';
import { verifyJournal } from '../../server/journal/verify';
import { ledgerStatus, markRestored } from '../../server/ledger/service';
import { LedgerReceiver } from '../fakes/ledger-receiver';
import { PINS } from '../helpers/client';
import { assertChainsEqual, bootLedgerApp, LEDGER_SECRET, pairWith, pointAt, seller, type LedgerApp } from '../helpers/ledger';
import { createTestDb, testCluster, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import * as orders from '../../server/orders/service';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeClock } from '../helpers/clock';
import { writeExport } from '../../server/export/service';
import { xReport } from '../../server/reports/service';

/**
 * Issue 25: the store's database restored from an older backup while the cloud ledger holds
 * more. The restored store must not issue a receipt number twice: a start flagged "after
 * restore" closes no sale before it compared heads; the entries the ledger holds beyond the
 * journal are pulled, verified by the hash rule and appended, and the next receipt number
 * follows the ledger's last. An owner may let sales go on when the ledger cannot be reached
 * (audited); the numbers it then issues again are caught as a fork, and nothing is overwritten.
 *
 * The backup is a real copy of the store's database (CREATE DATABASE … TEMPLATE) taken part way.
 */
/**
 * The rows reports and the export read agree with the journal: every sale and void entry's order
 * closed as the entry says, with its lines and tenders; every refund entry's refund with its
 * lines. The open order made on the restored store before the comparison kept its id and moved
 * to a number no journal order has.
 */
async function assertRowsFollowJournal(db: Db, localOpenId: number): Promise<void> {
  const entries = await listEntries(db, 0, 1000);
  const numbers = new Set<string>();
  for (const e of entries) {
    const rec = e as unknown as Record<string, unknown> & { lines: Array<{ line_id: number; net: number; quantity: number }>; total: number; tenders?: Array<{ amount: number }> };
    if (e.kind === 'sale' || e.kind === 'void') {
      const o = await db('orders').where({ id: rec.order_id }).first();
      assert.ok(o, `entry ${e.seq}: its order ${String(rec.order_id)} exists`);
      assert.equal(o.status, e.kind === 'sale' ? 'paid' : 'voided', `entry ${e.seq}: the order's status`);
      assert.deepEqual([o.receipt_no, o.journal_seq, o.total, o.number, o.business_date], [e.receipt_no, e.seq, rec.total, rec.order_number, rec.business_date], `entry ${e.seq}: the order's numbers and total`);
      const lines = await db('order_lines').where({ order_id: o.id }).orderBy('id').select('id', 'net', 'quantity');
      assert.deepEqual(lines.map((l) => [l.id, l.net, l.quantity]), rec.lines.map((l) => [l.line_id, l.net, l.quantity]), `entry ${e.seq}: the order's lines`);
      const paid = (await db('payments').where({ order_id: o.id }).select('amount')).map((p) => p.amount);
      assert.deepEqual(paid, (rec.tenders ?? []).map((t) => t.amount), `entry ${e.seq}: the order's payments`);
      numbers.add(`${String(rec.business_date)} ${String(rec.order_number)}`);
    } else if (e.kind === 'refund') {
      const f = await db('refunds').where({ receipt_no: e.receipt_no }).first();
      assert.ok(f, `entry ${e.seq}: its refund exists`);
      assert.deepEqual([f.order_id, f.journal_seq, f.total], [rec.order_id, e.seq, -rec.total], `entry ${e.seq}: the refund`);
      const lines = await db('refund_lines').where({ refund_id: f.id }).select('order_line_id', 'net');
      assert.deepEqual(lines.map((l) => [l.order_line_id, -l.net]), rec.lines.map((l) => [l.line_id, l.net]), `entry ${e.seq}: the refund's lines`);
    }
  }
  const paidTotal = await db('payments').sum<{ s: string }[]>('amount as s');
  const salesTotal = entries.filter((e) => e.kind === 'sale').reduce((s, e) => s + (e.total as number), 0);
  assert.equal(Number(paidTotal[0].s), salesTotal, 'the payments add up to the sales in the journal');
  const local = await db('orders').where({ id: localOpenId }).first();
  assert.equal(local.status, 'open', 'the order opened before the comparison is still open');
  assert.ok(!numbers.has(`${String(local.business_date)} ${String(local.number)}`), `it moved off the journal's order number (#${String(local.number)})`);
  assert.ok(!entries.some((e) => e.order_id === local.id), 'its id is none of the journal\'s');
  const restored = await db('orders').where({ restored: true }).orderBy('id').pluck('receipt_no');
  assert.deepEqual(restored.map(Number).sort((a, b) => a - b), [...Array.from({ length: 15 }, (_, i) => 11 + i), 26, 28].sort((a, b) => a - b), 'the orders rebuilt or closed from the ledger are marked restored');
}

/**
 * The day's X report and export on the restored store agree with its journal: the X is the
 * journal's day; the export's sales summary (read from orders, payments and refunds) gives the
 * same figures, its orders.csv has a row for every sale and void entry, payments.csv the entries'
 * tenders and refunds, and journal.ndjson is the day's entries.
 */
async function assertXAndExportFollowJournal(db: Db): Promise<void> {
  const clock = new FakeClock();
  const x = await xReport(db, clock);
  const entries = (await listEntries(db, 0, 1000)).filter((e) => e.business_date === x.date);
  const sales = entries.filter((e) => e.kind === 'sale');
  const refunds = entries.filter((e) => e.kind === 'refund');
  const sum = (es: typeof entries, k: string) => es.reduce((s, e) => s + (e[k] as number), 0);
  assert.deepEqual([x.totals.sales.count, x.totals.sales.total, x.totals.refunds.count, x.totals.refunds.total, x.totals.voids.count], [sales.length, sum(sales, 'total'), refunds.length, -sum(refunds, 'total'), 1], 'the X is the journal\'s day');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'restore-export-'));
  try {
    const { dir: out } = await writeExport({ db, clock, exportDir: dir }, x.date, 'manual');
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    assert.deepEqual([summary.sales.checks, summary.sales.salesTotal, summary.sales.refunds.count, summary.sales.refunds.total, summary.sales.voids.count, summary.sales.net],
      [sales.length, sum(sales, 'total'), refunds.length, -sum(refunds, 'total'), 1, x.totals.net], 'the export\'s summary, read from the rows, is the journal\'s');
    const rows = (name: string) => fs.readFileSync(path.join(out, name), 'utf8').replace(/^\uFEFF/, '').trim().split(/\r?\n/).slice(1);
    assert.equal(rows('orders.csv').length, sales.length + 1, 'orders.csv: every sale and the void');
    assert.equal(rows('payments.csv').length, sales.reduce((n, e) => n + (e.tenders as unknown[]).length, 0) + refunds.length, 'payments.csv: every tender and refund');
    const ndjson = fs.readFileSync(path.join(out, 'journal.ndjson'), 'utf8').trim().split('\n');
    assert.deepEqual(ndjson.map((l) => JSON.parse(l).seq), entries.map((e) => e.seq), 'journal.ndjson: the day\'s entries');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('a store restored from an older backup while the cloud ledger is ahead', function () {
  this.timeout(180_000);
  let live: TestDb;
  let liveDb: Db;
  const backups: Array<{ name: string; db: Db }> = [];
  const r = new LedgerReceiver();
  let ledgerUrl: string;
  let brownie: number;
  let app: LedgerApp | undefined;

  /** A copy of the live store's database as it is now (the app on it stopped first: a template has no other sessions). */
  async function backUp(): Promise<string> {
    await app?.close();
    app = undefined;
    await liveDb.destroy();
    const name = `${live.name}_bak${backups.length}`;
    const admin = createDb(testCluster().connectionString('postgres'), { poolMax: 1 });
    await admin.raw(`create database ${name} template ${live.name}`);
    await admin.destroy();
    liveDb = createDb(live.url, { poolMax: 20 });
    return name;
  }

  /** A database restored from the backup: a fresh copy of it (the backup itself stays as it was). */
  async function restore(name: string): Promise<Db> {
    const copy = `${name}_r${backups.length}`;
    const admin = createDb(testCluster().connectionString('postgres'), { poolMax: 1 });
    await admin.raw(`create database ${copy} template ${name}`);
    await admin.destroy();
    const db = createDb(testCluster().connectionString(copy), { poolMax: 20 });
    backups.push({ name: copy, db });
    return db;
  }

  async function sales(a: LedgerApp, n: number): Promise<number[]> {
    const s = await seller(a);
    const receipts: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = await s.sell(brownie);
      assert.equal(p.status, 201, JSON.stringify(p.body));
      receipts.push(p.body.receiptNo as number);
    }
    return receipts;
  }

  before(async () => {
    live = await createTestDb();
    liveDb = live.db;
    brownie = (await (await seedStore(live.db)).product('Brownie')).id;
    r.secret = LEDGER_SECRET;
    ledgerUrl = await r.start();
    app = await bootLedgerApp(liveDb);
    await pointAt(liveDb, app.config.SECRET_KEY!, ledgerUrl, { ledgerBatchSize: 100 });
  });

  after(async () => {
    await app?.close();
    await r.stop();
    for (const b of backups) await b.db.destroy();
    await liveDb.destroy();
    const admin = createDb(testCluster().connectionString('postgres'), { poolMax: 1 });
    for (const name of [...backups.map((b) => b.name), backup]) if (name) await admin.raw(`drop database if exists ${name} with (force)`);
    await admin.raw(`drop database if exists ${live.name} with (force)`);
    await admin.destroy();
  });

  let backup: string;

  /** a check still open when the backup was taken, paid after it */
  let lateCheck: number;

  it('(the store sells 10 and leaves a check open, is backed up, sells 15 more, pays the open check, refunds one sale and voids a check, all shipped: the ledger holds 28)', async () => {
    assert.deepEqual(await sales(app!, 10), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const deps = () => ({ db: liveDb, clock: app!.clock, events: { publish: () => undefined } });
    lateCheck = (await orders.openOrder(deps(), { type: 'dine_in' })).id;
    await orders.addLine(deps(), lateCheck, { productId: brownie, quantity: 2, modifierIds: [], note: 'warm' });
    await app!.ledger.shipNow();
    backup = await backUp();
    app = await bootLedgerApp(liveDb);
    assert.deepEqual(await sales(app, 15), Array.from({ length: 15 }, (_, i) => 11 + i));
    await orders.addLine(deps(), lateCheck, { productId: brownie, quantity: 1, modifierIds: [], note: null });
    const due = (await liveDb('orders').where({ id: lateCheck }).first('total')).total as number;
    assert.equal((await orders.tenderCash(deps(), lateCheck, due + 500, 'late-check-pay')).receiptNo, 26);
    const twelfth = await liveDb('orders').where({ receipt_no: 12 }).first('id');
    await orders.refundOrder(deps(), twelfth.id, { reason: 'cold', idempotencyKey: 'refund-after-backup' });
    const dropped = await orders.openOrder(deps(), { type: 'counter' });
    await orders.addLine(deps(), dropped.id, { productId: brownie, quantity: 1, modifierIds: [], note: null });
    await orders.voidOrder(deps(), dropped.id, 'walked out');
    await app.ledger.shipNow();
    assert.equal(await assertChainsEqual(liveDb, r), 28);
    await app.close();
    app = undefined;
  });

  it('restored with the ledger out of reach: no sale closes; a ledger that sends an entry that does not verify changes nothing; once it answers truly, its entries are pulled and verified before the next sale closes, and that sale takes receipt 29; the orders, payments and refunds the backup lacked are rebuilt from the entries, so they agree with the journal', async () => {
    const db = await restore(backup);
    assert.equal((await listEntries(db, 0, 100)).length, 10, 'the backup holds the first 10');
    assert.equal(await markRestored(db), true, 'what `start --after-restore` does');
    r.mode = 'down';
    app = await bootLedgerApp(db);
    await app.ledger.tick();
    assert.equal((await ledgerStatus(db, app.clock)).restorePending, true);

    const s = await seller(app);
    const refused = await s.sell(brownie);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.type, '/problems/ledger-restore-check');
    assert.match(refused.body.title as string, /restored from a backup/);
    assert.equal((await listEntries(db, 0, 100)).length, 10, 'no receipt number was issued');
    assert.equal(Number((await db('payments').count<{ n: string }[]>('* as n'))[0].n), 10, 'and no payment kept');
    // a refund and a void take receipt numbers too: they wait as well
    const deps = { db, clock: app.clock, events: { publish: () => undefined } };
    const paid = await db('orders').where({ status: 'paid' }).first();
    const waits = (e: { id?: string }) => e.id === 'ledger-restore-check';
    await assert.rejects(orders.refundOrder(deps, paid.id, { reason: 'restored refund', idempotencyKey: 'restored-refund-1' }), waits);
    const open = await orders.openOrder(deps, { type: 'counter' });
    await orders.addLine(deps, open.id, { productId: brownie, quantity: 1, modifierIds: [], note: null });
    await assert.rejects(orders.voidOrder(deps, open.id, 'restored void'), waits);
    assert.equal((await listEntries(db, 0, 100)).length, 10, 'no receipt number was issued for them either');
    assert.equal(Number((await db('refunds').count<{ n: string }[]>('* as n'))[0].n), 0);
    const owner = await pairWith(app, { pin: PINS.owner, kind: 'back_office', name: 'Office' });
    assert.match((await owner.get('/backoffice/ledger', { htmx: false })).text, /id="ledger-restore"/);
    const till = await pairWith(app, { pin: PINS.cashier });
    assert.match((await till.get('/ledger/banner')).text, /Restored from a backup/);

    // the ledger back, but serving a tampered entry 12: nothing is taken, sales still wait
    r.mode = 'up';
    const good = r.held[11];
    r.held[11] = { entry: { ...good.entry, total: 1 }, line: JSON.stringify({ ...good.entry, total: 1 }) };
    app.clock.advance(60_000);
    await app.ledger.tick();
    const st = await ledgerStatus(db, app.clock);
    assert.equal(st.restorePending, true);
    assert.match(st.lastError!, /does not verify/);
    assert.equal((await listEntries(db, 0, 100)).length, 10);
    assert.equal((await s.sell(brownie)).status, 409);

    r.held[11] = good;
    app.clock.advance(60_000);
    await app.ledger.tick();
    assert.equal((await ledgerStatus(db, app.clock)).restorePending, false);
    const pulled = await listEntries(db, 0, 100);
    assert.equal(pulled.length, 28, 'the 18 the journal lacked were pulled');
    assert.ok((await verifyJournal(db)).ok);
    assert.equal(await assertChainsEqual(db, r), 28, 'entry for entry the ledger\'s');
    await assertRowsFollowJournal(db, open.id);
    await assertXAndExportFollowJournal(db);

    const next = await s.sell(brownie);
    assert.equal(next.status, 201);
    assert.equal(next.body.receiptNo, 29, 'the next receipt number follows the ledger\'s last');
    await app.ledger.shipNow();
    assert.equal(await assertChainsEqual(db, r), 29);
    await app.close();
    app = undefined;
  });

  it('restored with the ledger out of reach, the owner allows sales (audited): the numbers issued again are caught as a fork when the ledger answers, and nothing is overwritten', async () => {
    const db = await restore(backup);
    await markRestored(db);
    r.mode = 'down';
    app = await bootLedgerApp(db);
    const owner = await pairWith(app, { pin: PINS.owner, kind: 'back_office', name: 'Office' });
    await owner.get('/backoffice/ledger', { htmx: false });
    const allowed = await owner.post('/backoffice/ledger/allow-sales');
    assert.equal(allowed.status, 200);
    assert.doesNotMatch(allowed.text, /id="ledger-restore"/);
    const [audit] = await db('audit_log').where({ action: 'override' }).select('staff_id', 'details');
    assert.ok(audit, 'the override is in the audit log');
    assert.match(JSON.stringify(audit.details), /sales allowed after a restore/);
    assert.ok(audit.staff_id, 'with who did it');

    const s = await seller(app);
    const sale = await s.sell(brownie);
    assert.equal(sale.status, 201);
    assert.equal(sale.body.receiptNo, 11, 'a number the ledger already holds for another sale');

    r.mode = 'up';
    const heldBefore = r.held.map((h) => h.line);
    await app.ledger.tick();
    const st = await ledgerStatus(db, app.clock);
    assert.equal(st.fork?.atSeq, 11, 'caught as a fork at 11');
    assert.deepEqual(r.held.map((h) => h.line), heldBefore, 'the ledger keeps what it had');
    assert.equal((await listEntries(db, 0, 100)).length, 11, 'the store keeps what it has');
    assert.match((await owner.get('/backoffice/ledger', { htmx: false })).text, /id="ledger-fork"/);
    await app.close();
    app = undefined;
  });
});
