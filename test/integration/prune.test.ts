import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { FakeClock } from '../helpers/clock';
import { createTestDb, type TestDb } from '../helpers/pg';
import { testLog } from '../helpers/log';
import { until } from '../helpers/wait';
import { pruneExpired, RETENTION, schedulePrune } from '../../server/retention';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/**
 * The prune job (server/retention.ts): for each kind of row, one just past its retention is
 * removed and one just within it is kept, the ages measured on the injected clock.
 */
describe('the prune job: expired idempotency keys, old sessions, pairing codes and webhook history', function () {
  this.timeout(60_000);
  let t: TestDb;
  const clock = new FakeClock('2026-06-01T12:00:00Z');
  const ago = (ms: number) => new Date(clock.now().getTime() - ms);
  let terminalId: number;
  let tokenId: number;
  let subscriptionId: number;
  let orderId: number;

  before(async () => {
    t = await createTestDb({ poolMax: 4 });
    [{ id: terminalId }] = await t.db('terminals').insert({ name: 'Till', kind: 'counter', token_hash: 'x', created_at: ago(90 * DAY) }).returning('id');
    [{ id: tokenId }] = await t.db('api_tokens').insert({ name: 'Shop', token_hash: 'y', scopes: ['payments:write'], created_at: ago(90 * DAY) }).returning('id');
    [{ id: orderId }] = await t.db('orders').insert({ number: 1, business_date: '2026-03-01', type: 'counter', created_at: ago(90 * DAY), updated_at: ago(90 * DAY) }).returning('id');
    [{ id: subscriptionId }] = await t.db('webhook_subscriptions').insert({ url: 'https://hooks.example.test/', events: ['order.paid'], secret: 's', created_at: ago(90 * DAY) }).returning('id');
  });
  after(() => t.drop());

  const key = (name: string, age: number) => t.db('api_idempotency').insert({ token_id: tokenId, key: name, request_hash: 'h', status: 201, response: '{}', created_at: ago(age) });
  const tap = (name: string, age: number) => t.db('request_keys').insert({ key: name, order_id: orderId, created_at: ago(age) });
  const session = (id: string, endedAge: number | null, createdAge = 60 * DAY) =>
    t.db('sessions').insert({ id, terminal_id: terminalId, created_at: ago(createdAge), last_active_at: ago(createdAge), ended_at: endedAge === null ? null : ago(endedAge) });
  const pairing = (name: string, expiresAge: number, usedAge: number | null) =>
    t.db('pairing_codes').insert({ code_hash: name, terminal_name: name, kind: 'counter', created_at: ago(expiresAge + HOUR), expires_at: ago(expiresAge), used_at: usedAge === null ? null : ago(usedAge) });
  /** a webhook event, with (unless `deliveryState` is null) a delivery whose outbox row is in that state since `age` */
  const webhook = async (name: string, age: number, deliveryState: 'pending' | 'delivered' | null, attemptAges: number[] = []) => {
    const [event] = await t.db('webhook_events').insert({ id: crypto.randomUUID(), type: 'order.paid', data: JSON.stringify({ name }), created_at: ago(age) }).returning('seq');
    if (!deliveryState) return;
    const [row] = await t.db('outbox')
      .insert({ topic: 'webhook', ordering_key: `subscription:${subscriptionId}`, payload: JSON.stringify({ name }), state: deliveryState, next_attempt_at: ago(age), created_at: ago(age), delivered_at: deliveryState === 'delivered' ? ago(age) : null })
      .returning('id');
    const [delivery] = await t.db('webhook_deliveries').insert({ subscription_id: subscriptionId, event_seq: event.seq, outbox_id: row.id }).returning('id');
    for (const a of attemptAges) await t.db('webhook_attempts').insert({ delivery_id: delivery.id, at: ago(a), status: 503, error: `HTTP 503 (${name})`, duration_ms: 3 });
  };
  const names = {
    keys: () => t.db('api_idempotency').orderBy('key').pluck('key'),
    taps: () => t.db('request_keys').orderBy('key').pluck('key'),
    sessions: () => t.db('sessions').orderBy('id').pluck('id'),
    pairing: () => t.db('pairing_codes').orderBy('terminal_name').pluck('terminal_name'),
    outbox: () => t.db('outbox').orderBy('id').select(t.db.raw("payload ->> 'name' as name")).then((rs: Array<{ name: string }>) => rs.map((r) => r.name)),
    deliveries: () => t.db('webhook_deliveries').count<{ n: number }[]>('* as n').then(([r]) => r.n),
    events: () => t.db('webhook_events').orderBy('seq').select(t.db.raw("data ->> 'name' as name")).then((rs: Array<{ name: string }>) => rs.map((r) => r.name)),
    attempts: () => t.db('webhook_attempts').orderBy('id').pluck('error'),
  };

  it('removes each kind of row past its retention and keeps the younger ones', async () => {
    assert.ok(RETENTION.idempotencyKeysMs >= DAY, 'idempotency keys are kept at least 24 h (ARCHITECTURE)');
    await key('key-25h', 25 * HOUR);
    await key('key-24h-and-a-second', DAY + 1000);
    await key('key-23h', 23 * HOUR);
    await key('key-now', 0);
    await tap('tap-25h', 25 * HOUR);
    await tap('tap-23h', 23 * HOUR);

    await session('ended-31-days', 31 * DAY);
    await session('ended-29-days', 29 * DAY);
    await session('open-since-60-days', null); // never ended: not the prune job's to end
    await session('ended-just-now', 0);

    await pairing('expired-8-days', 8 * DAY, null);
    await pairing('expired-6-days', 6 * DAY, null);
    await pairing('used-8-days', 7 * DAY, 8 * DAY);
    await pairing('used-6-days', -DAY, 6 * DAY); // used 6 days ago; would have expired tomorrow
    await pairing('open', -HOUR, null);

    await webhook('delivered-31-days', 31 * DAY, 'delivered', [31 * DAY]);
    await webhook('delivered-29-days', 29 * DAY, 'delivered', [29 * DAY]);
    await webhook('pending-60-days', 60 * DAY, 'pending', [60 * DAY, 2 * DAY]); // a receiver down for two months
    await webhook('no-subscriber-31-days', 31 * DAY, null);
    await webhook('no-subscriber-29-days', 29 * DAY, null);

    const pruned = await pruneExpired(t.db, clock, testLog);

    assert.deepEqual(await names.keys(), ['key-23h', 'key-now']);
    assert.deepEqual(await names.taps(), ['tap-23h'], "a terminal tap's key is kept 24 h");
    assert.deepEqual(await names.sessions(), ['ended-29-days', 'ended-just-now', 'open-since-60-days']);
    assert.deepEqual(await names.pairing(), ['expired-6-days', 'open', 'used-6-days']);
    assert.deepEqual(await names.outbox(), ['delivered-29-days', 'pending-60-days'], 'pending rows stay, however old');
    assert.equal(await names.deliveries(), 2, 'the delivery of the pruned row went with it');
    assert.deepEqual(await names.events(), ['delivered-29-days', 'pending-60-days', 'no-subscriber-29-days']);
    assert.deepEqual(await names.attempts(), ['HTTP 503 (delivered-29-days)', 'HTTP 503 (pending-60-days)'], 'attempts older than 30 days go, also of a pending delivery');
    assert.deepEqual(pruned, { idempotencyKeys: 2, requestKeys: 1, sessions: 1, pairingCodes: 2, outboxDelivered: 1, webhookAttempts: 1, webhookEvents: 2 });

    // a day later the next ones reach their limits exactly: kept; a millisecond more, and they go
    clock.advance(DAY);
    await pruneExpired(t.db, clock, testLog);
    assert.deepEqual(await names.keys(), ['key-now'], 'exactly 24 h old');
    assert.deepEqual(await names.sessions(), ['ended-29-days', 'ended-just-now', 'open-since-60-days'], 'ended exactly 30 days ago');
    assert.deepEqual(await names.pairing(), ['expired-6-days', 'open', 'used-6-days'], 'closed exactly 7 days ago');
    assert.deepEqual(await names.outbox(), ['delivered-29-days', 'pending-60-days'], 'delivered exactly 30 days ago');
    assert.deepEqual(await names.attempts(), ['HTTP 503 (delivered-29-days)', 'HTTP 503 (pending-60-days)']);
    clock.advance(1);
    await pruneExpired(t.db, clock, testLog);
    assert.deepEqual(await names.keys(), []);
    assert.deepEqual(await names.sessions(), ['ended-just-now', 'open-since-60-days']);
    assert.deepEqual(await names.pairing(), ['open']);
    assert.deepEqual(await names.outbox(), ['pending-60-days']);
    assert.deepEqual(await names.attempts(), ['HTTP 503 (pending-60-days)']);
    assert.deepEqual(await names.events(), ['pending-60-days']);
  });

  it('runs at once and then on its timer, with the cutoffs of the clock at each run; stop() ends it', async () => {
    await t.db('api_idempotency').delete();
    await key('scheduled', 0);
    const job = schedulePrune({ db: t.db, clock, log: testLog, everyMs: 50 });
    try {
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(await names.keys(), ['scheduled'], 'young: kept by the first runs');
      clock.advance(RETENTION.idempotencyKeysMs + 1);
      await until('the next run removes it', async () => (await names.keys()).length === 0, 5000);
    } finally {
      await job.stop();
    }
    await key('after-stop', 0);
    clock.advance(RETENTION.idempotencyKeysMs + 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await names.keys(), ['after-stop'], 'no run after stop()');
  });
});
