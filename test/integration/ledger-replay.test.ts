import assert from 'node:assert/strict';
import { appendEntry, listEntries } from '../../server/journal/service';
import { adoptEntries } from '../../server/journal/sync';
import * as orders from '../../server/orders/service';
import { FakeClock } from '../helpers/clock';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';

/**
 * Issue 25: entries taken back from the cloud ledger after a restore are replayed into orders
 * (orders/replay.ts). An entry whose record is not an order's (a journal written by another
 * version, or by hand) must never stop the journal from taking it: the replay skips it and says
 * which, and replays the rest.
 */
describe('replaying entries pulled from the ledger', function () {
  this.timeout(120_000);
  let source: TestDb;
  let restored: TestDb;

  before(async () => {
    [source, restored] = [await createTestDb(), await createTestDb()];
    for (const t of [source, restored]) await seedStore(t.db);
  });
  after(async () => {
    await source?.drop();
    await restored?.drop();
  });

  it('takes every entry into the journal; replays the sale; skips and names the entries whose records are not an order\'s', async () => {
    const clock = new FakeClock('2026-03-14T10:00:00Z');
    const deps = { db: source.db, clock, events: { publish: () => undefined } };
    const brownie = (await source.db('products').where({ name: 'Brownie' }).first()).id as number;
    // a real sale, then two entries as another program might have written them
    const o = await orders.openOrder(deps, { type: 'counter' });
    await orders.addLine(deps, o.id, { productId: brownie, quantity: 1, modifierIds: [], note: null });
    const total = (await source.db('orders').where({ id: o.id }).first('total')).total as number;
    await orders.tenderCash(deps, o.id, total, 'replay-sale');
    await source.db.transaction(async (trx) => {
      await appendEntry(trx, clock, { kind: 'sale', record: { note: 'a sale with no order in it' }, sales: 100 });
      await appendEntry(trx, clock, { kind: 'refund', record: { order_id: 'x', lines: 'none' }, refunds: 50 });
    });
    const entries = await listEntries(source.db, 0, 100);
    assert.equal(entries.length, 3);

    const result = await restored.db.transaction(async (trx) => {
      await adoptEntries(trx, entries);
      return orders.replayEntries(trx, entries);
    });
    assert.equal(result.replayed, 1);
    assert.deepEqual(result.skipped, [{ seq: 2, reason: 'its record names no order' }, { seq: 3, reason: 'its record names no order' }]);
    assert.equal((await listEntries(restored.db, 0, 100)).length, 3, 'the journal took all three');
    const sale = await restored.db('orders').where({ id: o.id }).first();
    assert.deepEqual([sale.status, sale.receipt_no, sale.total, sale.restored], ['paid', 1, total, true]);
  });

  it('an entry whose rows cannot be written (a refund of an order this store never had) is skipped in its own savepoint, the rest replayed', async () => {
    const clock = new FakeClock('2026-03-14T11:00:00Z');
    const deps = { db: source.db, clock, events: { publish: () => undefined } };
    const paid = await source.db('orders').where({ status: 'paid' }).first('id');
    await orders.refundOrder(deps, paid.id, { reason: 'cold', idempotencyKey: 'replay-refund' });
    const [refund] = await listEntries(source.db, 3, 10);
    // the refund names an order the restored store does not hold: its insert fails on the foreign key
    const orphan = { ...refund, order_id: 987_654 };
    const result = await restored.db.transaction(async (trx) => orders.replayEntries(trx, [orphan]));
    assert.equal(result.replayed, 0);
    assert.equal(result.skipped.length, 1);
    assert.match(result.skipped[0].reason, /foreign key/);
    const again = await restored.db.transaction(async (trx) => {
      await adoptEntries(trx, [refund]);
      return orders.replayEntries(trx, [refund]);
    });
    assert.deepEqual(again, { replayed: 1, skipped: [] });
    assert.equal((await restored.db('refunds').where({ order_id: paid.id }).first()).total, -(refund.total as number));
  });
});
