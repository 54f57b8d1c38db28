import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type Router from '@koa/router';
import { bootApp, type TestApp } from '../helpers/app';
import { ApiRecorder, type Items, type JournalPage, type OrderJson, type PaymentJson, type ProductDetail, type ProductJson, type RefundJson, type SendJson, type WebhookJson } from '../helpers/api';
import { pairedClient, PINS } from '../helpers/client';
import { testConfig, tempDir } from '../helpers/config';
import { createTestDb, type TestDb } from '../helpers/pg';
import { counts, seedStore } from '../helpers/store';
import { spawnCli } from '../helpers/spawn';
import { createApiToken, API_SCOPES } from '../../server/api/tokens';
import { verifyJournal } from '../../server/journal/verify';
import { FakeClock } from '../helpers/clock';
import { until } from '../helpers/wait';
import { needTools } from '../helpers/tools';
import { StripeFake } from '../fakes/stripe-api';

const key = () => crypto.randomUUID();

describe('the integration API (/api/v1)', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: TestApp;
  let api: ApiRecorder;
  let token: string; // every scope
  let store: Awaited<ReturnType<typeof seedStore>>;
  let stripe: StripeFake;
  before(async () => {
    t = await createTestDb();
    store = await seedStore(t.db);
    stripe = await new StripeFake().start(); // card payments (issue 22) against the loopback Stripe
    app = await bootApp(t.db, { config: testConfig({ STRIPE_SECRET_KEY: stripe.secretKey, STRIPE_API_BASE: stripe.url }) });
    api = await ApiRecorder.load(app.url);
    token = (await createApiToken(t.db, new FakeClock(), { name: 'Web shop', scopes: [...API_SCOPES] })).token;
  });
  after(async () => {
    await app.close();
    await stripe.close();
    await t.drop();
  });

  it('documents every route of the API router', async () => {
    assert.equal((await api.call('GET', '/openapi.json')).status, 200);
    const apiRouter = app.app.routers.find((r) => (r as Router).opts.prefix === '/api/v1') as Router;
    const routes = apiRouter.stack.flatMap((l) => l.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${(l.path as string).replace('/api/v1', '').replace(/:(\w+)/g, '{$1}')}`));
    assert.ok(routes.length >= 14);
    for (const r of routes) {
      const [m, p] = r.split(' ');
      assert.ok(api.doc.paths[p]?.[m.toLowerCase()], `${r} is missing from the OpenAPI document`);
    }
    assert.equal(api.doc.openapi, '3.1.0');
    const documented = Object.entries(api.doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    assert.equal(documented.length, routes.length, 'and the document lists nothing the router lacks');
  });

  it('refuses every operation without a token (401), with a revoked one (401) and without its scope (403)', async () => {
    const limited = (await createApiToken(t.db, new FakeClock(), { name: 'No scopes that matter', scopes: [] })).token;
    const revoked = await createApiToken(t.db, new FakeClock(), { name: 'Old', scopes: [...API_SCOPES] });
    await t.db('api_tokens').where({ id: revoked.record.id }).update({ revoked_at: new Date() });
    for (const [p, ops] of Object.entries(api.doc.paths)) {
      for (const [m, op] of Object.entries(ops)) {
        if (!op['x-scope']) continue;
        const path = p.replace(/\{\w+\}/g, '1');
        const json = m === 'post' ? {} : undefined;
        assert.equal((await api.call(m.toUpperCase(), path, { json })).status, 401, `${m} ${p} without a token`);
        const rv = await api.call(m.toUpperCase(), path, { json, token: revoked.token });
        assert.equal(rv.status, 401);
        assert.equal(rv.body.type, '/problems/token-revoked');
        const forbidden = await api.call(m.toUpperCase(), path, { json, token: limited });
        assert.equal(forbidden.status, 403, `${m} ${p} without its scope`);
      }
    }
  });

  it('makes an order with its lines in one transaction without a savepoint per line; a bad line 3 leaves nothing behind', async () => {
    const brownie = await store.product('Brownie');
    const sent: string[] = [];
    const onQuery = (q: { sql: string }) => sent.push(q.sql);
    t.db.on('query', onQuery);
    let made: OrderJson;
    try {
      const lines = [{ productId: brownie.id, qty: 1 }, { sku: 'RET-MUG', qty: 2 }, { productId: brownie.id, qty: 3, note: 'cut in four' }];
      const r = await api.call<OrderJson>('POST', '/orders', { token, json: { type: 'takeaway', lines, idempotencyKey: key() } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      made = r.body;
    } finally {
      t.db.off('query', onQuery);
    }
    assert.deepEqual(made.lines.map((l) => l.quantity), [1, 2, 3]);
    assert.deepEqual(sent.filter((q) => /^\s*(savepoint|release)\b/i.test(q)), []);
    // the order's totals are its lines', written once with the last line (the order is new: its
    // lines need no lock between them)
    const row = await t.db('orders').where({ id: made.id }).first();
    assert.equal(row.total, made.total);
    assert.equal(row.version, 2);

    const before = await counts(t.db, 'orders', 'order_lines', 'order_line_modifiers', 'api_idempotency');
    for (const bad of [{ productId: 999_999, qty: 1 }, { productId: brownie.id, qty: 1, modifierIds: [999_999] }]) {
      const r = await api.call('POST', '/orders', { token, json: { type: 'takeaway', lines: [{ productId: brownie.id, qty: 1 }, { sku: 'RET-MUG', qty: 1 }, bad], idempotencyKey: key() } });
      assert.equal(r.status, 422, JSON.stringify(r.body));
    }
    assert.deepEqual(await counts(t.db, 'orders', 'order_lines', 'order_line_modifiers', 'api_idempotency'), before);
  });

  it('lets terminals open orders while an API order is still being made', async () => {
    const brownie = await store.product('Brownie');
    const terminal = await pairedClient(app, { pin: PINS.cashier });
    // the API's transaction is held between its order and its first line: the products table is
    // locked by another connection until the terminal's order is open
    const conn = await t.db.client.acquireConnection();
    try {
      await conn.query('begin');
      await conn.query('lock table products in access exclusive mode');
      const making = api.call<OrderJson>('POST', '/orders', { token, json: { type: 'takeaway', customerName: 'Held up', lines: [{ productId: brownie.id, qty: 1 }], idempotencyKey: key() } });
      const waits = async (): Promise<string[]> =>
        (await t.db.raw(`select wait_event from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)).rows.map((r: { wait_event: string }) => r.wait_event);
      await until('the API order waits for the products table', async () => (await waits()).includes('relation'));
      let opened: Awaited<ReturnType<typeof terminal.post>> | undefined;
      const opening = terminal.post('/orders', { type: 'counter' }).then((r) => (opened = r));
      await until('the terminal\'s order is open, or waits for a lock the API holds', async () => opened !== undefined || (await waits()).some((w) => w !== 'relation'));
      assert.deepEqual(await waits(), ['relation'], 'the terminal waited for a lock the API order held');
      await opening;
      assert.equal(opened!.status, 204);
      await conn.query('commit');
      const made = await making;
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const numbers = (await t.db('orders').whereIn('id', [made.body.id, Number(opened!.headers.get('hx-redirect')!.split('/').pop())]).pluck('number')) as number[];
      assert.equal(new Set(numbers).size, 2, 'each has its own number');
    } finally {
      await conn.query('rollback').catch(() => undefined);
      await t.db.client.releaseConnection(conn);
    }
  });

  it('lists and finds products with filters', async () => {
    const all = await api.call<Items<ProductJson>>('GET', '/products', { token });
    assert.ok(all.body.items.length >= 40);
    const bySku = await api.call<Items<ProductJson>>('GET', '/products?sku=RET-MUG', { token });
    assert.deepEqual(bySku.body.items.map((p: { name: string }) => p.name), ['Café mug']);
    const byBarcode = await api.call<Items<ProductJson>>('GET', '/products?barcode=4260123450045', { token });
    assert.equal(byBarcode.body.items[0].name, 'Ground coffee 500 g');
    const latte = await store.product('Latte');
    const detail = await api.call<ProductDetail>('GET', `/products/${latte.id}`, { token });
    assert.deepEqual(detail.body.modifierGroups.map((g: { name: string }) => g.name), ['Size', 'Milk', 'Extras']);
    assert.equal((await api.call('GET', '/products/999999', { token })).status, 404);
    assert.equal((await api.call('GET', '/products?available=maybe', { token })).status, 400);
  });

  it('makes a sale that shows on terminals like one made at a terminal, and whose journal entry verifies', async () => {
    const latte = await store.product('Latte');
    const large = await store.modifier('Size', 'Large');
    const created = await api.call<OrderJson>('POST', '/orders', {
      token,
      json: { type: 'takeaway', customerName: 'Web order 77', lines: [{ productId: latte.id, qty: 2, modifierIds: [large.id], note: 'oat please' }, { sku: 'RET-MUG', qty: 1 }], idempotencyKey: key() },
    });
    assert.equal(created.status, 201);
    const order = created.body;
    assert.equal(order.lines.length, 2);
    assert.equal(order.total, 2 * (latte.price + large.price_delta) + 1200);

    const terminal = await pairedClient(app, { pin: PINS.cashier });
    const list = await terminal.get('/orders', { htmx: false });
    assert.match(list.text, /Web order 77/);
    const panel = await terminal.get(`/orders/${order.id}/panel`);
    assert.match(panel.text, /oat please/);

    const paid = await api.call<PaymentJson>('POST', `/orders/${order.id}/payments`, { token, json: { method: 'cash', amount: 5000, tip: 100, idempotencyKey: key() } });
    assert.equal(paid.status, 201);
    assert.equal(paid.body.orderStatus, 'paid');
    assert.equal(paid.body.change, 5000 - 100 - order.total);
    const again = await api.call<PaymentJson>('GET', `/payments/${paid.body.id}`, { token });
    // the answer comes from the tender's own transaction; it is what the store holds
    assert.deepEqual(again.body, paid.body);
    assert.equal((await api.call('GET', '/payments/999999', { token })).status, 404);
    const fetched = await api.call<OrderJson>('GET', `/orders/${order.id}`, { token });
    assert.equal(fetched.body.status, 'paid');
    assert.equal((await api.call('GET', '/orders/999999', { token })).status, 404);

    const journal = await api.call<JournalPage>('GET', `/journal?afterSeq=0&limit=1000`, { token });
    const entry = journal.body.entries.find((e) => e.order_id === order.id);
    assert.ok(entry, 'the sale is in the journal');
    assert.equal(entry.kind, 'sale');
    assert.equal(entry.terminal, 'api:Web shop');
    assert.deepEqual((entry.tenders as unknown[])[0], { method: 'cash', amount: order.total, tendered: 5000, change: 5000 - 100 - order.total, tip: 100 });
    assert.ok((await verifyJournal(t.db)).ok);
    const panelAfter = await terminal.get(`/orders/${order.id}/panel`);
    assert.match(panelAfter.text, /PAID/);
    assert.equal((await api.call('GET', '/journal?limit=5000', { token })).status, 400);
  });

  it('replays the same key and body with the first answer; another body with the key → 422 idempotency-mismatch', async () => {
    const k = key();
    const body = { type: 'counter', lines: [{ sku: 'BEV-COLA-033', qty: 1 }], idempotencyKey: k };
    const before = await counts(t.db, 'orders');
    const [a, b] = await Promise.all([api.call<OrderJson>('POST', '/orders', { token, json: body }), api.call<OrderJson>('POST', '/orders', { token, json: body })]);
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.equal(a.body.id, b.body.id, 'one order, answered twice');
    assert.equal((await counts(t.db, 'orders')).orders, before.orders + 1);
    const replay = await api.call<OrderJson>('POST', '/orders', { token, json: body });
    assert.equal(replay.headers.get('Idempotent-Replayed'), 'true');
    assert.deepEqual(replay.body, a.body);
    const mismatch = await api.call('POST', '/orders', { token, json: { ...body, lines: [{ sku: 'BEV-COLA-033', qty: 2 }] } });
    assert.equal(mismatch.status, 422);
    assert.equal(mismatch.body.type, '/problems/idempotency-mismatch');

    const pk = key();
    const p1 = await api.call<PaymentJson>('POST', `/orders/${a.body.id}/payments`, { token, json: { method: 'cash', amount: 1000, idempotencyKey: pk } });
    const p2 = await api.call<PaymentJson>('POST', `/orders/${a.body.id}/payments`, { token, json: { method: 'cash', amount: 1000, idempotencyKey: pk } });
    assert.equal(p1.body.id, p2.body.id);
    assert.equal((await t.db('payments').where({ order_id: a.body.id })).length, 1);
    const pm = await api.call('POST', `/orders/${a.body.id}/payments`, { token, json: { method: 'cash', amount: 2000, idempotencyKey: pk } });
    assert.equal(pm.status, 422);
  });

  it('refuses malformed JSON, wrong types, unknown fields, negative amounts and a 1 MB body with problem+json, changing nothing', async () => {
    const before = await counts(t.db, 'orders', 'order_lines', 'payments', 'api_idempotency');
    const open = (await api.call<OrderJson>('POST', '/orders', { token, json: { type: 'counter', idempotencyKey: key() } })).body;
    const mid = await counts(t.db, 'orders', 'order_lines', 'payments', 'api_idempotency');
    const bad: Array<[string, string, { json?: unknown; raw?: string }, number, RegExp]> = [
      ['POST', '/orders', { raw: '{"type": "counter",' }, 400, /not valid JSON/],
      ['POST', '/orders', { json: { type: 'counter', idempotencyKey: key(), lines: [{ productId: 'one', qty: 1 }] } }, 400, /lines\.0\.productId/],
      ['POST', '/orders', { json: { type: 'counter', idempotencyKey: key(), colour: 'red' } }, 400, /colour/],
      ['POST', '/orders', { json: { type: 'buffet', idempotencyKey: key() } }, 400, /type/],
      ['POST', '/orders', { json: { type: 'counter', idempotencyKey: key(), lines: [{ productId: 1, qty: -2 }] } }, 400, /qty/],
      ['POST', '/orders', { json: { type: 'counter', idempotencyKey: key(), lines: [{ productId: 999999, qty: 1 }] } }, 422, /no product/],
      ['POST', '/orders', { raw: JSON.stringify({ type: 'counter', idempotencyKey: key(), customerName: 'x'.repeat(1024 * 1024) }) }, 413, /larger than/],
      ['POST', `/orders/${open.id}/payments`, { json: { method: 'cash', amount: -500, idempotencyKey: key() } }, 400, /amount/],
      ['POST', `/orders/${open.id}/payments`, { json: { method: 'card', amount: 500, idempotencyKey: key() } }, 400, /readerId/],
      ['POST', `/orders/${open.id}/payments`, { json: { method: 'cheque', amount: 500, idempotencyKey: key() } }, 400, /method/],
      ['POST', `/orders/${open.id}/payments`, { json: { method: 'cash', amount: 500, idempotencyKey: key() } }, 422, /no items/],
      ['POST', `/orders/${open.id}/lines`, { json: { productId: 1, qty: 0 } }, 400, /qty/],
      ['POST', `/orders/${open.id}/lines`, { json: { sku: 'NOPE', qty: 1 } }, 422, /no product with SKU/],
      ['POST', `/orders/999999/lines`, { json: { sku: 'RET-MUG', qty: 1 } }, 404, /not found/],
      ['POST', `/orders/999999/payments`, { json: { method: 'cash', amount: 100, idempotencyKey: key() } }, 404, /not found/],
      ['POST', `/orders/${open.id}/void`, { json: { reason: '' } }, 400, /reason/],
      ['POST', `/orders/999999/void`, { json: { reason: 'nobody' } }, 404, /not found/],
      // no text column can hold U+0000: refused at the edge, not a 500 from PostgreSQL
      ['POST', '/orders', { json: { type: 'counter', customerName: 'Ann\u0000', idempotencyKey: key() } }, 400, /NUL character/],
      ['POST', `/orders/${open.id}/lines`, { json: { sku: 'RET-MUG', qty: 1, note: ['a', { deep: 'b\u0000' }] } }, 400, /NUL character/],
      ['GET', '/products?q=ab%00', {}, 400, /NUL character/],
    ];
    for (const [m, p, o, status, re] of bad) {
      const r = await api.call(m, p, { token, ...o });
      assert.equal(r.status, status, `${m} ${p} ${JSON.stringify(o).slice(0, 80)} → ${r.status} ${JSON.stringify(r.body)}`);
      assert.match(JSON.stringify(r.body), re);
      assert.match(r.headers.get('content-type')!, /application\/problem\+json/);
    }
    const validation = await api.call('POST', '/orders', { token, json: { type: 'counter', idempotencyKey: key(), lines: [{ productId: 'one', qty: 1 }] } });
    assert.deepEqual(validation.body.errors?.[0].field, 'lines.0.productId');
    assert.deepEqual(await counts(t.db, 'orders', 'order_lines', 'payments', 'api_idempotency'), mid);
    assert.equal(mid.orders, before.orders + 1);
  });

  it('adds lines, voids, refuses changes to closed orders, and refunds by line', async () => {
    const brownie = await store.product('Brownie');
    const o = (await api.call<OrderJson>('POST', '/orders', { token, json: { type: 'counter', idempotencyKey: key() } })).body;
    const added = await api.call<OrderJson>('POST', `/orders/${o.id}/lines`, { token, json: { productId: brownie.id, qty: 3 } });
    assert.equal(added.status, 200);
    assert.equal(added.body.total, 3 * brownie.price);
    const latte = await store.product('Latte');
    const noSize = await api.call('POST', `/orders/${o.id}/lines`, { token, json: { productId: latte.id, qty: 1 } });
    assert.equal(noSize.status, 422);
    assert.equal(noSize.body.type, '/problems/modifier-choice');
    const voided = await api.call<OrderJson>('POST', `/orders/${o.id}/void`, { token, json: { reason: 'test order' } });
    assert.equal(voided.body.status, 'voided');
    assert.equal((await api.call('POST', `/orders/${o.id}/void`, { token, json: { reason: 'again' } })).status, 409);
    assert.equal((await api.call('POST', `/orders/${o.id}/lines`, { token, json: { productId: brownie.id, qty: 1 } })).status, 409);
    assert.equal((await api.call('POST', `/orders/${o.id}/payments`, { token, json: { method: 'cash', amount: 100, idempotencyKey: key() } })).status, 409);

    const sale = (await api.call<OrderJson>('POST', '/orders', { token, json: { type: 'counter', lines: [{ productId: brownie.id, qty: 2 }], idempotencyKey: key() } })).body;
    const pay = (await api.call<PaymentJson>('POST', `/orders/${sale.id}/payments`, { token, json: { method: 'cash', amount: 700, idempotencyKey: key() } })).body;
    const lineId = sale.lines[0].id;
    const bad = await api.call('POST', `/payments/${pay.id}/refunds`, { token, json: { reason: 'x', idempotencyKey: key() } });
    assert.equal(bad.status, 400);
    const tooMany = await api.call('POST', `/payments/${pay.id}/refunds`, { token, json: { reason: 'dropped', lines: [{ lineId, qty: 5 }], idempotencyKey: key() } });
    assert.equal(tooMany.status, 422);
    const refund = await api.call<RefundJson>('POST', `/payments/${pay.id}/refunds`, { token, json: { reason: 'dropped one', lines: [{ lineId, qty: 1 }], idempotencyKey: key() } });
    assert.equal(refund.status, 201);
    assert.equal(refund.body.total, brownie.price);
    assert.equal((await api.call('POST', `/payments/999999/refunds`, { token, json: { reason: 'nope', idempotencyKey: key() } })).status, 404);
    const unpaid = (await api.call<OrderJson>('POST', '/orders', { token, json: { type: 'counter', lines: [{ productId: brownie.id, qty: 2 }], idempotencyKey: key() } })).body;
    const partial = (await api.call<PaymentJson>('POST', `/orders/${unpaid.id}/payments`, { token, json: { method: 'cash', amount: 100, idempotencyKey: key() } })).body;
    assert.equal(partial.orderStatus, 'open');
    assert.deepEqual((await api.call<PaymentJson>('GET', `/payments/${partial.id}`, { token })).body, partial);
    assert.equal((await api.call('POST', `/payments/${partial.id}/refunds`, { token, json: { reason: 'not yet paid', idempotencyKey: key() } })).status, 409);
  });

  it('sends an order to the kitchen once; a table order carries its table', async () => {
    const table = await t.db('tables').where({ name: 'Table 3' }).first();
    const burger = await store.product('Veggie burger');
    const o = (await api.call<OrderJson>('POST', '/orders', { token, json: { type: 'dine_in', tableId: table.id, lines: [{ productId: burger.id, qty: 2 }], idempotencyKey: key() } })).body;
    assert.equal(o.tableId, table.id);
    const first = await api.call<SendJson>('POST', `/orders/${o.id}/send`, { token });
    assert.equal(first.status, 200);
    assert.equal(first.body.tickets.length, 1);
    const again = await api.call<SendJson>('POST', `/orders/${o.id}/send`, { token });
    assert.deepEqual(again.body.tickets, [], 'nothing new, nothing sent');
    assert.equal((await api.call('POST', '/orders/999999/send', { token })).status, 404);
    await api.call('POST', `/orders/${o.id}/void`, { token, json: { reason: 'walked out' } });
    assert.equal((await api.call('POST', `/orders/${o.id}/send`, { token })).status, 409);
    assert.equal((await api.call('POST', '/orders', { token, json: { type: 'dine_in', tableId: 999999, idempotencyKey: key() } })).status, 422);
  });

  it('manages webhook subscriptions and shows their delivery log', async () => {
    // a loopback target is a lab's (issue 18): this store is one for the length of this test
    await t.db('settings').insert({ key: 'webhooksAllowPrivateTargets', value: 'true', updated_at: new Date() }).onConflict('key').merge();
    const created = await api.call<WebhookJson>('POST', '/webhooks', { token, json: { url: 'http://127.0.0.1:9/hooks', events: ['order.paid'] } });
    assert.equal(created.status, 201);
    assert.match(created.body.secret ?? '', /^[A-Za-z0-9_-]{20,}$/);
    assert.equal((await api.call('POST', '/webhooks', { token, json: { url: 'ftp://x', events: ['order.paid'] } })).status, 400);
    assert.equal((await api.call('POST', '/webhooks', { token, json: { url: 'http://x', events: ['order.eaten'] } })).status, 400);
    const listed = await api.call<Items<WebhookJson>>('GET', '/webhooks', { token });
    assert.ok(listed.body.items.some((w: { id: number }) => w.id === created.body.id));
    assert.equal(listed.body.items[0].secret, undefined, 'the secret is never shown again');
    const log = await api.call<Items<unknown>>('GET', `/webhooks/${created.body.id}/deliveries`, { token });
    assert.deepEqual(log.body.items, []);
    assert.equal((await api.call('GET', '/webhooks/999999/deliveries', { token })).status, 404);
    assert.equal((await api.call('DELETE', `/webhooks/${created.body.id}`, { token })).status, 204);
    assert.equal((await api.call('DELETE', `/webhooks/${created.body.id}`, { token })).status, 404);
    await t.db('settings').where({ key: 'webhooksAllowPrivateTargets' }).update({ value: 'false' });
  });

  it('sets up printers (devices:admin): added with their routes, listed, shown with live status and queue, changed, test-printed', async () => {
    type PrinterJson = { id: number; name: string; address: string; paperWidth: number; columns: number; stationIds: number[]; terminalIds: number[]; waiting: number };
    const kitchen = await t.db('stations').where({ name: 'Kitchen' }).first();
    const made = await api.call<PrinterJson>('POST', '/printers', { token, json: { name: 'API printer', address: 'simulator', stationIds: [kitchen.id] } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.columns, 48, '80 mm and 48 columns unless told');
    assert.deepEqual(made.body.stationIds, [kitchen.id]);
    assert.equal((await api.call('POST', '/printers', { token, json: { name: 'API printer', address: 'simulator' } })).status, 409);
    assert.equal((await api.call('POST', '/printers', { token, json: { name: 'Bad', address: 'not an address' } })).status, 400);
    assert.ok((await api.call<Items<PrinterJson>>('GET', '/printers', { token })).body.items.some((p) => p.id === made.body.id));
    const changed = await api.call<PrinterJson>('PATCH', `/printers/${made.body.id}`, { token, json: { paperWidth: 58 } });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.columns, 32, 'a 58 mm printer prints 32 columns');
    assert.equal((await api.call('PATCH', `/printers/${made.body.id}`, { token, json: { columns: 48 } })).status, 400);
    assert.equal((await api.call('PATCH', '/printers/999999', { token, json: { name: 'x' } })).status, 404);
    const test = await api.call<{ jobId: number }>('POST', `/printers/${made.body.id}/test`, { token });
    assert.equal(test.status, 202);
    await until('the test page printed', async () => (await t.db('print_jobs').where({ id: test.body.jobId }).first()).state === 'printed');
    const one = await api.call<PrinterJson & { status: { state: string }; queue: { waiting: unknown[]; recent: Array<{ id: number; kind: string }> } }>('GET', `/printers/${made.body.id}`, { token });
    assert.equal(one.status, 200);
    assert.equal(one.body.status.state, 'ready');
    assert.deepEqual(one.body.queue.recent.map((j) => [j.id, j.kind]), [[test.body.jobId, 'test']]);
    assert.equal((await api.call('GET', '/printers/999999', { token })).status, 404);
    assert.equal((await api.call('POST', '/printers/999999/test', { token })).status, 404);
  });

  it('binds scanners (devices:admin): listed, bound to a terminal, changed field by field, removed', async () => {
    // the behaviour is test/integration/scan-to-order.test.ts's; here each documented answer is produced once
    type ScannerJson = { id: number; name: string; kind: string; terminalId: number | null; enabled: boolean; state: string };
    const till = (await t.db('terminals').insert({ name: 'API till', kind: 'counter', token_hash: 'x', created_at: new Date() }).returning('id'))[0].id;
    const made = await api.call<ScannerJson>('POST', '/scanners', { token, json: { name: 'API scanner', vendorId: 0x05e0, productId: 0x1200, terminalId: till } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.deepEqual([made.body.kind, made.body.terminalId, made.body.enabled], ['hid', Number(till), true]);
    assert.equal((await api.call('POST', '/scanners', { token, json: { name: 'Nowhere' } })).status, 422);
    assert.equal((await api.call('POST', '/scanners', { token, json: { name: 'X', vendorId: 70000, productId: 1 } })).status, 400);
    assert.ok((await api.call<Items<ScannerJson>>('GET', '/scanners', { token })).body.items.some((s) => s.id === made.body.id));
    assert.equal((await api.call<ScannerJson>('GET', `/scanners/${made.body.id}`, { token })).body.name, 'API scanner');
    const off = await api.call<ScannerJson>('PATCH', `/scanners/${made.body.id}`, { token, json: { enabled: false } });
    assert.deepEqual([off.status, off.body.enabled, off.body.terminalId, off.body.state], [200, false, Number(till), 'disabled']);
    assert.equal((await api.call('PATCH', `/scanners/${made.body.id}`, { token, json: { terminalId: 999999 } })).status, 422);
    assert.equal((await api.call('PATCH', `/scanners/${made.body.id}`, { token, json: { kind: 'laser' } })).status, 400);
    assert.equal((await api.call('PATCH', '/scanners/999999', { token, json: { enabled: true } })).status, 404);
    assert.equal((await api.call('GET', '/scanners/999999', { token })).status, 404);
    assert.equal((await api.call('DELETE', `/scanners/${made.body.id}`, { token })).status, 204);
    assert.equal((await api.call('DELETE', `/scanners/${made.body.id}`, { token })).status, 404);
  });

  it('shows the ledger shipping status and ships on demand (ledger:admin); off while no ledger is set', async () => {
    // the behaviour is test/integration/ledger-shipping.test.ts's; here each documented answer is produced once
    type LedgerJson = { enabled: boolean; journalHead: number; backlog: number; lastError: string | null };
    const status = await api.call<LedgerJson>('GET', '/ledger/status', { token });
    assert.equal(status.status, 200, JSON.stringify(status.body));
    assert.equal(status.body.enabled, false, 'no ledger URL in this store');
    assert.equal(status.body.backlog, status.body.journalHead, 'nothing shipped: the whole journal waits');
    const shipped = await api.call<LedgerJson>('POST', '/ledger/ship', { token });
    assert.equal(shipped.status, 200, JSON.stringify(shipped.body));
    assert.equal(shipped.body.backlog, status.body.backlog, 'with no ledger set, shipping sends nothing and loses nothing');
  });

  it('lists the backups and backs up now (backups:admin); 503 where this server cannot', async function () {
    // the behaviour is test/integration/backup-api.test.ts's; here each documented answer is produced once
    assert.equal((await api.call('GET', '/backups', { token })).status, 200);
    assert.equal((await api.call('POST', '/backups', { token, json: {} })).status, 400);
    const off = await api.call('POST', '/backups', { token, json: { idempotencyKey: key() } });
    assert.deepEqual([off.status, off.body.type], [503, '/problems/backups-unavailable'], 'this app was given no DATABASE_URL for pg_dump');
    needTools(this, 'pg_dump');
    const withUrl = await bootApp(t.db, { config: testConfig({ DATABASE_URL: t.url }) });
    try {
      const other = new ApiRecorder(withUrl.url, api.doc);
      assert.equal((await other.call('POST', '/backups', { token, json: { idempotencyKey: key() } })).status, 201);
      for (const s of other.seen) api.seen.add(s);
    } finally {
      await withUrl.close();
    }
  });

  it('rate-limits per token', async () => {
    const strict = await bootApp(t.db, { config: testConfig({ RATE_LIMIT_API_PER_MIN: '3' }) });
    try {
      const a = (await createApiToken(t.db, new FakeClock(), { name: 'A', scopes: ['catalog:read'] })).token;
      const b = (await createApiToken(t.db, new FakeClock(), { name: 'B', scopes: ['catalog:read'] })).token;
      const get = (tok: string) => fetch(`${strict.url}/api/v1/products?sku=RET-MUG`, { headers: { Authorization: `Bearer ${tok}` } });
      for (let i = 0; i < 3; i++) assert.equal((await get(a)).status, 200);
      const limited = await get(a);
      assert.equal(limited.status, 429);
      assert.equal((await limited.json()).type, '/problems/rate-limited');
      assert.equal((await get(b)).status, 200, 'another token is not affected');
    } finally {
      await strict.close();
    }
  });

  it('creates tokens from the command line, printed once and stored as a hash', async () => {
    const cli = spawnCli(['api-token', '--name', 'Accounting', '--scopes', 'journal:read,reports:read'], { DATA_DIR: tempDir(), DATABASE_URL: t.url, LOG_LEVEL: 'warn' });
    assert.equal(await cli.exited, 0, cli.output());
    const printed = /^(pos_[A-Za-z0-9_-]+)$/m.exec(cli.output())![1];
    const row = await t.db('api_tokens').where({ name: 'Accounting' }).first();
    assert.deepEqual(row.scopes, ['journal:read', 'reports:read']);
    assert.ok(!JSON.stringify(row).includes(printed), 'only a hash is stored');
    const r = await api.call('GET', '/journal?limit=1', { token: printed });
    assert.equal(r.status, 200);
    const bad = spawnCli(['api-token', '--name', 'X', '--scopes', 'everything'], { DATA_DIR: tempDir(), DATABASE_URL: t.url });
    assert.equal(await bad.exited, 2);
    assert.match(bad.output(), /unknown: everything/);
  });

  it('creates and changes products (catalog:write) and adjusts stock (inventory:write), each audited; terminals are told', async () => {
    const cat = await t.db('categories').where({ name: 'Retail' }).first('id');
    const rates = await t.db('tax_rates').orderBy('id').select('id');
    const heard: string[] = [];
    const off = app.events.subscribe('catalog:changed', () => void heard.push('catalog:changed'));
    const made = await api.call<{ id: number; price: number; taxRates: Record<string, number | null>; stock: number | null }>('POST', '/products', {
      token, json: { name: 'API tote bag', categoryId: cat.id, price: 650, taxRateId: rates[0].id, taxRates: { takeaway: rates[rates.length - 1].id }, sku: 'API-TOTE', trackStock: true },
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.stock, 0);
    assert.equal(made.body.taxRates.takeaway, rates[rates.length - 1].id);
    assert.equal((await api.call('POST', '/products', { token, json: { name: 'No price', categoryId: cat.id, taxRateId: rates[0].id } })).status, 400);
    assert.equal((await api.call('POST', '/products', { token, json: { name: 'Same SKU', categoryId: cat.id, price: 1, taxRateId: rates[0].id, sku: 'API-TOTE' } })).status, 400);
    const patched = await api.call<{ price: number; name: string }>('PATCH', `/products/${made.body.id}`, { token, json: { price: 700 } });
    assert.equal(patched.status, 200);
    assert.deepEqual([patched.body.price, patched.body.name], [700, 'API tote bag']);
    assert.equal((await api.call('PATCH', `/products/${made.body.id}`, { token, json: { price: -1 } })).status, 400);
    assert.equal((await api.call('PATCH', '/products/999999', { token, json: { price: 1 } })).status, 404);
    const price = await t.db('audit_log').where({ action: 'price_changed' }).orderBy('id', 'desc').first('details');
    assert.deepEqual([price.details.from, price.details.to], [650, 700]);
    const key = crypto.randomUUID();
    const adj = await api.call<{ stockAfter: number; delta: number }>('POST', '/inventory/adjustments', { token, json: { productId: made.body.id, reason: 'received', quantity: 24, idempotencyKey: key } });
    assert.equal(adj.status, 201, JSON.stringify(adj.body));
    assert.deepEqual([adj.body.delta, adj.body.stockAfter], [24, 24]);
    assert.equal((await api.call('POST', '/inventory/adjustments', { token, json: { productId: made.body.id, reason: 'received', quantity: 24, idempotencyKey: key } })).status, 201, 'a retry answers the first');
    assert.equal((await api.call('POST', '/inventory/adjustments', { token, json: { productId: made.body.id, reason: 'waste', quantity: 1, idempotencyKey: key } })).status, 422);
    assert.equal((await t.db('products').where({ id: made.body.id }).first('stock')).stock, 24);
    assert.equal((await api.call('POST', '/inventory/adjustments', { token, json: { productId: made.body.id, reason: 'lost', quantity: 1, idempotencyKey: crypto.randomUUID() } })).status, 400);
    assert.equal((await api.call('POST', '/inventory/adjustments', { token, json: { productId: 999999, reason: 'count', quantity: 1, idempotencyKey: crypto.randomUUID() } })).status, 404);
    const mug = await store.product('Café mug');
    assert.equal((await api.call('POST', '/inventory/adjustments', { token, json: { productId: mug.id, reason: 'waste', quantity: 1, idempotencyKey: crypto.randomUUID() } })).status, 409, 'waste of a product nobody counts');
    off();
    assert.ok(heard.length >= 3);
  });

  it('serves the daily sales summary (reports:read), and refuses a malformed date', async () => {
    const day = await api.call<{ from: string; summary: { checks: number } }>('GET', '/reports/sales/daily', { token });
    assert.equal(day.status, 200);
    assert.ok(day.body.summary.checks >= 0);
    assert.equal((await api.call('GET', '/reports/sales/daily?date=2026-13-45', { token })).status, 400);
  });

  it('takes a card payment on a reader (202, pending), follows it to paid, refunds it to the card; Cancel of a pending one', async () => {
    const reader = stripe.addReader('API reader');
    const [row] = await t.db('card_readers').insert({ stripe_reader_id: reader.id, label: 'API reader', device_type: reader.device_type, created_at: new Date(), updated_at: new Date() }).returning('id');
    const brownie = await store.product('Brownie');
    const order = await api.call<OrderJson>('POST', '/orders', { token, json: { type: 'counter', lines: [{ productId: brownie.id, qty: 2 }], idempotencyKey: key() } });
    const pay = await api.call<PaymentJson>('POST', `/orders/${order.body.id}/payments`, { token, json: { method: 'card', amount: order.body.total, tip: 50, readerId: row.id, idempotencyKey: key() } });
    assert.equal(pay.status, 202, JSON.stringify(pay.body));
    assert.equal(pay.body.status, 'pending');
    stripe.tap(reader.id);
    await until('the card payment is paid', async () => (await api.call<PaymentJson>('GET', `/payments/${pay.body.id}`, { token })).body.status === 'succeeded');
    const paid = await api.call<PaymentJson>('GET', `/payments/${pay.body.id}`, { token });
    assert.deepEqual([paid.body.orderStatus, paid.body.tip, paid.body.card?.last4], ['paid', 50, '4242']);
    const refund = await api.call<RefundJson>('POST', `/payments/${pay.body.id}/refunds`, { token, json: { reason: 'API card refund', amount: 100, idempotencyKey: key() } });
    assert.equal(refund.status, 201, JSON.stringify(refund.body));
    assert.equal([...stripe.refunds.values()].filter((r) => r.payment_intent === paid.body.card?.paymentIntent).length, 1);
    assert.equal((await api.call('POST', `/payments/${pay.body.id}/cancel`, { token })).status, 200, 'a settled payment answers as it is');

    const other = await api.call<OrderJson>('POST', '/orders', { token, json: { type: 'counter', lines: [{ productId: brownie.id, qty: 1 }], idempotencyKey: key() } });
    const pending = await api.call<PaymentJson>('POST', `/orders/${other.body.id}/payments`, { token, json: { method: 'card', amount: other.body.total, readerId: row.id, idempotencyKey: key() } });
    assert.equal(pending.status, 202);
    const canceled = await api.call<PaymentJson>('POST', `/payments/${pending.body.id}/cancel`, { token });
    assert.equal(canceled.body.status, 'canceled');
    const cash = await api.call<PaymentJson>('POST', `/orders/${other.body.id}/payments`, { token, json: { method: 'cash', amount: other.body.total, idempotencyKey: key() } });
    assert.equal(cash.status, 201);
    assert.equal((await api.call('POST', `/payments/${cash.body.id}/cancel`, { token })).status, 422);
    assert.equal((await api.call('POST', '/payments/999999/cancel', { token })).status, 404);
  });

  it('exercised every (path, method, status) the document lists', () => {
    const missing = api.listed().filter((k) => !api.seen.has(k));
    assert.deepEqual(missing, [], 'statuses in the OpenAPI document that no test produced');
  });
});
