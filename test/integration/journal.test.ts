import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { FakeClock } from '../helpers/clock';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { spawnCli } from '../helpers/spawn';
import { tempDir } from '../helpers/config';
import * as orders from '../../server/orders/service';
import { verifyJournal } from '../../server/journal/verify';
import { appendEntry, type JournalKind } from '../../server/journal/append';
import fc from 'fast-check';
import { seedSettings } from '../../server/settings/service';
import { createEventBus } from '../../server/events';
import { testLog } from '../helpers/log';

/**
 * RFC 8785 written out here, independently of the library the server uses, for the JSON the
 * journal holds (objects, arrays, strings, safe integers, booleans, null).
 */
function jcs(v: unknown): string {
  if (v === null || typeof v === 'boolean') return JSON.stringify(v);
  if (typeof v === 'number') {
    assert.ok(Number.isSafeInteger(v), 'journal numbers are integers');
    return String(v);
  }
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(jcs).join(',') + ']';
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort(); // UTF-16 code-unit order
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + jcs(o[k])).join(',') + '}';
}

describe('the journal', function () {
  this.timeout(120_000);
  let t: TestDb;
  let store: Awaited<ReturnType<typeof seedStore>>;
  const clock = new FakeClock();
  const events = createEventBus(testLog);
  let deps: orders.OrderDeps;

  before(async () => {
    t = await createTestDb({ poolMax: 60 });
    store = await seedStore(t.db);
    await seedSettings(t.db, clock, {});
    deps = { db: t.db, clock, events };
  });
  after(async () => t.drop());

  async function sale(productName: string, qty = 1): Promise<number> {
    const o = await orders.openOrder(deps, { type: 'counter' });
    const p = await store.product(productName);
    await orders.addLine(deps, o.id, { productId: p.id, quantity: qty, modifierIds: [], note: null });
    return o.id;
  }

  it('50 parallel add-line requests on one order → 50 lines and correct totals', async () => {
    const o = await orders.openOrder(deps, { type: 'counter' });
    const brownie = await store.product('Brownie');
    await Promise.all(Array.from({ length: 50 }, () => orders.addLine(deps, o.id, { productId: brownie.id, quantity: 1, modifierIds: [], note: null })));
    const lines = await t.db('order_lines').where({ order_id: o.id });
    assert.equal(lines.length, 50);
    const row = await t.db('orders').where({ id: o.id }).first();
    assert.equal(row.total, 50 * brownie.price);
    assert.equal(row.version, 1 + 50);
  });

  it('concurrent tenders on one check: a doubled key records one payment; part payments all reach the journal record', async () => {
    const o = await orders.openOrder(deps, { type: 'counter' });
    const brownie = await store.product('Brownie');
    await orders.addLine(deps, o.id, { productId: brownie.id, quantity: 10, modifierIds: [], note: null });
    const total = 10 * brownie.price;
    // the same key tapped twice at once: one payment, the second answer a replay of the first
    const key = crypto.randomUUID();
    const part = Math.floor(total / 4);
    const [a, b] = await Promise.all([orders.tenderCash(deps, o.id, part, key), orders.tenderCash(deps, o.id, part, key)]);
    assert.equal(a.paymentId, b.paymentId);
    assert.deepEqual([a.replayed, b.replayed].sort(), [false, true]);
    // two more part payments at once, then the rest: the sale's record lists every tender
    await Promise.all([orders.tenderCash(deps, o.id, part, crypto.randomUUID()), orders.tenderCash(deps, o.id, part, crypto.randomUUID())]);
    const last = await orders.tenderCash(deps, o.id, total, crypto.randomUUID());
    assert.ok(last.closed);
    const payments = await t.db('payments').where({ order_id: o.id }).orderBy('id');
    assert.equal(payments.length, 4);
    const entry = (await t.db('journal').where({ seq: (await t.db('orders').where({ id: o.id }).first()).journal_seq }).first()).entry;
    assert.deepEqual(entry.tenders.map((x: { amount: number }) => x.amount), payments.map((p: { amount: number }) => p.amount));
    assert.equal(payments.reduce((s: number, p: { amount: number }) => s + p.amount, 0), entry.total);
  });

  it('50 concurrent closes, 10 forced to roll back → receipt numbers and seq contiguous, no fork, verify passes', async () => {
    // a trigger that fails the closing transaction of marked orders after the journal append
    await t.db.raw(`
      create function fail_marked_close() returns trigger language plpgsql as $$
      begin
        if new.status = 'paid' and new.customer_name = 'ROLLBACK' then raise exception 'forced rollback'; end if;
        return new;
      end $$;
      create trigger fail_marked_close before update on orders for each row execute function fail_marked_close();`);
    try {
      const ids: number[] = [];
      for (let i = 0; i < 50; i++) ids.push(await sale('Croissant'));
      const doomed = new Set(ids.filter((_, i) => i % 5 === 2));
      assert.equal(doomed.size, 10);
      for (const id of doomed) await t.db('orders').where({ id }).update({ customer_name: 'ROLLBACK' });
      const headBefore = await t.db('journal_head').first();
      const results = await Promise.allSettled(ids.map((id) => orders.tenderCash(deps, id, 500, crypto.randomUUID())));
      const failed = results.filter((r) => r.status === 'rejected');
      assert.equal(failed.length, 10);
      for (const f of failed) assert.match(String((f as PromiseRejectedResult).reason), /forced rollback/);
      const entries = await t.db('journal').where('seq', '>', headBefore.seq).orderBy('seq');
      assert.equal(entries.length, 40);
      entries.forEach((e: { seq: number; entry: { receipt_no: number; prev_hash: string } }, i: number) => {
        assert.equal(e.seq, headBefore.seq + 1 + i, 'seq has no holes');
        assert.equal(e.entry.receipt_no, headBefore.receipt_no + 1 + i, 'receipt numbers have no holes');
      });
      const prevs = entries.map((e: { prev_hash: string }) => e.prev_hash);
      assert.equal(new Set(prevs).size, prevs.length, 'no two entries share a parent: no fork');
      const paidReceipts = (await t.db('orders').whereIn('id', ids).whereNotNull('receipt_no').pluck('receipt_no')).sort((a: number, b: number) => a - b);
      assert.equal(paidReceipts.length, 40);
      for (const id of doomed) assert.equal((await t.db('orders').where({ id }).first()).status, 'open');
      const v = await verifyJournal(t.db);
      assert.ok(v.ok, JSON.stringify(v));
    } finally {
      await t.db.raw('drop trigger fail_marked_close on orders; drop function fail_marked_close()');
    }
  });

  it("an entry's hash recomputed independently (RFC 8785 + SHA-256) equals the stored one", async () => {
    const id = await sale('Espresso', 2);
    await orders.tenderCash(deps, id, 1000, crypto.randomUUID());
    const rows = await t.db('journal').orderBy('seq').select('seq', 'hash', 'prev_hash', 'entry');
    assert.ok(rows.length > 1);
    let prev = '0'.repeat(64);
    for (const r of rows) {
      const { hash, ...rest } = r.entry;
      assert.equal(rest.prev_hash, prev);
      const recomputed = crypto.createHash('sha256').update(prev + jcs(rest)).digest('hex');
      assert.equal(recomputed, hash, `entry ${r.seq}`);
      assert.equal(r.hash, hash);
      prev = hash;
    }
    assert.equal(rows[0].entry.seq, 1, 'seq starts at 1');
    const last = rows[rows.length - 1].entry;
    for (const field of ['lines', 'taxes', 'tenders', 'grand_totals', 'receipt_no', 'total', 'tax_total', 'business_date']) {
      assert.ok(field in last, `the entry records ${field}`);
    }
  });

  it('the append (journal/append.ts) hashes what the rule written out here gives for any record: keys around the head\'s fields, any text, nesting (property)', async () => {
    // keys that sort next to the ones the head fills in (seq, receipt_no, z_no, grand_totals, prev_hash)
    const key = fc.oneof(fc.constantFrom('s', 'seq0', 'sep', 'receipt', 'receipt_nos', 'prev', 'prev_hash_', 'grand', 'grand_totals_', 'z', 'z_n', 'a', '~', 'É', '😀', ''), fc.string({ maxLength: 8 }).map((x) => x.replaceAll('\u0000', '')));
    // any text PostgreSQL stores (a text column or jsonb cannot hold U+0000, so no record has it)
    const text = (s: fc.Arbitrary<string>) => s.map((x) => x.replaceAll('\u0000', ''));
    const leaf = fc.oneof(text(fc.string({ maxLength: 20 })), text(fc.string({ unit: 'binary', maxLength: 12 })), fc.maxSafeInteger(), fc.boolean(), fc.constant(null), fc.constantFrom('"', '\\', '\u0001', '</script>', '\u2028'));
    const record = fc.dictionary(key.filter((k) => !['seq', 'kind', 'at', 'receipt_no', 'z_no', 'grand_totals', 'prev_hash', 'hash'].includes(k)),
      fc.oneof(leaf, fc.array(leaf, { maxLength: 3 }), fc.dictionary(key, leaf, { maxKeys: 3 })), { maxKeys: 6 });
    await fc.assert(fc.asyncProperty(record, fc.constantFrom('sale', 'refund', 'void', 'z_closure'), fc.nat({ max: 1e9 }), async (rec, kind, amount) => {
      const trx = await t.db.transaction();
      try {
        const head = await trx('journal_head').where({ id: 1 }).first();
        const entry = await appendEntry(trx, clock, { kind: kind as JournalKind, record: rec, sales: kind === 'sale' ? amount : 0, refunds: kind === 'refund' ? amount : 0 });
        const stored = await trx('journal').where({ seq: entry.seq }).first();
        const { hash, ...rest } = stored.entry;
        assert.equal(hash, crypto.createHash('sha256').update(head.hash + jcs(rest)).digest('hex'));
        assert.equal(stored.hash, hash);
        assert.deepEqual(entry, stored.entry);
        assert.equal(entry.seq, Number(head.seq) + 1);
        assert.equal(entry.prev_hash, head.hash);
        assert.deepEqual(entry.grand_totals, { sales: Number(head.grand_sales) + (kind === 'sale' ? amount : 0), refunds: Number(head.grand_refunds) + (kind === 'refund' ? amount : 0), voids: Number(head.grand_voids) });
        if (kind === 'z_closure') assert.equal(entry.z_no, Number(head.z_no) + 1);
        else assert.equal(entry.receipt_no, Number(head.receipt_no) + 1);
        const moved = await trx('journal_head').where({ id: 1 }).first();
        assert.deepEqual([Number(moved.seq), moved.hash], [entry.seq, hash]);
        for (const [k, v] of Object.entries(rec)) assert.deepEqual(entry[k], JSON.parse(JSON.stringify(v)), `record field ${JSON.stringify(k)} kept`);
      } finally {
        await trx.rollback();
      }
    }), { numRuns: 60 });
  });

  it('a sale\'s entry rebuilt by hand from the rule equals what the append wrote; journal-verify (the CLI) passes on what the new code appended', async () => {
    const head = await t.db('journal_head').where({ id: 1 }).first();
    const id = await sale('Espresso', 2);
    await orders.tenderCash(deps, id, 10_000, crypto.randomUUID());
    const order = await t.db('orders').where({ id }).first();
    const stored = await t.db('journal').where({ seq: order.journal_seq }).first();
    // the rule, from ARCHITECTURE alone: hash = hex(SHA-256(prev_hash + RFC 8785 JSON of the entry without hash))
    const { hash: _hash, ...withoutHash } = stored.entry;
    assert.equal(withoutHash.prev_hash, head.hash, 'chained to the head as it was');
    assert.equal(withoutHash.seq, Number(head.seq) + 1);
    assert.equal(withoutHash.receipt_no, Number(head.receipt_no) + 1);
    const byHand = crypto.createHash('sha256').update(head.hash + jcs(withoutHash)).digest('hex');
    assert.equal(stored.hash, byHand);
    assert.equal(stored.entry.hash, byHand);
    assert.equal((await t.db('journal_head').where({ id: 1 }).first()).hash, byHand, 'the head moved to it');
    const cli = spawnCli(['journal-verify'], { DATA_DIR: tempDir(), DATABASE_URL: t.url, LOG_LEVEL: 'warn' });
    assert.equal(await cli.exited, 0, cli.output());
  });

  it('refund by line → a negative entry; grand totals only grow; the original stays unchanged', async () => {
    const o = await orders.openOrder(deps, { type: 'counter' });
    const cake = await store.product('Carrot cake');
    const tea = await store.product('Green tea');
    await orders.addLine(deps, o.id, { productId: cake.id, quantity: 3, modifierIds: [], note: null });
    await orders.addLine(deps, o.id, { productId: tea.id, quantity: 1, modifierIds: [], note: null });
    await orders.tenderCash(deps, o.id, 5000, crypto.randomUUID());
    const original = await t.db('orders').where({ id: o.id }).first();
    const originalLines = await t.db('order_lines').where({ order_id: o.id }).orderBy('id');
    const originalEntry = (await t.db('journal').where({ seq: original.journal_seq }).first()).entry;
    const headBefore = await t.db('journal_head').first();
    const cakeLine = originalLines.find((l: { product_id: number }) => l.product_id === cake.id);

    const r1 = await orders.refundOrder(deps, o.id, { reason: 'one was dropped', idempotencyKey: crypto.randomUUID(), lines: new Map([[cakeLine.id, 1]]) });
    assert.equal(r1.total, cake.price);
    const refundEntry = (await t.db('journal').where({ seq: headBefore.seq + 1 }).first()).entry;
    assert.equal(refundEntry.kind, 'refund');
    assert.equal(refundEntry.total, -cake.price);
    assert.equal(refundEntry.lines[0].quantity, -1);
    assert.equal(refundEntry.original_receipt_no, original.receipt_no);
    assert.equal(refundEntry.grand_totals.sales, headBefore.grand_sales, 'sales do not shrink');
    assert.equal(refundEntry.grand_totals.refunds, headBefore.grand_refunds + cake.price, 'refunds accumulate apart');

    await assert.rejects(
      orders.refundOrder(deps, o.id, { reason: 'too many', idempotencyKey: crypto.randomUUID(), lines: new Map([[cakeLine.id, 3]]) }),
      /Only 2 of Carrot cake can still be refunded/,
    );
    const rest = await orders.refundOrder(deps, o.id, { reason: 'the rest', idempotencyKey: crypto.randomUUID() });
    assert.equal(rest.total + r1.total, original.total, 'refunds never exceed the sale');
    await assert.rejects(orders.refundOrder(deps, o.id, { reason: 'again', idempotencyKey: crypto.randomUUID() }), /Nothing left to refund/);

    assert.deepEqual(await t.db('orders').where({ id: o.id }).first(), original, 'the original order is untouched');
    assert.deepEqual(await t.db('order_lines').where({ order_id: o.id }).orderBy('id'), originalLines);
    assert.deepEqual((await t.db('journal').where({ seq: original.journal_seq }).first()).entry, originalEntry);
    const v = await verifyJournal(t.db);
    assert.ok(v.ok, JSON.stringify(v));
  });

  it('refuses UPDATE and DELETE through the trigger', async () => {
    await assert.rejects(t.db('journal').where({ seq: 1 }).update({ kind: 'x' }), /append-only: UPDATE refused/);
    await assert.rejects(t.db('journal').where({ seq: 1 }).delete(), /append-only: DELETE refused/);
    await assert.rejects(t.db.raw('truncate journal cascade'), /append-only/);
  });

  it('a row altered behind the trigger (superuser, trigger disabled) → verify and the CLI name it', async () => {
    const n = (await t.db('journal').count<{ n: string }[]>('* as n'))[0].n;
    assert.ok(Number(n) >= 5);
    await t.db.raw('alter table journal disable trigger journal_append_only');
    await t.db.raw(`update journal set entry = jsonb_set(entry, '{total}', '1') where seq = 3`);
    await t.db.raw('alter table journal enable trigger journal_append_only');
    const v = await verifyJournal(t.db);
    assert.equal(v.ok, false);
    assert.equal(v.broken!.seq, 3);
    assert.match(v.broken!.problem, /content was altered/);
    const cli = spawnCli(['journal-verify'], { DATA_DIR: tempDir(), DATABASE_URL: t.url, LOG_LEVEL: 'warn' });
    assert.equal(await cli.exited, 1);
    assert.match(cli.output(), /journal BROKEN at seq 3/);
  });
});
