import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { bootApp, type TestApp } from '../helpers/app';
import { pairedClient, PINS, type Client } from '../helpers/client';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import * as orders from '../../server/orders/service';
import * as checks from '../../server/tables/checks';
import { openTable } from '../../server/tables/service';

/** A page's text, tags dropped and white space folded, for reading it as staff would. */
const textOf = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&amp;/g, '&').replace(/\s+/g, ' ');

/**
 * Split receipts (issue 20): each share's receipt lists the items it covers, and the check that
 * was split says where it went, with links, never a bare "Voided:".
 */
describe('split receipts list their items; the split check names its parts', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: TestApp;
  let store: Awaited<ReturnType<typeof seedStore>>;
  let deps: orders.OrderDeps;
  let waiter: Client;
  let tableIds: number[];

  before(async () => {
    t = await createTestDb();
    store = await seedStore(t.db);
    app = await bootApp(t.db);
    deps = { db: t.db, clock: app.clock, events: app.events };
    tableIds = await t.db('tables').orderBy('id').pluck('id');
    waiter = await pairedClient(app, { pin: PINS.manager, name: 'Floor' });
  });
  after(async () => {
    await app?.close();
    await t?.drop();
  });

  /** A table's check with `items` as [product, quantity, seat]. */
  async function check(table: number, items: Array<[string, number, number | undefined]>) {
    const id = await openTable(deps, tableIds[table], 2, {});
    for (const [name, quantity, seat] of items) await orders.addLine(deps, id, { productId: (await store.product(name)).id, quantity, modifierIds: [], note: null, seat });
    return id;
  }
  /** Splits through the route, as the check dialog does; the new checks, oldest first. */
  async function split(id: number, form: Record<string, string>) {
    const r = await waiter.post(`/orders/${id}/split`, form);
    assert.equal(r.status, 204, r.text);
    return (await t.db('orders').where({ split_from: id }).orderBy('id')) as orders.OrderRow[];
  }
  /** Pays a check in cash through the pay form; the answer, which shows the receipt. */
  async function pay(id: number) {
    const total = (await orders.getOrderView(t.db, id)).cashDue;
    const r = await waiter.post(`/orders/${id}/payments`, { tendered: (total / 100).toFixed(2), idempotency_key: crypto.randomUUID() });
    assert.equal(r.status, 200, r.text);
    return r.text;
  }
  const receipt = async (id: number) => {
    const r = await waiter.get(`/orders/${id}/receipt`, { htmx: false });
    assert.equal(r.status, 200, r.text);
    return r.text;
  };

  it('an even split: each share\'s receipt is "1/2 of" the check\'s items; the check says "Split into #a, #b" with links', async () => {
    const id = await check(0, [['Fish & chips', 2, undefined], ['Homemade lemonade', 1, undefined]]);
    const number = (await orders.getOrderView(t.db, id)).order.number;
    const parts = await split(id, { mode: 'evenly', parts: '2' });
    assert.equal(parts.length, 2);

    const answer = await pay(parts[0].id); // the receipt shown as the share is paid
    assert.match(answer, /<a class="btn btn-primary" id="paid-new-sale" href="\/terminal">New sale<\/a>/, 'New sale is the idle terminal: no empty order opened');
    const paid = textOf(answer);
    assert.match(paid, new RegExp(`1× Share 1/2 of #${number}`));
    assert.match(paid, /1\/2 of: 2× Fish & chips €33\.00 1× Homemade lemonade €4\.00/);
    assert.match(paid, new RegExp(`Share 1 of 2 of #${number} ?\\.`));
    await pay(parts[1].id);
    const second = textOf(await receipt(parts[1].id));
    assert.match(second, /2\/2 of: 2× Fish & chips €33\.00 1× Homemade lemonade €4\.00/);
    assert.match(second, /Total €18\.50/);

    const original = await receipt(id);
    assert.match(original, new RegExp(`Split into <a href="/orders/${parts[0].id}">#${parts[0].number}</a>, <a href="/orders/${parts[1].id}">#${parts[1].number}</a>\\.`));
    assert.doesNotMatch(original, /Voided|VOID|DUPLICATE|Receipt <strong/, 'not a receipt, not a void');
    assert.match(await receipt(parts[0].id), new RegExp(`<a href="/orders/${id}">#${number}</a>`), 'a share links its check');
    // the check's page on the terminal says the same, with links, and no bare "Voided:"
    const panel = (await waiter.get(`/orders/${id}`, { htmx: false })).text;
    assert.match(panel, new RegExp(`Split into <a href="/orders/${parts[0].id}">#${parts[0].number}</a>, <a href="/orders/${parts[1].id}">#${parts[1].number}</a>\\.`));
    assert.doesNotMatch(panel, /Voided/);

    // the items a share covers find it in the history
    const found = await waiter.get(`/orders/history?q=${encodeURIComponent('fish & chips')}`);
    for (const p of parts) assert.match(found.text, new RegExp(`data-order-id="${p.id}"`));
  });

  it('a split by amounts: the share says how much of the check it is, and lists the items', async () => {
    const id = await check(1, [['Shakshuka', 1, undefined], ['Brownie', 2, undefined]]); // 12.00 + 7.00
    const parts = await split(id, { mode: 'amount', amounts: '10.00' });
    assert.equal(parts.length, 2);
    await pay(parts[0].id);
    const text = textOf(await receipt(parts[0].id));
    assert.match(text, /€10\.00 of €19\.00 for: 1× Shakshuka €12\.00 2× Brownie €7\.00/);
  });

  it('a split by seat: each check\'s receipt lists its own seat\'s items, and says which check it was split from', async () => {
    const id = await check(2, [['Fish & chips', 1, 1], ['Brownie', 1, 1], ['Shakshuka', 1, 2], ['Homemade lemonade', 2, 2]]);
    const number = (await orders.getOrderView(t.db, id)).order.number;
    const [seat2] = await split(id, { mode: 'seat' });
    await pay(id);
    await pay(seat2.id);
    const first = textOf(await receipt(id));
    assert.match(first, /1× Fish & chips €16\.50 1× Brownie €3\.50 Total €20\.00/);
    const second = textOf(await receipt(seat2.id));
    assert.match(second, /1× Shakshuka €12\.00 2× Homemade lemonade €8\.00/);
    assert.doesNotMatch(second, /Fish/);
    assert.match(second, new RegExp(`Split from #${number} ?\\.`));
  });

  it('moving every item off a check closes it as split: its screen is told (a new version) and its receipt names the new check', async () => {
    const id = await check(3, [['Croissant', 2, undefined]]);
    const before = (await orders.getOrderView(t.db, id)).order;
    const line = (await orders.getOrderView(t.db, id)).lines[0];
    const heard: number[] = [];
    const off = app.events.subscribe('order:changed', (p) => {
      heard.push(p.orderId);
    });
    try {
      const [moved] = await checks.splitByItems(deps, id, [new Map([[line.id, 2]])]).then((ids) => t.db('orders').whereIn('id', ids));
      const after = (await orders.getOrderView(t.db, id)).order;
      assert.equal(after.status, 'split');
      assert.equal(after.version, before.version + 1);
      assert.ok(heard.includes(id), 'a terminal showing the check is told');
      assert.match(await receipt(id), new RegExp(`Split into <a href="/orders/${moved.id}">#${moved.number}</a>`));
    } finally {
      off();
    }
  });
});
