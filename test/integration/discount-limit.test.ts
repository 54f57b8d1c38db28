import assert from 'node:assert/strict';
import { bootApp, type TestApp } from '../helpers/app';
import { pairedClient, PINS, type Client } from '../helpers/client';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { discountShares, grownPastLimit } from '../../server/orders/discount-limit';
import { DEFAULT_SETTINGS } from '../../server/settings/schema';
import type { LineRow, OrderRow } from '../../server/orders/service';

/**
 * Issue 18, item 3: the discount limit is enforced on the order a change leaves, not on the
 * request that set the discount. Before, a 10 % amount discount on ten buns, then the quantity
 * taken to one, left a 100 % discount that nobody approved.
 */
describe('the discount limit holds for the resulting order', function () {
  this.timeout(60_000);
  let t: TestDb;
  let app: TestApp;
  let cashier: Client;
  let bunId: number;

  before(async () => {
    t = await createTestDb();
    await seedStore(t.db);
    app = await bootApp(t.db);
    await t.db('settings').insert({ key: 'idleLockSeconds', value: JSON.stringify(86_400), updated_at: new Date() }).onConflict('key').merge();
    cashier = await pairedClient(app, { pin: PINS.cashier, name: 'Till' });
    bunId = (await t.db('products').where({ name: 'Cinnamon bun' }).first()).id; // 3.80
  });
  after(async () => {
    await app.close();
    await t.drop();
  });

  /** An open order with 10 buns (38.00), and its line's id. */
  async function tenBuns(): Promise<{ orderId: number; lineId: number }> {
    const opened = await cashier.post('/orders', { type: 'counter' });
    const orderId = Number(/(\d+)$/.exec(opened.headers.get('HX-Redirect')!)![1]);
    assert.equal((await cashier.post(`/orders/${orderId}/lines`, { product_id: String(bunId), quantity: '10' })).status, 200);
    const line = await t.db('order_lines').where({ order_id: orderId }).first();
    return { orderId, lineId: line.id };
  }
  const order = (id: number) => t.db('orders').where({ id }).first();
  const version = async (id: number) => String((await order(id)).version);

  it('a 10 % amount discount, then the quantity cut so it is 100 %: approval asked, nothing changes until a manager approves', async () => {
    const { orderId, lineId } = await tenBuns();
    const given = await cashier.post(`/orders/${orderId}/lines/${lineId}/discount`, { kind: 'amount', value: '3.80', version: await version(orderId) });
    assert.equal(given.status, 200, 'exactly the limit: the cashier may');
    const before = await order(orderId);
    assert.equal(before.total, 3_420);

    const cut = await cashier.post(`/orders/${orderId}/lines/${lineId}/quantity`, { quantity: '1', version: String(before.version) }, { headers: { 'HX-Target': 'order-panel' } });
    assert.equal(cut.status, 403);
    assert.match(cut.text, /Manager approval/);
    const unchanged = await order(orderId);
    assert.equal(unchanged.total, 3_420, 'total unchanged until approved');
    assert.equal(unchanged.version, before.version);
    assert.equal((await t.db('order_lines').where({ id: lineId }).first()).quantity, 10);

    const wrongPin = await cashier.post(`/orders/${orderId}/lines/${lineId}/quantity`, { quantity: '1', version: String(before.version), override_pin: PINS.server });
    assert.equal(wrongPin.status, 403);
    assert.equal((await order(orderId)).total, 3_420);

    const approved = await cashier.post(`/orders/${orderId}/lines/${lineId}/quantity`, { quantity: '1', version: String(before.version), override_pin: PINS.manager });
    assert.equal(approved.status, 200, approved.text.slice(0, 200));
    assert.equal((await order(orderId)).total, 0);
    const audited = await t.db('audit_log').where({ action: 'override' }).orderBy('id', 'desc').first();
    assert.equal(audited.details.permission, 'order:discount-large');
  });

  it('the "−" button walks an order discount past the limit: the press that would cross it asks for approval', async () => {
    const { orderId, lineId } = await tenBuns();
    assert.equal((await cashier.post(`/orders/${orderId}/discount`, { kind: 'amount', value: '3.80', version: await version(orderId) })).status, 200);
    const minus = () => cashier.post(`/orders/${orderId}/lines/${lineId}/quantity`, { delta: '-1' });
    const refused = await minus(); // 3.80 off 34.20 is 11 %
    assert.equal(refused.status, 403);
    assert.equal((await t.db('order_lines').where({ id: lineId }).first()).quantity, 10);
    assert.equal((await order(orderId)).total, 3_420);
  });

  it('a percent discount within the limit stays within it whatever the quantity; an approved large discount needs no new approval when a line is added', async () => {
    const { orderId, lineId } = await tenBuns();
    assert.equal((await cashier.post(`/orders/${orderId}/lines/${lineId}/discount`, { kind: 'percent', value: '10', version: await version(orderId) })).status, 200);
    assert.equal((await cashier.post(`/orders/${orderId}/lines/${lineId}/quantity`, { quantity: '1', version: await version(orderId) })).status, 200);

    const big = await cashier.post(`/orders/${orderId}/discount`, { kind: 'percent', value: '50', version: await version(orderId), override_pin: PINS.manager });
    assert.equal(big.status, 200);
    assert.equal((await cashier.post(`/orders/${orderId}/lines`, { product_id: String(bunId) })).status, 200, 'adding a line grows no discount');
    assert.equal((await cashier.post(`/orders/${orderId}/lines/${lineId}/quantity`, { delta: '1' })).status, 200, 'nor does a "+"');
  });

  describe('discountShares / grownPastLimit', () => {
    const settings = { ...DEFAULT_SETTINGS, discountLimitPercent: 10 };
    const orderRow = (o: Partial<OrderRow> = {}) => ({ discount_kind: null, discount_value: null, tax_adjustments: null, ...o }) as OrderRow;
    const line = (id: number, quantity: number, d?: { kind: 'percent' | 'amount'; value: number }, comp?: string) =>
      ({ id, unit_price: 250, quantity, tax_rate_id: 1, tax_ppm: 0, discount_kind: d?.kind ?? null, discount_value: d?.value ?? null, comp_reason: comp ?? null }) as unknown as LineRow;

    it('an amount discount is what it takes off its line; a percent discount is its rate, not its rounded amount', () => {
      assert.equal(discountShares(orderRow(), [line(1, 10, { kind: 'amount', value: 250 })], settings).get('line:1'), 10);
      assert.equal(discountShares(orderRow(), [line(1, 1, { kind: 'amount', value: 250 })], settings).get('line:1'), 100);
      const tiny = { ...line(1, 1, { kind: 'percent', value: 100_000 }), unit_price: 5 } as LineRow; // 10 % of 0.05 rounds to 0.01
      assert.equal(discountShares(orderRow(), [tiny], settings).get('line:1'), 10);
      assert.equal(discountShares(orderRow(), [line(1, 1, undefined, 'burnt')], settings).size, 0, 'a comp is not a discount here');
    });

    it('asks only for a share that grew past the limit', () => {
      const m = (e: Array<[string, number]>) => new Map(e);
      assert.deepEqual(grownPastLimit(m([['order', 10]]), m([['order', 11]]), 10), ['order']);
      assert.deepEqual(grownPastLimit(m([['order', 50]]), m([['order', 40]]), 10), [], 'smaller than approved');
      assert.deepEqual(grownPastLimit(m([]), m([['line:1', 10]]), 10), [], 'at the limit');
      assert.deepEqual(grownPastLimit(m([]), m([['line:1', 10.5]]), 10), ['line:1'], 'new and over');
    });
  });
});
