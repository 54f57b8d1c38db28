import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { bootApp, type TestApp } from '../helpers/app';
import { pairedClient, PINS, type Client } from '../helpers/client';
import { testConfig } from '../helpers/config';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { until } from '../helpers/wait';
import { testLog } from '../helpers/log';
import { StripeFake } from '../fakes/stripe-api';
import { verifyJournal } from '../../server/journal/verify';
import { createCardDeps, reconcileCardPayments } from '../../server/payments/service';
import { createKey, startCardTender } from '../../server/payments/card-tender';
import * as orders from '../../server/orders/service';
import type { IntentRequest } from '../../drivers/card-reader/card-terminal';
import { StripeTerminal } from '../../drivers/card-reader/stripe-terminal';

/**
 * Card payments through Stripe Terminal (issue 22), over real HTTP from a paired terminal, against
 * the Stripe fake on loopback driven by the real stripe SDK: the sale, a replayed tender, a
 * decline, a timeout, a late tap, split tenders, card refunds, Stripe unreachable, the reconciler.
 */
describe('card payments through Stripe Terminal', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: TestApp;
  let fake: StripeFake;
  let till: Client;
  let readerId: string;
  let store: Awaited<ReturnType<typeof seedStore>>;
  /** every body the server answered, for the secret-key check */
  const answers: string[] = [];

  before(async () => {
    t = await createTestDb();
    store = await seedStore(t.db);
    fake = await new StripeFake().start();
    app = await bootApp(t.db, { config: testConfig({ STRIPE_SECRET_KEY: fake.secretKey, STRIPE_API_BASE: fake.url }) });
    till = await pairedClient(app, { pin: PINS.cashier, name: 'Card till' });
    const terminal = await t.db('terminals').where({ name: 'Card till' }).first('id');
    readerId = fake.addReader('Till reader').id;
    const now = app.clock.now();
    await t.db('card_readers').insert({ stripe_reader_id: readerId, label: 'Till reader', device_type: 'simulated_wisepos_e', terminal_id: terminal.id, created_at: now, updated_at: now });
  });
  after(async () => {
    await app?.close();
    await fake?.close();
    await t?.drop();
  });

  const get = async (path: string) => {
    const r = await till.get(path);
    answers.push(r.text);
    return r;
  };
  const post = async (path: string, form: Record<string, string>) => {
    const r = await till.post(path, form);
    answers.push(r.text);
    return r;
  };

  async function newOrder(qty = 2): Promise<{ id: number; total: number }> {
    const r = await till.post('/orders', { type: 'counter' });
    const id = Number(/^\/orders\/(\d+)$/.exec(r.headers.get('HX-Redirect') ?? '')![1]);
    const p = await store.product('Brownie');
    assert.equal((await till.post(`/orders/${id}/lines`, { product_id: String(p.id), quantity: String(qty) })).status, 200);
    const o = await t.db('orders').where({ id }).first();
    return { id, total: o.total };
  }
  const money = (minor: number) => (minor / 100).toFixed(2);
  const charge = (orderId: number, amount: number, extra: Record<string, string> = {}, key = crypto.randomUUID()) => post(`/orders/${orderId}/card`, { amount: money(amount), tip: 'none', idempotency_key: key, ...extra });
  const payments = (orderId: number) => t.db('payments').where({ order_id: orderId }).orderBy('id');
  const stateOf = (text: string) => /data-state="([a-z]+)"/.exec(text)?.[1];
  /** polls the terminal's status partial as the terminal does, until `done` */
  async function statusUntil(paymentId: number, done: (text: string) => boolean): Promise<string> {
    let last = '';
    await until(`card payment ${paymentId}`, async () => done((last = (await get(`/payments/${paymentId}/card`)).text)), 30_000);
    return last;
  }
  const payCash = (orderId: number, amount: number) => post(`/orders/${orderId}/payments`, { tendered: money(amount), idempotency_key: crypto.randomUUID() });

  it('card sale end to end: tender → reader waits → the customer taps → approved → order closed → the journal\'s sale lists the card tender', async () => {
    const { id, total } = await newOrder();
    const r = await charge(id, total, { tip: '10' });
    assert.equal(r.status, 200, r.text);
    assert.equal(stateOf(r.text), 'waiting', 'the terminal shows it waits for the card');
    const [p] = await payments(id);
    assert.equal(p.status, 'pending');
    assert.equal(p.tip, Math.round(total / 10));
    const pi = fake.intents.get(p.stripe_payment_intent_id)!;
    assert.equal(pi.amount, total + p.tip, 'the intent charges the sale and the tip');
    assert.deepEqual(pi.payment_method_types, ['card_present']);
    assert.equal(pi.metadata.order_id, String(id));
    assert.equal(fake.readers.get(readerId)!.action?.status, 'in_progress');
    const created = fake.requests.find((q) => q.path === '/v1/payment_intents' && q.method === 'POST' && q.params.metadata && (q.params.metadata as Record<string, string>).payment_id === String(p.id))!;
    assert.equal(created.key, createKey(p), "Stripe's Idempotency-Key is the payment row's");
    assert.equal((await t.db('orders').where({ id }).first()).status, 'open', 'nothing is paid before the card');
    fake.tap(readerId);
    const paid = await statusUntil(p.id, (text) => /id="paid-title"/.test(text));
    assert.match(paid, /Paid/);
    const order = await t.db('orders').where({ id }).first();
    assert.equal(order.status, 'paid');
    assert.equal(order.paid_total, total);
    const done = (await payments(id))[0];
    assert.deepEqual([done.status, done.card_brand, done.card_last4, done.stripe_charge_id?.startsWith('ch_')], ['succeeded', 'visa', '4242', true]);
    const entry = await t.db('journal').where({ seq: order.journal_seq }).first();
    const tenders = entry.entry.tenders;
    assert.deepEqual(tenders, [{ method: 'card', amount: total, tendered: total + done.tip, change: 0, tip: done.tip, brand: 'visa', last4: '4242', payment_intent: pi.id }]);
    assert.equal((await verifyJournal(t.db)).ok, true);
  });

  it('the tender request replayed (a double tap, a retry): one PaymentIntent, one payment', async () => {
    const { id, total } = await newOrder();
    const key = crypto.randomUUID();
    const [a, b] = await Promise.all([charge(id, total, {}, key), charge(id, total, {}, key)]);
    assert.equal(a.status, 200, a.text);
    assert.equal(b.status, 200, b.text);
    const c = await charge(id, total, {}, key);
    assert.equal(c.status, 200, c.text);
    const rows = await payments(id);
    assert.equal(rows.length, 1, 'one payment');
    assert.equal(fake.intentsFor('order_id', String(id)).length, 1, 'one PaymentIntent');
    fake.tap(readerId);
    await statusUntil(rows[0].id, (text) => /id="paid-title"/.test(text));
    assert.equal((await t.db('orders').where({ id }).first()).status, 'paid');
  });

  it('a declined card: the terminal says so, the order stays open, and cash then closes it', async () => {
    const { id, total } = await newOrder();
    await charge(id, total);
    const [p] = await payments(id);
    fake.tap(readerId, { number: '4000000000000002' });
    const text = await statusUntil(p.id, (x) => stateOf(x) === 'failed');
    assert.match(text, /card was declined/);
    assert.equal((await t.db('orders').where({ id }).first()).status, 'open');
    assert.equal(fake.intents.get(p.stripe_payment_intent_id)!.status, 'canceled', 'the declined intent cannot be charged later');
    const cash = await payCash(id, total);
    assert.equal(cash.status, 200, cash.text);
    const order = await t.db('orders').where({ id }).first();
    assert.equal(order.status, 'paid');
    assert.equal(order.paid_total, total, 'the declined card counts for nothing');
    const entry = await t.db('journal').where({ seq: order.journal_seq }).first();
    assert.deepEqual(entry.entry.tenders.map((x: { method: string }) => x.method), ['cash'], 'only what paid is a tender');
  });

  it('a reader timeout: the reader action and then the intent are canceled, the order stays open, cash closes it', async () => {
    const { id, total } = await newOrder();
    await charge(id, total);
    const [p] = await payments(id);
    const refused = await payCash(id, total);
    assert.equal(refused.status, 409, 'no cash while the card is still waited on');
    app.clock.advance(91_000);
    const text = await statusUntil(p.id, (x) => stateOf(x) === 'canceled');
    assert.match(text, /No card was presented in time/);
    assert.equal(fake.intents.get(p.stripe_payment_intent_id)!.status, 'canceled');
    assert.notEqual(fake.readers.get(readerId)!.action?.status, 'in_progress');
    const cancels = fake.requests.filter((q) => q.path.endsWith('/cancel_action') || q.path === `/v1/payment_intents/${p.stripe_payment_intent_id}/cancel`).map((q) => q.path.split('/').pop());
    assert.deepEqual(cancels.slice(-2), ['cancel_action', 'cancel'], 'the reader action first, then the intent');
    assert.equal((await payCash(id, total)).status, 200);
    assert.equal((await t.db('orders').where({ id }).first()).status, 'paid');
  });

  it('Cancel after a late tap records the card payment instead', async () => {
    const { id, total } = await newOrder();
    await charge(id, total);
    const [p] = await payments(id);
    fake.tap(readerId);
    const r = await post(`/payments/${p.id}/cancel`, {});
    assert.equal(r.status, 200, r.text);
    assert.equal((await t.db('payments').where({ id: p.id }).first()).status, 'succeeded');
    assert.equal((await t.db('orders').where({ id }).first()).status, 'paid');
  });

  it('split tender: part cash, part card; and a bill on two cards', async () => {
    const { id, total } = await newOrder(3);
    const cashPart = 300;
    assert.equal((await payCash(id, cashPart)).status, 200);
    await charge(id, total - cashPart);
    const [, card] = await payments(id);
    fake.tap(readerId);
    await statusUntil(card.id, (x) => /id="paid-title"/.test(x));
    const order = await t.db('orders').where({ id }).first();
    assert.equal(order.status, 'paid');
    const entry = await t.db('journal').where({ seq: order.journal_seq }).first();
    assert.deepEqual(entry.entry.tenders.map((x: { method: string; amount: number }) => [x.method, x.amount]), [['cash', cashPart], ['card', total - cashPart]]);

    const two = await newOrder(3);
    await charge(two.id, 500);
    const [first] = await payments(two.id);
    fake.tap(readerId);
    const approved = await statusUntil(first.id, (x) => stateOf(x) === 'approved');
    assert.match(approved, /Still due/);
    assert.equal((await t.db('orders').where({ id: two.id }).first()).status, 'open');
    await charge(two.id, two.total - 500);
    const [, second] = await payments(two.id);
    fake.tap(readerId, { number: '5555555555554444' });
    await statusUntil(second.id, (x) => /id="paid-title"/.test(x));
    const closed = await t.db('orders').where({ id: two.id }).first();
    assert.equal(closed.status, 'paid');
    assert.deepEqual((await t.db('journal').where({ seq: closed.journal_seq }).first()).entry.tenders.map((x: { brand: string }) => x.brand), ['visa', 'mastercard']);
  });

  it('a partial and then a full refund of a card sale go back to the card through Stripe, each with its journal entry', async () => {
    const { id, total } = await newOrder(2);
    await charge(id, total);
    const [p] = await payments(id);
    fake.tap(readerId);
    await statusUntil(p.id, (x) => /id="paid-title"/.test(x));
    const manager = await pairedClient(app, { pin: PINS.manager, name: 'Manager till' });
    const partial = await manager.post(`/orders/${id}/refunds`, { reason: 'cold coffee', scope: 'amount', amount: '1.00', method: 'card', idempotency_key: crypto.randomUUID() });
    assert.equal(partial.status, 200, partial.text);
    const full = await manager.post(`/orders/${id}/refunds`, { reason: 'customer left', scope: 'all', method: 'card', idempotency_key: crypto.randomUUID() });
    assert.equal(full.status, 200, full.text);
    const refunds = await t.db('refunds').where({ order_id: id }).orderBy('id');
    assert.deepEqual(refunds.map((r) => [r.status, r.method, r.total]), [['succeeded', 'card', 100], ['succeeded', 'card', total - 100]]);
    const atStripe = [...fake.refunds.values()].filter((r) => r.payment_intent === p.stripe_payment_intent_id);
    assert.deepEqual(atStripe.map((r) => r.amount), [100, total - 100]);
    for (const r of refunds) {
      const e = await t.db('journal').where({ seq: r.journal_seq }).first();
      assert.equal(e.kind, 'refund');
      assert.deepEqual(e.entry.tenders, [{ method: 'card', amount: -r.total, brand: 'visa', last4: '4242', payment_intent: p.stripe_payment_intent_id, refund: r.stripe_refund_id }]);
    }
  });

  it('Stripe unreachable: the card is refused with a clear message, the card button says so, and a cash sale goes through', async () => {
    const port = fake.port;
    await fake.close();
    try {
      const { id, total } = await newOrder();
      const r = await charge(id, total);
      assert.equal(r.status, 200, r.text);
      assert.equal(stateOf(r.text), 'failed');
      assert.match(r.text, /Stripe cannot be reached/);
      assert.match((await get(`/orders/${id}/card-button`)).text, /id="card-unreachable"/);
      assert.equal((await payCash(id, total)).status, 200);
      assert.equal((await t.db('orders').where({ id }).first()).status, 'paid');
    } finally {
      await fake.start(port);
    }
  });

  it('the reconciler: a payment whose intent Stripe made but whose id was never committed is learned by replaying the create, and recorded paid once', async () => {
    const deps = createCardDeps({ db: t.db, clock: app.clock, events: app.events, log: testLog, config: app.config, polling: { firstMs: 20, maxMs: 50 } });
    const { id, total } = await newOrder();
    const terminal = await t.db('card_readers').where({ stripe_reader_id: readerId }).first();
    const { payment } = await orders.beginCardPayment(deps, id, { amount: total, tip: 0, tipOnReader: false, readerId: terminal.id, idempotencyKey: crypto.randomUUID() }, {}, (p) => ({ amount: p.amount, currency: p.currency.toLowerCase(), capture_method: 'automatic', description: `Order ${id}`, metadata: { order_id: String(id), payment_id: String(p.id), store: 'x' } }));
    // Stripe made the intent and the reader took it; the answer was lost before our commit
    const stripe = new StripeTerminal({ secretKey: fake.secretKey, apiBase: fake.url });
    const pi = await stripe.createIntent(payment.card_request as unknown as IntentRequest, createKey(payment));
    await stripe.processIntent(readerId, pi.id);
    fake.tap(readerId);
    assert.equal((await t.db('payments').where({ id: payment.id }).first()).stripe_payment_intent_id, null);
    await reconcileCardPayments(deps);
    await until('reconciled', async () => (await t.db('payments').where({ id: payment.id }).first()).status !== 'pending');
    await reconcileCardPayments(deps);
    const row = await t.db('payments').where({ id: payment.id }).first();
    assert.deepEqual([row.status, row.stripe_payment_intent_id], ['succeeded', pi.id]);
    assert.equal(fake.intentsFor('order_id', String(id)).length, 1, 'the replay found the same intent: no second charge');
    assert.equal((await t.db('orders').where({ id }).first()).status, 'paid');
    assert.equal(await t.db('journal').where({ kind: 'sale' }).whereRaw("(entry->>'order_id')::bigint = ?", [id]).count('* as n').first().then((x) => Number(x!.n)), 1);
  });

  it('manual capture (STRIPE_CAPTURE_METHOD=manual): the approved intent is captured, then recorded paid', async () => {
    const deps = createCardDeps({ db: t.db, clock: app.clock, events: app.events, log: testLog, config: testConfig({ STRIPE_SECRET_KEY: fake.secretKey, STRIPE_API_BASE: fake.url, STRIPE_CAPTURE_METHOD: 'manual' }), polling: { firstMs: 20, maxMs: 50 } });
    const { id, total } = await newOrder();
    const terminal = await t.db('terminals').where({ name: 'Card till' }).first('id');
    const started = await startCardTender(deps, id, { amount: total, tip: 0, tipOnReader: false, idempotencyKey: crypto.randomUUID() }, { terminalId: terminal.id });
    const pi = fake.intents.get(started.stripe_payment_intent_id!)!;
    assert.equal(pi.capture_method, 'manual');
    fake.tap(readerId);
    await until('captured and paid', async () => (await t.db('payments').where({ id: started.id }).first()).status === 'succeeded');
    assert.deepEqual([pi.status, pi.amount_received], ['succeeded', total]);
    assert.ok(fake.requests.some((q) => q.path === `/v1/payment_intents/${pi.id}/capture`));
    assert.equal((await t.db('orders').where({ id }).first()).status, 'paid');
  });

  it('readers: registered on the devices page with the code the reader shows, bound to a terminal, live status from Stripe', async () => {
    const owner = await pairedClient(app, { pin: PINS.owner, name: 'Office' });
    const page = await owner.get('/backoffice/devices', { htmx: false });
    assert.match(page.text, /id="readers"/);
    const bad = await owner.post('/backoffice/devices/readers', { code: 'nope', label: 'Bar reader' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /registration code is invalid/);
    const office = await t.db('terminals').where({ name: 'Office' }).first('id');
    const made = await owner.post('/backoffice/devices/readers', { code: 'sepia-cerulean-aqua', label: 'Bar reader', terminal_id: String(office.id) });
    assert.equal(made.status, 200, made.text);
    const row = await t.db('card_readers').where({ label: 'Bar reader' }).first();
    assert.equal(row.terminal_id, office.id);
    assert.ok(fake.readers.has(row.stripe_reader_id), 'registered at Stripe');
    assert.match(made.text, new RegExp(`data-reader-id="${row.id}"[\\s\\S]*?Online`));
    fake.setReaderStatus(row.stripe_reader_id, 'offline');
    const list = await owner.get('/backoffice/devices/readers');
    assert.match(list.text, new RegExp(`data-reader-id="${row.id}"[\\s\\S]*?Offline`));
    const unbound = await owner.post(`/backoffice/devices/readers/${row.id}/terminal`, { terminal_id: '' });
    assert.equal(unbound.status, 200, unbound.text);
    assert.equal((await t.db('card_readers').where({ id: row.id }).first()).terminal_id, null);
    answers.push(page.text, made.text, list.text);
  });

  it('a reader that is offline: the card is refused with a clear message and the order stays open', async () => {
    fake.setReaderStatus(readerId, 'offline');
    try {
      const { id, total } = await newOrder();
      const r = await charge(id, total);
      assert.equal(stateOf(r.text), 'failed');
      assert.match(r.text, /card reader is offline/);
      assert.equal((await t.db('orders').where({ id }).first()).status, 'open');
      assert.equal((await payCash(id, total)).status, 200);
    } finally {
      fake.setReaderStatus(readerId, 'online');
    }
  });

  it('the secret key appears in no response body or page', async () => {
    answers.push((await get('/backoffice/devices')).text);
    assert.ok(answers.length > 20);
    for (const a of answers) assert.ok(!a.includes(fake.secretKey), 'a page or answer holds the Stripe key');
  });
});
