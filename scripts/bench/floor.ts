import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { keepAliveAgent } from './http';
import { closedLoop, type LoopResult } from './load';
import { PgRecorder, type WireStatement } from './pgwire';
import { runSale, type SaleState, type Step } from './sale';
import { ServerProcess, clusterAddress, freePort, postgresPids, serverEnv } from './server';
import { PINS, pairBrowser, type LineRecipe } from './store';

/**
 * The floor: the SQL one sale makes a server run, replayed straight through `pg` with the same
 * transaction boundaries and the same concurrency, with no HTTP, no rendering and none of the
 * server's JavaScript.
 *
 * The SQL is learnt from the outside: a second server of the same tree is started on a scratch
 * database of the measured server's cluster, connected through a recording proxy of PostgreSQL's
 * wire protocol (pgwire.ts), and one sale goes through it over HTTP with the same steps as the
 * load. So the floor needs nothing of the server's code, and a server of any version gets the
 * floor of its own statements.
 */

// ---- the scratch database ----------------------------------------------------------------

export interface ScratchDb {
  name: string;
  /** over the cluster's Unix socket when it has one, as the server connects */
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(server: ServerProcess, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: server.clusterUrl('postgres') });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** An empty database in the server's cluster, dropped by drop(). */
export async function createScratchDb(server: ServerProcess): Promise<ScratchDb> {
  const name = `bench_scratch_${crypto.randomBytes(4).toString('hex')}`;
  await admin(server, (c) => c.query(`create database ${name}`));
  let dropped = false;
  return {
    name,
    url: server.clusterUrl(name),
    async drop() {
      if (dropped) return;
      dropped = true;
      await admin(server, (c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/** Ids, counters and the chain head start at values no constant of a sale can be mistaken for. */
const DISTINCT_MIN = 1e8;
/** a binding within this of a value an earlier statement returned is taken as derived from it (next seq, totals moved on) */
const REL_WINDOW = 1e6;

/**
 * Every sequence, the journal's chain head and the day's order counter are moved to distinctive
 * values, so that in the captured SQL an id or a counter is recognised wherever it comes back
 * (found from the catalogue: whatever the schema's version, a table or column it lacks is skipped).
 */
async function makeDistinctive(url: string): Promise<string[]> {
  const skipped: string[] = [];
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const seqs = (await c.query("select sequencename, max_value::text as max_value from pg_sequences where schemaname = 'public' order by sequencename")).rows;
    for (const [k, s] of seqs.entries()) {
      const big = Number(s.max_value) > 1e13;
      await c.query('select setval($1::regclass, $2)', [`"${s.sequencename}"`, big ? 1e12 + k * 1e10 : 1e8 + k * 1e7]);
    }
    const cols = async (table: string) =>
      (await c.query("select column_name as name, data_type as type from information_schema.columns where table_schema = 'public' and table_name = $1", [table])).rows as Array<{ name: string; type: string }>;
    const head = await cols('journal_head');
    if (head.length) {
      const sets: string[] = [];
      let k = 0;
      for (const col of head) {
        if (col.name === 'id') continue;
        if (col.type === 'bigint' || col.type === 'numeric') sets.push(`"${col.name}" = ${(3 + k++) * 1e11}`);
        else if (col.type === 'integer') sets.push(`"${col.name}" = ${1e8 + k++ * 1e7}`);
        else if (/hash/.test(col.name) && /char|text/.test(col.type)) sets.push(`"${col.name}" = '${'c'.repeat(64)}'`);
      }
      if (sets.length) await c.query(`update journal_head set ${sets.join(', ')}`);
    } else {
      skipped.push('no journal_head table');
    }
    const counters = (await cols('order_counters')).map((x) => x.name);
    if (counters.includes('business_date') && counters.includes('last_number')) {
      for (let d = -3; d <= 3; d++) {
        await c.query(
          `insert into order_counters (business_date, last_number) values (current_date + $1::int, $2)
           on conflict (business_date) do update set last_number = excluded.last_number`,
          [d, 2e8],
        );
      }
    } else {
      skipped.push('no order_counters (business_date, last_number)');
    }
  } finally {
    await c.end();
  }
  return skipped;
}

// ---- capturing the SQL of one sale -------------------------------------------------------

export interface CapturedStatement extends WireStatement {
  /** conn:n of the transaction it ran in, when it did */
  tx?: string;
}

export interface CapturedSale {
  statements: CapturedStatement[];
  transactions: number;
  /** HTTP requests of the captured sale */
  requests: number;
  /** statements left out of the replay, with why */
  dropped: Array<{ sql: string; why: string }>;
  /** the `options` startup parameter the server's connections gave (session settings), if any */
  sessionOptions?: string;
  /** what the scratch database lacked for distinctive values */
  notes: string[];
}

const BEGIN = /^\s*(begin|start\s+transaction)\b/i;
const END = /^\s*(commit|rollback|end)\b/i;

/**
 * Starts `tree`'s server (its own process, `start --demo`) on the scratch database through the
 * recording proxy, pairs a terminal with the code it prints, makes two sales to warm it, watches
 * a moment with no requests (what runs then is background work, not the sale's), then records
 * every statement of one more sale.
 */
export async function captureSale(opts: {
  server: ServerProcess;
  scratch: ScratchDb;
  steps: Step[];
  lines: LineRecipe[];
  logLevel: string;
}): Promise<CapturedSale> {
  const { server, scratch } = opts;
  const address = clusterAddress(server.env.dataDir);
  const recorder = new PgRecorder(() => (address.socket ? net.connect({ path: address.socket }) : net.connect({ host: '127.0.0.1', port: address.port })));
  const proxyPort = await recorder.listen();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-capture-'));
  const env = serverEnv(dataDir, await freePort(), opts.logLevel, `postgres://postgres:${encodeURIComponent(address.password)}@127.0.0.1:${proxyPort}/${scratch.name}`);
  const agent = keepAliveAgent();
  let capturer: ServerProcess | undefined;
  let requests = 0;
  let idleTexts = new Set<string>();
  const notes: string[] = [];
  try {
    // first start: migrations and the demo seed; then the counters made distinctive while it is down
    capturer = (await ServerProcess.start(server.tree, env, { demo: true })).server;
    await capturer.stop();
    notes.push(...(await makeDistinctive(scratch.url)));
    capturer = (await ServerProcess.start(server.tree, env, { demo: true })).server;
    const b = await pairBrowser(capturer.url, agent, await capturer.pairingCode(), { name: 'Capture', pin: PINS.owner });
    const sale = (record: SaleState['record']): SaleState => ({ b, lines: opts.lines, record, stopped: () => false });
    for (let i = 0; i < 2; i++) await runSale(opts.steps, sale(() => {})); // templates compiled, pool connected
    await new Promise((r) => setTimeout(r, 500));
    recorder.recording = true;
    await new Promise((r) => setTimeout(r, 1500));
    recorder.recording = false;
    idleTexts = new Set(recorder.statements.map((s) => s.sql));
    recorder.statements.length = 0;
    recorder.recording = true;
    await runSale(opts.steps, sale(() => requests++));
    // what the server does right after its answers (events, activity) belongs to the sale too
    await new Promise((r) => setTimeout(r, 300));
    recorder.recording = false;
  } finally {
    recorder.recording = false;
    agent.destroy();
    await capturer?.stop();
    await recorder.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  const dropped: CapturedSale['dropped'] = [];
  const open = new Map<number, string>();
  let txCount = 0;
  const kept: CapturedStatement[] = [];
  for (const s of recorder.statements) {
    let tx = open.get(s.conn);
    if (BEGIN.test(s.sql)) open.set(s.conn, (tx = `${s.conn}:${++txCount}`));
    if (END.test(s.sql)) open.delete(s.conn);
    const why =
      s.error ? `failed when captured (${s.error})`
      : /^\s*update\s+"?sessions"?\s/i.test(s.sql) ? 'a staff session\'s activity: written at most every few seconds per terminal, not per sale'
      : !tx && idleTexts.has(s.sql) ? 'also runs with no requests (background polling)'
      : undefined;
    if (why) dropped.push({ sql: s.sql, why });
    else kept.push({ ...s, tx });
  }
  const options = recorder.startups().filter((st) => st.database === scratch.name).map((st) => st.options).find((o) => o);
  return { statements: kept, transactions: new Set(kept.filter((s) => s.tx).map((s) => s.tx)).size, requests, dropped, sessionOptions: options, notes };
}

// ---- the replay --------------------------------------------------------------------------

type Binder =
  | { k: 'const'; v: string | Buffer | null }
  | { k: 'map'; v: string }
  | { k: 'rel'; base: string; off: number }
  | { k: 'now' }
  | { k: 'uuid'; v: string }
  | { k: 'hex'; v: string }
  | { k: 'array'; items: Binder[] };

/** Where a statement's result holds a value later statements use: row, column, and a path inside a JSON value. */
interface Produced {
  row: number;
  col: number;
  json: Array<string | number>;
  value: string;
}

interface PlanStatement {
  sql: string;
  name?: string;
  tx?: string;
  ends: boolean;
  binders: Binder[];
  produces: Produced[];
}

export interface ReplayPlan {
  statements: PlanStatement[];
  /** how many bindings are rebound per sale (ids, counters, chain head, keys, times) */
  rebound: number;
  /** whether the server prepared its statements (named) */
  prepared: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HASH = /^[0-9a-f]{64}$/;
const TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}(:?\d{2})?)$/;
const INT = /^-?\d{1,16}$/;
const INT_ARRAY = /^\{-?\d+(,-?\d+)*\}$/;
const distinctInt = (s: string) => INT.test(s) && Number(s) >= DISTINCT_MIN && Number.isSafeInteger(Number(s));

/** Every value in a result cell worth remembering: a big integer or a hash, also inside JSON. */
function producedIn(cell: string, visit: (value: string, json: Array<string | number>) => void): void {
  if (distinctInt(cell) || HASH.test(cell)) return visit(cell, []);
  if (!/^[[{]/.test(cell)) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(cell);
  } catch {
    return;
  }
  const walk = (v: unknown, at: Array<string | number>) => {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= DISTINCT_MIN) visit(String(v), at);
    else if (typeof v === 'string' && (distinctInt(v) || HASH.test(v))) visit(v, at);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...at, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...at, k]);
  };
  walk(parsed, []);
}

/**
 * Turns the captured statements into a plan: the same SQL texts; each binding either a constant,
 * or taken from what an earlier statement of the same sale returned (ids, the order number, the
 * chain head, also inside JSON results), or derived from one (the next seq, totals moved on), or
 * made fresh per sale (idempotency keys, the entry's hash, timestamps).
 */
export function replayPlan(c: CapturedSale): ReplayPlan {
  const producedAt = new Map<string, { stmt: number; at: Omit<Produced, 'value'> }>();
  const bases: number[] = [];
  const statements: PlanStatement[] = [];
  let rebound = 0;
  const bind = (v: string | Buffer | null): Binder => {
    if (typeof v !== 'string') return { k: 'const', v };
    if (UUID.test(v)) return { k: 'uuid', v };
    if (HASH.test(v)) return producedAt.has(v) ? { k: 'map', v } : { k: 'hex', v };
    if (TIME.test(v)) return { k: 'now' };
    if (distinctInt(v)) {
      if (producedAt.has(v)) return { k: 'map', v };
      const n = Number(v);
      const base = bases.filter((b) => b <= n && n - b < REL_WINDOW).sort((a, b) => b - a)[0];
      if (base !== undefined) return { k: 'rel', base: String(base), off: n - base };
    }
    if (INT_ARRAY.test(v)) {
      const items = v.slice(1, -1).split(',').map(bind);
      if (items.some((b) => b.k !== 'const')) return { k: 'array', items };
    }
    return { k: 'const', v };
  };
  for (const [i, s] of c.statements.entries()) {
    const binders = s.params.map(bind);
    rebound += binders.filter((b) => b.k !== 'const').length;
    statements.push({ sql: s.sql, name: s.name || undefined, tx: s.tx, ends: END.test(s.sql), binders, produces: [] });
    s.rows.forEach((row, ri) =>
      row.forEach((cell, ci) => {
        if (typeof cell !== 'string') return;
        producedIn(cell, (value, json) => {
          if (producedAt.has(value)) return;
          producedAt.set(value, { stmt: i, at: { row: ri, col: ci, json } });
          if (INT.test(value)) bases.push(Number(value));
        });
      }),
    );
  }
  // keep only the produced values some binding uses
  const used = new Set<string>();
  const use = (b: Binder) => {
    if (b.k === 'map') used.add(b.v);
    if (b.k === 'rel') used.add(b.base);
    if (b.k === 'array') b.items.forEach(use);
  };
  statements.forEach((st) => st.binders.forEach(use));
  for (const [value, p] of producedAt) if (used.has(value)) statements[p.stmt].produces.push({ ...p.at, value });
  return { statements, rebound, prepared: statements.some((s) => s.name) };
}

/** Result values as PostgreSQL sent them (text), as the capture saw them. */
const RAW_TYPES = { getTypeParser: () => (v: string) => v };

/**
 * One sale's statements, in order, through a pg pool: a transaction on one client, others on any.
 * `run(from, to)` runs a part of it, so a worker can be taken part way into its first sale before
 * the clock starts (only at a point where no transaction is open).
 */
class ReplaySale {
  private state = new Map<string, string>();
  private fresh = new Map<string, string>();
  private clients = new Map<string, pg.PoolClient>();
  tick: () => void = () => {};

  constructor(private readonly pool: pg.Pool, private readonly plan: ReplayPlan, private readonly done: () => void) {}

  private value(b: Binder): unknown {
    switch (b.k) {
      case 'const':
        return b.v;
      case 'now':
        return new Date();
      case 'map':
        return this.state.get(b.v) ?? b.v;
      case 'rel':
        return String(BigInt(this.state.get(b.base) ?? b.base) + BigInt(b.off));
      case 'uuid':
      case 'hex': {
        let f = this.fresh.get(b.v);
        if (!f) this.fresh.set(b.v, (f = b.k === 'uuid' ? crypto.randomUUID() : crypto.randomBytes(32).toString('hex')));
        return f;
      }
      case 'array':
        return `{${b.items.map((x) => String(this.value(x))).join(',')}}`;
    }
  }

  async run(from = 0, to = this.plan.statements.length): Promise<void> {
    try {
      for (const st of this.plan.statements.slice(from, to)) {
        const q: pg.QueryArrayConfig = { text: st.sql, rowMode: 'array', types: RAW_TYPES };
        if (st.binders.length || st.name !== undefined) q.values = st.binders.map((b) => this.value(b));
        if (st.name) q.name = st.name;
        let res: pg.QueryArrayResult;
        if (st.tx) {
          let client = this.clients.get(st.tx);
          if (!client) this.clients.set(st.tx, (client = await this.pool.connect()));
          res = await client.query(q);
          if (st.ends) {
            this.clients.delete(st.tx);
            client.release();
          }
        } else {
          res = await this.pool.query(q);
        }
        for (const p of st.produces) {
          let v: unknown = res.rows[p.row]?.[p.col];
          if (p.json.length && typeof v === 'string') {
            try {
              v = JSON.parse(v);
            } catch {
              v = undefined;
            }
            for (const k of p.json) v = v === null || typeof v !== 'object' ? undefined : (v as Record<string | number, unknown>)[k];
          }
          if (v !== undefined && v !== null) this.state.set(p.value, String(v));
        }
        this.tick();
      }
      if (to === this.plan.statements.length) this.done();
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
  plan.statements.forEach((st, i) => {
    if (!open.size) out.push(i);
    if (st.tx) open.add(st.tx);
    if (st.ends && st.tx) open.delete(st.tx);
  });
  return out;
}

function cpusOf(pid: number | 'self'): string | undefined {
  try {
    return /^Cpus_allowed_list:\s*(\S+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * The floor is what the SQL does on this machine. A server that kept its PostgreSQL to some cores
 * (the commit before issue 19 did, SERVER_CPU) would make it the SQL on those cores: the cluster's
 * processes get every core this process may use back. Returns what was done, for the report.
 */
export function everyCoreForCluster(pgDir: string): string | undefined {
  const all = cpusOf('self');
  if (!all) return undefined;
  const pinned = postgresPids(pgDir).filter((pid) => {
    const c = cpusOf(pid);
    return c !== undefined && c !== all;
  });
  if (!pinned.length) return undefined;
  const was = cpusOf(pinned[0]);
  for (const pid of pinned) spawnSync('taskset', ['-a', '-p', '-c', all, String(pid)], { stdio: 'ignore' });
  return `its server had kept PostgreSQL to core ${was}; the replay's PostgreSQL had cores ${all}`;
}

export interface FloorRun {
  loop: LoopResult;
  /** paid orders the database gained vs. sales the replay finished: must match (paid undefined: not checked) */
  checked: { replayed: number; paid?: number };
}

async function paidOrders(pool: pg.Pool): Promise<number | undefined> {
  try {
    return Number((await pool.query("select count(*)::int as n from orders where status = 'paid'")).rows[0].n);
  } catch {
    return undefined;
  }
}

/** `workers` loops replaying the sale on a pool of at most `poolMax` connections, with the server's session settings. */
export async function measureFloor(
  scratch: ScratchDb,
  capture: CapturedSale,
  plan: ReplayPlan,
  workers: number,
  poolMax: number,
  w: { warmupMs: number; measureMs: number },
): Promise<FloorRun> {
  const pool = new pg.Pool({ connectionString: scratch.url, max: Math.min(workers, poolMax), application_name: 'bench-floor', ...(capture.sessionOptions ? { options: capture.sessionOptions } : {}) });
  pool.on('error', () => {}); // an idle connection cut when the scratch database goes is not a bench failure
  const paidBefore = await paidOrders(pool);
  let replayed = 0;
  const done = () => replayed++;
  try {
    const splits = splitPoints(plan);
    const loop = await closedLoop(
      workers,
      {
        ...w,
        unitsPerIteration: plan.statements.length,
        // spread the workers over the sale before the clock starts, as in a steady state
        async prepare() {
          const from = splits[Math.floor(Math.random() * splits.length)];
          if (!from) return undefined;
          const sale = new ReplaySale(pool, plan, done);
          await sale.run(0, from);
          return async (_w, _window, tick) => {
            sale.tick = tick;
            await sale.run(from);
          };
        },
      },
      async (_w, _window, tick) => {
        const sale = new ReplaySale(pool, plan, done);
        sale.tick = tick;
        await sale.run();
      },
    );
    const paidAfter = await paidOrders(pool);
    return { loop, checked: { replayed, paid: paidBefore === undefined || paidAfter === undefined ? undefined : paidAfter - paidBefore } };
  } finally {
    await pool.end();
  }
}
