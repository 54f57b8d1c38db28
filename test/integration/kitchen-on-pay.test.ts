import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { bootApp, type TestApp } from '../helpers/app';
import { pairedClient, PINS, type Client } from '../helpers/client';
import { createTestDb, type TestDb } from '../helpers/pg';
import { counts, seedStore } from '../helpers/store';
import { createApiToken } from '../../server/api/tokens';
import type { EventMap, EventName } from '../../server/events';
import { holdCourse, sendOrder } from '../../server/kitchen/service';
import * as orders from '../../server/orders/service';
import type { BusinessSettings } from '../../server/settings/schema';
import { getSettings } from '../../server/settings/service';

type OrderType = orders.OrderRow['type'];

/**
 * "Send to the kitchen when paid" (issue 20): per order type, a tender that closes the sale also
 * sends what the kitchen has not had yet, with the kitchen's own send, in the tender's one
 * transaction; the stations are told after it commits.
 */
describe('kitchen on pay: a paying tender closes the sale and sends the order in one transaction', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: TestApp;
  let store: Awaited<ReturnType<typeof seedStore>>;
  let deps: orders.OrderDeps;
  let heard: Array<[EventName, unknown]>;
  let stations: Record<string, number>;

  before(async () => {
    t = await createTestDb();
    store = await seedStore(t.db);
    app = await bootApp(t.db);
    deps = { db: t.db, clock: app.clock, events: app.events };
    for (const name of ['order:changed', 'ticket:created', 'floor:changed'] as const) app.events.subscribe(name, (p: EventMap[typeof name]) => void heard.push([name, p]));
    stations = Object.fromEntries((await t.db('stations')).map((s: { name: string; id: number }) => [s.name, s.id]));
    // a kitchen ticket of a marked order cannot be written: the send fails inside the tender
    await t.db.raw(`
      create table ticket_failures (order_id bigint primary key);
      create function fail_ticket() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from ticket_failures f where f.order_id = new.order_id) then raise exception 'the kitchen ticket cannot be written (test)'; end if;
        return new;
      end $$;
      create trigger tickets_fail before insert on kitchen_tickets for each row execute function fail_ticket();
      -- and the transaction that closes a marked order fails at its COMMIT, after every statement of the tender ran
      create table commit_failures (order_id bigint primary key);
      create function fail_at_commit() returns trigger language plpgsql as $$
      begin
        if new.status = 'paid' and exists (select 1 from commit_failures f where f.order_id = new.id) then raise exception 'the commit fails (test)'; end if;
        return null;
      end $$;
      create constraint trigger orders_fail_at_commit after update on orders deferrable initially deferred for each row execute function fail_at_commit();
    `);
  });
  after(async () => {
    await app.close();
    await t.drop();
  });
  beforeEach(async () => {
    heard = [];
    await setKitchenOnPay({ counter: true, takeaway: true, dine_in: false });
  });

  async function setKitchenOnPay(value: BusinessSettings['kitchenOnPay']) {
    await t.db('settings').insert({ key: 'kitchenOnPay', value: JSON.stringify(value), updated_at: app.clock.now() }).onConflict('key').merge();
  }
  async function newOrder(type: OrderType, ...products: Array<string | [string, number]>): Promise<number> {
    const o = await orders.openOrder(deps, { type });
    for (const p of products) {
      const [name, quantity] = typeof p === 'string' ? [p, 1] : p;
      await orders.addLine(deps, o.id, { productId: (await store.product(name)).id, quantity, modifierIds: [], note: null });
    }
    heard = [];
    return o.id;
  }
  const pay = (id: number, key = crypto.randomUUID()) => orders.tenderCash(deps, id, 100_000, key, { staffId: null, staffName: 'Ana' });
  const tickets = (orderId: number) => t.db('kitchen_tickets').where({ order_id: orderId }).orderBy('id');
  /** [line id, marker, quantity, station] of every item the kitchen got for the order */
  const items = async (orderId: number) =>
    (await t.db('kitchen_ticket_items as i').join('kitchen_tickets as k', 'k.id', 'i.ticket_id').where('k.order_id', orderId).orderBy('i.id').select('i.line_id', 'i.marker', 'i.quantity', 'k.station_id'))
      .map((i: { line_id: number; marker: string; quantity: number; station_id: number }) => [i.line_id, i.marker, i.quantity, i.station_id]);
  const lineIds = async (orderId: number) => (await t.db('order_lines').where({ order_id: orderId }).orderBy('id').select('id')).map((l: { id: number }) => l.id);

  it('a paid counter sale: closed, paid and each item on its station\'s ticket after one tender; the stations told after the order', async () => {
    const id = await newOrder('counter', ['Fish & chips', 2], 'Brownie', 'House blend beans 250 g');
    const [fish, brownie] = await lineIds(id);
    const r = await pay(id);
    assert.equal(r.closed, true);
    const order = await t.db('orders').where({ id }).first();
    assert.equal(order.status, 'paid');
    assert.deepEqual(await items(id), [[fish, 'NEW', 2, stations.Kitchen], [brownie, 'NEW', 1, stations['Cold & Pastry']]], 'the beans have no station: not sent');
    const made = await tickets(id);
    assert.deepEqual(made.map((k: { server_name: string }) => k.server_name), ['Ana', 'Ana'], 'the ticket names who took the payment');
    assert.ok(order.first_sent_at, 'the order counts as sent');
    const lines = await t.db('order_lines').where({ order_id: id }).orderBy('id');
    assert.deepEqual(lines.map((l: { sent_quantity: number }) => l.sent_quantity), [2, 1, 0]);
    assert.deepEqual(heard, [
      ['order:changed', { orderId: id, version: order.version }],
      ...made.map((k: { id: number; station_id: number }) => ['ticket:created', { ticketId: k.id, stationId: k.station_id, orderId: id }]),
    ]);
  });

  it('the send and the close are one transaction: a kitchen ticket that cannot be written leaves the sale open, unpaid and unjournaled, and tells nobody', async () => {
    const id = await newOrder('counter', 'Veggie burger');
    const rows = await counts(t.db, 'payments', 'journal', 'kitchen_tickets', 'webhook_events');
    const key = crypto.randomUUID();
    await t.db('ticket_failures').insert({ order_id: id });
    try {
      await assert.rejects(pay(id, key), /the kitchen ticket cannot be written/);
    } finally {
      await t.db('ticket_failures').where({ order_id: id }).delete();
    }
    const order = await t.db('orders').where({ id }).first();
    assert.equal(order.status, 'open');
    assert.equal(order.paid_total, 0);
    assert.equal(order.receipt_no, null);
    assert.deepEqual(await counts(t.db, 'payments', 'journal', 'kitchen_tickets', 'webhook_events'), rows, 'no payment, no journal entry, no ticket');
    assert.equal((await t.db('order_lines').where({ order_id: id }).first()).sent_quantity, 0);
    assert.deepEqual(heard, []);

    const again = await pay(id, key);
    assert.equal(again.replayed, false, 'the key was not spent by the tender that rolled back');
    assert.equal((await t.db('orders').where({ id }).first()).status, 'paid');
    assert.equal((await tickets(id)).length, 1);
  });

  it('and the other way: a tender whose commit fails leaves no kitchen ticket behind, and no station is told', async () => {
    const id = await newOrder('counter', 'Veggie burger', 'Brownie');
    const rows = await counts(t.db, 'payments', 'journal', 'kitchen_tickets', 'order_sends');
    await t.db('commit_failures').insert({ order_id: id });
    try {
      await assert.rejects(pay(id), /the commit fails/);
    } finally {
      await t.db('commit_failures').where({ order_id: id }).delete();
    }
    assert.equal((await t.db('orders').where({ id }).first()).status, 'open');
    assert.deepEqual(await counts(t.db, 'payments', 'journal', 'kitchen_tickets', 'order_sends'), rows);
    assert.deepEqual((await t.db('order_lines').where({ order_id: id })).map((l: { sent_quantity: number }) => l.sent_quantity), [0, 0]);
    assert.deepEqual(heard, []);
  });

  it('take-away follows its own setting: sent when on (the default), not when off', async () => {
    assert.deepEqual((await getSettings(t.db)).kitchenOnPay, { counter: true, takeaway: true, dine_in: false });
    const on = await newOrder('takeaway', 'Tuna melt');
    await pay(on);
    assert.equal((await items(on)).length, 1);

    await setKitchenOnPay({ counter: true, takeaway: false, dine_in: false });
    const off = await newOrder('takeaway', 'Tuna melt');
    await pay(off);
    assert.equal((await t.db('orders').where({ id: off }).first()).status, 'paid');
    assert.deepEqual(await items(off), []);
    assert.equal((await t.db('order_lines').where({ order_id: off }).first()).sent_quantity, 0);
    assert.ok(!heard.some(([n]) => n === 'ticket:created'));
  });

  it('counter with its setting off, and dine-in by default, send nothing on pay; dine-in turned on does', async () => {
    await setKitchenOnPay({ counter: false, takeaway: true, dine_in: false });
    const counter = await newOrder('counter', 'Chicken curry');
    await pay(counter);
    assert.deepEqual(await items(counter), []);

    await setKitchenOnPay({ counter: true, takeaway: true, dine_in: false });
    const dineIn = await newOrder('dine_in', 'Chicken curry');
    await pay(dineIn);
    assert.equal((await t.db('orders').where({ id: dineIn }).first()).status, 'paid');
    assert.deepEqual(await items(dineIn), [], 'dine-in is off by default: tables pay after eating');

    await setKitchenOnPay({ counter: true, takeaway: true, dine_in: true });
    const dineInOn = await newOrder('dine_in', 'Chicken curry');
    await pay(dineInOn);
    assert.equal((await items(dineInOn)).length, 1);
  });

  it('items already sent are not sent again; only what changed since goes, and a retried tender sends nothing more', async () => {
    const id = await newOrder('counter', 'Veggie burger');
    const [burger] = await lineIds(id);
    await sendOrder(deps, id);
    await orders.addLine(deps, id, { productId: (await store.product('Brownie')).id, quantity: 1, modifierIds: [], note: null });
    const [, brownie] = await lineIds(id);
    const key = crypto.randomUUID();
    await pay(id, key);
    // what the Send had is not sent again; the brownie is an addition to a course already sent
    assert.deepEqual(await items(id), [[burger, 'NEW', 1, stations.Kitchen], [brownie, 'ADDITION', 1, stations['Cold & Pastry']]]);
    const sends = (await t.db('order_sends').where({ order_id: id }).first()).sends;
    assert.equal(sends, 2, 'the pay was the second send');

    heard = [];
    const replay = await pay(id, key);
    assert.equal(replay.replayed, true);
    assert.equal((await items(id)).length, 2);
    assert.ok(!heard.some(([n]) => n === 'ticket:created'));
  });

  it('a sale paid with nothing to send (all sent before, or nothing with a station) is paid and makes no ticket', async () => {
    const allSent = await newOrder('counter', 'Espresso');
    await sendOrder(deps, allSent);
    const before = await counts(t.db, 'kitchen_tickets');
    await pay(allSent);
    assert.equal((await t.db('orders').where({ id: allSent }).first()).status, 'paid');
    assert.equal((await t.db('order_sends').where({ order_id: allSent }).first()).sends, 1, 'no second send');

    const retail = await newOrder('counter', 'Keep cup', 'Café mug');
    await pay(retail);
    assert.equal((await t.db('orders').where({ id: retail }).first()).status, 'paid');
    assert.equal((await t.db('orders').where({ id: retail }).first()).first_sent_at, null);
    assert.deepEqual(await counts(t.db, 'kitchen_tickets'), before);
    assert.ok(!heard.some(([n]) => n === 'ticket:created'));
  });

  it('a part payment sends nothing; the tender that closes the sale sends, held courses too (nothing could fire them after)', async () => {
    const id = await newOrder('counter', 'Soup of the day');
    await orders.addLine(deps, id, { productId: (await store.product('Chicken curry')).id, quantity: 1, modifierIds: [], note: null, course: 2 });
    await holdCourse(deps, id, 2);
    const part = await orders.tenderCash(deps, id, 100, crypto.randomUUID());
    assert.equal(part.closed, false);
    assert.deepEqual(await items(id), []);
    await pay(id);
    assert.equal((await items(id)).length, 2);
    assert.deepEqual((await t.db('orders').where({ id }).first()).held_courses, []);
  });

  it('an API payment goes through the same tender: it sends, and the stations hear of it only after its transaction commits', async () => {
    const { token } = await createApiToken(t.db, app.clock, { name: 'Kitchen on pay', scopes: ['payments:write'] });
    const id = await newOrder('counter', 'Club sandwich');
    const r = await fetch(`${app.url}/api/v1/orders/${id}/payments`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ method: 'cash', amount: 100_000, idempotencyKey: crypto.randomUUID() }),
    });
    assert.equal(r.status, 201, await r.text());
    assert.equal((await t.db('orders').where({ id }).first()).status, 'paid');
    const made = await tickets(id);
    assert.equal(made.length, 1);
    assert.deepEqual(heard.filter(([n]) => n === 'ticket:created'), [['ticket:created', { ticketId: made[0].id, stationId: stations.Kitchen, orderId: id }]]);
  });
});

describe('kitchen on pay: the back-office setting', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: TestApp;
  let owner: Client;

  before(async () => {
    t = await createTestDb();
    await seedStore(t.db);
    app = await bootApp(t.db);
    owner = await pairedClient(app, { pin: PINS.owner, name: 'Office' });
  });
  after(async () => {
    await app.close();
    await t.drop();
  });

  /** The settings form's fields as the browser would send them: text as shown, checked boxes as "on". */
  function formOf(html: string): Record<string, string> {
    const form = /<form[^>]*id="settings-form"[\s\S]*?<\/form>/.exec(html)![0];
    const unescape = (s: string) => s.replace(/&#10;/g, '\n').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    const out: Record<string, string> = {};
    for (const m of form.matchAll(/<input\b([^>]*)>/g)) {
      const name = /\bname="([^"]+)"/.exec(m[1])?.[1];
      if (!name || name === '_csrf') continue;
      if (/type="checkbox"/.test(m[1])) {
        if (/\bchecked\b/.test(m[1])) out[name] = 'on';
      } else out[name] = unescape(/\bvalue="([^"]*)"/.exec(m[1])?.[1] ?? '');
    }
    for (const m of form.matchAll(/<textarea\b[^>]*\bname="([^"]+)"[^>]*>([\s\S]*?)<\/textarea>/g)) out[m[1]] = unescape(m[2]);
    return out;
  }
  const boxes = (html: string) =>
    Object.fromEntries(['kitchenOnPayCounter', 'kitchenOnPayTakeaway', 'kitchenOnPayDineIn'].map((n) => {
      const input = new RegExp(`<label class="choice"><input type="checkbox" name="${n}"([^>]*)>`).exec(html);
      assert.ok(input, `${n}: a checkbox inside its label.choice`);
      return [n, /\bchecked\b/.test(input[1])];
    }));

  it('a store whose settings have no such row gets the defaults: counter and take-away on, dine-in off', async () => {
    await t.db('settings').where({ key: 'kitchenOnPay' }).delete();
    assert.deepEqual((await getSettings(t.db)).kitchenOnPay, { counter: true, takeaway: true, dine_in: false });
    const page = await owner.get('/backoffice/settings', { htmx: false });
    assert.equal(page.status, 200);
    assert.match(page.text, /Send to the kitchen when paid/);
    assert.deepEqual(boxes(page.text), { kitchenOnPayCounter: true, kitchenOnPayTakeaway: true, kitchenOnPayDineIn: false });
  });

  it('a form with a bad field keeps the three boxes as ticked and saves nothing; corrected, it saves them (audited)', async () => {
    const before = await getSettings(t.db);
    const form = formOf((await owner.get('/backoffice/settings', { htmx: false })).text);
    assert.equal(form.kitchenOnPayCounter, 'on');
    delete form.kitchenOnPayCounter;
    form.kitchenOnPayDineIn = 'on';
    const bad = await owner.post('/backoffice/settings', { ...form, timezone: 'Mars/Olympus' }, { htmx: false });
    assert.equal(bad.status, 400, bad.text.slice(0, 300));
    assert.match(bad.text, /Not a time zone this server knows/);
    assert.deepEqual(boxes(bad.text), { kitchenOnPayCounter: false, kitchenOnPayTakeaway: true, kitchenOnPayDineIn: true }, 'as ticked, not as saved');
    assert.deepEqual(await getSettings(t.db), before, 'nothing saved');

    const ok = await owner.post('/backoffice/settings', form, { htmx: false });
    assert.equal(ok.status, 200, ok.text.slice(0, 300));
    assert.deepEqual((await getSettings(t.db)).kitchenOnPay, { counter: false, takeaway: true, dine_in: true });
    assert.deepEqual(boxes(ok.text), { kitchenOnPayCounter: false, kitchenOnPayTakeaway: true, kitchenOnPayDineIn: true });
    const audit = await t.db('audit_log').where({ action: 'settings_changed' }).orderBy('id', 'desc').first();
    assert.deepEqual(audit.details.kitchenOnPay, { from: before.kitchenOnPay, to: { counter: false, takeaway: true, dine_in: true } });
  });
});
