import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createApp } from '../../server/app';
import { socketAuthorizer } from '../../server/auth/socket-auth';
import type { Clock } from '../../server/clock';
import type { Config } from '../../server/config';
import type { Db } from '../../server/db/knex';
import { createEventBus } from '../../server/events';
import { listen } from '../../server/http/server';
import { appendEntry } from '../../server/journal/append';
import { listEntries } from '../../server/journal/service';
import { configureLedger, LedgerShipper } from '../../server/ledger/service';
import type { Io } from '../../server/realtime/io';
import { seedSettings } from '../../server/settings/service';
import { createApiToken } from '../../server/api/tokens';
import type { LedgerReceiver } from '../fakes/ledger-receiver';
import type { TestApp } from './app';
import { pairedClient, type Client } from './client';
import { FakeClock } from './clock';
import { testConfig } from './config';
import { testLog } from './log';

/** The test store's ledger secret (the receiver is given the same). */
export const LEDGER_SECRET = 'test-store-ledger-secret-0123456789';

export interface LedgerApp {
  url: string;
  db: Db;
  clock: FakeClock;
  config: Config;
  ledger: LedgerShipper;
  close(): Promise<void>;
}

/** A browser paired with the app (./client.ts), logged in with `pin` when given. */
export function pairWith(app: LedgerApp, opts: Parameters<typeof pairedClient>[1] = {}): Promise<Client> {
  // pairedClient reads only the app's url, db and clock
  return pairedClient(app as unknown as TestApp, opts);
}

/**
 * The real app as bootApp (./app.ts) makes it, with a ledger shipper of the test's own: its poll
 * does not run by itself (pollMs huge), the test drives it with tick() / shipNow() and the fake
 * clock; its requests give up after `timeoutMs` (real time) and its jitter is pinned.
 */
export async function bootLedgerApp(db: Db, opts: { clock?: FakeClock; config?: Config; timeoutMs?: number } = {}): Promise<LedgerApp> {
  const clock = opts.clock ?? new FakeClock();
  const config = opts.config ?? testConfig({ RATE_LIMIT_API_PER_MIN: '1000000' });
  await seedSettings(db, clock as Clock, {});
  const realtime: { io?: Io } = {};
  const secretKey = config.SECRET_KEY!;
  const events = createEventBus(testLog);
  const ledger = new LedgerShipper({ db, clock, log: testLog, secretKey, pollMs: 3_600_000, timeoutMs: opts.timeoutMs ?? 10_000, random: () => 0.5 });
  const app = createApp({ config, db, clock, log: testLog, realtime, secretKey, events, ledger });
  const http = await listen(app, { port: 0, host: '127.0.0.1', timeoutMs: 5000, log: testLog, authorize: socketAuthorizer(db, secretKey) });
  realtime.io = http.io;
  return {
    url: `http://127.0.0.1:${http.port}`, db, clock, config, ledger,
    close: async () => {
      await ledger.stop();
      await http.close();
    },
  };
}

/** Points the store at the receiver (as the back office would), with the shared secret. */
export async function pointAt(db: Db, secretKey: string, ledgerUrl: string, extra: { ledgerBatchSize?: number; ledgerStoreId?: string; secret?: string } = {}): Promise<void> {
  await configureLedger(db, new FakeClock(), secretKey, { ledgerUrl, ledgerStoreId: extra.ledgerStoreId ?? 'store-1', ledgerBatchSize: extra.ledgerBatchSize, secret: extra.secret ?? LEDGER_SECRET }, { via: 'cli' });
}

/** `n` sale entries appended through the journal service, 500 to a transaction: the fast way to a long journal. */
export async function appendSales(db: Db, clock: Clock, n: number): Promise<void> {
  for (let done = 0; done < n; ) {
    const k = Math.min(500, n - done);
    await db.transaction(async (trx) => {
      for (let i = 0; i < k; i++) {
        const total = 350 + ((done + i) % 17) * 25;
        await appendEntry(trx, clock, {
          kind: 'sale',
          record: {
            order_id: 1_000_000 + done + i, order_number: ((done + i) % 999) + 1, business_date: '2026-03-14', order_type: 'counter', currency: 'EUR',
            lines: [
              { name: 'Flat white', quantity: 1, unit_price: 350, modifiers: [{ group: 'Milk', name: 'Oat', price_delta: 0 }], gross: 350 },
              { name: 'Croissant', quantity: 1, unit_price: total - 350, modifiers: [], gross: total - 350 },
            ],
            taxes: [{ name: 'VAT 10%', rate_ppm: 100_000, base: Math.round(total / 1.1), tax: total - Math.round(total / 1.1) }],
            total, tenders: [{ method: 'cash', amount: total, tendered: total, change: 0 }],
          },
          sales: total,
        });
      }
    });
    done += k;
  }
}

/** A client of /api/v1 with a token that may sell. */
export async function seller(app: { url: string; db: Db }) {
  const { token } = await createApiToken(app.db, new FakeClock(), { name: `Seller ${crypto.randomBytes(3).toString('hex')}`, scopes: ['orders:write', 'payments:write'] });
  const call = async (path: string, json: unknown) => {
    const res = await fetch(`${app.url}/api/v1${path}`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(json) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return {
    /** one sale over HTTP, as a till would make it: open with a line, pay in cash. Returns the payment's answer. */
    async sell(productId: number) {
      const o = await call('/orders', { type: 'counter', lines: [{ productId, qty: 1 }], idempotencyKey: crypto.randomUUID() });
      assert.equal(o.status, 201, JSON.stringify(o.body));
      return call(`/orders/${o.body.id as number}/payments`, { method: 'cash', amount: o.body.total, idempotencyKey: crypto.randomUUID() });
    },
  };
}

/** Asserts that the receiver holds exactly the local journal: entry for entry, hash for hash, nothing more. */
export async function assertChainsEqual(db: Db, r: LedgerReceiver): Promise<number> {
  const local = await listEntries(db, 0, 1_000_000);
  assert.equal(r.held.length, local.length, `the ledger holds ${r.held.length} entries, the journal ${local.length}`);
  for (let i = 0; i < local.length; i++) {
    const e = r.held[i]?.entry;
    assert.equal(e?.seq, i + 1, `the ledger's entry at ${i + 1}`);
    assert.equal(e.hash, local[i].hash, `entry ${i + 1}: the ledger's hash is the journal's`);
    assert.deepEqual(e, local[i], `entry ${i + 1}: the ledger's entry is the journal's`);
  }
  return local.length;
}
