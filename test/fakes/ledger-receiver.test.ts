import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import canonicalize from 'canonicalize';
import { entryHash } from '../../server/journal/hash';
import { LedgerReceiver, ruleHash, type Entry } from './ledger-receiver';

/** A chain of `n` small entries after `prev` (seq from `from`), hashed by the receiver's rule. */
function chain(n: number, from = 1, prev = '0'.repeat(64), tag = 'a'): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const e: Record<string, unknown> = { seq: from + i, kind: 'sale', at: '2026-03-14T09:30:00.000Z', receipt_no: from + i, tag, grand_totals: { sales: 100 * (from + i), refunds: 0, voids: 0 }, prev_hash: prev };
    e.hash = ruleHash(e);
    prev = e.hash as string;
    out.push(e as Entry);
  }
  return out;
}

describe('the fake cloud ledger (test/fakes/ledger-receiver.ts)', () => {
  describe('its hash rule', () => {
    it('serialises RFC 8785’s published example (section 3.2.2) to the bytes section 3.2.4 gives', () => {
      const input = String.raw`{
        "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
        "literals": [null, true, false]
      }`;
      const published =
        '7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72 75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a ' +
        '5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31 65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37 ' +
        '5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30 30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d';
      assert.equal(Buffer.from(canonicalize(JSON.parse(input))!, 'utf8').toString('hex'), published.replace(/ /g, ''));
    });

    it('sorts properties by UTF-16 code units as RFC 8785’s section 3.2.3 example does', () => {
      const input = String.raw`{"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One",
        "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}`;
      // (read from the text: a parsed object would put the integer-like key first again)
      const values = [...canonicalize(JSON.parse(input))!.matchAll(/:"([^"]*)"/g)].map((m) => m[1]);
      assert.deepEqual(values, ['Carriage Return', 'One', 'Control', 'Latin Small Letter O With Diaeresis', 'Euro Sign', 'Emoji: Grinning Face', 'Hebrew Letter Dalet With Dagesh']);
    });

    it('writes numbers as RFC 8785’s appendix B table does', () => {
      const table: Array<[string, string]> = [
        ['0000000000000000', '0'], ['8000000000000000', '0'], ['0000000000000001', '5e-324'], ['8000000000000001', '-5e-324'],
        ['7fefffffffffffff', '1.7976931348623157e+308'], ['ffefffffffffffff', '-1.7976931348623157e+308'],
        ['4340000000000000', '9007199254740992'], ['c340000000000000', '-9007199254740992'], ['4430000000000000', '295147905179352830000'],
        ['44b52d02c7e14af5', '9.999999999999997e+22'], ['44b52d02c7e14af6', '1e+23'], ['44b52d02c7e14af7', '1.0000000000000001e+23'],
        ['444b1ae4d6e2ef4e', '999999999999999700000'], ['444b1ae4d6e2ef4f', '999999999999999900000'], ['444b1ae4d6e2ef50', '1e+21'],
        ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'], ['3eb0c6f7a0b5ed8d', '0.000001'],
      ];
      for (const [bits, text] of table) assert.equal(canonicalize(Buffer.from(bits, 'hex').readDoubleBE(0)), text, bits);
    });

    it('gives the hash the store gives (server/journal/hash.ts): two implementations, one rule', () => {
      const e: Record<string, unknown> = { seq: 1, kind: 'sale', at: '2026-03-14T09:30:00.000Z', receipt_no: 1, lines: [{ name: 'Crème brûlée', qty: 2, unit: 650 }], grand_totals: { sales: 1300, refunds: 0, voids: 0 }, prev_hash: '0'.repeat(64) };
      assert.equal(ruleHash(e), entryHash(e));
      assert.equal(ruleHash({ ...e, hash: 'ignored' }), entryHash(e));
    });
  });

  describe('as an HTTP peer', () => {
    const r = new LedgerReceiver();
    let base: string;
    const secret = 'fake-ledger-secret-0123456789';
    before(async () => {
      r.secret = secret;
      base = await r.start();
    });
    after(() => r.stop());

    async function post(entries: Entry[], opts: { key?: string; secret?: string; body?: Buffer } = {}) {
      const body = opts.body ?? zlib.gzipSync(entries.map((e) => JSON.stringify(e) + '\n').join(''));
      const res = await fetch(`${base}/v1/stores/store-1/batches`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-ndjson', 'Content-Encoding': 'gzip', 'Idempotency-Key': opts.key ?? crypto.randomUUID(),
          'X-Batch-First-Seq': String(entries[0].seq), 'X-Batch-Last-Seq': String(entries[entries.length - 1].seq),
          'X-Signature': 'sha256=' + crypto.createHmac('sha256', opts.secret ?? secret).update(body).digest('hex'),
        },
        body: new Uint8Array(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    }

    const all = chain(30);

    it('stores a signed, verified batch that follows what it holds, and says how far it holds', async () => {
      assert.deepEqual(await post(all.slice(0, 10), { key: 'k1' }), { status: 200, body: { ackedThrough: 10 } });
      assert.deepEqual(r.head, { ackedThrough: 10, hash: all[9].hash });
      const head = await (await fetch(`${base}/v1/stores/store-1/head`)).json();
      assert.deepEqual(head, { ackedThrough: 10, hash: all[9].hash });
      const text = await (await fetch(`${base}/v1/stores/store-1/entries?afterSeq=3&limit=4`)).text();
      assert.deepEqual(text.trim().split('\n').map((l) => JSON.parse(l).seq), [4, 5, 6, 7]);
    });

    it('answers a key it has seen with its first answer, storing nothing again', async () => {
      assert.deepEqual(await post(all.slice(0, 10), { key: 'k1' }), { status: 200, body: { ackedThrough: 10 } });
      assert.equal(r.replays, 1);
      assert.equal(r.held.length, 10);
    });

    it('refuses a wrong signature (401 bad-signature), a batch after a gap (409 with where it expects), a hash that does not match (400)', async () => {
      assert.deepEqual(await post(all.slice(10, 12), { secret: 'another-secret-xxxxxxxxxxxx' }), { status: 401, body: { error: 'bad-signature' } });
      assert.deepEqual(await post(all.slice(12, 14)), { status: 409, body: { expectedSeq: 11 } });
      assert.deepEqual(await post(all.slice(4, 12)), { status: 409, body: { expectedSeq: 11 } }, 'an overlap it holds the same: resend from 11');
      const tampered = all.slice(10, 12).map((e) => ({ ...e }));
      tampered[1].receipt_no = 99;
      assert.equal((await post(tampered)).status, 400);
      assert.equal(r.held.length, 10);
    });

    it('answers 422 with the seq when it holds a different entry there', async () => {
      const other = chain(12, 1, '0'.repeat(64), 'b');
      assert.deepEqual(await post(other.slice(0, 12)), { status: 422, body: { error: 'a different entry', atSeq: 1 } });
      const strange = chain(2, 11, all[8].hash, 'c'); // 11 and 12 as if 10 were another entry
      assert.deepEqual(await post(strange), { status: 422, body: { error: 'a different entry', atSeq: 10 } });
      assert.equal((await post(all.slice(10, 12))).status, 200);
      assert.equal(r.held.length, 12);
    });

    it('can be down, fail on demand, answer 409 on demand, stall, and drop the connection after storing', async () => {
      r.mode = 'down';
      assert.equal((await post(all.slice(12, 13))).status, 503);
      r.mode = 'up';
      r.failNext = 1;
      r.failStatus = 500;
      assert.equal((await post(all.slice(12, 13))).status, 500);
      r.conflictNext = 5;
      assert.deepEqual(await post(all.slice(12, 13)), { status: 409, body: { expectedSeq: 5 } });
      r.stall = 'before';
      const stalled = post(all.slice(12, 14), { key: 'k-stall' });
      while (r.stalledCount === 0) await new Promise((res) => setTimeout(res, 5));
      assert.equal(r.held.length, 12, 'nothing stored while stalled before storing');
      r.release();
      assert.deepEqual(await stalled, { status: 200, body: { ackedThrough: 14 } });
      r.dropAfterStore = 1;
      await assert.rejects(post(all.slice(14, 16), { key: 'k-drop' }));
      assert.equal(r.held.length, 16, 'stored before the connection was dropped');
      assert.deepEqual(await post(all.slice(14, 16), { key: 'k-drop' }), { status: 200, body: { ackedThrough: 16 } }, 'the retry with the same key is recognised');
      assert.equal(r.held.length, 16);
    });
  });
});
