import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import canonicalize from 'canonicalize';

/**
 * A cloud ledger on loopback for tests and the bench: a real HTTP peer of ARCHITECTURE's "cloud
 * ledger protocol", written apart from the store's code (nothing under server/ is imported) so
 * that the two sides check each other. It checks each batch's signature, recomputes every
 * entry's hash by the rule (RFC 8785 through the `canonicalize` package, SHA-256, the previous
 * hash in front), checks the chain's continuity with what it holds, answers a key it has seen
 * with its first answer, stores, and serves its head and its entries.
 *
 * It can be told to be down (503 to everything), to stall (hold batch requests unanswered, before
 * or after storing them), to drop the connection after storing a batch, to fail the next n
 * batches with a status, or to answer the next batch 409 with an expectedSeq of the test's choice.
 */
export type Entry = Record<string, unknown> & { seq: number; prev_hash: string; hash: string };

export interface CapturedRequest {
  headers: http.IncomingHttpHeaders;
  /** the body exactly as received */
  body: Buffer;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

const GENESIS = '0'.repeat(64);

/** hex(SHA-256(prev_hash + RFC 8785 of the entry without its hash)) */
export function ruleHash(entry: Record<string, unknown>): string {
  const { hash: _omit, ...rest } = entry;
  return crypto.createHash('sha256').update(String(rest.prev_hash) + canonicalize(rest), 'utf8').digest('hex');
}

export class LedgerReceiver {
  storeId = 'store-1';
  secret = '';
  /** what it holds: entry seq n at [n - 1], with the line it came as */
  held: Array<{ entry: Entry; line: string }> = [];
  /** every batch POST that reached the handler, bytes as received */
  requests: CapturedRequest[] = [];
  /** answers given to a key seen before */
  replays = 0;
  /** every status answered to a batch, in order */
  statuses: number[] = [];
  mode: 'up' | 'down' = 'up';
  /** hold batch requests: 'before' storing (nothing stored until release), 'after' storing (the answer is held) */
  stall: 'before' | 'after' | null = null;
  /** start stalling (`how`) at the first batch that arrives once it holds at least `atLeast` entries */
  stallWhenHolding: { atLeast: number; how: 'before' | 'after' } | null = null;
  /** the ranges it stored, in order (a replayed key stores nothing) */
  stored: Array<[number, number]> = [];
  /** drop the connection after storing this many more batches (0: none) */
  dropAfterStore = 0;
  /** fail this many more batches with failStatus, before looking at them */
  failNext = 0;
  failStatus = 503;
  /** answer the next batch 409 with this expectedSeq, storing nothing */
  conflictNext: number | null = null;
  private keys = new Map<string, { first: number; last: number; answer: Answer }>();
  private stalled: Array<() => void> = [];
  private server = http.createServer((req, res) => void this.handle(req, res));

  async start(host = '127.0.0.1', port = 0): Promise<string> {
    await new Promise<void>((r, reject) => this.server.once('error', reject).listen(port, host, () => r()));
    return `http://${host}:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.stalled = [];
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Lets the stalled requests go on (and stops stalling). */
  release(): void {
    this.stall = null;
    const go = this.stalled;
    this.stalled = [];
    for (const f of go) f();
  }

  /** Forgets the stalled requests without answering them (their client is gone) and stops stalling. */
  discardStalled(): void {
    this.stall = null;
    this.stalled = [];
  }

  get stalledCount(): number {
    return this.stalled.length;
  }

  get head(): { ackedThrough: number; hash: string } {
    const last = this.held[this.held.length - 1];
    return { ackedThrough: this.held.length, hash: last ? last.entry.hash : GENESIS };
  }

  /** The ledger loses what it held after `n` (its own restore from a backup). */
  truncate(n: number): void {
    this.held.length = Math.min(this.held.length, n);
  }

  /** Puts entries in as they are, unchecked (a test's ledger that knows more, or something else). */
  plant(entries: Entry[]): void {
    for (const e of entries) this.held[e.seq - 1] = { entry: e, line: JSON.stringify(e) };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const send = (a: Answer) => res.writeHead(a.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(a.body));
    if (this.mode === 'down') return void send({ status: 503, body: { error: 'down' } });
    const url = new URL(req.url ?? '/', 'http://ledger');
    const m = /^\/v1\/stores\/([^/]+)\/(batches|head|entries)$/.exec(url.pathname);
    if (!m || decodeURIComponent(m[1]) !== this.storeId) return void send({ status: 404, body: { error: 'no such store' } });
    if (req.method === 'GET' && m[2] === 'head') return void send({ status: 200, body: this.head });
    if (req.method === 'GET' && m[2] === 'entries') {
      const after = Number(url.searchParams.get('afterSeq') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 1000);
      const lines = this.held.slice(after, after + limit).map((h) => h.line + '\n');
      return void res.writeHead(200, { 'Content-Type': 'application/x-ndjson' }).end(lines.join(''));
    }
    if (req.method !== 'POST' || m[2] !== 'batches') return void send({ status: 405, body: { error: 'method' } });
    this.requests.push({ headers: req.headers, body });
    if (this.stallWhenHolding && this.held.length >= this.stallWhenHolding.atLeast) {
      this.stall = this.stallWhenHolding.how;
      this.stallWhenHolding = null;
    }
    if (this.stall === 'before') return void this.stalled.push(() => void this.batch(req, body, res, send));
    return this.batch(req, body, res, send);
  }

  private async batch(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse, send: (a: Answer) => void): Promise<void> {
    const answer = (a: Answer) => {
      this.statuses.push(a.status);
      send(a);
    };
    if (this.failNext > 0) {
      this.failNext--;
      return answer({ status: this.failStatus, body: { error: 'told to fail' } });
    }
    const expected = 'sha256=' + crypto.createHmac('sha256', this.secret).update(body).digest('hex');
    const sent = String(req.headers['x-signature'] ?? '');
    if (sent.length !== expected.length || !crypto.timingSafeEqual(Buffer.from(sent), Buffer.from(expected))) return answer({ status: 401, body: { error: 'bad-signature' } });
    if (req.headers['content-type'] !== 'application/x-ndjson' || req.headers['content-encoding'] !== 'gzip') return answer({ status: 415, body: { error: 'gzip NDJSON only' } });
    const key = String(req.headers['idempotency-key'] ?? '');
    const first = Number(req.headers['x-batch-first-seq']);
    const last = Number(req.headers['x-batch-last-seq']);
    if (!key) return answer({ status: 400, body: { error: 'no Idempotency-Key' } });
    const seen = this.keys.get(key);
    if (seen) {
      if (seen.first !== first || seen.last !== last) return answer({ status: 422, body: { error: 'key reused for another range', atSeq: first } });
      this.replays++;
      return answer(seen.answer);
    }
    if (this.conflictNext !== null) {
      const expectedSeq = this.conflictNext;
      this.conflictNext = null;
      return answer({ status: 409, body: { expectedSeq } });
    }
    let entries: Array<{ entry: Entry; line: string }>;
    try {
      entries = zlib.gunzipSync(body).toString('utf8').split('\n').filter(Boolean).map((line) => ({ entry: JSON.parse(line) as Entry, line }));
    } catch {
      return answer({ status: 400, body: { error: 'not gzip NDJSON' } });
    }
    if (!entries.length || entries[0].entry.seq !== first || entries[entries.length - 1].entry.seq !== last || entries.length !== last - first + 1) {
      return answer({ status: 400, body: { error: 'the range headers do not match the entries' } });
    }
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i].entry;
      if (ruleHash(e) !== e.hash) return answer({ status: 400, body: { error: 'an entry whose hash does not match it', atSeq: e.seq } });
      if (i && (e.seq !== entries[i - 1].entry.seq + 1 || e.prev_hash !== entries[i - 1].entry.hash)) return answer({ status: 400, body: { error: 'a broken chain', atSeq: e.seq } });
    }
    const held = this.held.length;
    for (const { entry } of entries) {
      if (entry.seq > held) break;
      if (this.held[entry.seq - 1].entry.hash !== entry.hash) return answer({ status: 422, body: { error: 'a different entry', atSeq: entry.seq } });
    }
    if (first !== held + 1) return answer({ status: 409, body: { expectedSeq: held + 1 } });
    if (entries[0].entry.prev_hash !== this.head.hash) return answer({ status: 422, body: { error: 'a different entry', atSeq: held } });
    this.held.push(...entries);
    this.stored.push([first, last]);
    const stored: Answer = { status: 200, body: { ackedThrough: this.held.length } };
    this.keys.set(key, { first, last, answer: stored });
    if (this.dropAfterStore > 0) {
      this.dropAfterStore--;
      this.statuses.push(0);
      return void res.socket?.destroy();
    }
    if (this.stall === 'after') return void this.stalled.push(() => answer(stored));
    answer(stored);
  }
}
