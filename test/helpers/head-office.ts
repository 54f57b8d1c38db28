import crypto from 'node:crypto';
import { GENESIS_HASH, entryHash } from '../../server/journal/hash';
import type { JournalEntry } from '../../server/journal/service';
import { createDb, type Db } from '../../server/db/knex';
import { encodeBatch, signBody } from '../../server/ledger/encode';
import { addStore } from '../../server/head-office/registry';
import { startHeadOffice, type RunningHeadOffice } from '../../server/head-office/main';
import type { RateLimit } from '../../server/head-office/receive';
import { FakeClock } from './clock';
import { testConfig } from './config';
import { testLog } from './log';
import { testCluster } from './pg';

/** The head office's SECRET_KEY in tests: every instance of one ledger shares it (it unseals the store secrets). */
export const HO_SECRET_KEY = 'head-office-test-secret-key-0123456789abcdef';

export interface LedgerDb {
  /** as the service's own ordinary role, owner of the database */
  url: string;
  role: string;
  /** the cluster's superuser on the same database (for what a test looks at or holds) */
  admin: Db;
  drop(): Promise<void>;
}

/** A database for one head office, owned by an ordinary role of its own, as the service runs (docs/HEAD-OFFICE.md). */
export async function createLedgerDb(): Promise<LedgerDb> {
  const c = testCluster();
  const name = 'ho_' + crypto.randomBytes(6).toString('hex');
  const password = crypto.randomBytes(12).toString('hex');
  const root = createDb(c.connectionString('postgres'), { poolMax: 1 });
  await root.raw(`create role ${name} login nosuperuser password '${password}'`);
  await root.raw(`create database ${name} owner ${name}`);
  await root.destroy();
  const url = c.connectionString(name).replace(/^postgres:\/\/[^@]*@/, `postgres://${name}:${password}@`);
  const admin = createDb(c.connectionString(name), { poolMax: 4 });
  return {
    url,
    role: name,
    admin,
    async drop() {
      await admin.destroy();
      const r = createDb(c.connectionString('postgres'), { poolMax: 1 });
      await r.raw(`drop database if exists ${name} with (force)`);
      await r.raw(`drop role if exists ${name}`);
      await r.destroy();
    },
  };
}

/** One instance of the service, in this process, on `url`'s database (its own DATA_DIR). */
export function startInstance(url: string, opts: { clock?: FakeClock; rateLimit?: RateLimit } = {}): Promise<RunningHeadOffice> {
  return startHeadOffice(testConfig({ DATABASE_URL: url, SECRET_KEY: HO_SECRET_KEY }), { log: testLog, clock: opts.clock, rateLimit: opts.rateLimit ?? { burst: 100_000, perMinute: 1_000_000 } });
}

/** Registers a store as `ledger add-store` does; its secret. */
export async function registerStore(db: Db, storeId: string): Promise<string> {
  return (await addStore(db, new FakeClock(), HO_SECRET_KEY, storeId)).secret;
}

/**
 * `n` chained sale entries after `after` (seq, prev_hash), hashed by the one rule, made in memory
 * in the shape the store's journal gives them (receipt numbers, growing grand totals, lines, tax,
 * tender): a store's journal without selling, for the protocol's tests, or adopted in bulk into a
 * store's journal (server/journal/sync.ts adoptEntries). `salt` makes another chain.
 */
export function makeChain(n: number, after: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH }, salt = ''): JournalEntry[] {
  const out: JournalEntry[] = [];
  let prev = after.hash;
  let sales = after.seq * 400;
  for (let i = 1; i <= n; i++) {
    const seq = after.seq + i;
    const total = 350 + (seq % 17) * 25;
    const base = Math.round(total / 1.1);
    sales += total;
    const body: Record<string, unknown> = {
      seq, kind: 'sale', at: new Date(Date.UTC(2026, 2, 14, 9, 30) + seq * 1000).toISOString(), prev_hash: prev, receipt_no: seq,
      order_id: 1_000_000 + seq, order_number: (seq % 999) + 1, business_date: '2026-03-14', order_type: 'counter', currency: 'EUR', terminal: salt || 'Counter 1',
      lines: [
        { name: 'Flat white', quantity: 1, unit_price: 350, modifiers: [{ group: 'Milk', name: 'Oat', price_delta: 0 }], gross: 350 },
        { name: 'Croissant', quantity: 1, unit_price: total - 350, modifiers: [], gross: total - 350 },
      ],
      taxes: [{ name: 'VAT 10%', rate_ppm: 100_000, base, tax: total - base }],
      total, tenders: [{ method: 'cash', amount: total, tendered: total, change: 0 }],
      grand_totals: { sales, refunds: 0, voids: 0 },
    };
    const e = { ...body, hash: entryHash(body) } as JournalEntry;
    out.push(e);
    prev = e.hash;
  }
  return out;
}

export interface Sent {
  status: number;
  body: Record<string, unknown>;
}

/** POSTs a batch as the store's shipper sends it (server/ledger/protocol.ts), with `body` and headers overridable. */
export async function postRaw(base: string, storeId: string, req: { batchId: string; first: number; last: number; body: Buffer; signature: string }): Promise<Sent> {
  const res = await fetch(`${base}/v1/stores/${encodeURIComponent(storeId)}/batches`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-ndjson', 'Content-Encoding': 'gzip', 'Idempotency-Key': req.batchId,
      'X-Batch-First-Seq': String(req.first), 'X-Batch-Last-Seq': String(req.last), 'X-Signature': req.signature,
    },
    body: new Uint8Array(req.body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Encodes, signs and POSTs `entries` as one batch. */
export async function postBatch(base: string, storeId: string, secret: string, entries: JournalEntry[], batchId: string = crypto.randomUUID()): Promise<Sent> {
  const b = await encodeBatch(entries);
  return postRaw(base, storeId, { batchId, first: b.firstSeq, last: b.lastSeq, body: b.body, signature: signBody(secret, b.body) });
}

export async function getJson(base: string, path: string): Promise<Sent> {
  const res = await fetch(base + path);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** What the ledger holds of a store, from its `entries` route, parsed. */
export async function heldEntries(base: string, storeId: string): Promise<JournalEntry[]> {
  const out: JournalEntry[] = [];
  for (;;) {
    const res = await fetch(`${base}/v1/stores/${encodeURIComponent(storeId)}/entries?afterSeq=${out.length}&limit=5000`);
    if (res.status !== 200) throw new Error(`entries: HTTP ${res.status}`);
    const lines = (await res.text()).split('\n').filter(Boolean);
    if (!lines.length) return out;
    for (const l of lines) out.push(JSON.parse(l) as JournalEntry);
  }
}
