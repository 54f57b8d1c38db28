import assert from 'node:assert/strict';
import { io as ioClient, type Socket } from 'socket.io-client';
import { bootApp, type TestApp } from '../helpers/app';
import { login, pairedClient, PINS, type Client } from '../helpers/client';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { until } from '../helpers/wait';
import { terminalRoom } from '../../server/realtime/io';

/**
 * Issue 18: a paired terminal with nobody signed in gets no order, floor or station news; a
 * kitchen screen, a device, may watch its station alone. Real socket.io clients with the
 * browser's cookies, as terminal.js, floor.js and kitchen.js connect.
 */
class Watcher {
  readonly updated: number[] = [];
  readonly tickets: number[] = [];
  floor = 0;
  private constructor(readonly socket: Socket) {
    socket.on('order:updated', (p) => this.updated.push(p.orderId));
    socket.on('ticket:created', (p) => this.tickets.push(p.orderId));
    socket.on('floor:changed', () => this.floor++);
  }

  static connect(url: string, c: Client): Promise<Watcher> {
    const socket = ioClient(url, { transports: ['websocket'], extraHeaders: { Cookie: c.cookieHeader() }, reconnection: false, forceNew: true });
    return new Promise((resolve, reject) => {
      socket.on('connect', () => resolve(new Watcher(socket)));
      socket.on('connect_error', reject);
    });
  }

  /** emits a watch and waits for its ack: whether the server let the socket in */
  watch(event: 'order:watch' | 'kitchen:watch' | 'floor:watch', payload?: object): Promise<boolean> {
    return new Promise((resolve) => {
      if (payload === undefined) this.socket.emit(event as 'floor:watch', (ok: boolean) => resolve(ok));
      else this.socket.emit(event as 'order:watch', payload as { orderId: number }, (ok: boolean) => resolve(ok));
    });
  }

  close() {
    this.socket.close();
  }
}

describe('socket.io rooms need a staff login (kitchen screens excepted)', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: TestApp;
  let store: Awaited<ReturnType<typeof seedStore>>;
  let waiter: Client; // signed in: makes the changes, and proves each event was sent
  let kitchenStation: number;
  const open: Watcher[] = [];
  before(async () => {
    t = await createTestDb();
    store = await seedStore(t.db);
    app = await bootApp(t.db);
    waiter = await pairedClient(app, { pin: PINS.owner, name: 'Waiter' });
    kitchenStation = (await t.db('stations').where({ name: 'Kitchen' }).first()).id;
  });
  afterEach(() => {
    for (const w of open.splice(0)) w.close();
  });
  after(async () => {
    await app.close();
    await t.drop();
  });

  const connect = async (c: Client) => {
    const w = await Watcher.connect(app.url, c);
    open.push(w);
    return w;
  };
  async function openOrder(): Promise<number> {
    const r = await waiter.post('/orders', { type: 'dine_in' });
    return Number(/(\d+)$/.exec(r.headers.get('HX-Redirect')!)![1]);
  }
  async function addLine(orderId: number, product = 'Fish & chips') {
    const p = await store.product(product);
    assert.equal((await waiter.post(`/orders/${orderId}/lines`, { product_id: String(p.id) })).status, 200);
  }
  /** gives stray events time to arrive after the control watcher got its own */
  const settle = () => new Promise((r) => setTimeout(r, 200));

  it('a paired counter with nobody signed in: connected in its own room, but order:watch is refused and order:updated never comes; after a login it comes', async () => {
    const counter = await pairedClient(app, { name: 'Counter, nobody signed in' });
    const terminalId = (await t.db('terminals').where({ name: 'Counter, nobody signed in' }).first()).id;
    const control = await connect(waiter);
    const order = await openOrder();
    assert.equal(await control.watch('order:watch', { orderId: order }), true);

    const anonymous = await connect(counter);
    await until('the socket in its terminal room', async () => (await app.http.io.in(terminalRoom(terminalId)).fetchSockets()).length === 1);
    assert.equal(await anonymous.watch('order:watch', { orderId: order }), false);
    assert.equal(await anonymous.watch('floor:watch'), false);
    assert.equal(await anonymous.watch('kitchen:watch', { station: kitchenStation }), false, 'a counter is no kitchen device');
    await addLine(order);
    await until('the control watcher heard the change', () => control.updated.includes(order));
    await settle();
    assert.deepEqual(anonymous.updated, [], 'no order news without a login');
    assert.equal(anonymous.floor, 0, 'no floor news without a login');

    await login(counter, PINS.cashier); // the page reloads after a login: a new socket with the session cookie
    const signedIn = await connect(counter);
    assert.equal(await signedIn.watch('order:watch', { orderId: order }), true);
    await addLine(order, 'Brownie');
    await until('the signed-in counter heard the change', () => signedIn.updated.includes(order));
    assert.deepEqual(anonymous.updated, [], 'the old socket still hears nothing');
  });

  it('the session is checked at each join: after a logout the same socket is refused', async () => {
    const counter = await pairedClient(app, { pin: PINS.cashier, name: 'Counter that logs out' });
    const socket = await connect(counter);
    const first = await openOrder();
    assert.equal(await socket.watch('order:watch', { orderId: first }), true);
    assert.equal((await counter.post('/logout')).status, 204);
    const second = await openOrder();
    assert.equal(await socket.watch('order:watch', { orderId: second }), false);
    assert.equal(await socket.watch('floor:watch'), false);
    await addLine(second);
    await settle();
    assert.ok(!socket.updated.includes(second), 'no news of an order watched after the logout');
  });

  it('a session of a staff member made inactive no longer joins', async () => {
    const counter = await pairedClient(app, { pin: PINS.server, name: 'Counter of a leaver' });
    const socket = await connect(counter);
    const order = await openOrder();
    const staffId = (await t.db('sessions as s').join('terminals as tm', 'tm.id', 's.terminal_id').where('tm.name', 'Counter of a leaver').whereNull('s.ended_at').first('s.staff_id')).staff_id;
    await t.db('staff').where({ id: staffId }).update({ active: false });
    try {
      assert.equal(await socket.watch('order:watch', { orderId: order }), false);
    } finally {
      await t.db('staff').where({ id: staffId }).update({ active: true });
    }
  });

  it('a kitchen screen with nobody signed in watches its station and gets tickets, but no order room', async () => {
    const screen = await pairedClient(app, { kind: 'kitchen', name: 'Kitchen screen' });
    const kitchen = await connect(screen);
    assert.equal(await kitchen.watch('kitchen:watch', { station: kitchenStation }), true);
    assert.equal(await kitchen.watch('kitchen:watch', { station: 'expo' }), true);
    const order = await openOrder();
    assert.equal(await kitchen.watch('order:watch', { orderId: order }), false, 'orders need a person');
    await addLine(order);
    assert.equal((await waiter.post(`/orders/${order}/send`)).status, 200);
    await until('the ticket reached the kitchen screen', () => kitchen.tickets.includes(order));
    await settle();
    assert.deepEqual(kitchen.updated, [], 'no order:updated for the screen');
  });

  it('a bad watch payload is acked false, and the socket stays connected', async () => {
    const socket = await connect(waiter);
    assert.equal(await socket.watch('order:watch', { orderId: -1 }), false);
    assert.equal(await socket.watch('kitchen:watch', { station: 'nowhere' }), false);
    assert.equal(socket.socket.connected, true);
  });
});
