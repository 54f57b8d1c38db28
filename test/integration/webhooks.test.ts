import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { bootApp, type TestApp } from '../helpers/app';
import { until } from '../helpers/wait';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { WebhookSink } from '../fakes/webhook-sink';
import { createApiToken } from '../../server/api/tokens';
import { backoffMs, WebhookWorker } from '../../server/webhooks/worker';
import { testLog } from '../helpers/log';
import { FakeClock } from '../helpers/clock';


describe('webhooks', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: TestApp;
  let sink: WebhookSink;
  let token: string;
  let store: Awaited<ReturnType<typeof seedStore>>;
  const secret = 'a-very-secret-signing-key-123';

  before(async () => {
    t = await createTestDb();
    store = await seedStore(t.db);
    app = await bootApp(t.db, { webhookTimeoutMs: 1000 });
    sink = new WebhookSink();
    sink.secret = secret;
    const url = await sink.start();
    token = (await createApiToken(t.db, new FakeClock(), { name: 'Hooks', scopes: ['orders:write', 'payments:write', 'webhooks:admin'] })).token;
    const sub = await fetch(`${app.url}/api/v1/webhooks`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ url, events: ['order.paid', 'refund.created'], secret }),
    });
    assert.equal(sub.status, 201);
  });
  after(async () => {
    await app.close();
    await sink.stop();
    await t.drop();
  });

  const call = async (method: string, path: string, json: unknown) => {
    const res = await fetch(`${app.url}/api/v1${path}`, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(json) });
    return { status: res.status, body: await res.json() };
  };
  const sale = async (sku: string) => {
    const o = await call('POST', '/orders', { type: 'counter', lines: [{ sku, qty: 1 }], idempotencyKey: crypto.randomUUID() });
    assert.equal(o.status, 201);
    const p = await call('POST', `/orders/${o.body.id}/payments`, { method: 'cash', amount: 5000, idempotencyKey: crypto.randomUUID() });
    assert.equal(p.status, 201);
    return { orderId: o.body.id as number, paymentId: p.body.id as number };
  };

  it('a receiver that is down for a while then gets every event, in order, each id at least once, none it did not ask for, signed', async () => {
    sink.mode = 'down';
    const s1 = await sale('RET-MUG');
    const s2 = await sale('BEV-COLA-033');
    const cancelled = await call('POST', '/orders', { type: 'counter', lines: [{ sku: 'RET-MUG', qty: 1 }], idempotencyKey: crypto.randomUUID() });
    await call('POST', `/orders/${cancelled.body.id}/void`, { reason: 'customer left' }); // order.voided: not subscribed
    const refund = await call('POST', `/payments/${s1.paymentId}/refunds`, { reason: 'broken mug', idempotencyKey: crypto.randomUUID() });
    assert.equal(refund.status, 201);
    const s3 = await sale('RET-KEEPCUP');
    await until('a failed attempt', () => sink.attempts >= 1);
    assert.equal(sink.received.length, 0);
    const pending = await t.db('webhook_deliveries').where({ state: 'pending' });
    assert.equal(pending.length, 4, 'three sales and a refund wait');
    assert.ok(pending.some((d: { attempts: number }) => d.attempts >= 1));
    const log = await t.db('webhook_attempts').where({ status: 503 });
    assert.ok(log.length >= 1, 'the delivery log records the failure');

    sink.mode = 'up';
    app.clock.advance(backoffMs(10, () => 1) + 1000); // past any backoff so far
    await until('every event delivered', () => sink.received.length >= 4);
    const types = sink.received.map((r) => r.type);
    assert.deepEqual(types, ['order.paid', 'order.paid', 'refund.created', 'order.paid']);
    assert.deepEqual(sink.received.map((r) => r.body.data.orderId), [s1.orderId, s2.orderId, s1.orderId, s3.orderId]);
    const seqs = sink.received.map((r) => r.sequence);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in order');
    assert.ok(sink.received.every((r) => r.signatureOk), 'every signature verifies');
    const emitted = await t.db('webhook_events').whereIn('type', ['order.paid', 'refund.created']).pluck('id');
    assert.deepEqual(new Set(sink.received.map((r) => r.id)), new Set(emitted), 'each id at least once, and only those');
    assert.ok(!types.includes('order.voided'), 'no event it did not ask for');
    // the worker marks a delivery delivered once the receiver's answer is in: just after it received it
    await until('no delivery left pending', async () => (await t.db('webhook_deliveries').where({ state: 'pending' })).length === 0);
  });

  it('a bumped kitchen ticket emits ticket.ready to subscribers of it', async () => {
    const hooks = new WebhookSink();
    hooks.secret = 'ticket-ready-secret-0123456789';
    const url = await hooks.start();
    try {
      assert.equal((await call('POST', '/webhooks', { url, events: ['ticket.ready'], secret: hooks.secret })).status, 201);
      const o = await call('POST', '/orders', { type: 'dine_in', lines: [{ sku: 'RET-MUG', qty: 1 }], idempotencyKey: crypto.randomUUID() });
      const fish = await store.product('Fish & chips');
      await call('POST', `/orders/${o.body.id}/lines`, { productId: fish.id, qty: 1 });
      const sent = await call('POST', `/orders/${o.body.id}/send`, {});
      assert.equal(sent.body.tickets.length, 1);
      const { bumpTicket } = await import('../../server/kitchen/service');
      await bumpTicket({ db: t.db, clock: app.clock, events: { ticketCreated() {}, ticketChanged() {}, orderReady() {}, orderChanged() {}, floorChanged() {}, outboxWritten: () => app.webhooks.wake() } }, sent.body.tickets[0].id);
      await until('ticket.ready', () => hooks.received.length >= 1);
      assert.equal(hooks.received[0].type, 'ticket.ready');
      assert.equal(hooks.received[0].body.data.orderId, o.body.id);
      assert.ok(hooks.received[0].signatureOk);
    } finally {
      await hooks.stop();
    }
  });

  it('a sale completes while a delivery hangs, and the event is delivered once the endpoint answers again', async () => {
    sink.mode = 'hang';
    const before = sink.received.length;
    const s = await sale('RET-TEA-TIN');
    const order = await t.db('orders').where({ id: s.orderId }).first();
    assert.equal(order.status, 'paid', 'the sale is done while the webhook hangs');
    await until('the hanging attempt', () => sink.attempts > 0 && sink.mode === 'hang' && sink.received.length === before);
    await until('the attempt to time out', async () => (await t.db('webhook_attempts').where({ error: 'timed out' })).length >= 1);
    // more sales go through while the endpoint hangs
    const beans = await store.product('House blend beans 250 g');
    assert.ok(beans);
    await sale('RET-BEANS-250');
    sink.mode = 'up';
    app.clock.advance(10 * 60_000);
    await until('both delivered', () => sink.received.length >= before + 2);
    assert.deepEqual(sink.received.slice(before).map((r) => r.body.data.orderId).slice(0, 2), [s.orderId, s.orderId + 1]);
  });

  it('wakes that come during a look for due deliveries are answered by one more look, not one each', async () => {
    // a worker of its own, on a database of its own, without its timer: every look counted is one of its wakes
    const own = await createTestDb({ poolMax: 2 });
    const worker = new WebhookWorker({ db: own.db, clock: app.clock, log: testLog, pollMs: 60_000 });
    let looks = 0;
    const onQuery = (q: { sql: string }) => {
      if (/^select distinct d\.subscription_id from webhook_deliveries/.test(q.sql)) looks++;
    };
    own.db.on('query', onQuery);
    try {
      for (let i = 0; i < 20; i++) worker.wake();
      await worker.tick();
      assert.equal(looks, 2, 'the first wake\'s look, then one more for the 19 that came during it');
      looks = 0;
      await worker.tick();
      assert.equal(looks, 1, 'a wake after that looks again');
    } finally {
      own.db.off('query', onQuery);
      await worker.stop();
      await own.drop();
    }
  });
});
