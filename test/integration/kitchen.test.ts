import assert from 'node:assert/strict';
import { io as ioClient, type Socket } from 'socket.io-client';
import { bootApp, type TestApp } from '../helpers/app';
import { pairedClient, PINS, type Client } from '../helpers/client';
import { until } from '../helpers/wait';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { compsFor } from '../../server/orders/service';


/** A kitchen screen as the browser runs it: a socket for nudges, the HTTP list as the record. */
class KitchenScreen {
  socket!: Socket;
  events: Array<{ ticketId: number; stationId: number }> = [];
  shown = new Map<number, number>(); // ticket id → times shown
  constructor(readonly url: string, readonly client: Client, readonly station: number) {}

  async connect() {
    this.socket = ioClient(this.url, { transports: ['websocket'], extraHeaders: { Cookie: this.client.cookieHeader() }, forceNew: true, reconnection: false });
    await new Promise<void>((resolve, reject) => {
      this.socket.on('connect', () => this.socket.emit('kitchen:watch', { station: this.station }, () => resolve()));
      this.socket.on('connect_error', reject);
    });
    this.socket.on('ticket:created', (t) => this.events.push(t));
    await this.resync();
  }

  /** what kitchen.js does on (re)connect: replace the board with the server's open list */
  async resync() {
    const r = await this.client.get(`/kitchen/${this.station}/tickets`);
    assert.equal(r.status, 200, r.text);
    this.shown = new Map();
    for (const m of r.text.matchAll(/data-ticket-id="(\d+)"/g)) this.shown.set(Number(m[1]), (this.shown.get(Number(m[1])) ?? 0) + 1);
  }

  close() {
    this.socket?.close();
  }
}

describe('kitchen: sending, stations, courses, comps and 86', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: TestApp;
  let waiter: Client;
  let other: Client;
  let kitchenDevice: Client;
  let stations: Record<string, number>;
  let store: Awaited<ReturnType<typeof seedStore>>;
  before(async () => {
    t = await createTestDb();
    store = await seedStore(t.db);
    app = await bootApp(t.db);
    waiter = await pairedClient(app, { pin: PINS.owner, name: 'Waiter 1' });
    other = await pairedClient(app, { pin: PINS.manager, name: 'Waiter 2' });
    kitchenDevice = await pairedClient(app, { kind: 'kitchen', name: 'Kitchen screen' });
    stations = Object.fromEntries((await t.db('stations')).map((s: { name: string; id: number }) => [s.name, s.id]));
  });
  after(async () => {
    await app.close();
    await t.drop();
  });

  async function openOrder(c: Client = waiter): Promise<number> {
    const r = await c.post('/orders', { type: 'dine_in' });
    return Number(/(\d+)$/.exec(r.headers.get('HX-Redirect')!)![1]);
  }
  async function add(orderId: number, name: string, extra: Record<string, string> = {}, c: Client = waiter) {
    const p = await store.product(name);
    const r = await c.post(`/orders/${orderId}/lines`, { product_id: String(p.id), ...extra });
    assert.equal(r.status, 200, r.text);
    return (await t.db('order_lines').where({ order_id: orderId }).orderBy('id', 'desc').first()).id as number;
  }
  const send = (orderId: number, c: Client = waiter) => c.post(`/orders/${orderId}/send`);
  const items = (orderId: number) =>
    t.db('kitchen_ticket_items as i').join('kitchen_tickets as k', 'k.id', 'i.ticket_id').where('k.order_id', orderId).orderBy('i.id').select('i.*', 'k.station_id');

  it('with 20 kitchen clients on 3 stations, a send reaches exactly the clients of its stations, once each', async () => {
    const names = ['Kitchen', 'Cold & Pastry', 'Bar'];
    const screens: KitchenScreen[] = [];
    for (let i = 0; i < 20; i++) {
      const s = new KitchenScreen(app.url, kitchenDevice, stations[names[i % 3]]);
      await s.connect();
      screens.push(s);
    }
    try {
      const o = await openOrder();
      await add(o, 'Fish & chips'); // Kitchen
      await add(o, 'Brownie'); // Cold & Pastry
      assert.equal((await send(o)).status, 200);
      const tickets = await t.db('kitchen_tickets').where({ order_id: o });
      assert.equal(tickets.length, 2);
      const byStation = new Map(tickets.map((k: { station_id: number; id: number }) => [k.station_id, k.id]));
      await until('events', () => screens.filter((s) => s.station !== stations.Bar).every((s) => s.events.length >= 1));
      await new Promise((r) => setTimeout(r, 200)); // room for a stray duplicate to arrive
      for (const s of screens) {
        const expected = byStation.has(s.station) ? [byStation.get(s.station)] : [];
        assert.deepEqual(s.events.map((e) => e.ticketId), expected, `a ${names.find((n) => stations[n] === s.station)} screen`);
      }
    } finally {
      for (const s of screens) s.close();
    }
  });

  it('two terminals pressing Send at once, and Send again after the check is picked up elsewhere → each line reaches the kitchen once', async () => {
    const o = await openOrder();
    const burger = await add(o, 'Veggie burger', { quantity: '2' });
    const soup = await add(o, 'Soup of the day');
    const [a, b] = await Promise.all([send(o, waiter), send(o, other)]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal((await send(o, other)).status, 200, 'picked up on another terminal and sent again');
    const it = await items(o);
    assert.deepEqual(it.map((i: { line_id: number; marker: string; quantity: number }) => [i.line_id, i.marker, i.quantity]), [[burger, 'NEW', 2], [soup, 'NEW', 1]]);
    assert.equal((await t.db('kitchen_tickets').where({ order_id: o })).length, 1);

    // 2 → 3 sends +1, marked ADDITION; a changed note sends a NOTE ticket
    await waiter.post(`/orders/${o}/lines/${burger}/quantity`, { quantity: '3' });
    await waiter.post(`/orders/${o}/lines/${soup}/note`, { note: 'no croutons' });
    await send(o);
    const after = (await items(o)).slice(2);
    assert.deepEqual(after.map((i: { line_id: number; marker: string; quantity: number; note: string | null }) => [i.line_id, i.marker, i.quantity, i.note]), [
      [burger, 'ADDITION', 1, null],
      [soup, 'NOTE', 1, 'no croutons'],
    ]);
    await send(o);
    assert.equal((await items(o)).length, 4, 'nothing new: nothing sent');
  });

  it('voiding a sent item needs a reason and the permission (or a manager); the kitchen gets a VOID', async () => {
    const cashier = await pairedClient(app, { pin: PINS.cashier, name: 'Till' });
    const o = await openOrder(cashier);
    const line = await add(o, 'Chicken curry', { quantity: '2' }, cashier);
    await send(o, cashier);
    const noReason = await cashier.post(`/orders/${o}/lines/${line}/quantity`, { quantity: '1', override_pin: PINS.manager });
    assert.equal(noReason.status, 400);
    const refused = await cashier.post(`/orders/${o}/lines/${line}/quantity`, { quantity: '1', reason: 'guest changed mind' });
    assert.equal(refused.status, 403);
    assert.match(refused.text, /Manager approval/);
    const ok = await cashier.post(`/orders/${o}/lines/${line}/quantity`, { quantity: '1', reason: 'guest changed mind', override_pin: PINS.manager });
    assert.equal(ok.status, 200, ok.text);
    await send(o, cashier);
    const last = (await items(o)).pop();
    assert.deepEqual([last.marker, last.quantity], ['VOID', 1]);
    const remove = await cashier.post(`/orders/${o}/lines/${line}/remove`, { reason: 'kitchen out of it', override_pin: PINS.manager });
    assert.equal(remove.status, 200);
    assert.equal((await t.db('order_lines').where({ id: line }).first()).quantity, 0, 'kept at 0 for the kitchen');
    await send(o, cashier);
    const voided = (await items(o)).pop();
    assert.deepEqual([voided.marker, voided.quantity], ['VOID', 1]);
  });

  it('course 2 held stays off the kitchen screens until fired, then arrives once', async () => {
    const kitchen = stations.Kitchen;
    const o = await openOrder();
    await waiter.post(`/orders/${o}/courses/2/hold`);
    await add(o, 'Soup of the day', { course: '1' });
    const main = await add(o, 'Rib-eye steak', { course: '2', modifier_ids: String((await store.modifier('Doneness', 'Medium rare')).id) });
    await send(o);
    const screen = await kitchenDevice.get(`/kitchen/${kitchen}/tickets`);
    assert.match(screen.text, /Soup of the day/);
    assert.doesNotMatch(screen.text, /Rib-eye steak/);
    await send(o);
    assert.equal((await items(o)).filter((i: { line_id: number }) => i.line_id === main).length, 0);
    const fired = await waiter.post(`/orders/${o}/courses/2/fire`);
    assert.equal(fired.status, 200);
    const screen2 = await kitchenDevice.get(`/kitchen/${kitchen}/tickets`);
    assert.equal((screen2.text.match(/<strong>1× Rib-eye steak<\/strong>/g) ?? []).length, 1);
    assert.match(screen2.text, /Medium rare/);
    await send(o);
    assert.equal((await waiter.post(`/orders/${o}/courses/2/fire`)).status, 409, 'not on hold any more');
    assert.equal((await items(o)).filter((i: { line_id: number }) => i.line_id === main).length, 1, 'arrives once');
  });

  it('a comp counts in the comps figures and a void does not; both need a reason', async () => {
    const o = await openOrder();
    const cake = await add(o, 'Cheesecake');
    const pie = await add(o, 'Carrot cake');
    await send(o);
    assert.equal((await waiter.post(`/orders/${o}/lines/${cake}/comp`, { reason: '' })).status, 400);
    assert.equal((await waiter.post(`/orders/${o}/lines/${cake}/comp`, { reason: 'birthday' })).status, 200);
    assert.equal((await waiter.post(`/orders/${o}/lines/${pie}/remove`, {})).status, 400, 'a sent line needs a reason to void');
    assert.equal((await waiter.post(`/orders/${o}/lines/${pie}/remove`, { reason: 'dropped' })).status, 200);
    const cashier = await pairedClient(app, { pin: PINS.cashier, name: 'Comp till' });
    assert.equal((await cashier.post(`/orders/${o}/lines/${cake}/comp`, { reason: 'again' })).status, 403, 'a cashier cannot comp alone');
    const order = await t.db('orders').where({ id: o }).first();
    assert.equal(order.total, 0, 'neither is charged');
    const cheesecake = await store.product('Cheesecake');
    // add something payable so the check can close
    await add(o, 'Espresso');
    const paid = await waiter.post(`/orders/${o}/payments`, { tendered: '10', idempotency_key: 'comp-test-' + o });
    assert.equal(paid.status, 200, paid.text);
    const comps = await compsFor(t.db, order.business_date);
    assert.deepEqual(comps.lines.map((l) => [l.name, l.value, l.reason]), [['Cheesecake', cheesecake.price, 'birthday']]);
    const entry = (await t.db('journal').orderBy('seq', 'desc').first()).entry;
    const byName = Object.fromEntries(entry.lines.map((l: { name: string }) => [l.name, l]));
    assert.deepEqual(byName.Cheesecake.comp, { reason: 'birthday' });
    assert.equal(byName.Cheesecake.net, 0);
    assert.equal(byName['Carrot cake'].quantity, 0);
    assert.equal(byName['Carrot cake'].void.reason, 'dropped');
  });

  it('a kitchen client disconnected during 3 sends has all 3 tickets after reconnecting, once each; the same after a server restart', async () => {
    const cold = stations['Cold & Pastry'];
    const screen = new KitchenScreen(app.url, kitchenDevice, cold);
    await screen.connect();
    const before = new Set(screen.shown.keys());
    screen.close();
    const made: number[] = [];
    for (const name of ['Croissant', 'Granola bowl', 'Greek salad']) {
      const o = await openOrder();
      await add(o, name);
      await send(o);
      made.push((await t.db('kitchen_tickets').where({ order_id: o }).first()).id);
    }
    await screen.connect();
    for (const id of made) assert.equal(screen.shown.get(id), 1, `ticket ${id} once`);
    assert.deepEqual([...screen.shown.keys()].filter((id) => !before.has(id)).sort(), made.sort());
    screen.close();
    // the screen caught up by re-reading, not by a replay: the server keeps no copy of its
    // broadcasts (socket.io's connection-state recovery held every one for 2 minutes, ~50 MB in a rush)
    assert.ok(!('packets' in app.http.io.of('/').adapter), 'socket.io keeps no broadcast history');

    // a restart: the tickets live in the database, so a new server serves them the same
    const restarted = await bootApp(t.db, { clock: app.clock });
    try {
      const again = new KitchenScreen(restarted.url, kitchenDevice.withBase(restarted.url), cold);
      await again.connect();
      for (const id of made) assert.equal(again.shown.get(id), 1);
      again.close();
    } finally {
      await restarted.close();
    }
  });

  it('bump, recall and all-day counts on the station screen; a bumped order tells its server', async () => {
    const bar = stations.Bar;
    const o = await openOrder();
    await add(o, 'Homemade lemonade', { quantity: '2' });
    await add(o, 'Fresh mint tea');
    await send(o);
    const board = await kitchenDevice.get(`/kitchen/${bar}/tickets`);
    assert.match(board.text, /<strong>2<\/strong> Homemade lemonade/);
    const ticket = await t.db('kitchen_tickets').where({ order_id: o }).first();
    const waiterSocket = ioClient(app.url, { transports: ['websocket'], extraHeaders: { Cookie: waiter.cookieHeader() }, forceNew: true });
    const ready = new Promise<{ orderId: number }>((resolve) => waiterSocket.on('order:ready', resolve));
    await new Promise<void>((r) => waiterSocket.on('connect', () => r()));
    assert.equal((await kitchenDevice.post(`/kitchen/tickets/${ticket.id}/bump`)).status, 204);
    assert.equal((await ready).orderId, o);
    waiterSocket.close();
    const afterBump = await kitchenDevice.get(`/kitchen/${bar}/tickets`);
    assert.doesNotMatch(afterBump.text, new RegExp(`data-ticket-id="${ticket.id}"`));
    const recalled = await kitchenDevice.post(`/kitchen/${bar}/recall`);
    assert.match(recalled.text, new RegExp(`data-ticket-id="${ticket.id}"`));
    const item = await t.db('kitchen_ticket_items').where({ ticket_id: ticket.id }).first();
    await kitchenDevice.post(`/kitchen/items/${item.id}/bump`);
    assert.equal((await t.db('kitchen_tickets').where({ id: ticket.id }).first()).status, 'open', 'one item of two');
    const second = await t.db('kitchen_ticket_items').where({ ticket_id: ticket.id }).whereNot({ id: item.id }).first();
    await kitchenDevice.post(`/kitchen/items/${second.id}/bump`);
    assert.equal((await t.db('kitchen_tickets').where({ id: ticket.id }).first()).status, 'bumped', 'the last item bumps the ticket');
  });

  it('86 from one terminal → another terminal is told at once, its grid shows it unavailable, and adding it fails', async () => {
    const other2 = ioClient(app.url, { transports: ['websocket'], extraHeaders: { Cookie: other.cookieHeader() }, forceNew: true });
    const told = new Promise<{ productId: number; available: boolean }>((resolve) => other2.on('product:availability', resolve));
    await new Promise<void>((r) => other2.on('connect', () => r()));
    const bun = await store.product('Cinnamon bun');
    assert.equal((await waiter.post(`/products/${bun.id}/availability`, { available: 'false' })).status, 204);
    assert.deepEqual(await told, { productId: bun.id, available: false });
    other2.close();
    const o = await openOrder(other);
    const grid = await other.get(`/terminal/products?category=${(await t.db('products').where({ id: bun.id }).first()).category_id}&order=${o}`);
    assert.match(grid.text, /class="product unavailable" disabled title="Not available">Cinnamon bun/);
    const r = await other.post(`/orders/${o}/lines`, { product_id: String(bun.id) });
    assert.equal(r.status, 422);
    assert.match(r.text, /Cinnamon bun is not available right now/);
    await waiter.post(`/products/${bun.id}/availability`, { available: 'true' });
    assert.equal((await other.post(`/orders/${o}/lines`, { product_id: String(bun.id) })).status, 200);
  });
});
