import assert from 'node:assert/strict';
import { bootApp, type TestApp } from '../helpers/app';
import { pairedClient, PINS, type Client } from '../helpers/client';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';

/** The options of the select named `name` in a dialog's HTML, as "value text" pairs. */
function options(html: string, name: string): string[] {
  const select = new RegExp(`<select name="${name}">([\\s\\S]*?)</select>`).exec(html);
  assert.ok(select, `a select named ${name}`);
  return [...select[1].matchAll(/<option value="(\d+)">([^<]*)<\/option>/g)].map((m) => `${m[1]} ${m[2].trim()}`);
}

describe('the check dialog (GET /orders/:id/check)', function () {
  this.timeout(60_000);
  let t: TestDb;
  let app: TestApp;
  let waiter: Client;
  before(async () => {
    t = await createTestDb();
    await seedStore(t.db);
    app = await bootApp(t.db);
    waiter = await pairedClient(app, { pin: PINS.owner, name: 'Waiter 1' });
  });
  after(async () => {
    await app.close();
    await t.drop();
  });

  const seat = async (tableId: number) => {
    const r = await waiter.post(`/tables/${tableId}/open`, { covers: '2' });
    assert.equal(r.status, 204, r.text);
    return Number(/(\d+)$/.exec(r.headers.get('HX-Redirect')!)![1]);
  };

  it('offers the free tables to move to, the active staff to hand to and the other open checks to merge in', async () => {
    const [a, b, ...rest] = await t.db('tables').where({ active: true }).orderBy('id');
    const here = await seat(a.id);
    const there = await seat(b.id);
    // a counter sale, opened by its first item (an empty order is no check to merge)
    const brownie = await t.db('products').where({ name: 'Brownie' }).first();
    const counter = Number(/(\d+)$/.exec((await waiter.post('/terminal/lines', { product_id: String(brownie.id) })).headers.get('HX-Redirect')!)![1]);
    // someone who left (not the owner this waiter is logged in as): not offered
    await t.db('staff').where({ id: (await t.db('staff').whereNot({ role: 'owner' }).orderBy('id').first()).id }).update({ active: false });
    const r = await waiter.get(`/orders/${here}/check`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(options(r.text, 'table_id'), rest.map((x: { id: number; name: string }) => `${x.id} ${x.name}`));
    const staff = await t.db('staff').where({ active: true }).orderBy('name').select('id', 'name');
    assert.deepEqual(options(r.text, 'staff_id'), staff.map((s: { id: number; name: string }) => `${s.id} ${s.name}`));
    const numbers = Object.fromEntries((await t.db('orders').whereIn('id', [there, counter]).select('id', 'number')).map((o: { id: number; number: number }) => [o.id, o.number]));
    assert.deepEqual(options(r.text, 'source_id'), [`${counter} #${numbers[counter]}`, `${there} #${numbers[there]}`]);
  });

  it('answers an unknown check with a clear 404 and no stack trace', async () => {
    const r = await waiter.get('/orders/987654321/check');
    assert.equal(r.status, 404);
    assert.doesNotMatch(r.text, /\n\s+at /);
  });
});
