import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { GENESIS_HASH } from '../../server/journal/hash';
import { encodeBatch, signBody } from '../../server/ledger/encode';
import { revokeStore } from '../../server/head-office/registry';
import type { RunningHeadOffice } from '../../server/head-office/main';
import { FakeClock } from '../helpers/clock';
import {
  createLedgerDb, getJson, heldEntries, makeChain, postBatch, postRaw, registerStore, startInstance, type LedgerDb,
} from '../helpers/head-office';

/**
 * Issue 26, "Done means": the head office speaks ARCHITECTURE's ledger protocol — a batch stored
 * once whatever reaches which instance when, and every batch it cannot verify refused with the
 * protocol's answer and nothing of it stored. Two instances of the real service on loopback, one
 * database (owned by the service's own ordinary role), batches made as the store's shipper makes
 * them (server/ledger/encode.ts).
 */
describe('the head office: the ledger protocol', function () {
  this.timeout(120_000);
  let l: LedgerDb;
  let a: RunningHeadOffice;
  let b: RunningHeadOffice;
  const A = () => `http://127.0.0.1:${a.port}`;
  const B = () => `http://127.0.0.1:${b.port}`;

  before(async () => {
    l = await createLedgerDb();
    a = await startInstance(l.url);
    b = await startInstance(l.url);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await l?.drop();
  });

  /** A new store, registered: its id and secret. */
  async function store(): Promise<{ id: string; secret: string }> {
    const id = `store-${crypto.randomBytes(4).toString('hex')}`;
    return { id, secret: await registerStore(a.db, id) };
  }
  const held = async (id: string) => {
    const [{ n }] = await l.admin('ho_entries').where({ store_id: id }).count<{ n: string }[]>('* as n');
    const [{ k }] = await l.admin('ho_batches').where({ store_id: id }).count<{ k: string }[]>('* as k');
    const head = await l.admin('ho_stores').where({ store_id: id }).first('head_seq', 'head_hash');
    return { entries: Number(n), batches: Number(k), head: head.head_seq as number, hash: head.head_hash as string };
  };

  it('stores a signed batch and serves its head, and its entries exactly as they came', async () => {
    const s = await store();
    assert.deepEqual((await getJson(A(), `/v1/stores/${s.id}/head`)).body, { ackedThrough: 0, hash: GENESIS_HASH });
    const chain = makeChain(250);
    assert.deepEqual(await postBatch(A(), s.id, s.secret, chain.slice(0, 100)), { status: 200, body: { ackedThrough: 100 } });
    assert.deepEqual(await postBatch(B(), s.id, s.secret, chain.slice(100)), { status: 200, body: { ackedThrough: 250 } });
    assert.deepEqual((await getJson(B(), `/v1/stores/${s.id}/head`)).body, { ackedThrough: 250, hash: chain[249].hash });
    assert.deepEqual(await heldEntries(A(), s.id), chain);
    const text = await (await fetch(`${A()}/v1/stores/${s.id}/entries?afterSeq=10&limit=2`)).text();
    assert.equal(text, JSON.stringify(chain[10]) + '\n' + JSON.stringify(chain[11]) + '\n');
  });

  it('answers a retry of a stored batch (same id, same body) as the first time and stores nothing more, at either instance', async () => {
    const s = await store();
    const chain = makeChain(60);
    const id = crypto.randomUUID();
    assert.deepEqual(await postBatch(A(), s.id, s.secret, chain.slice(0, 30), id), { status: 200, body: { ackedThrough: 30 } });
    assert.deepEqual(await postBatch(A(), s.id, s.secret, chain.slice(30)), { status: 200, body: { ackedThrough: 60 } });
    assert.deepEqual(await postBatch(B(), s.id, s.secret, chain.slice(0, 30), id), { status: 200, body: { ackedThrough: 30 } });
    assert.deepEqual(await held(s.id), { entries: 60, batches: 2, head: 60, hash: chain[59].hash });
  });

  it('refuses a replay under the same batch id with another body: 422 naming the batch, nothing stored', async () => {
    const s = await store();
    const chain = makeChain(40);
    const id = crypto.randomUUID();
    assert.equal((await postBatch(A(), s.id, s.secret, chain.slice(0, 20), id)).status, 200);
    const before = await held(s.id);
    // the same id for the next range, and for the same range with one more entry
    const next = await postBatch(B(), s.id, s.secret, chain.slice(20), id);
    assert.equal(next.status, 422);
    assert.equal(next.body.atSeq, 21);
    assert.match(String(next.body.error), /idempotency-key-reused/);
    const longer = await postBatch(A(), s.id, s.secret, chain.slice(0, 21), id);
    assert.deepEqual([longer.status, longer.body.atSeq], [422, 1]);
    assert.deepEqual(await held(s.id), before);
  });

  it('refuses a tampered batch (one byte of one entry, signed again) with 422 naming that seq, nothing stored', async () => {
    const s = await store();
    const chain = makeChain(30);
    assert.equal((await postBatch(A(), s.id, s.secret, chain.slice(0, 10))).status, 200);
    const before = await held(s.id);
    const plain = zlib.gunzipSync((await encodeBatch(chain.slice(10))).body).toString('utf8');
    const at = plain.indexOf('"total":', plain.indexOf('"seq":17,'));
    const digit = plain[at + 8];
    const tampered = plain.slice(0, at + 8) + (digit === '9' ? '8' : String(Number(digit) + 1)) + plain.slice(at + 9);
    assert.equal(tampered.length, plain.length, 'one byte changed');
    const body = zlib.gzipSync(Buffer.from(tampered));
    const r = await postRaw(B(), s.id, { batchId: crypto.randomUUID(), first: 11, last: 30, body, signature: signBody(s.secret, body) });
    assert.equal(r.status, 422);
    assert.equal(r.body.atSeq, 17);
    assert.match(String(r.body.error), /hash does not match/);
    assert.deepEqual(await held(s.id), before);
    const row = await l.admin('ho_stores').where({ store_id: s.id }).first('last_refusal');
    assert.match(String(row.last_refusal), /^422: entry 17/);
  });

  it('refuses a wrong signature with 401 bad-signature: bytes changed after signing, or another secret; nothing stored', async () => {
    const s = await store();
    const chain = makeChain(20);
    const enc = await encodeBatch(chain);
    const flipped = Buffer.from(enc.body);
    flipped[flipped.length - 12] ^= 0x01;
    const changed = await postRaw(A(), s.id, { batchId: crypto.randomUUID(), first: 1, last: 20, body: flipped, signature: signBody(s.secret, enc.body) });
    assert.deepEqual(changed, { status: 401, body: { error: 'bad-signature' } });
    const other = await postBatch(B(), s.id, 'another-secret-entirely-0123456789', chain);
    assert.deepEqual(other, { status: 401, body: { error: 'bad-signature' } });
    const none = await postRaw(A(), s.id, { batchId: crypto.randomUUID(), first: 1, last: 20, body: enc.body, signature: '' });
    assert.equal(none.status, 401);
    assert.deepEqual(await held(s.id), { entries: 0, batches: 0, head: 0, hash: GENESIS_HASH });
  });

  it('answers a gap with 409 and the seq it expects, nothing stored', async () => {
    const s = await store();
    const chain = makeChain(50);
    assert.equal((await postBatch(A(), s.id, s.secret, chain.slice(0, 10))).status, 200);
    const gap = await postBatch(B(), s.id, s.secret, chain.slice(11, 30));
    assert.deepEqual(gap, { status: 409, body: { expectedSeq: 11 } });
    const again = await postBatch(A(), s.id, s.secret, chain.slice(0, 5));
    assert.deepEqual(again, { status: 409, body: { expectedSeq: 11 } }, 'entries it holds already, under a new id');
    assert.deepEqual(await held(s.id), { entries: 10, batches: 1, head: 10, hash: chain[9].hash });
  });

  it('answers an entry that differs from the one it holds with 422 at that seq and shows a fork; nothing overwritten', async () => {
    const s = await store();
    const chain = makeChain(40);
    assert.equal((await postBatch(A(), s.id, s.secret, chain.slice(0, 30))).status, 200);
    const other = [...chain.slice(20, 25), ...makeChain(15, chain[24], 'another till')];
    const r = await postBatch(B(), s.id, s.secret, other);
    assert.deepEqual([r.status, r.body.atSeq], [422, 26]);
    // a chain that starts after what is held but on another entry 30
    const after = await postBatch(A(), s.id, s.secret, makeChain(5, { seq: 30, hash: 'f'.repeat(64) }));
    assert.deepEqual([after.status, after.body.atSeq], [422, 30]);
    assert.deepEqual(await held(s.id), { entries: 30, batches: 1, head: 30, hash: chain[29].hash });
    assert.deepEqual(await heldEntries(B(), s.id), chain.slice(0, 30));
    const row = await l.admin('ho_stores').where({ store_id: s.id }).first('fork_at_seq');
    assert.equal(row.fork_at_seq, 30);
  });

  it('two instances receiving the same batch at the same moment store it once and both answer 200', async () => {
    const s = await store();
    const chain = makeChain(20 * 200);
    for (let i = 0; i < 20; i++) {
      const batch = await encodeBatch(chain.slice(i * 200, (i + 1) * 200));
      const req = { batchId: crypto.randomUUID(), first: batch.firstSeq, last: batch.lastSeq, body: batch.body, signature: signBody(s.secret, batch.body) };
      const answers = await Promise.all([postRaw(A(), s.id, req), postRaw(B(), s.id, req)]);
      for (const x of answers) assert.deepEqual(x, { status: 200, body: { ackedThrough: (i + 1) * 200 } }, `round ${i}`);
    }
    assert.deepEqual(await held(s.id), { entries: 4000, batches: 20, head: 4000, hash: chain[3999].hash });
  });

  it('racing batches of one store at two instances: no fork, one stored, the loser 409 with the seq after the winner', async () => {
    const s = await store();
    const chain = makeChain(20 * 200);
    for (let i = 0; i < 20; i++) {
      const range = chain.slice(i * 200, (i + 1) * 200);
      // two batch ids for one range (a retry under a new id while the first was in flight)
      const answers = await Promise.all([postBatch(A(), s.id, s.secret, range), postBatch(B(), s.id, s.secret, range)]);
      const statuses = answers.map((x) => x.status).sort();
      assert.deepEqual(statuses, [200, 409], `round ${i}: ${JSON.stringify(answers)}`);
      assert.deepEqual(answers.find((x) => x.status === 409)!.body, { expectedSeq: (i + 1) * 200 + 1 });
    }
    assert.deepEqual(await held(s.id), { entries: 4000, batches: 20, head: 4000, hash: chain[3999].hash });
    assert.deepEqual(await heldEntries(A(), s.id), chain);
  });

  it('refuses a revoked store (401), an unknown store (404), the wrong media type (415) and a batch without its headers (400)', async () => {
    const s = await store();
    const chain = makeChain(5);
    await revokeStore(a.db, new FakeClock(), s.id);
    assert.deepEqual(await postBatch(A(), s.id, s.secret, chain), { status: 401, body: { error: 'bad-signature' } });
    assert.equal((await postBatch(B(), 'no-such-store', s.secret, chain)).status, 404);
    const enc = await encodeBatch(chain);
    const plain = await fetch(`${A()}/v1/stores/${s.id}/batches`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(plain.status, 415);
    const noKey = await postRaw(A(), s.id, { batchId: '', first: 1, last: 5, body: enc.body, signature: signBody(s.secret, enc.body) });
    assert.equal(noKey.status, 400);
    assert.deepEqual((await held(s.id)).entries, 0);
  });

  it('refuses a batch over its size limits with 413: more entries than a batch may hold', async () => {
    const s = await store();
    const enc = await encodeBatch(makeChain(5));
    const r = await postRaw(A(), s.id, { batchId: crypto.randomUUID(), first: 1, last: 60_000, body: enc.body, signature: signBody(s.secret, enc.body) });
    assert.equal(r.status, 413);
    assert.match(String(r.body.error), /at most 50000 entries/);
    assert.deepEqual((await held(s.id)).entries, 0);
  });

  it('limits each store\'s requests across instances (429 with Retry-After), and answers /healthz', async () => {
    const clock = new FakeClock();
    const limited = await startInstance(l.url, { clock, rateLimit: { burst: 3, perMinute: 60 } });
    try {
      const s = await store();
      const url = `http://127.0.0.1:${limited.port}/v1/stores/${s.id}/head`;
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) codes.push((await fetch(url)).status);
      assert.deepEqual(codes, [200, 200, 200, 429]);
      const res = await fetch(url);
      assert.equal(res.headers.get('retry-after'), '1');
      clock.advance(2000);
      assert.equal((await fetch(url)).status, 200, 'tokens come back with time');
      const other = await store();
      assert.equal((await fetch(`http://127.0.0.1:${limited.port}/v1/stores/${other.id}/head`)).status, 200, 'another store has its own bucket');
      const h = await fetch(`http://127.0.0.1:${limited.port}/healthz`);
      assert.equal(h.status, 200);
      assert.equal(((await h.json()) as { db: string }).db, 'ok');
    } finally {
      await limited.stop();
    }
  });
});
