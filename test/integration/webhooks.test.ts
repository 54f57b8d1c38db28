import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { bootApp, type TestApp } from '../helpers/app';
import { until } from '../helpers/wait';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { WebhookSink } from '../fakes/webhook-sink';
import { createApiToken } from '../../server/api/tokens';
import { backoffMs, OutboxWorker } from '../../server/outbox/worker';
import { WEBHOOK_TOPIC } from '../../server/webhooks/service';
import { webhookTopic } from '../../server/webhooks/worker';
import type { Lookup } from '../../server/webhooks/target';
import type { Db } from '../../server/db/knex';
import { testLog } from '../helpers/log';
import { FakeClock } from '../helpers/clock';
import { PINS, pairedClient, type Client } from '../helpers/client';

/** Turns the lab setting (webhooks to private and loopback addresses) on or off in this database. */
async function setLabSetting(db: Db, on: boolean): Promise<void> {
  await db('settings').insert({ key: 'webhooksAllowPrivateTargets', value: JSON.stringify(on), updated_at: new Date() }).onConflict('key').merge();
}

/** Webhook deliveries with their state, which is their outbox row's (migration 0017). */
const deliveries = (db: Db) =>
  db('webhook_deliveries as d').join('outbox as o', 'o.id', 'd.outbox_id').select('d.id', 'd.subscription_id', 'd.last_status', 'o.state', 'o.attempts');


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
    await setLabSetting(t.db, true); // the sink is on loopback
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
    const pending = await deliveries(t.db).where({ state: 'pending' });
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
    await until('no delivery left pending', async () => (await deliveries(t.db).where({ state: 'pending' })).length === 0);
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
      await bumpTicket({ db: t.db, clock: app.clock, events: app.events }, sent.body.tickets[0].id);
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
    const worker = new OutboxWorker({ db: own.db, clock: app.clock, log: testLog, pollMs: 60_000, topics: { [WEBHOOK_TOPIC]: webhookTopic({ db: own.db }) } });
    let looks = 0;
    const onQuery = (q: { sql: string }) => {
      if (/^select topic, ordering_key from \(/.test(q.sql)) looks++;
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

describe('webhook targets', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: TestApp;
  let worker: OutboxWorker;
  let token: string;
  let owner: Client;

  // the only resolver the worker has: names are answered from this table, never by DNS
  const answers = new Map<string, () => string[]>();
  const asked: string[] = [];
  const lookup: Lookup = async (name) => {
    asked.push(name);
    const answer = answers.get(name);
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name} (unknown to the test's resolver)`), { code: 'ENOTFOUND' });
    return answer().map((address) => ({ address, family: isIP(address) }));
  };

  before(async () => {
    t = await createTestDb();
    await seedStore(t.db);
    app = await bootApp(t.db, { webhookTimeoutMs: 1000 });
    // the app's own worker resolves with DNS: replace it with one that asks only the table above
    await app.outbox.stop();
    worker = new OutboxWorker({ db: t.db, clock: app.clock, log: testLog, pollMs: 50, topics: { [WEBHOOK_TOPIC]: webhookTopic({ db: t.db, timeoutMs: 1000, lookup }) } });
    worker.start();
    token = (await createApiToken(t.db, new FakeClock(), { name: 'Targets', scopes: ['orders:write', 'payments:write', 'webhooks:admin'] })).token;
    owner = await pairedClient(app, { pin: PINS.owner, kind: 'back_office', name: 'Office' });
  });
  after(async () => {
    await worker.stop();
    await app.close();
    await t.drop();
  });
  beforeEach(async () => {
    answers.clear();
    asked.length = 0;
    await setLabSetting(t.db, false);
  });

  const call = async (method: string, path: string, json?: unknown) => {
    const res = await fetch(`${app.url}/api/v1${path}`, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: json === undefined ? undefined : JSON.stringify(json) });
    return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
  };
  const sale = async () => {
    const o = await call('POST', '/orders', { type: 'counter', lines: [{ sku: 'RET-MUG', qty: 1 }], idempotencyKey: crypto.randomUUID() });
    assert.equal(o.status, 201);
    assert.equal((await call('POST', `/orders/${o.body.id}/payments`, { method: 'cash', amount: 5000, idempotencyKey: crypto.randomUUID() })).status, 201);
  };
  const subscribe = async (url: string, secret = 'a-signing-secret-for-targets') => {
    const r = await call('POST', '/webhooks', { url, events: ['order.paid'], secret });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id as number;
  };
  const attemptsOf = (subscriptionId: number) =>
    t.db('webhook_attempts as a').join('webhook_deliveries as d', 'd.id', 'a.delivery_id').where('d.subscription_id', subscriptionId).orderBy('a.id').select('a.status', 'a.error');
  const subscriptions = async () => Number((await t.db('webhook_subscriptions').count<{ n: string }[]>('* as n'))[0].n);

  const refused: Array<[string, RegExp]> = [
    ['http://127.0.0.1:8080/hooks', /host 127\.0\.0\.1 is a loopback address/],
    ['http://[::1]:8080/hooks', /host ::1 is a loopback address/],
    ['http://2130706433/hooks', /host 127\.0\.0\.1 is a loopback address/],
    ['http://localhost:8080/hooks', /host localhost is a loopback name/],
    ['http://10.0.0.1/hooks', /host 10\.0\.0\.1 is a private address/],
    ['http://169.254.169.254/latest/meta-data/', /host 169\.254\.169\.254 is a link-local address/],
    ['http://[::ffff:127.0.0.1]/hooks', /host ::ffff:7f00:1 is a loopback address/],
  ];
  const because = /; webhooks may only go to public addresses unless the lab setting "Allow webhooks to private and loopback addresses \(for testing only\)" is on\./;

  it('refuses loopback, private and link-local targets at registration through the API with a 400 saying why, storing nothing', async () => {
    const before = await subscriptions();
    for (const [url, why] of refused) {
      const r = await call('POST', '/webhooks', { url, events: ['order.paid'] });
      assert.equal(r.status, 400, `${url}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.title, why, url);
      assert.match(r.body.title, because, url);
      assert.deepEqual(r.body.errors.map((e: { field: string }) => e.field), ['url'], url);
    }
    assert.equal(await subscriptions(), before, 'nothing stored');
    assert.deepEqual(asked, [], 'registering resolves no name');
  });

  it('refuses the same targets through the back-office form with a clear error, storing nothing', async () => {
    const before = await subscriptions();
    const audited = await t.db('audit_log').where({ action: 'settings_changed' }).count<{ n: string }[]>('* as n');
    for (const [url, why] of refused) {
      const r = await owner.post('/backoffice/integrations/webhooks', { url, events: 'order.paid' }, { htmx: false });
      assert.equal(r.status, 400, url);
      // the form again, the address as typed, the reason beside it (docs/UI.md, "Form errors")
      const message = /<span class="field-error" id="webhook-url-error">([^<]*)<\/span>/.exec(r.text)?.[1] ?? '';
      assert.match(r.text, /<input name="url"[^>]*aria-invalid="true"/, url);
      assert.ok(r.text.includes(`value="${url.replace(/&/g, '&amp;')}"`), `the address is kept: ${url}`);
      assert.match(r.text, /name="events" value="order.paid" checked/, 'the chosen event stays chosen');
      const text = message.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
      assert.match(text, why, url);
      assert.match(text, because, url);
    }
    assert.equal(await subscriptions(), before, 'nothing stored');
    assert.deepEqual(await t.db('audit_log').where({ action: 'settings_changed' }).count<{ n: string }[]>('* as n'), audited, 'nothing audited as created');
    const none = await owner.post('/backoffice/integrations/webhooks', { url: 'https://example.com/hooks' }, { htmx: false });
    assert.equal(none.status, 400);
    assert.match(none.text, /id="webhook-events-error">Choose at least one event\.</);
    const nameless = await owner.post('/backoffice/integrations/tokens', { name: '  ', scopes: 'catalog:read' }, { htmx: false });
    assert.equal(nameless.status, 400);
    assert.match(nameless.text, /id="token-name-error">Give the token a name/);
    assert.match(nameless.text, /name="scopes" value="catalog:read" checked/);
    assert.equal(await subscriptions(), before, 'nothing stored');
  });

  it('a name that resolves to loopback when delivering is refused and logged, and no connection is made', async () => {
    const sink = new WebhookSink();
    await sink.start();
    answers.set('hooks.example.test', () => ['127.0.0.1']);
    try {
      // a name is allowed at registration: it is resolved, and checked, at each delivery
      const id = await subscribe(`http://hooks.example.test:${sink.port}/hooks`);
      assert.deepEqual(asked, [], 'not resolved at registration');
      await sale();
      await until('the refused attempt', async () => (await attemptsOf(id)).length >= 1);
      const refusal = 'refused: hooks.example.test resolves to 127.0.0.1, a loopback address';
      assert.deepEqual(await attemptsOf(id), [{ status: null, error: refusal }]);
      const log = await call('GET', `/webhooks/${id}/deliveries`);
      assert.equal(log.body.items.length, 1);
      assert.equal(log.body.items[0].state, 'pending', 'not delivered; retried with backoff');
      assert.equal(log.body.items[0].lastError, refusal);
      // and again after the backoff
      app.clock.advance(backoffMs(1, () => 1) + 1000);
      await until('the second refused attempt', async () => (await attemptsOf(id)).length >= 2);
      assert.deepEqual((await attemptsOf(id)).map((a: { error: string }) => a.error), [refusal, refusal]);
      assert.equal(sink.connections, 0, 'the sink saw no connection');
      assert.equal(sink.attempts, 0);
      assert.deepEqual(asked, ['hooks.example.test', 'hooks.example.test'], 'resolved once per attempt, by the test\'s resolver only');
      assert.equal((await call('DELETE', `/webhooks/${id}`)).status, 204);
    } finally {
      await sink.stop();
    }
  });

  it('with the lab setting on, a loopback target delivers as before', async () => {
    await setLabSetting(t.db, true);
    const sink = new WebhookSink();
    sink.secret = 'a-signing-secret-for-the-lab-0';
    const url = await sink.start();
    try {
      const id = await subscribe(url, sink.secret);
      await sale();
      await until('delivered', () => sink.received.length >= 1);
      assert.equal(sink.received[0].type, 'order.paid');
      assert.ok(sink.received[0].signatureOk);
      await until('marked delivered', async () => (await deliveries(t.db).where({ subscription_id: id, state: 'delivered' })).length === 1);
      assert.deepEqual(await attemptsOf(id), [{ status: 204, error: null }]);
      assert.equal((await call('DELETE', `/webhooks/${id}`)).status, 204);
    } finally {
      await sink.stop();
    }
  });

  it('connects only to the address that passed the check, keeping the name as the Host', async () => {
    await setLabSetting(t.db, true);
    // the name answers 127.0.0.1 once, then 127.0.0.2 (a DNS answer that changes under us): two
    // sinks on the same port tell which address was connected to
    const checked = new WebhookSink();
    checked.secret = 'a-signing-secret-for-the-lab-1';
    await checked.start('127.0.0.1');
    const other = new WebhookSink();
    other.secret = checked.secret;
    await other.start('127.0.0.2', checked.port);
    let n = 0;
    answers.set('lab.example.test', () => (++n === 1 ? ['127.0.0.1'] : ['127.0.0.2']));
    try {
      const id = await subscribe(`http://lab.example.test:${checked.port}/hooks`, checked.secret);
      await sale();
      await until('delivered', async () => (await deliveries(t.db).where({ subscription_id: id, state: 'delivered' })).length === 1);
      assert.equal(checked.received.length, 1);
      assert.equal(checked.received[0].host, `lab.example.test:${checked.port}`);
      assert.ok(checked.received[0].signatureOk);
      assert.equal(other.connections, 0, 'no connection to an address that was not checked');
      assert.deepEqual(asked, ['lab.example.test'], 'the name resolved once, for the check');
      assert.equal((await call('DELETE', `/webhooks/${id}`)).status, 204);
    } finally {
      await checked.stop();
      await other.stop();
    }
  });

  it('an https target gets the name as its TLS server name while connecting to the checked address', async () => {
    await setLabSetting(t.db, true);
    // a TLS peer that records the name the client asks for and then ends the handshake
    const names: string[] = [];
    const server = tls.createServer({ SNICallback: (name, cb) => { names.push(name); cb(new Error('no certificate here')); } });
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    answers.set('secure.example.test', () => ['127.0.0.1']);
    try {
      const id = await subscribe(`https://secure.example.test:${port}/hooks`);
      await sale();
      await until('the attempt', async () => (await attemptsOf(id)).length >= 1);
      assert.deepEqual(names, ['secure.example.test']);
      assert.deepEqual(asked, ['secure.example.test']);
      const [attempt] = await attemptsOf(id);
      assert.equal(attempt.status, null);
      assert.ok(attempt.error, 'the failed handshake is logged');
      assert.equal((await call('DELETE', `/webhooks/${id}`)).status, 204);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('does not follow a redirect: the 302 is a failed attempt logged with its status', async () => {
    await setLabSetting(t.db, true);
    const elsewhere = new WebhookSink();
    const elsewhereUrl = await elsewhere.start();
    const sink = new WebhookSink();
    sink.mode = 'redirect';
    sink.redirectTo = elsewhereUrl;
    const url = await sink.start();
    try {
      const id = await subscribe(url);
      await sale();
      await until('the attempt', async () => (await attemptsOf(id)).length >= 1);
      assert.deepEqual(await attemptsOf(id), [{ status: 302, error: 'HTTP 302: redirects are not followed' }]);
      assert.equal(sink.attempts, 1);
      assert.equal(elsewhere.connections, 0, 'the redirect was not followed');
      const [delivery] = await deliveries(t.db).where({ subscription_id: id });
      assert.equal(delivery.state, 'pending');
      assert.equal(delivery.last_status, 302);
      assert.equal((await call('DELETE', `/webhooks/${id}`)).status, 204);
    } finally {
      await sink.stop();
      await elsewhere.stop();
    }
  });

  it('the owner turns the lab setting on and off on the settings page, audited; it decides what may be registered', async () => {
    const page = await owner.get('/backoffice/settings', { htmx: false });
    assert.match(page.text, /<input type="checkbox" name="webhooksAllowPrivateTargets" > Allow webhooks to private and loopback addresses \(for testing only\)/, 'shown, off by default');
    const form = formFields(page.text, 'settings-form');
    const save = async (on: boolean) => {
      const fields = { ...form };
      if (on) fields.webhooksAllowPrivateTargets = 'on';
      else delete fields.webhooksAllowPrivateTargets;
      const r = await owner.post('/backoffice/settings', fields, { htmx: false });
      assert.equal(r.status, 200, r.text.slice(0, 500));
      return r;
    };
    const labAudits = () => t.db('audit_log').where({ action: 'settings_changed' }).whereRaw(`details -> 'webhooksAllowPrivateTargets' is not null`).orderBy('id').pluck('details');
    const url = 'http://127.0.0.1:9/hooks';

    const saved = await save(true);
    assert.match(saved.text, /name="webhooksAllowPrivateTargets" checked/);
    assert.deepEqual((await labAudits()).map((d: Record<string, unknown>) => d.webhooksAllowPrivateTargets), [{ from: false, to: true }]);
    const made = await owner.post('/backoffice/integrations/webhooks', { url, events: 'order.paid' }, { htmx: false });
    assert.equal(made.status, 200);
    assert.match(made.text, /id="webhooks-lab"/, 'the integrations page warns while the lab setting is on');
    const sub = await t.db('webhook_subscriptions').where({ url }).first();
    assert.ok(sub, 'a loopback target may be registered in the lab');
    assert.equal((await call('DELETE', `/webhooks/${sub.id}`)).status, 204);

    await save(false);
    assert.deepEqual((await labAudits()).map((d: Record<string, unknown>) => d.webhooksAllowPrivateTargets), [{ from: false, to: true }, { from: true, to: false }]);
    const refusedNow = await owner.post('/backoffice/integrations/webhooks', { url, events: 'order.paid' }, { htmx: false });
    assert.equal(refusedNow.status, 400);
    assert.doesNotMatch((await owner.get('/backoffice/integrations', { htmx: false })).text, /id="webhooks-lab"/);
  });
});

/** The fields a browser would send from the form `id` of a page: inputs, checked boxes, textareas. */
function formFields(html: string, id: string): Record<string, string> {
  const form = new RegExp(`<form[^>]*id="${id}"[^>]*>([\\s\\S]*?)</form>`).exec(html)?.[1] ?? '';
  const unescape = (v: string) => v.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const out: Record<string, string> = {};
  for (const [tag] of form.matchAll(/<input\b[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(tag)?.[1];
    if (!name || name === '_csrf') continue;
    if (/type="checkbox"/.test(tag)) {
      if (/\schecked\b/.test(tag)) out[name] = 'on';
      continue;
    }
    out[name] = unescape(/value="([^"]*)"/.exec(tag)?.[1] ?? '');
  }
  for (const [, name, value] of form.matchAll(/<textarea\b[^>]*name="([^"]*)"[^>]*>([\s\S]*?)<\/textarea>/g)) out[name] = unescape(value);
  return out;
}
