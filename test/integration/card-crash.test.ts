import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { spawnCli, waitForListening, type Spawned } from '../helpers/spawn';
import { tempDir } from '../helpers/config';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { until } from '../helpers/wait';
import { StripeFake } from '../fakes/stripe-api';
import { createApiToken } from '../../server/api/tokens';
import { systemClock } from '../../server/clock';
import { verifyJournal } from '../../server/journal/verify';

/**
 * Issue 22's kill test: the real server process is killed (SIGKILL, by its own test-only hook
 * TEST_CRASH_AT=card-succeeded) after Stripe said the card payment succeeded and before our
 * commit; started again, its reconciler records the payment as paid, exactly once. The Stripe
 * key given to it appears in no log line and no answer.
 */
describe('a card payment when the server is killed between Stripe\'s success and our commit', function () {
  this.timeout(180_000);
  let t: TestDb;
  let fake: StripeFake;
  const running: Spawned[] = [];
  const dataDir = tempDir('store-card-crash-');

  before(async () => {
    t = await createTestDb();
    fake = await new StripeFake().start();
  });
  after(async () => {
    for (const s of running) {
      if (s.child.exitCode === null && s.child.signalCode === null) {
        s.child.kill('SIGKILL');
        await s.exited;
      }
    }
    await fake?.close();
    await t?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('is reconciled as paid after the restart, exactly once, and the key is in no log line or answer', async () => {
    const store = await seedStore(t.db);
    const brownie = await store.product('Brownie');
    const { token } = await createApiToken(t.db, systemClock, { name: 'Card crash', scopes: ['orders:write', 'payments:write'] });
    const stripeReader = fake.addReader('Crash reader');
    const [reader] = await t.db('card_readers').insert({ stripe_reader_id: stripeReader.id, label: 'Crash reader', device_type: stripeReader.device_type, created_at: new Date(), updated_at: new Date() }).returning('id');
    const env = { DATA_DIR: dataDir, DATABASE_URL: t.url, PORT: '0', HOST: '127.0.0.1', STRIPE_SECRET_KEY: fake.secretKey, STRIPE_API_BASE: fake.url };
    const answers: string[] = [];
    const api = async (url: string, method: string, path: string, json?: unknown) => {
      const res = await fetch(`${url}/api/v1${path}`, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' }, body: json ? JSON.stringify(json) : undefined });
      const text = await res.text();
      answers.push(text);
      return { status: res.status, body: JSON.parse(text) };
    };
    const start = async (extra: Record<string, string> = {}) => {
      const s = spawnCli(['start'], { ...env, ...extra });
      running.push(s);
      return { s, url: await waitForListening(s) };
    };

    // -- a card payment; the customer taps; the server dies once Stripe says succeeded, before it saves that
    const first = await start({ TEST_CRASH_AT: 'card-succeeded' });
    const order = await api(first.url, 'POST', '/orders', { type: 'counter', lines: [{ productId: brownie.id, qty: 2 }], idempotencyKey: `crash-card-order-${crypto.randomUUID()}` });
    assert.equal(order.status, 201, JSON.stringify(order.body));
    const orderId = order.body.id as number;
    const total = order.body.total as number;
    const pay = await api(first.url, 'POST', `/orders/${orderId}/payments`, { method: 'card', amount: total, readerId: reader.id, idempotencyKey: `crash-card-${crypto.randomUUID()}` });
    assert.equal(pay.status, 202, JSON.stringify(pay.body));
    assert.equal(pay.body.status, 'pending');
    fake.tap(stripeReader.id);
    await first.s.exited;
    assert.equal(first.s.child.signalCode, 'SIGKILL', `the server killed itself at the hook:\n${first.s.output()}`);
    const [lost] = await t.db('payments').where({ order_id: orderId });
    assert.equal(lost.status, 'pending', 'Stripe charged the card, and the server died before saving it');
    assert.equal(fake.intents.get(lost.stripe_payment_intent_id)!.status, 'succeeded');
    assert.equal((await t.db('orders').where({ id: orderId }).first()).status, 'open');

    // -- started again: the reconciler at start records it
    const second = await start();
    await until('the card payment reconciled', async () => (await t.db('payments').where({ id: lost.id }).first()).status !== 'pending', 30_000);
    const got = await api(second.url, 'GET', `/payments/${lost.id}`);
    assert.deepEqual([got.body.status, got.body.orderStatus, got.body.card.last4], ['succeeded', 'paid', '4242']);
    second.s.child.kill('SIGTERM');
    await second.s.exited;

    // -- and once more: nothing more is recorded
    const third = await start();
    await new Promise((r) => setTimeout(r, 1500));
    third.s.child.kill('SIGTERM');
    await third.s.exited;
    const rows = await t.db('payments').where({ order_id: orderId });
    assert.equal(rows.length, 1);
    assert.equal(rows[0].status, 'succeeded');
    const sales = await t.db('journal').where({ kind: 'sale' }).whereRaw("(entry->>'order_id')::bigint = ?", [orderId]);
    assert.equal(sales.length, 1, 'one sale in the journal');
    assert.equal(sales[0].entry.tenders[0].payment_intent, lost.stripe_payment_intent_id);
    assert.equal(fake.intentsFor('order_id', String(orderId)).length, 1, 'one PaymentIntent: the card was charged once');
    assert.equal((await t.db('orders').where({ id: orderId }).first()).paid_total, total);
    assert.equal((await verifyJournal(t.db)).ok, true);

    // -- the key: in no log line of the three servers, in no answer
    for (const s of running) assert.ok(!s.output().includes(fake.secretKey), 'a log line holds the Stripe key');
    assert.ok(running.every((s) => s.output().length > 0));
    for (const a of answers) assert.ok(!a.includes(fake.secretKey), 'an answer holds the Stripe key');
  });
});
