import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { unzipSync } from 'fflate';
import { FakeClock } from '../helpers/clock';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { tempDir } from '../helpers/config';
import { testLog } from '../helpers/log';
import { until } from '../helpers/wait';
import { spawnCli } from '../helpers/spawn';
import { loadConfig } from '../../server/config';
import { startServer, type RunningServer } from '../../server/main';
import * as orders from '../../server/orders/service';
import * as reports from '../../server/reports/service';
import { writeExport, zipExport, type Manifest } from '../../server/export/service';
import { seedSettings } from '../../server/settings/service';
import { createEventBus } from '../../server/events';

/**
 * RFC 8785 (JSON Canonicalization Scheme), written here on purpose and apart from the server's
 * (journal/hash.ts uses the `canonicalize` package): anyone can verify an export with the one
 * hash rule, so this test does, with nothing of the server's. The journal holds objects, arrays,
 * strings, integers, booleans and null; RFC 8785 orders keys by UTF-16 code units, which is
 * JavaScript's default string sort, and writes strings and integers as ECMAScript's JSON does.
 */
function jcs(v: unknown): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError('not JSON');
    return JSON.stringify(v); // ECMAScript's Number::toString, as RFC 8785 section 3.2.2.3 says
  }
  if (Array.isArray(v)) return `[${v.map(jcs).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${jcs(o[k])}`).join(',')}}`;
}
const sha = (s: string | Uint8Array) => crypto.createHash('sha256').update(s).digest('hex');

describe('the nightly export', function () {
  this.timeout(120_000);
  let t: TestDb;
  let store: Awaited<ReturnType<typeof seedStore>>;
  const clock = new FakeClock('2026-03-14T09:30:00Z');
  const events = createEventBus(testLog);
  const exportDir = tempDir('store-export-');
  const DAY = '2026-03-14';
  let deps: orders.OrderDeps;
  let evilId: number;

  before(async () => {
    t = await createTestDb();
    store = await seedStore(t.db);
    await seedSettings(t.db, clock, {});
    deps = { db: t.db, clock, events };
    const croissant = await t.db('products').where({ name: 'Croissant' }).first();
    [{ id: evilId }] = await t.db('products').insert({ name: '=HYPERLINK("http://evil.example","click")', category_id: croissant.category_id, tax_rate_id: croissant.tax_rate_id, price: 500 }).returning('id');
    const sell = async (items: Array<[number, number]>, tip = 0) => {
      const o = await orders.openOrder(deps, { type: 'counter' });
      for (const [productId, quantity] of items) await orders.addLine(deps, o.id, { productId, quantity, modifierIds: [], note: null });
      const due = (await t.db('orders').where({ id: o.id }).first()).total;
      await orders.tenderCash(deps, o.id, due + tip, crypto.randomUUID(), {}, tip);
      return o.id;
    };
    await sell([[evilId, 2]], 50);
    const refunded = await sell([[croissant.id, 1], [(await store.product('Brownie')).id, 1]]);
    await orders.refundOrder(deps, refunded, { reason: 'stale, "really"', idempotencyKey: crypto.randomUUID() });
    const voided = await orders.openOrder(deps, { type: 'counter' });
    await orders.addLine(deps, voided.id, { productId: croissant.id, quantity: 1, modifierIds: [], note: null });
    await orders.voidOrder(deps, voided.id, 'test');
    clock.set('2026-03-14T23:00:00Z');
    await reports.closeDay({ db: t.db, clock, events }, {}, { idempotencyKey: crypto.randomUUID() });
  });
  after(async () => t.drop());

  let manifest: Manifest;
  const read = (name: string) => fs.readFileSync(path.join(exportDir, DAY, name), 'utf8');
  const rows = (name: string) => parse(read(name), { columns: true, bom: true }) as Array<Record<string, string>>;

  it('writes the day\'s files and a manifest whose SHA-256 checksums match them', async () => {
    ({ manifest } = await writeExport({ db: t.db, clock, exportDir }, DAY, 'manual'));
    const names = fs.readdirSync(path.join(exportDir, DAY)).sort();
    assert.deepEqual(names, ['journal.ndjson', 'manifest.json', 'order_lines.csv', 'orders.csv', 'payments.csv', 'summary.html', 'summary.json']);
    assert.deepEqual(JSON.parse(read('manifest.json')), manifest);
    assert.equal(manifest.files.length, 6);
    for (const f of manifest.files) {
      const bytes = fs.readFileSync(path.join(exportDir, DAY, f.name));
      assert.equal(sha(bytes), f.sha256, f.name);
      assert.equal(bytes.length, f.bytes, f.name);
    }
  });

  it('the CSV files match the database', async () => {
    const dbOrders = await t.db('orders').where({ sales_date: DAY }).orderBy('receipt_no');
    const csvOrders = rows('orders.csv');
    assert.deepEqual(csvOrders.map((o) => Number(o.order_id)), dbOrders.map((o: { id: number }) => o.id));
    for (const [i, o] of dbOrders.entries()) {
      assert.equal(Number(csvOrders[i].total) * 100, o.total);
      assert.equal(csvOrders[i].status, o.status);
      assert.equal(Number(csvOrders[i].receipt_no), o.receipt_no);
    }
    const dbLines = await t.db('order_lines').whereIn('order_id', dbOrders.map((o: { id: number }) => o.id)).orderBy('id');
    const csvLines = rows('order_lines.csv');
    assert.deepEqual(csvLines.map((l) => Number(l.line_id)).sort((a, b) => a - b), dbLines.map((l: { id: number }) => l.id));
    const paid = await t.db('payments').whereIn('order_id', dbOrders.filter((o: { status: string }) => o.status === 'paid').map((o: { id: number }) => o.id));
    const csvPayments = rows('payments.csv');
    assert.equal(csvPayments.filter((p) => p.kind === 'payment').length, paid.length);
    assert.equal(csvPayments.filter((p) => p.kind === 'payment').reduce((s, p) => s + Math.round(Number(p.tip) * 100), 0), 50);
    const refund = csvPayments.find((p) => p.kind === 'refund')!;
    assert.equal(Number(refund.amount), -6.3); // a number stays a number: no quote in front of the minus
    assert.ok(read('payments.csv').includes(',-6.3,'));
    const summary = JSON.parse(read('summary.json'));
    assert.equal(summary.sales.salesTotal, dbOrders.filter((o: { status: string }) => o.status === 'paid').reduce((s: number, o: { total: number }) => s + o.total, 0));
    assert.equal(summary.z.z_no, 1);
  });

  it('a product named =HYPERLINK(…) comes out neutralised, as text', () => {
    const evil = rows('order_lines.csv').find((l) => Number(l.product_id) === evilId)!;
    assert.equal(evil.product, `'=HYPERLINK("http://evil.example","click")`);
    assert.ok(!/(^|,)=HYPERLINK/m.test(read('order_lines.csv')));
  });

  it('journal.ndjson verifies with nothing but the one-line hash rule (own RFC 8785 and SHA-256)', async () => {
    const lines = read('journal.ndjson').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown> & { seq: number; hash: string; prev_hash: string });
    assert.ok(lines.length >= 5);
    let prev = manifest.journal.first_prev_hash;
    for (const [i, e] of lines.entries()) {
      const { hash, ...rest } = e;
      assert.equal(e.prev_hash, prev, `entry ${e.seq} follows the one before`);
      assert.equal(sha(e.prev_hash + jcs(rest)), hash, `entry ${e.seq}'s hash`);
      if (i) assert.equal(e.seq, lines[i - 1].seq + 1);
      prev = hash;
    }
    assert.equal(prev, manifest.journal.last_hash);
    // and it is the day's whole journal: every entry of that business date, the Z last
    const ofDay = await t.db('journal').whereRaw("entry->>'business_date' = ?", [DAY]).orderBy('seq').pluck('seq');
    assert.deepEqual(lines.map((e) => e.seq), ofDay);
    assert.equal(lines.at(-1)!.kind, 'z_closure');
    // a changed byte breaks it
    const tampered = { ...lines[0], total: 1 };
    const { hash: _h, ...rest } = tampered;
    assert.notEqual(sha(tampered.prev_hash + jcs(rest)), lines[0].hash);
  });

  it('downloads as a zip holding the same files', () => {
    const files = unzipSync(new Uint8Array(zipExport(exportDir, DAY)));
    assert.deepEqual(Object.keys(files).sort(), fs.readdirSync(path.join(exportDir, DAY)).sort().map((n) => `${DAY}/${n}`));
    for (const [name, bytes] of Object.entries(files)) assert.equal(sha(bytes), sha(fs.readFileSync(path.join(exportDir, name))));
  });

  it('writes a byte-order mark when the store asks for one', async () => {
    await t.db('settings').where({ key: 'exportBom' }).update({ value: 'true' });
    await writeExport({ db: t.db, clock, exportDir }, DAY, 'manual');
    assert.ok(read('orders.csv').startsWith('\ufefforder_id,'));
    assert.ok(!read('journal.ndjson').startsWith('\ufeff'));
    await t.db('settings').where({ key: 'exportBom' }).update({ value: 'false' });
  });

  it('npm run export -- --date writes the same day from the command line', async () => {
    const dir = tempDir('store-export-cli-');
    const cli = spawnCli(['export', '--date', DAY], { DATA_DIR: tempDir(), DATABASE_URL: t.url, EXPORT_DIR: dir, LOG_LEVEL: 'warn' });
    assert.equal(await cli.exited, 0, cli.output());
    assert.match(cli.output(), new RegExp(`export of ${DAY} written`));
    const m = JSON.parse(fs.readFileSync(path.join(dir, DAY, 'manifest.json'), 'utf8')) as Manifest;
    assert.deepEqual(m.files.find((f) => f.name === 'journal.ndjson'), manifest.files.find((f) => f.name === 'journal.ndjson'));
    assert.equal((await spawnCli(['export', '--date', '14/03/2026'], { DATA_DIR: tempDir(), DATABASE_URL: t.url }).exited), 2);
  });

  describe('a night the server was off', () => {
    let server: RunningServer | undefined;
    const laterDir = tempDir('store-export-late-');
    after(async () => server?.stop());

    it('is exported at the next start', async () => {
      await t.db('export_runs').del();
      // the store was off at 05:00 on the 15th; it starts at 09:00 on the 16th: the 14th is due (the 15th has no sales)
      clock.set('2026-03-16T09:00:00Z');
      const config = loadConfig({ DATA_DIR: tempDir(), DATABASE_URL: t.url, EXPORT_DIR: laterDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SECRET_KEY: 'z'.repeat(40) });
      server = await startServer(config, { clock, log: testLog });
      await until('the missed export', async () => fs.existsSync(path.join(laterDir, DAY, 'manifest.json')) && !!(await t.db('export_runs').where({ business_date: DAY }).first()));
      const run = await t.db('export_runs').where({ business_date: DAY }).first();
      assert.equal(run.trigger, 'start');
      assert.ok(!fs.existsSync(path.join(laterDir, '2026-03-15')), 'a day with nothing in it is not exported');
    });
  });
});
