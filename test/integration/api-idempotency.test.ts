import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { bootApp, type TestApp } from '../helpers/app';
import { createTestDb, type TestDb } from '../helpers/pg';
import { counts, seedStore } from '../helpers/store';
import { createApiToken, API_SCOPES } from '../../server/api/tokens';
import { IDEMPOTENCY_TTL_MS, pruneIdempotencyKeys } from '../../server/api/middleware';
import { canonicalJson } from '../../server/journal/hash';

/**
 * The API's idempotency key is recorded in the transaction of the effect it guards, with its
 * answer: both are saved or neither is, so a retry either replays the first answer or runs now.
 */
describe('API idempotency keys, inside the transaction of their effect', function () {
  this.timeout(60_000);
  let t: TestDb;
  let app: TestApp;
  let token: string;
  let tokenId: number;
  let store: Awaited<ReturnType<typeof seedStore>>;

  before(async () => {
    t = await createTestDb({ poolMax: 30 });
    store = await seedStore(t.db);
    app = await bootApp(t.db);
    const made = await createApiToken(t.db, app.clock, { name: 'Idempotency client', scopes: [...API_SCOPES] });
    token = made.token;
    tokenId = (await t.db('api_tokens').where({ name: 'Idempotency client' }).first('id')).id;
  });
  after(async () => {
    await app.close();
    await t.drop();
  });

  async function post(path: string, json: unknown) {
    const res = await fetch(`${app.url}/api/v1${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', 'Content-Type': 'application/json' },
      body: JSON.stringify(json),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, replayed: res.headers.get('idempotent-replayed') };
  }
  async function newOrder() {
    const brownie = await store.product('Brownie');
    const r = await post('/orders', { type: 'counter', lines: [{ productId: brownie.id, qty: 2 }], idempotencyKey: crypto.randomUUID() });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body as { id: number; total: number };
  }
  const keyRow = (key: string) => t.db('api_idempotency').where({ token_id: tokenId, key }).first();

  it('a payment that fails after its key was taken leaves no key and no payment; the retry runs and succeeds', async () => {
    const order = await newOrder();
    const body = { method: 'cash', amount: order.total, idempotencyKey: crypto.randomUUID() };
    await t.db.raw(`create function test_refuse_entry() returns trigger language plpgsql as $$
      begin raise exception 'test: the journal refuses this entry'; end $$`);
    await t.db.raw('create trigger test_refuse_entry before insert on journal for each row execute function test_refuse_entry()');
    try {
      const failed = await post(`/orders/${order.id}/payments`, body);
      assert.equal(failed.status, 500);
    } finally {
      await t.db.raw('drop trigger test_refuse_entry on journal');
      await t.db.raw('drop function test_refuse_entry()');
    }
    assert.equal(await keyRow(body.idempotencyKey), undefined, 'the key went with the failed effect');
    assert.equal((await t.db('payments').where({ order_id: order.id })).length, 0);
    const retried = await post(`/orders/${order.id}/payments`, body);
    assert.equal(retried.status, 201, JSON.stringify(retried.body));
    assert.equal(retried.replayed, null, 'run now, not replayed');
    const row = await keyRow(body.idempotencyKey);
    assert.equal(row.status, 201);
    assert.deepEqual(row.response, retried.body, 'the answer stored with the key');
  });

  it('10 concurrent requests with one key: one payment; each waits for the first and gets its answer', async () => {
    const order = await newOrder();
    const body = { method: 'cash', amount: order.total, idempotencyKey: crypto.randomUUID() };
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(`/orders/${order.id}/payments`, body)));
    assert.deepEqual(answers.map((a) => a.status), Array(10).fill(201));
    assert.equal(answers.filter((a) => a.replayed === 'true').length, 9);
    for (const a of answers) assert.deepEqual(a.body, answers[0].body);
    assert.equal((await t.db('payments').where({ order_id: order.id })).length, 1);
    assert.equal((await t.db('journal').whereRaw("entry->>'order_id' = ?", [String(order.id)])).length, 1);
  });

  it('a key left "in progress" by an earlier server (no answer stored) does not block the retry', async () => {
    const order = await newOrder();
    const body = { method: 'cash', amount: order.total, idempotencyKey: crypto.randomUUID() };
    // what the former middleware left behind after a kill -9: the key's row, no answer, no payment
    const canonical = canonicalJson(body);
    await t.db('api_idempotency').insert({ token_id: tokenId, key: body.idempotencyKey, request_hash: crypto.createHash('sha256').update(`POST /api/v1/orders/${order.id}/payments ${canonical}`).digest('hex'), created_at: app.clock.now() });
    const r = await post(`/orders/${order.id}/payments`, body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal((await keyRow(body.idempotencyKey)).status, 201);
  });

  it(`a key expires after ${IDEMPOTENCY_TTL_MS / 3_600_000} hours: then the same key is a new request`, async () => {
    assert.ok(IDEMPOTENCY_TTL_MS >= 24 * 3_600_000);
    const brownie = await store.product('Brownie');
    const body = { type: 'counter', lines: [{ productId: brownie.id, qty: 1 }], idempotencyKey: crypto.randomUUID() };
    const first = await post('/orders', body);
    assert.equal(first.status, 201);
    app.clock.advance(IDEMPOTENCY_TTL_MS - 60_000);
    const replay = await post('/orders', body);
    assert.equal(replay.replayed, 'true');
    assert.equal(replay.body.id, first.body.id);
    app.clock.advance(2 * 60_000);
    const before = await counts(t.db, 'orders');
    const fresh = await post('/orders', body);
    assert.equal(fresh.status, 201);
    assert.equal(fresh.replayed, null);
    assert.notEqual(fresh.body.id, first.body.id);
    assert.equal((await counts(t.db, 'orders')).orders, before.orders + 1);
    // the scheduled prune forgets every key past its time, and only those
    app.clock.advance(IDEMPOTENCY_TTL_MS + 1);
    const keptKey = crypto.randomUUID();
    assert.equal((await post('/orders', { ...body, idempotencyKey: keptKey })).status, 201);
    assert.ok((await pruneIdempotencyKeys(t.db, app.clock)) > 0);
    assert.deepEqual(await t.db('api_idempotency').where({ token_id: tokenId }).pluck('key'), [keptKey]);
  });
});
