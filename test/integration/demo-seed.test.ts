import assert from 'node:assert/strict';
import { seedDemo } from '../../server/demo/seed';
import { FakeClock } from '../helpers/clock';
import { createTestDb, type TestDb } from '../helpers/pg';
import { verifyPin } from '../../server/auth/pin';
import { checkBarcode } from '../../drivers/scanner/barcode';

async function count(t: TestDb, table: string, where?: Record<string, unknown>): Promise<number> {
  const q = t.db(table);
  if (where) q.where(where);
  const [{ n }] = await q.count<{ n: string }[]>('* as n');
  return Number(n);
}

describe('the demo seed', () => {
  let t: TestDb;
  before(async () => (t = await createTestDb()));
  after(async () => t.drop());

  it('seeds a realistic café-restaurant into an empty store', async () => {
    const info = await seedDemo(t.db, new FakeClock());
    assert.equal(info.seeded, true);
    assert.ok((await count(t, 'products')) >= 40);
    assert.ok((await count(t, 'categories')) >= 6);
    assert.equal(await count(t, 'tax_rates'), 2);
    assert.equal(await count(t, 'stations'), 3);
    assert.equal(await count(t, 'tables'), 10);
    assert.equal(await count(t, 'staff'), 4);
    const groups = (await t.db('modifier_groups').pluck('name')) as string[];
    for (const g of ['Milk', 'Size', 'Extras']) assert.ok(groups.includes(g), `modifier group ${g}`);
    const priced = await t.db('modifiers').where('price_delta', '>', 0).count<{ n: string }[]>('* as n');
    assert.ok(Number(priced[0].n) > 5, 'extras carry prices');
    assert.ok((await count(t, 'product_barcodes')) >= 5, 'retail items carry barcodes');
    const badCodes = ((await t.db('product_barcodes').pluck('barcode')) as string[]).filter((b) => !checkBarcode(b).valid);
    assert.deepEqual(badCodes, [], 'every demo barcode has a right check digit, so a scanner can sell it');
    const roles = (await t.db('staff').pluck('role')).sort();
    assert.deepEqual(roles, ['cashier', 'manager', 'owner', 'server']);
    const owner = await t.db('staff').where({ role: 'owner' }).first();
    const pin = info.staff.find((s) => s.role === 'owner')!.pin;
    assert.ok(await verifyPin(pin, owner.pin_hash), 'the printed PIN opens the account');
    assert.ok(!owner.pin_hash.includes(pin));
  });

  it('does not duplicate anything when run again (restart) or twice at once', async () => {
    const before = await count(t, 'products');
    const results = await Promise.all([seedDemo(t.db, new FakeClock()), seedDemo(t.db, new FakeClock())]);
    assert.deepEqual(results.map((r) => r.seeded), [false, false]);
    assert.equal(await count(t, 'products'), before);
    assert.equal(await count(t, 'staff'), 4);
    assert.equal(await count(t, 'tables'), 10);
  });

  it('seeds two concurrent empty stores exactly once', async () => {
    const fresh = await createTestDb();
    try {
      const results = await Promise.all([seedDemo(fresh.db, new FakeClock()), seedDemo(fresh.db, new FakeClock())]);
      assert.deepEqual(results.map((r) => r.seeded).sort(), [false, true]);
      assert.equal(await count(fresh, 'staff'), 4);
    } finally {
      await fresh.drop();
    }
  });
});
