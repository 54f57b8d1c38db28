import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createApp } from '../../server/app';
import { socketAuthorizer } from '../../server/auth/socket-auth';
import { systemClock } from '../../server/clock';
import { DEFAULT_DB_POOL_MAX, loadConfig } from '../../server/config';
import { createDb, type Db } from '../../server/db/knex';
import { appendEntry } from '../../server/journal/service';
import { migrateLatest } from '../../server/db/migrations';
import { seedDemo } from '../../server/demo/seed';
import { listen } from '../../server/http/server';
import { createLogger } from '../../server/logger';
import { addLineAndView, getOrderView, openOrder, tenderCashAndView, toMinor, type Actor, type OrderDeps } from '../../server/orders/service';
import { sendOrderAndView } from '../../server/kitchen/service';
import type { Io } from '../../server/realtime/io';
import { getSettings, seedSettings } from '../../server/settings/service';
import { keepAliveAgent } from './http';
import { closedLoop, type LoopResult, type LoopWindow } from './load';
import { TENDERED, runSale, type SaleState, type Step } from './sale';
import { PINS, lineRecipes, pairTerminals, type LineRecipe } from './store';

/**
 * The floor: the SQL one sale makes the server run, replayed straight through `pg` with the same
 * transaction boundaries and the same concurrency, with no HTTP, no rendering and none of our JS.
 * And the ceiling the journal chain-head row sets. Both on a scratch database in the same cluster,
 * made from the same migrations and the same demo seed, dropped afterwards.
 */

// ---- the scratch database ----------------------------------------------------------------

export interface ScratchDb {
  name: string;
  url: string;
  db: Db;
  drop(): Promise<void>;
}

/** `urlFor(database)` gives a connection string to another database of the same cluster. */
export async function createScratchDb(urlFor: (database: string) => string): Promise<ScratchDb> {
  const name = `bench_scratch_${crypto.randomBytes(4).toString('hex')}`;
  const admin = createDb(urlFor('postgres'), { poolMax: 1 });
  try {
    await admin.raw('create database ??', [name]);
  } finally {
    await admin.destroy();
  }
  const url = urlFor(name);
  const db = createDb(url, { poolMax: 4 });
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await db.destroy();
    const a = createDb(urlFor('postgres'), { poolMax: 1 });
    try {
      await a.raw('drop database if exists ?? with (force)', [name]);
    } finally {
      await a.destroy();
    }
  };
  try {
    await migrateLatest(db);
    await seedSettings(db, systemClock, {});
    await seedDemo(db, systemClock);
  } catch (err) {
    await drop();
    throw err;
  }
  return { name, url, db, drop };
}

// ---- capturing the SQL of one sale -------------------------------------------------------

type Scalar = number | string;

interface CapturedStmt {
  sql: string;
  bindings: unknown[];
  txId?: string;
  uid?: string;
  /** result rows as knex handed them on (objects), or the values of a one-column pluck */
  rows: Array<Record<string, unknown>>;
  scalars?: unknown[];
  /** the server sent its transaction's COMMIT with it (no longer: always false, kept for the replay's shape) */
  commitAfter?: boolean;
}

export interface CapturedSale {
  statements: CapturedStmt[];
  transactions: number;
  requests: number;
  /** statements left out of the replay, with why */
  dropped: Array<{ sql: string; why: string }>;
  /** the journal entry the sale wrote (its JSON), for the ceiling's INSERT */
  journalEntry?: string;
}

interface QueryEvent {
  sql: string;
  bindings?: unknown[];
}

/** `?` placeholders to PostgreSQL's `$n` (a `\\?` is a literal question mark). */
function toNative(sql: string): string {
  let n = 0;
  return sql.replace(/(\\*)(\?)/g, (_match, escapes: string) => (escapes.length % 2 ? '?' : `$${++n}`));
}

/** Ids, counters and the chain head start at values no constant of a sale can be mistaken for. */
const DISTINCT_MIN = 1e8;
const REL_WINDOW = 1e6;

async function makeDistinctive(db: Db): Promise<void> {
  const seqs: Array<{ sequencename: string; max_value: string | number }> = (
    await db.raw("select sequencename, max_value::text as max_value from pg_sequences where schemaname = 'public' order by sequencename")
  ).rows;
  for (const [k, s] of seqs.entries()) {
    const big = Number(s.max_value) > 1e13;
    const start = big ? 1e12 + k * 1e10 : 1e8 + k * 1e7;
    await db.raw('select setval(?::regclass, ?)', [`"${s.sequencename}"`, start]);
  }
  await db('journal_head').where({ id: 1 }).update({
    seq: 3e11, receipt_no: 4e11, grand_sales: 5e11, grand_refunds: 6e11, grand_voids: 7e11, z_no: 8e11, hash: 'c'.repeat(64),
  });
  const today = new Date();
  for (let d = -3; d <= 3; d++) {
    const date = new Date(today.getTime() + d * 86_400_000).toISOString().slice(0, 10);
    await db.raw(
      'insert into order_counters (business_date, last_number) values (?, ?) on conflict (business_date) do update set last_number = excluded.last_number',
      [date, 2e8],
    );
  }
}

/**
 * Runs the real app in-process on the scratch database (createApp + listen, as main.ts does,
 * without the background workers), pairs one terminal, makes one warm-up sale, then records every
 * statement knex sends while one more sale goes through the same steps over HTTP as the rush.
 */
export async function captureSale(scratch: ScratchDb, steps: Step[], lines: LineRecipe[]): Promise<CapturedSale> {
  await makeDistinctive(scratch.db);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-capture-'));
  const secretKey = crypto.randomBytes(32).toString('base64url');
  const config = loadConfig({
    DATA_DIR: dataDir, DATABASE_URL: scratch.url, LOG_LEVEL: 'silent', SECRET_KEY: secretKey, PORT: '0', HOST: '127.0.0.1',
    RATE_LIMIT_LOGIN_PER_MIN: '100000', RATE_LIMIT_PAIR_PER_MIN: '100000',
  });
  const log = createLogger('silent');
  const db = createDb(scratch.url);
  const realtime: { io?: Io } = {};
  const app = createApp({ config, db, clock: systemClock, log, realtime, secretKey });
  const http = await listen(app, { port: 0, host: '127.0.0.1', timeoutMs: 5000, log, authorize: socketAuthorizer(db, secretKey) });
  realtime.io = http.io;
  const agent = keepAliveAgent();
  const statements: CapturedStmt[] = [];
  // a sale's requests run one after another: a statement's answer is the next one awaited, and
  // its transaction the one a BEGIN opened and no COMMIT or ROLLBACK has closed yet
  const awaiting: CapturedStmt[] = [];
  let txCount = 0;
  let openTx: string | undefined;
  let capturing = false;
  const onQuery = (q: QueryEvent) => {
    if (!capturing) return;
    if (/^begin/i.test(q.sql)) openTx = `tx${++txCount}`;
    const st: CapturedStmt = { sql: q.sql, bindings: [...(q.bindings ?? [])], txId: openTx, rows: [], commitAfter: false };
    if (/^(commit|rollback)/i.test(q.sql)) openTx = undefined;
    statements.push(st);
    awaiting.push(st);
  };
  const onError = () => void awaiting.shift();
  const onResponse = (response: unknown) => {
    const st = awaiting.shift();
    if (!st) return;
    if (Array.isArray(response)) {
      if (response.length && response.every((r) => r !== null && typeof r === 'object' && !(r instanceof Date))) st.rows = response as Array<Record<string, unknown>>;
      else st.scalars = response;
    } else if (response && typeof response === 'object' && Array.isArray((response as { rows?: unknown }).rows)) {
      st.rows = (response as { rows: Array<Record<string, unknown>> }).rows;
    } else if (response && typeof response === 'object' && !(response instanceof Date)) {
      st.rows = [response as Record<string, unknown>]; // .first()
    }
  };
  db.on('query', onQuery);
  db.on('query-response', onResponse);
  db.on('query-error', onError);
  let requests = 0;
  try {
    const [b] = await pairTerminals(db, `http://127.0.0.1:${http.port}`, agent, 1, { kind: 'counter', pin: PINS.owner, prefix: 'Capture' });
    const sale = (record: SaleState['record']): SaleState => ({ b, lines, record, stopped: () => false });
    await runSale(steps, sale(() => {})); // warm: templates compiled, secrets made, pool connected
    capturing = true;
    await runSale(steps, sale(() => requests++));
    capturing = false;
  } finally {
    capturing = false;
    db.off('query', onQuery);
    db.off('query-response', onResponse);
    db.off('query-error', onError);
    agent.destroy();
    await http.close();
    await db.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const dropped: CapturedSale['dropped'] = [];
  const kept = statements.filter((s) => {
    // the auth layer touches the session at most every 2 s per terminal, not once per sale
    if (/^update "sessions"/i.test(s.sql)) {
      dropped.push({ sql: s.sql, why: 'session touch: at most once per 2 s per terminal, not per sale' });
      return false;
    }
    return true;
  });
  const journalInsert = kept.find((s) => /^insert into "journal" /i.test(s.sql));
  const journalEntry = journalInsert?.bindings.find((v): v is string => typeof v === 'string' && v.startsWith('{'));
  return {
    statements: kept,
    transactions: new Set(kept.filter((s) => s.txId).map((s) => s.txId)).size,
    requests,
    dropped,
    journalEntry,
  };
}

// ---- the replay --------------------------------------------------------------------------

type Binder =
  | { k: 'const'; v: unknown }
  | { k: 'map'; v: Scalar }
  | { k: 'rel'; base: number; off: number }
  | { k: 'now' }
  | { k: 'uuid'; v: string }
  | { k: 'hex'; v: string };

interface PlanStmt {
  sql: string;
  txId?: string;
  commit: boolean;
  /** its transaction's COMMIT goes with it, as the server sends it */
  commitAfter: boolean;
  /** this statement takes the journal chain-head row lock */
  headLock: boolean;
  binders: Binder[];
  /** values this statement returns that later statements use: where they are in its result */
  produces: Array<{ row: number; col: string | null; value: Scalar }>;
}

export interface ReplayPlan {
  stmts: PlanStmt[];
  /** statements run while the chain-head row is held, its COMMIT included */
  underHeadLock: number;
  /**
   * the statement that takes the chain-head row also writes the entry and carries the COMMIT (or
   * is a transaction of its own):
   * the row is held only while PostgreSQL runs that one statement, which a client cannot time
   */
  headInOneStatement: boolean;
  /** how many bindings are rebound per sale (ids, counters, chain head, keys, times) */
  rebound: number;
  /** round trips to PostgreSQL per sale: BEGIN rides with the next statement, COMMIT with a commitAfter one */
  roundTrips: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HASH = /^[0-9a-f]{64}$/;
const isProducedValue = (v: unknown): v is Scalar =>
  (typeof v === 'number' && Number.isSafeInteger(v) && v >= DISTINCT_MIN) || (typeof v === 'string' && HASH.test(v));

/**
 * Turns the captured statements into a plan: the same SQL texts; each binding either a constant,
 * or taken from what an earlier statement of the same sale returned (ids, order number, the chain
 * head), or made fresh per sale (idempotency keys, event ids, the new hash, timestamps).
 */
export function replayPlan(c: CapturedSale): ReplayPlan {
  const producedAt = new Map<Scalar, { stmt: number; row: number; col: string | null }>();
  const bases: number[] = [];
  const stmts: PlanStmt[] = [];
  let rebound = 0;
  for (const [i, s] of c.statements.entries()) {
    const binders: Binder[] = s.bindings.map((v): Binder => {
      if (v instanceof Date) return { k: 'now' };
      if (typeof v === 'string') {
        if (UUID.test(v)) return { k: 'uuid', v };
        if (HASH.test(v)) return producedAt.has(v) ? { k: 'map', v } : { k: 'hex', v };
        return { k: 'const', v };
      }
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= DISTINCT_MIN) {
        if (producedAt.has(v)) return { k: 'map', v };
        const base = bases.filter((b) => b <= v && v - b < REL_WINDOW).sort((a, b) => b - a)[0];
        if (base !== undefined) return { k: 'rel', base, off: v - base };
      }
      return { k: 'const', v };
    });
    rebound += binders.filter((b) => b.k !== 'const').length;
    stmts.push({ sql: s.sql, txId: s.txId, commit: /^commit;?$/i.test(s.sql.trim()), commitAfter: s.commitAfter === true, headLock: /from "?journal_head"?.*for update/i.test(s.sql), binders, produces: [] });
    const note = (row: number, col: string | null, value: unknown) => {
      if (!isProducedValue(value) || producedAt.has(value)) return;
      producedAt.set(value, { stmt: i, row, col });
      if (typeof value === 'number') bases.push(value);
    };
    s.rows.forEach((r, ri) => Object.entries(r).forEach(([col, value]) => note(ri, col, value)));
    s.scalars?.forEach((value, ri) => note(ri, null, value));
  }
  // keep only the produced values some binding uses
  const used = new Set<Scalar>();
  for (const st of stmts) for (const b of st.binders) if (b.k === 'map') used.add(b.v);
  for (const st of stmts) for (const b of st.binders) if (b.k === 'rel') used.add(b.base);
  for (const [value, at] of producedAt) if (used.has(value)) stmts[at.stmt].produces.push({ row: at.row, col: at.col, value });
  const lockAt = stmts.findIndex((st) => st.headLock);
  const commitAt = lockAt < 0 ? -1 : stmts.findIndex((st, i) => i > lockAt && st.commit && st.txId === stmts[lockAt].txId);
  const roundTrips = stmts.filter((st, i) => {
    if (/^begin;?$/i.test(st.sql.trim()) && stmts[i + 1]?.txId === st.txId) return false;
    if (st.commit && stmts[i - 1]?.txId === st.txId && stmts[i - 1].commitAfter) return false;
    return true;
  }).length;
  return { stmts, rebound, roundTrips, underHeadLock: commitAt < 0 ? 0 : commitAt - lockAt, headInOneStatement: lockAt >= 0 && (stmts[lockAt].commitAfter || !stmts[lockAt].txId) };
}

/** The captured statements with how each binding is replayed, one JSON line each (BENCH_DUMP_SQL). */
export function dumpPlan(c: CapturedSale, plan: ReplayPlan): string {
  return plan.stmts
    .map((st, i) => JSON.stringify({
      i, tx: st.txId ?? null, sql: st.sql,
      bindings: st.binders.map((b, j) => (b.k === 'const' ? c.statements[i].bindings[j] : { [b.k]: 'v' in b ? b.v : b.k === 'rel' ? `${b.base}+${b.off}` : null })),
      produces: st.produces.map((p) => `${p.col ?? '#0'}@${p.row}=${p.value}`),
    }))
    .join('\n') + '\n';
}

export interface ReplayStats {
  /** ms the chain-head row was held (lock taken → commit returned), summed over the holds ending in the window */
  headHeldMs: number;
  /** how many holds that is */
  headHolds: number;
  sales: number;
}

/**
 * One sale's statements, in order, through a pg pool: a transaction on one client, others on any.
 * `run(from, to)` runs a part of it, so a worker can be taken part way into its first sale before
 * the clock starts (only at a point where no transaction is open).
 */
export class ReplaySale {
  private state = new Map<Scalar, unknown>();
  private fresh = new Map<string, string>();
  private clients = new Map<string, pg.PoolClient>();
  private heldSince = 0;
  tick: () => void = () => {};

  constructor(private readonly pool: pg.Pool, private readonly plan: ReplayPlan, private readonly stats: ReplayStats, private readonly countHold: () => boolean) {}

  private value(b: Binder): unknown {
    switch (b.k) {
      case 'const':
        return b.v;
      case 'now':
        return new Date();
      case 'map':
        return this.state.has(b.v) ? this.state.get(b.v) : b.v;
      case 'rel': {
        const base = this.state.get(b.base);
        return (typeof base === 'number' ? base : b.base) + b.off;
      }
      case 'uuid':
      case 'hex': {
        let f = this.fresh.get(b.v);
        if (!f) this.fresh.set(b.v, (f = b.k === 'uuid' ? crypto.randomUUID() : crypto.randomBytes(32).toString('hex')));
        return f;
      }
    }
  }

  async run(from = 0, to = this.plan.stmts.length): Promise<void> {
    try {
      for (const st of this.plan.stmts.slice(from, to)) {
        const values = st.binders.map((b) => this.value(b));
        let res: pg.QueryResult;
        if (st.txId) {
          let client = this.clients.get(st.txId);
          if (!client) this.clients.set(st.txId, (client = await this.pool.connect()));
          // as the server sends it: BEGIN with the first statement, COMMIT with a commitAfter one
          res = await client.query(queryOf(st.sql, values));
          // the lock is ours from here until COMMIT returns (taken and committed in one statement: not timed)
          if (st.headLock && !st.commitAfter) this.heldSince = performance.now();
          if (st.commit) {
            this.clients.delete(st.txId);
            client.release();
            if (this.heldSince) {
              if (this.countHold()) {
                this.stats.headHeldMs += performance.now() - this.heldSince;
                this.stats.headHolds++;
              }
              this.heldSince = 0;
            }
          }
        } else {
          res = await this.pool.query(queryOf(st.sql, values));
        }
        for (const p of st.produces) {
          const row = res.rows[p.row] as Record<string, unknown> | undefined;
          if (row) this.state.set(p.value, p.col === null ? row[res.fields[0].name] : row[p.col]);
        }
        this.tick();
      }
      if (to === this.plan.stmts.length) this.stats.sales++;
    } catch (err) {
      for (const c of this.clients.values()) {
        await c.query('ROLLBACK').catch(() => undefined);
        c.release();
      }
      this.clients.clear();
      throw err;
    }
  }
}

/** Statement indexes before which no transaction is open: where a sale may be split. */
function splitPoints(plan: ReplayPlan): number[] {
  const out: number[] = [];
  const open = new Set<string>();
  plan.stmts.forEach((st, i) => {
    if (!open.size) out.push(i);
    if (st.txId) open.add(st.txId);
    if (st.commit && st.txId) open.delete(st.txId);
  });
  return out;
}

/** Connections the floor may use: the same as the server's knex pool (server/db/knex.ts). */
/** As the server sends it: unprepared, `?` placeholders as PostgreSQL's `$n`. */
function queryOf(text: string, values: unknown[]): pg.QueryConfig {
  return { text: toNative(text), values };
}

/** the server's pool (DB_POOL_MAX, not set by the bench) */
export const SERVER_POOL = DEFAULT_DB_POOL_MAX;

export interface FloorRun {
  loop: LoopResult;
  /** share of the window the chain-head row was held by some sale */
  headBusy: number;
  /** mean ms one sale holds it */
  headHoldMs: number;
  /** paid orders the database gained vs. sales the replay finished: must match */
  checked: { replayed: number; paid: number };
}

export async function measureFloor(scratch: ScratchDb, plan: ReplayPlan, workers: number, w: { warmupMs: number; measureMs: number }): Promise<FloorRun> {
  const pool = new pg.Pool({ connectionString: scratch.url, max: Math.min(workers, SERVER_POOL), application_name: 'bench-floor'});
  pool.on('error', () => {}); // an idle connection cut when the scratch database goes is not a bench failure
  const paidBefore = await paidOrders(scratch.db);
  const stats: ReplayStats = { headHeldMs: 0, headHolds: 0, sales: 0 };
  try {
    let win: LoopWindow | undefined;
    const countHold = () => win?.inWindow(performance.now()) ?? false;
    const splits = splitPoints(plan);
    const loop = await closedLoop(
      workers,
      {
        ...w,
        unitsPerIteration: plan.stmts.length,
        // spread the workers over the sale before the clock starts, as in a steady state
        async prepare() {
          const from = splits[Math.floor(Math.random() * splits.length)];
          if (!from) return undefined;
          const sale = new ReplaySale(pool, plan, stats, countHold);
          await sale.run(0, from);
          return async (_w, window, tick) => {
            win = window;
            sale.tick = tick;
            await sale.run(from);
          };
        },
      },
      async (_w, window, tick) => {
        win = window;
        const sale = new ReplaySale(pool, plan, stats, countHold);
        sale.tick = tick;
        await sale.run();
      },
    );
    const paid = (await paidOrders(scratch.db)) - paidBefore;
    return { loop, headBusy: stats.headHeldMs / w.measureMs, headHoldMs: stats.headHeldMs / Math.max(1, stats.headHolds), checked: { replayed: stats.sales, paid } };
  } finally {
    await pool.end();
  }
}

async function paidOrders(db: Db): Promise<number> {
  const [{ n }] = await db('orders').where({ status: 'paid' }).count({ n: '*' });
  return Number(n);
}

// ---- our JS without HTTP ----------------------------------------------------------------

/**
 * The sale through the order services in-process, as the routes call them (the line add, the
 * send and the tender answering the screen after them; the pay dialog and the receipt read),
 * over a knex pool like the server's and with the server's change listener, so orders and
 * products are kept as the server keeps them: our JS and SQL, no HTTP, auth or templates.
 */
export async function measureServices(scratch: ScratchDb, workers: number, w: { warmupMs: number; measureMs: number }): Promise<LoopResult> {
  const db = createDb(scratch.url, { poolMax: SERVER_POOL });
  try {
    const deps: OrderDeps = { db, clock: systemClock, events: { orderChanged() {}, outboxWritten() {} } };
    const kitchen = { db, clock: systemClock, events: { ticketCreated() {}, ticketChanged() {}, orderReady() {}, orderChanged() {}, floorChanged() {} } };
    const owner = await db('staff').where({ role: 'owner' }).first('id', 'name');
    const terminal = await db('terminals').orderBy('id').first('id', 'name');
    const actor: Actor = { staffId: owner?.id ?? null, staffName: owner?.name ?? null, terminalId: terminal?.id ?? null, terminal: terminal?.name ?? null };
    const recipes = await lineRecipes(db);
    let n = 0;
    // 9 service calls per sale, one per request of the rush: the unit of progress when a sale
    // outlasts a third of the window
    return await closedLoop(workers, { ...w, unitsPerIteration: 9 }, async (_w, _win, tick) => {
      const k = n++;
      const lines = Array.from({ length: 4 }, (_, i) => recipes[(k * 4 + i) % recipes.length]);
      const order = await openOrder(deps, { type: 'counter' }, actor);
      tick();
      for (const l of lines) {
        await addLineAndView(deps, order.id, { productId: l.productId, quantity: 1, modifierIds: l.modifierIds, note: null });
        tick();
      }
      await sendOrderAndView(kitchen, order.id);
      tick();
      const settings = (await getOrderView(db, order.id)).settings; // the pay dialog
      tick();
      const r = await tenderCashAndView(deps, order.id, toMinor(TENDERED, settings.currency, 'tendered'), crypto.randomUUID(), actor);
      if (!r.result.closed) throw new Error('the tender did not close the sale');
      tick();
      await getOrderView(db, order.id); // the receipt
      tick();
    });
  } finally {
    await db.destroy();
  }
}

// ---- the chain-head ceiling ---------------------------------------------------------------

/**
 * Closes per second when each one only appends its journal entry, as a close does: a transaction
 * that takes the chain-head row, appends the entry and moves the head (journal/append.ts),
 * committed on its own. No sale can close faster than this, however fast the rest is.
 */
export async function measureCeiling(scratch: ScratchDb, connections: number, entryJson: string, w: { warmupMs: number; measureMs: number }): Promise<LoopResult> {
  const db = createDb(scratch.url, { poolMax: connections });
  const { seq: _s, kind: _k, at: _a, receipt_no: _r, z_no: _z, grand_totals: _g, prev_hash: _p, hash: _h, ...record } = JSON.parse(entryJson) as Record<string, unknown>;
  try {
    return await closedLoop(connections, w, async () => {
      await db.transaction((trx) => appendEntry(trx, systemClock, { kind: 'sale', record, sales: 1 }));
    });
  } finally {
    await db.destroy();
  }
}
