/**
 * The ledger catch-up figure (ARCHITECTURE, "Performance budget": ≥ 20 000 entries/s): a store
 * whose journal holds 100 000 entries the cloud ledger has never seen, pointed at the fake ledger
 * on loopback (test/fakes/ledger-receiver.ts, which verifies every hash and the chain as it
 * stores), timed from "ship now" until the ledger has acknowledged the last entry.
 *
 * The store is the server's own code (its LedgerShipper, the default batch size of 5000, its own
 * embedded PostgreSQL with the server's settings), on a scratch cluster; the journal is written
 * through the journal's one append (appendEntry), as sales would write it. The fake ledger runs as
 * a process of its own (./ledger-peer.ts), as a real one would run on its own machine.
 *
 * Alone: `npx tsx scripts/bench/ledger.ts` (BENCH_LEDGER_ENTRIES to change the size).
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemClock } from '../../server/clock';
import { PgCluster } from '../../server/db/embedded';
import { createDb, type Db } from '../../server/db/knex';
import { migrateLatest } from '../../server/db/migrations';
import { appendEntry } from '../../server/journal/append';
import { configureLedger, LedgerShipper } from '../../server/ledger/service';
import { encodeBatch, signBody } from '../../server/ledger/encode';
import { listEntries } from '../../server/journal/service';
import { createLogger } from '../../server/logger';
import { seedSettings } from '../../server/settings/service';
import type { Row } from './report';
import { fmt } from './stats';

const FIGURE = 'Ledger catch-up, 100 000-entry backlog';
const AIM = 20_000;
const SECRET_KEY = 'bench-ledger-secret-key-0123456789abcdef';
const STORE_SECRET = 'bench-store-ledger-secret-0123456789';

/** `n` sale entries of a café's size (two lines, a modifier, a tax, a tender), 1000 to a transaction. */
async function writeJournal(db: Db, n: number): Promise<void> {
  for (let done = 0; done < n; ) {
    const k = Math.min(1000, n - done);
    await db.transaction(async (trx) => {
      for (let i = 0; i < k; i++) {
        const total = 350 + ((done + i) % 17) * 25;
        await appendEntry(trx, systemClock, {
          kind: 'sale',
          record: {
            order_id: done + i + 1, order_number: ((done + i) % 999) + 1, business_date: '2026-03-14', order_type: 'counter', currency: 'EUR', prices_include_tax: true,
            staff: { id: 1, name: 'Owner' }, terminal: 'Counter 1',
            lines: [
              { line_id: 2 * (done + i), product_id: 1, name: 'Flat white', quantity: 1, unit_price: 350, modifiers: [{ group: 'Milk', name: 'Oat', price_delta: 0 }], note: null, gross: 350, net: 318, tax: 32 },
              { line_id: 2 * (done + i) + 1, product_id: 7, name: 'Croissant', quantity: 1, unit_price: total - 350, modifiers: [], note: null, gross: total - 350, net: Math.round((total - 350) / 1.1), tax: total - 350 - Math.round((total - 350) / 1.1) },
            ],
            taxes: [{ name: 'VAT 10%', rate_ppm: 100_000, base: Math.round(total / 1.1), tax: total - Math.round(total / 1.1) }],
            subtotal: total, discount_total: 0, tax_total: total - Math.round(total / 1.1), total, rounding: 0,
            tenders: [{ method: 'cash', amount: total, tendered: total, change: 0 }],
          },
          sales: total,
        });
      }
    });
    done += k;
  }
}

interface PeerCount {
  held: number;
  batches: number;
  bytes: number;
  statuses: number[];
}

/** The fake ledger in a child process: its URL, and how to ask it what it holds. */
async function startPeer(secret: string): Promise<{ child: ChildProcess; url: string; storeId: string; count(): Promise<PeerCount> }> {
  const child = fork(path.join(__dirname, 'ledger-peer.ts'), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, LEDGER_PEER_SECRET: secret }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { url, storeId } = await new Promise<{ url: string; storeId: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { url: string; storeId: string }));
    child.once('exit', (code) => reject(new Error(`the fake ledger exited with ${code}`)));
  });
  const count = () => new Promise<PeerCount>((resolve) => {
    child.once('message', (m) => resolve(m as PeerCount));
    child.send('count');
  });
  return { child, url, storeId, count };
}

export async function measureLedgerCatchUp(opts: { entries?: number; note?: (msg: string) => void } = {}): Promise<Row[]> {
  const entries = opts.entries ?? 100_000;
  const note = opts.note ?? ((m: string) => process.stderr.write(`[bench ledger] ${m}\n`));
  const log = createLogger('silent');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ledger-'));
  const cluster = new PgCluster({ dir: path.join(root, 'pg'), log });
  let peer: Awaited<ReturnType<typeof startPeer>> | undefined;
  let db: Db | undefined;
  try {
    await cluster.start();
    db = createDb(cluster.connectionString('postgres'), { poolMax: 8 });
    await migrateLatest(db);
    await seedSettings(db, systemClock, {});
    note(`writing a ${fmt(entries)}-entry journal through appendEntry`);
    const w0 = Date.now();
    await writeJournal(db, entries);
    const writeS = (Date.now() - w0) / 1000;
    peer = await startPeer(STORE_SECRET);
    await configureLedger(db, systemClock, SECRET_KEY, { ledgerUrl: peer.url, ledgerStoreId: peer.storeId, ledgerBatchSize: 5000, secret: STORE_SECRET }, { via: 'cli' });
    const shipper = new LedgerShipper({ db, clock: systemClock, log, secretKey: SECRET_KEY });
    note('shipping it to the fake ledger');
    const t0 = process.hrtime.bigint();
    await shipper.shipNow();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    await shipper.stop();
    const c = await peer.count();
    if (c.held !== entries) throw new Error(`the ledger holds ${c.held} of ${entries} entries (answers ${c.statuses.join(', ')})`);
    const rate = entries / seconds;
    note(`${fmt(rate)} entries/s (${fmt(seconds)} s)`);
    // the store's side alone: what the shipper does to each batch before it is sent (read, encode, sign), batch after batch
    const s0 = process.hrtime.bigint();
    for (let after = 0; after < entries; after += 5000) signBody(STORE_SECRET, (await encodeBatch(await listEntries(db, after, 5000))).body);
    const storeSeconds = Number(process.hrtime.bigint() - s0) / 1e9;
    const storeRate = entries / storeSeconds;
    note(`the store's side alone: ${fmt(storeRate)} entries/s`);
    return [{
      figure: FIGURE, now: `${fmt(rate)} entries/s`, before: '', ratio: '', aim: `≥ ${fmt(AIM)} entries/s`, met: rate >= AIM ? 'yes' : 'no',
      note: `${fmt(entries)} entries in ${c.batches} batches of up to 5000 (${fmt(c.bytes / c.batches / 1024)} KiB gzip each), ${fmt(seconds)} s from "ship now" to the last acknowledgement; ` +
        `the fake ledger, verifying every hash by RFC 8785, in a process of its own; writing the journal through appendEntry took ${fmt(writeS)} s (not counted); load average ${os.loadavg()[0].toFixed(1)}`,
    }, {
      figure: 'Ledger catch-up: the store\'s side alone', now: `${fmt(storeRate)} entries/s`, before: '', ratio: '', aim: `≥ ${fmt(AIM)} entries/s`, met: storeRate >= AIM ? 'yes' : 'no',
      note: `the same ${fmt(entries)} entries read from the journal, encoded (NDJSON, gzip) and signed 5000 at a time, with no ledger: what the shipper spends on a batch; the rest of the catch-up is the ledger's verification and the network`,
    }];
  } finally {
    peer?.child.send('stop');
    if (peer && peer.child.exitCode === null) await new Promise((r) => peer!.child.once('exit', r));
    await db?.destroy();
    await cluster.stop().catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (require.main === module) {
  measureLedgerCatchUp({ entries: Number(process.env.BENCH_LEDGER_ENTRIES ?? 100_000) }).then(
    (rows) => process.stdout.write(JSON.stringify(rows, null, 2) + '\n'),
    (err) => {
      process.stderr.write(`${(err as Error).stack}\n`);
      process.exitCode = 1;
    },
  );
}
