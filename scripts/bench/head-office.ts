/**
 * The head office figure (issue 26): batches of 1000 entries from 20 simulated stores at once,
 * entries verified and stored per second by the cloud ledger service, with one instance and with
 * two on one database (the ratio says whether adding an instance helps).
 *
 * Each instance is the real `ledger serve` (server/cli.ts) as its own process, on a scratch
 * embedded PostgreSQL through DATABASE_URL, as an ordinary role owning its database (as the
 * service runs). The batches are made and signed before the clock starts, as the stores' shippers
 * would send them (server/ledger/encode.ts); 20 clients, one per store, each sends its batches one
 * after another, all at once; with two instances each store's batches alternate between them.
 * The clients run in this process, on the same cores as the service and PostgreSQL.
 *
 * Alone: `npx tsx scripts/bench/head-office.ts` (BENCH_HEAD_OFFICE_BATCHES batches per store).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemClock } from '../../server/clock';
import { PgCluster, freePort } from '../../server/db/embedded';
import { createDb } from '../../server/db/knex';
import { GENESIS_HASH, entryHash } from '../../server/journal/hash';
import { encodeBatch, signBody } from '../../server/ledger/encode';
import { createLogger } from '../../server/logger';
import { addStore } from '../../server/head-office/registry';
import { migrateHeadOffice } from '../../server/head-office/migrations';
import type { Row } from './report';
import { fmt } from './stats';

const ROOT = path.resolve(__dirname, '../..');
const SECRET_KEY = 'bench-head-office-secret-key-0123456789abcdef';
const STORES = 20;
const BATCH = 1000;

interface Prepared {
  storeId: string;
  batches: Array<{ id: string; first: number; last: number; body: Buffer; signature: string }>;
}

/** `batches` signed batches of BATCH chained sale entries for one store. */
async function prepareStore(storeId: string, secret: string, batches: number): Promise<Prepared> {
  const out: Prepared = { storeId, batches: [] };
  let prev = GENESIS_HASH;
  let seq = 0;
  for (let b = 0; b < batches; b++) {
    const entries = [];
    for (let i = 0; i < BATCH; i++) {
      seq++;
      const total = 350 + (seq % 17) * 25;
      const base = Math.round(total / 1.1);
      const e: Record<string, unknown> = {
        seq, kind: 'sale', at: new Date(Date.UTC(2026, 2, 14, 9) + seq * 1000).toISOString(), prev_hash: prev, receipt_no: seq, business_date: '2026-03-14',
        order_id: seq, order_number: (seq % 999) + 1, order_type: 'counter', currency: 'EUR', terminal: 'Counter 1', staff: { id: 1, name: 'Owner' },
        lines: [
          { name: 'Flat white', quantity: 1, unit_price: 350, modifiers: [{ group: 'Milk', name: 'Oat', price_delta: 0 }], gross: 350 },
          { name: 'Croissant', quantity: 1, unit_price: total - 350, modifiers: [], gross: total - 350 },
        ],
        taxes: [{ name: 'VAT 10%', rate_ppm: 100_000, base, tax: total - base }],
        total, tenders: [{ method: 'cash', amount: total, tendered: total, change: 0 }], grand_totals: { sales: seq * 400, refunds: 0, voids: 0 },
      };
      e.hash = entryHash(e);
      prev = e.hash as string;
      entries.push(e);
    }
    const enc = await encodeBatch(entries as never);
    out.batches.push({ id: crypto.randomUUID(), first: enc.firstSeq, last: enc.lastSeq, body: enc.body, signature: signBody(secret, enc.body) });
  }
  return out;
}

/** One `ledger serve` process; resolves with its URL once it listens. */
async function serve(databaseUrl: string, dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server/cli.ts'), 'ledger', 'serve'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: databaseUrl, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', SECRET_KEY, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    if (child.exitCode !== null) throw new Error(`ledger serve exited with ${child.exitCode}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) return { child, url };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error('ledger serve did not answer /healthz in time');
}

/** Every store's batches sent at once (each store's one after another); entries stored per second. */
async function run(stores: Prepared[], urls: string[]): Promise<{ rate: number; seconds: number; entries: number }> {
  const t0 = process.hrtime.bigint();
  let entries = 0;
  await Promise.all(stores.map(async (s, k) => {
    for (const [i, b] of s.batches.entries()) {
      const url = urls[(k + i) % urls.length];
      const res = await fetch(`${url}/v1/stores/${s.storeId}/batches`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-ndjson', 'Content-Encoding': 'gzip', 'Idempotency-Key': b.id, 'X-Batch-First-Seq': String(b.first), 'X-Batch-Last-Seq': String(b.last), 'X-Signature': b.signature },
        body: new Uint8Array(b.body),
      });
      const answer = (await res.json()) as { ackedThrough?: number };
      if (res.status !== 200 || answer.ackedThrough !== b.last) throw new Error(`${s.storeId} batch ${b.first}–${b.last}: HTTP ${res.status} ${JSON.stringify(answer)}`);
      entries += b.last - b.first + 1;
    }
  }));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { rate: entries / seconds, seconds, entries };
}

/** The two rows; a failure is a row that says so (the rest of the bench goes on). */
export async function measureHeadOffice(opts: { batches?: number; note?: (msg: string) => void } = {}): Promise<Row[]> {
  try {
    return await measure(opts);
  } catch (err) {
    return [{ figure: 'Head office: entries verified and stored, one and two instances', now: 'failed', before: '', ratio: '', aim: '', met: '', note: (err as Error).message.split('\n')[0] }];
  }
}

async function measure(opts: { batches?: number; note?: (msg: string) => void }): Promise<Row[]> {
  const batches = opts.batches ?? 5;
  const note = opts.note ?? ((m: string) => process.stderr.write(`[bench head office] ${m}\n`));
  const log = createLogger('silent');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-head-office-'));
  const cluster = new PgCluster({ dir: path.join(root, 'pg'), log });
  const children: ChildProcess[] = [];
  try {
    await cluster.start();
    const admin = createDb(cluster.connectionString('postgres'), { poolMax: 1 });
    const results: Array<{ rate: number; seconds: number; entries: number }> = [];
    for (const instances of [1, 2]) {
      // a fresh database per phase, owned by the service's own ordinary role
      const name = `ledger_${instances}`;
      const password = crypto.randomBytes(12).toString('hex');
      await admin.raw(`create role ${name} login nosuperuser password '${password}'`);
      await admin.raw(`create database ${name} owner ${name}`);
      const url = cluster.tcpConnectionString(name).replace(/^postgres:\/\/[^@]*@/, `postgres://${name}:${password}@`);
      const db = createDb(url, { poolMax: 2 });
      await migrateHeadOffice(db);
      note(`${instances} instance(s): preparing ${STORES} stores × ${batches} signed batches of ${BATCH} entries`);
      const stores: Prepared[] = [];
      for (let s = 0; s < STORES; s++) {
        const storeId = `store-${String(s + 1).padStart(2, '0')}`;
        stores.push(await prepareStore(storeId, (await addStore(db, systemClock, SECRET_KEY, storeId)).secret, batches));
      }
      await db.destroy();
      const urls: string[] = [];
      for (let i = 0; i < instances; i++) {
        const s = await serve(url, path.join(root, `data-${instances}-${i}`));
        children.push(s.child);
        urls.push(s.url);
      }
      const r = await run(stores, urls);
      note(`${instances} instance(s): ${fmt(r.rate)} entries/s (${fmt(r.entries)} entries in ${fmt(r.seconds)} s)`);
      results.push(r);
      for (const c of children.splice(0)) {
        c.kill('SIGTERM');
        if (c.exitCode === null) await new Promise((res) => c.once('exit', res));
      }
    }
    await admin.destroy();
    const [one, two] = results;
    const what = `${STORES} stores at once, ${batches} batches of ${BATCH} entries each (${fmt(one.entries)} entries), each batch's signature, every entry's hash (RFC 8785) and the chain checked and stored in one transaction`;
    return [
      { figure: 'Head office: entries verified and stored, one instance', now: `${fmt(one.rate)} entries/s`, before: '', ratio: '', aim: '', met: '', note: `${what}; ${fmt(one.seconds)} s` },
      { figure: 'Head office: the same, two instances on one database', now: `${fmt(two.rate)} entries/s`, before: '', ratio: '', aim: '', met: '', note: `each store's batches alternating between the instances; ${fmt(two.seconds)} s; two ÷ one = ${(two.rate / one.rate).toFixed(2)} (on ${os.cpus().length} cores shared with PostgreSQL and the 20 clients, load average ${os.loadavg()[0].toFixed(1)})` },
    ];
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await cluster.stop().catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (require.main === module) {
  measureHeadOffice({ batches: Number(process.env.BENCH_HEAD_OFFICE_BATCHES ?? 5) }).then(
    (rows) => process.stdout.write(JSON.stringify(rows, null, 2) + '\n'),
    (err) => {
      process.stderr.write(`${(err as Error).stack}\n`);
      process.exitCode = 1;
    },
  );
}
