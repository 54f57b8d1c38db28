/**
 * `npm run bench`: what a store feels, measured on this tree's server and, in the same run, on the
 * server of the commit before issue 19's simplification (BENCH_BASE_REF), each started as its own
 * process on a fresh embedded database with the demo data and driven only through its public
 * surfaces (HTTP as htmx sends it, the /api/v1 catalog, socket.io, PostgreSQL's wire protocol for
 * the floor). Prints one markdown table and writes it to docs/PERFORMANCE.md.
 * Progress goes to stderr; the table to stdout. See docs/PERFORMANCE.md for what each row means.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { checkOutBase, type BaseTree } from './base';
import { ENV_DOC, benchConfig, unknownSettings, type BenchConfig } from './config';
import { captureSale, createScratchDb, everyCoreForCluster, measureFloor, replayPlan, type CapturedSale, type FloorRun, type ReplayPlan } from './floor';
import { keepAliveAgent, type Browser } from './http';
import { kitchenRig, type KitchenRun } from './kitchen';
import { measureLedgerCatchUp, measureReports } from './pending';
import { measureHeadOffice } from './head-office';
import { measureAppliance } from './appliance';
import { measureScans, type ScanRun } from './scan';
import { measurePrinting, type PrintRun } from './printing';
import { fmtMs, fmtPercentiles, machineLine, markdownTable, ratio, writeReport, type Machine, type Row, type Section } from './report';
import {
  linesFor, paced, saleSteps, saturate, stepSummary, uniqueSteps,
  type PacedResult, type SaturatedResult, type Step,
} from './sale';
import { LoadWatch, ROOT, ServerProcess, freePort, rssBytes, serverEnv, serverNodeVersion, startLine, treeAt, type CpuShares, type Tree } from './server';
import { fmt, fmtBytes, median, percentile, percentiles, type Percentiles } from './stats';
import { PINS, Store, type LineRecipe } from './store';
import type { SocketPool } from './wire';

const AIMS = {
  tapP99Ms: 50,
  oursOverFloor: 0.5,
  kitchenP99Ms: 30,
  scanP99Ms: 50,
  rssBytes: 200 * 1024 * 1024,
  coldStartMs: 2000,
};

const t0 = Date.now();
const note = (msg: string) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);

// ---- cleanup: every process, directory and worktree we make is undone, also on Ctrl-C ---------

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

// ---- one server under test ------------------------------------------------------------------

interface PacedRun {
  r: PacedResult;
  /** percentiles per tap kind, and over every tap */
  taps: Map<string, Percentiles>;
  all: Percentiles;
  /** p99 of each slice of the window (30 s, or a fifth of a shorter window): the spread within the run */
  sliceP99: number[];
  rss: number[];
  cpu: CpuShares;
}

interface SaturatedRun {
  r: SaturatedResult;
  cpu: CpuShares;
}

interface Target {
  label: 'now' | 'before';
  tree?: Tree;
  server?: ServerProcess;
  agent: SocketPool;
  store?: Store;
  recipes: LineRecipe[];
  terminals: Browser[];
  /** why this server is not (or no longer) measured; the rest of the bench goes on */
  missing?: string;
  coldMs: number[];
  paced?: PacedRun;
  saturated: Map<number, SaturatedRun>;
  kitchen?: KitchenRun;
  scan?: ScanRun;
  print?: PrintRun;
  capture?: CapturedSale;
  plan?: ReplayPlan;
  floor: Map<number, FloorRun>;
  /** what the floor did to the cluster's cores, when its server had pinned it */
  floorCores?: string;
  /** section → why it could not be measured */
  failed: Map<string, string>;
}

function newTarget(label: Target['label']): Target {
  const agent = keepAliveAgent();
  onCleanup(`close the ${label} terminals' sockets`, async () => agent.destroy());
  return { label, agent, recipes: [], terminals: [], coldMs: [], saturated: new Map(), floor: new Map(), failed: new Map() };
}

const problems: string[] = [];

/** Runs one section on one server; a failure is that section's, noted, and the bench goes on. */
async function measure(t: Target, section: string, fn: (server: ServerProcess) => Promise<void>): Promise<void> {
  if (t.missing || !t.server) return;
  try {
    await fn(t.server);
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0];
    note(`${t.label}: ${section} failed: ${(err as Error).stack ?? msg}\n--- the ${t.label} server's last output ---\n${t.server?.output().slice(-3000) ?? ''}`);
    t.failed.set(section, msg);
    problems.push(`${t.label} server, ${section}: ${msg}`);
  }
  if (t.server && !t.server.alive() && !t.missing) {
    t.missing = `its server died during ${section}`;
    problems.push(`the ${t.label} server died during ${section}:\n\n\`\`\`\n${t.server.output().slice(-1500)}\n\`\`\``);
  }
}

/** A fresh data directory, the server started with --demo, the owner's browser paired with the code it printed. */
async function start(t: Target, tree: Tree, cfg: BenchConfig): Promise<void> {
  t.tree = tree;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-store-${t.label}-`));
  onCleanup(`remove ${dataDir}`, async () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const env = serverEnv(dataDir, await freePort(), cfg.serverLogLevel);
  note(`${t.label} (${tree.commit}): starting its server on a fresh embedded database (initdb + demo seed) in ${dataDir}, as \`${startLine(tree)} --import tsx server/cli.ts start --demo\``);
  onCleanup(`stop the ${t.label} server`, async () => t.server?.stop());
  t.server = (await ServerProcess.start(tree, env, { demo: true })).server;
  t.store = await Store.open(t.server, t.agent);
}

/**
 * The store made ready for the load, as at a store's opening: the idle lock raised, the line
 * recipes read, the terminals paired and their staff logged in.
 */
async function prepare(t: Target, cfg: BenchConfig): Promise<void> {
  await measure(t, 'setting up the store', async () => {
    try {
      await t.store!.raiseIdleLock();
    } catch (err) {
      problems.push(`${t.label} server: the idle lock could not be raised in Settings (${(err as Error).message.split('\n')[0]}); terminals idle between phases may be locked`);
    }
    t.recipes = await t.store!.lineRecipes();
    const counters = Math.max(
      cfg.sections.has('paced') ? cfg.paced.terminals : 1,
      cfg.sections.has('saturated') ? Math.max(...cfg.saturated.terminals) : 1,
    );
    note(`${t.label}: pairing ${counters} counter terminals in the back office and logging each in (PIN ${PINS.owner})`);
    t.terminals = await t.store!.pair(counters, { kind: 'counter', pin: PINS.owner, prefix: 'Bench counter' });
  });
  if (t.failed.has('setting up the store')) t.missing ??= `the store could not be set up: ${t.failed.get('setting up the store')}`;
}

// ---- the sections ---------------------------------------------------------------------------

function cpuText(c: CpuShares): string {
  return `server ${fmt(c.server)} cores, PostgreSQL ${fmt(c.postgres)}, load generator ${fmt(c.bench)}, other processes ${fmt(c.other)}${c.others.length ? ` (${c.others.join(', ')})` : ''}`;
}

async function coldStarts(t: Target, cfg: BenchConfig): Promise<void> {
  await measure(t, 'cold start', async () => {
    for (let i = 0; i < cfg.coldStarts; i++) {
      const code = await t.server!.stop();
      if (code !== 0) problems.push(`the ${t.label} server exited with ${code} on SIGTERM`);
      const started = await ServerProcess.start(t.tree!, t.server!.env);
      t.server = started.server;
      t.coldMs.push(started.readyMs);
      note(`${t.label}: cold start ${i + 1}/${cfg.coldStarts}: ${started.readyMs.toFixed(0)} ms`);
    }
  });
}

async function pacedSection(t: Target, cfg: BenchConfig, steps: Step[]): Promise<void> {
  await measure(t, 'paced load', async (server) => {
    const n = cfg.paced.terminals;
    note(`${t.label}: paced, ${n} terminals, a sale every ${cfg.paced.saleSeconds} s each: ${cfg.paced.warmupSeconds} s warm-up, ${cfg.paced.seconds} s measured`);
    const watch = new LoadWatch(() => server.pid, server.pgDir());
    const rss: number[] = [];
    let cpu: CpuShares | undefined;
    let ticks = 0;
    const r = await paced(t.terminals.slice(0, n), t.recipes, steps, {
      saleMs: cfg.paced.saleSeconds * 1000,
      warmupMs: cfg.paced.warmupSeconds * 1000,
      measureMs: cfg.paced.seconds * 1000,
      sampler: {
        begin: () => watch.begin(),
        sample() {
          rss.push(rssBytes(server.pid));
          if (++ticks % 4 === 0) watch.sample();
        },
        end: () => (cpu = watch.end()),
      },
    });
    const taps = new Map<string, Percentiles>();
    for (const [k, v] of r.taps) taps.set(k, percentiles(v));
    const all = percentiles([...r.taps.values()].flat());
    const sliceMs = cfg.paced.seconds >= 60 ? 30_000 : (cfg.paced.seconds * 1000) / 5;
    const slices: number[][] = [];
    for (const [at, ms] of r.timeline) (slices[Math.floor(at / sliceMs)] ??= []).push(ms);
    const sliceP99 = slices.filter((s) => s?.length).map((s) => percentile(s, 99));
    t.paced = { r, taps, all, sliceP99, rss: rss.filter(Number.isFinite), cpu: cpu! };
    const errors = [...r.errors.values()].reduce((a, b) => a + b, 0);
    note(`${t.label}: paced: every tap p50/p95/p99 ${fmtPercentiles(all)} over ${all.n} taps; ${r.completed} sales in the window, ${errors} errors${r.firstError ? ` (first: ${r.firstError})` : ''}; RSS max ${fmtBytes(Math.max(...t.paced.rss))}; ${cpuText(t.paced.cpu)}`);
  });
}

async function saturatedSection(t: Target, cfg: BenchConfig, steps: Step[]): Promise<void> {
  await measure(t, 'saturated load', async (server) => {
    const w = { warmupMs: cfg.saturated.warmupSeconds * 1000, measureMs: cfg.saturated.seconds * 1000 };
    if (cfg.saturated.jitWarmupSeconds > 0) {
      const n = Math.max(...cfg.saturated.terminals);
      note(`${t.label}: ${cfg.saturated.jitWarmupSeconds} s of saturated load at ${n} terminals, not counted (V8 compiles the hot code)`);
      await saturate(t.terminals.slice(0, n), t.recipes, steps, { warmupMs: cfg.saturated.jitWarmupSeconds * 1000, measureMs: 1000 });
    }
    for (const n of cfg.saturated.terminals) {
      // only this level's terminals stay connected
      t.agent.destroy();
      const watch = new LoadWatch(() => server.pid, server.pgDir());
      let ticks = 0;
      let cpu: CpuShares | undefined;
      const r = await saturate(t.terminals.slice(0, n), t.recipes, steps, {
        ...w,
        sampler: { begin: () => watch.begin(), sample: () => void (++ticks % 4 === 0 && watch.sample()), end: () => (cpu = watch.end()) },
      });
      t.saturated.set(n, { r, cpu: cpu! });
      const errors = [...r.errors.values()].reduce((a, b) => a + b, 0);
      note(`${t.label}: saturated ${n} terminals: ${fmt(r.salesPerSec)} sales/s (${r.completed} completed), ${errors} errors${r.firstError ? ` (first: ${r.firstError})` : ''}; ${cpuText(cpu!)}`);
      if (!server.alive()) throw new Error('the server died');
    }
  });
}

async function kitchenSection(t: Target, cfg: BenchConfig): Promise<void> {
  await measure(t, 'kitchen push', async (server) => {
    t.agent.destroy();
    const rig = await kitchenRig({ store: t.store!, baseUrl: server.url, counter: t.terminals[0], recipes: t.recipes, clients: cfg.kitchen.clients });
    try {
      t.kitchen = await rig.run(cfg.kitchen.sends);
    } finally {
      await rig.close();
    }
    note(`${t.label}: kitchen push: ${t.kitchen.latencies.length} events, ${t.kitchen.missing} missing, p99 ${fmtMs(percentiles(t.kitchen.latencies).p99)}`);
  });
}

async function scanSection(t: Target, cfg: BenchConfig): Promise<void> {
  await measure(t, 'scan to screen', async (server) => {
    t.agent.destroy();
    t.scan = await measureScans({ store: t.store!, baseUrl: server.url, counter: t.terminals[0], counterName: 'Bench counter 1', scans: cfg.scan.scans });
    note(`${t.label}: scan to screen: ${t.scan.latencies.length} scans, ${t.scan.missing} missing, ${t.scan.errors} errors, p99 ${fmtMs(percentiles(t.scan.latencies).p99)}`);
  });
}

async function printSection(t: Target, cfg: BenchConfig): Promise<void> {
  await measure(t, 'printing', async () => {
    t.print = await measurePrinting({ store: t.store!, counter: t.terminals[0], counterName: 'Bench counter 1', recipes: t.recipes, jobs: cfg.print.jobs, sales: cfg.print.sales });
    const p = t.print;
    note(`${t.label}: printing: ${p.jobs} jobs in ${fmtMs(p.drainMs)} (${p.missing} missing); pay tap p99 ${fmtMs(percentiles(p.payNoPrinter).p99)} with no printer, ${fmtMs(percentiles(p.payPrinterOff).p99)} with it off`);
  });
}

async function floorSection(t: Target, cfg: BenchConfig, steps: Step[]): Promise<void> {
  await measure(t, 'SQL floor', async (server) => {
    const scratch = await createScratchDb(server);
    onCleanup(`drop the ${t.label} scratch database`, () => scratch.drop());
    try {
      note(`${t.label}: capturing one sale's SQL: a second server of the same tree on a scratch database, through a recording proxy`);
      t.capture = await captureSale({ server, scratch, steps, lines: linesFor(t.recipes, 0), logLevel: cfg.serverLogLevel });
      t.plan = replayPlan(t.capture);
      const c = t.capture;
      note(`${t.label}: one sale: ${c.requests} requests → ${c.statements.length} statements in ${c.transactions} transactions (${t.plan.rebound} bindings rebound per sale${c.dropped.length ? `; left out: ${c.dropped.map((d) => d.why).join('; ')}` : ''})`);
      if (process.env.BENCH_DUMP_SQL) {
        const file = `${process.env.BENCH_DUMP_SQL}-${t.label}.jsonl`;
        fs.writeFileSync(file, [...t.plan.statements.map((s) => JSON.stringify(s)), ...c.dropped.map((d) => JSON.stringify({ dropped: d.why, sql: d.sql }))].join('\n') + '\n');
        note(`the captured statements and how each binding is replayed: ${file}`);
      }
      t.floorCores = everyCoreForCluster(server.pgDir());
      if (t.floorCores) note(`${t.label}: ${t.floorCores}`);
      for (const n of cfg.saturated.terminals) {
        const run = await measureFloor(scratch, c, t.plan, n, cfg.floor.pool, { warmupMs: cfg.floor.warmupSeconds * 1000, measureMs: cfg.floor.seconds * 1000 });
        t.floor.set(n, run);
        const { replayed, paid } = run.checked;
        note(`${t.label}: floor ${n} workers: ${fmt(run.loop.perSec)} sales/s, ${run.loop.errors} errors${run.loop.firstError ? ` (first: ${run.loop.firstError})` : ''}; ${replayed} sales replayed, ${paid ?? '?'} orders paid`);
        if (paid !== undefined && paid !== replayed) problems.push(`${t.label} floor at ${n} workers: ${replayed} sales replayed but ${paid} orders paid: the replay does not do what the server did`);
        if (run.loop.errors || run.loop.warmupErrors) problems.push(`${t.label} floor at ${n} workers: ${run.loop.errors + run.loop.warmupErrors} replayed sales failed (first: ${run.loop.firstError})`);
      }
    } finally {
      await scratch.drop();
    }
  });
}

// ---- the table ------------------------------------------------------------------------------

function errorNote(errors: Map<string, number>, warmupErrors: number, firstError: string | undefined): string {
  if (errors.size) return `ERRORS in the window: ${[...errors].map(([k, v]) => `${v}× ${k}`).join(', ')}; first: ${firstError}`;
  if (warmupErrors) return `${warmupErrors} errors in the warm-up (first: ${firstError})`;
  return 'no errors';
}

/** A row from one number per server. */
function numberRow(figure: string, now: number | undefined, before: number | undefined, fmtN: (n: number) => string, opts: { aim?: string; ok?: (n: number) => boolean; note?: string; noRatio?: boolean } = {}): Row {
  const f = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : fmtN(n));
  return {
    figure,
    now: f(now),
    before: f(before),
    ratio: opts.noRatio ? '' : ratio(now, before),
    aim: opts.aim ?? '',
    met: opts.ok && now !== undefined && Number.isFinite(now) ? (opts.ok(now) ? 'yes' : 'no') : '',
    note: opts.note,
  };
}

function failedText(t: Target | undefined, section: string): string | undefined {
  if (!t) return undefined;
  return t.failed.get(section) ?? t.missing;
}

function sections(cfg: BenchConfig, steps: Step[], now: Target, before: Target | undefined): Section[] {
  const out: Section[] = [];
  const missingNote = (section: string) => {
    const parts = [failedText(now, section) && `now: ${failedText(now, section)}`, before && failedText(before, section) && `before: ${failedText(before, section)}`].filter(Boolean);
    return parts.length ? `NOT MEASURED: ${parts.join('; ')}` : undefined;
  };

  if (cfg.sections.has('paced')) {
    const p = cfg.paced;
    const rows: Row[] = [];
    const a = now.paced;
    const b = before?.paced;
    const tapRow = (figure: string, pa: Percentiles | undefined, pb: Percentiles | undefined, note: string, aim: boolean): Row => ({
      figure: `${figure} (p50 / p95 / p99)`,
      now: fmtPercentiles(pa),
      before: fmtPercentiles(pb),
      ratio: ratio(pa?.p99, pb?.p99),
      aim: aim ? `p99 < ${AIMS.tapP99Ms} ms` : '',
      met: aim && pa?.n ? (pa.p99 < AIMS.tapP99Ms ? 'yes' : 'no') : '',
      note,
    });
    const slices = (x: PacedRun | undefined) => (x && x.sliceP99.length > 1 ? `${fmt(Math.min(...x.sliceP99))}–${fmt(Math.max(...x.sliceP99))} ms` : '–');
    rows.push(tapRow('Every tap', a?.all, b?.all, [
      missingNote('paced load'),
      `${a?.all.n ?? 0} taps in the window${b ? ` (before: ${b.all.n})` : ''}; p99 of each ${cfg.paced.seconds >= 60 ? '30 s' : 'fifth'} of the window: now ${slices(a)}${b ? `, before ${slices(b)}` : ''}; ratio of p99`,
    ].filter(Boolean).join('; '), true));
    for (const s of uniqueSteps(steps)) {
      rows.push(tapRow(s.name, a?.taps.get(s.name), b?.taps.get(s.name), s.requests, false));
    }
    const salesNote = (x: PacedRun | undefined) => (x ? `${errorNote(x.r.errors, x.r.warmupErrors, x.r.firstError)}` : '');
    rows.push(numberRow(`Sales completed in the ${p.seconds} s window`, a?.r.completed, b?.r.completed, (n) => String(n), {
      note: `at this pace, once every terminal has begun: ${p.terminals} terminals × ${p.seconds} s ÷ ${p.saleSeconds} s = ${fmt((p.terminals * p.seconds) / p.saleSeconds)}; now: ${salesNote(a)}${b ? `; before: ${salesNote(b)}` : ''}`,
    }));
    rows.push(numberRow('Taps sent late by the load generator, p99', a ? percentile(a.r.lateMs, 99) : undefined, b ? percentile(b.r.lateMs, 99) : undefined, (n) => `${fmt(n)} ms`, {
      note: 'how far behind its plan a tap went out (timers, not the server): a check that the stand-in for the terminals kept up',
    }));
    rows.push(numberRow('Server RSS under this load, max', a ? Math.max(...a.rss) : undefined, b ? Math.max(...b.rss) : undefined, fmtBytes, {
      aim: `< ${fmtBytes(AIMS.rssBytes)}`, ok: (n) => n < AIMS.rssBytes,
      note: `VmRSS every 250 ms over the window; median now ${fmtBytes(median(a?.rss ?? []))}${b ? `, before ${fmtBytes(median(b.rss))}` : ''}; from source through tsx, as \`npm start\` runs it (the bundle the appliance runs needs less)`,
    }));
    rows.push(numberRow('Server CPU under this load', a?.cpu.server, b?.cpu.server, (n) => `${fmt(n)} cores`, {
      note: `now: ${a ? cpuText(a.cpu) : '–'}${b ? `; before: ${cpuText(b.cpu)}` : ''}`,
    }));
    out.push({ title: `Paced: ${p.terminals} terminals, each completing a sale every ${p.saleSeconds} s (${stepSummary(steps)}, think time between taps), ${p.seconds} s measured after ${p.warmupSeconds} s`, rows });
  }

  if (cfg.sections.has('saturated') || cfg.sections.has('floor')) {
    const rows: Row[] = [];
    for (const n of cfg.saturated.terminals) {
      const a = now.saturated.get(n);
      const b = before?.saturated.get(n);
      const fa = now.floor.get(n);
      const fb = before?.floor.get(n);
      if (cfg.sections.has('saturated')) {
        const spread = (x: SaturatedRun | undefined) => (x ? `${fmt(Math.min(...x.r.slices))}–${fmt(Math.max(...x.r.slices))}` : '–');
        rows.push(numberRow(`${n} terminals, no think time: complete sales/s`, a?.r.salesPerSec, b?.r.salesPerSec, fmt, {
          note: [
            missingNote('saturated load'),
            `per fifth of the window: now ${spread(a)}${b ? `, before ${spread(b)}` : ''}`,
            a && `now: ${errorNote(a.r.errors, a.r.warmupErrors, a.r.firstError)}; ${cpuText(a.cpu)}`,
            b && `before: ${errorNote(b.r.errors, b.r.warmupErrors, b.r.firstError)}; ${cpuText(b.cpu)}`,
            a?.r.method === 'requests' ? 'a sale outlasts a third of the window: answered requests ÷ requests per sale' : undefined,
          ].filter(Boolean).join('; '),
        }));
        const every = (x: SaturatedRun | undefined) => (x ? percentiles([...x.r.steps.values()].flat()) : undefined);
        const pa = every(a);
        const pb = every(b);
        rows.push({ figure: `${n} terminals, no think time: every request (p50 / p95 / p99)`, now: fmtPercentiles(pa), before: fmtPercentiles(pb), ratio: ratio(pa?.p99, pb?.p99), aim: '', met: '', note: 'once saturated a request mostly waits its turn: about terminals ÷ requests answered per second' });
      }
      if (cfg.sections.has('floor')) {
        rows.push(numberRow(`${n} workers: the same SQL straight through pg, sales/s`, fa?.loop.perSec, fb?.loop.perSec, fmt, {
          note: [missingNote('SQL floor'), `a pool of ${Math.min(n, cfg.floor.pool)} connections, as the server's`].filter(Boolean).join('; '),
        }));
        if (cfg.sections.has('saturated')) {
          const ra = a && fa ? a.r.salesPerSec / fa.loop.perSec : undefined;
          const rb = b && fb ? b.r.salesPerSec / fb.loop.perSec : undefined;
          rows.push(numberRow(`${n} terminals: saturated ÷ floor`, ra, rb, (x) => x.toFixed(2), {
            aim: `≥ ${AIMS.oursOverFloor} (reported)`, ok: (x) => x >= AIMS.oursOverFloor,
            note: 'what the server sells of what its own SQL alone could',
          }));
        }
      }
    }
    if (cfg.sections.has('floor')) {
      const sql = (t: Target | undefined) => (t?.capture ? `${t.capture.statements.length} statements` : '–');
      const detail = (t: Target | undefined) => {
        const c = t?.capture;
        if (!c || !t?.plan) return '';
        return `${c.transactions} transactions over ${c.requests} requests${t.floorCores ? ` (${t.floorCores})` : ''}, ${t.plan.prepared ? 'prepared (named) as the server sent them' : 'unnamed, as the server sent them'}${c.sessionOptions ? `, session options \`${c.sessionOptions}\`` : ''}${c.dropped.length ? `; left out: ${[...new Set(c.dropped.map((d) => d.why))].map((w) => `${c.dropped.filter((d) => d.why === w).length}× ${w}`).join('; ')}` : ''}`;
      };
      rows.push({
        figure: 'SQL of one sale (captured on the wire)',
        now: sql(now),
        before: sql(before),
        ratio: ratio(now.capture?.statements.length, before?.capture?.statements.length),
        aim: '',
        met: '',
        note: [`now: ${detail(now) || '–'}`, before ? `before: ${detail(before) || '–'}` : undefined].filter(Boolean).join('; '),
      });
    }
    out.push({ title: `Saturated: N terminals looping the same sale with no think time, beside the floor: the same SQL replayed through pg (${cfg.saturated.seconds} s windows; floor ${cfg.floor.seconds} s)`, rows });
  }

  if (cfg.sections.has('kitchen')) {
    const pa = now.kitchen ? percentiles(now.kitchen.latencies) : undefined;
    const pb = before?.kitchen ? percentiles(before.kitchen.latencies) : undefined;
    const kNote = (label: string, k: KitchenRun | undefined) => (k ? `${label}: ${k.latencies.length} events${k.missing ? `, ${k.missing} MISSING` : ''}${k.sendErrors ? `, ${k.sendErrors} send ERRORS` : ''}` : undefined);
    out.push({
      title: `Kitchen push: send → ticket:created at ${cfg.kitchen.clients} socket.io kitchen screens`,
      rows: [{
        figure: `Kitchen push (p50 / p95 / p99)`,
        now: fmtPercentiles(pa),
        before: fmtPercentiles(pb),
        ratio: ratio(pa?.p99, pb?.p99),
        aim: `p99 < ${AIMS.kitchenP99Ms} ms`,
        met: pa?.n ? (pa.p99 < AIMS.kitchenP99Ms ? 'yes' : 'no') : '',
        note: [missingNote('kitchen push'), `${cfg.kitchen.sends} sends, no other load`, kNote('now', now.kitchen), kNote('before', before?.kitchen)].filter(Boolean).join('; '),
      }],
    });
  }

  if (cfg.sections.has('scan')) {
    const pa = now.scan ? percentiles(now.scan.latencies) : undefined;
    const s = now.scan;
    out.push({
      title: 'Scan to screen: a scanner of the store server → the line on its bound terminal, over socket.io',
      rows: [{
        figure: 'Scan → line on the bound terminal (p50 / p95 / p99)',
        now: fmtPercentiles(pa),
        before: before ? '–' : '',
        ratio: '',
        aim: `p99 < ${AIMS.scanP99Ms} ms`,
        met: pa?.n ? (pa.p99 < AIMS.scanP99Ms ? 'yes' : 'no') : '',
        note: [
          missingNote('scan to screen'),
          s && `${s.latencies.length} scans${s.missing ? `, ${s.missing} MISSING` : ''}${s.errors ? `, ${s.errors} ERRORS (first: ${s.firstError})` : ''}, no other load`,
          'from sending the scan (the back office types it into a simulated scanner: HID reports through the real decoder) to the terminal\'s order:updated',
          before ? 'before: no scanners' : undefined,
        ].filter(Boolean).join('; '),
      }],
    });
  }

  if (cfg.sections.has('print')) {
    const p = now.print;
    const off = p ? percentiles(p.tapsPrinterOff) : undefined;
    const none = p ? percentiles(p.tapsNoPrinter) : undefined;
    const payOff = p ? percentiles(p.payPrinterOff) : undefined;
    const payNone = p ? percentiles(p.payNoPrinter) : undefined;
    const failedNote = missingNote('printing');
    out.push({
      title: 'Printing: the print queue to a fake ESC/POS printer on loopback, and a sale\'s taps with the printer off',
      rows: [
        {
          figure: 'Print jobs per second through the queue (to the printer\'s GS r 1 answer)',
          now: p && Number.isFinite(p.drainMs) ? `${fmt((p.jobs - p.missing) / (p.drainMs / 1000))} jobs/s` : '',
          before: before ? '–' : '', ratio: '', aim: '', met: '',
          note: [failedNote, p && `${p.jobs} test pages queued on a printer that is off, moved by hand to the fake printer; ${fmtMs(p.drainMs)} from the move to the last answer${p.missing ? `, ${p.missing} MISSING` : ''}; DLE EOT and one connection per job`, before ? 'before: no printing' : undefined].filter(Boolean).join('; '),
        },
        {
          figure: 'A sale\'s taps with its receipt printer off (p50 / p95 / p99)',
          now: fmtPercentiles(off),
          before: fmtPercentiles(none), ratio: off?.n && none?.n ? ratio(off.p99, none.p99) : '', aim: 'must not grow', met: off?.n && none?.n ? (off.p99 <= none.p99 * 1.5 + 5 ? 'yes' : 'no') : '',
          note: [failedNote, p && `${p.payPrinterOff.length} sales (open, line, pay) with the terminal's receipt printer off, beside ${p.payNoPrinter.length} with none (the "before" column, same server); pay alone p99 ${fmtMs(payOff?.p99 ?? NaN)} off, ${fmtMs(payNone?.p99 ?? NaN)} none${p.errors ? `; ${p.errors} ERRORS (first: ${p.firstError})` : ''}; no other load`].filter(Boolean).join('; '),
        },
      ],
    });
  }

  if (cfg.sections.has('coldstart')) {
    out.push({
      title: 'Cold start',
      rows: [numberRow('SIGTERM, start again on the same DATA_DIR, first 200 from /healthz (median)', median(now.coldMs), before ? median(before.coldMs) : undefined, (n) => `${fmt(n)} ms`, {
        aim: `< ${AIMS.coldStartMs / 1000} s`, ok: (n) => n < AIMS.coldStartMs,
        note: [missingNote('cold start'), `${cfg.coldStarts} start${cfg.coldStarts === 1 ? '' : 's'} each; now ${now.coldMs.map((x) => fmt(x)).join(', ') || '–'}${before ? `; before ${before.coldMs.map((x) => fmt(x)).join(', ') || '–'}` : ''}; node and tsx loading the code, the server starting its own PostgreSQL`].filter(Boolean).join('; '),
      })],
    });
  }
  return out;
}

/** The aims in a few lines, under the table. */
function summary(cfg: BenchConfig, now: Target, before: Target | undefined): string[] {
  const out: string[] = [];
  if (now.paced) {
    const p99 = now.paced.all.p99;
    const b = before?.paced?.all.p99;
    out.push(`Paced, ${cfg.paced.terminals} terminals, a sale every ${cfg.paced.saleSeconds} s each: every tap p99 ${fmtMs(p99)} now (aim < ${AIMS.tapP99Ms} ms: ${p99 < AIMS.tapP99Ms ? 'MET' : 'NOT MET'})${before ? `, ${fmtMs(b)} before, now ÷ before ${ratio(p99, b)}` : ''}.`);
  }
  for (const n of cfg.saturated.terminals) {
    const r = (t: Target | undefined) => {
      const a = t?.saturated.get(n)?.r.salesPerSec;
      const f = t?.floor.get(n)?.loop.perSec;
      return a !== undefined && f !== undefined ? a / f : undefined;
    };
    const a = now.saturated.get(n)?.r.salesPerSec;
    const b = before?.saturated.get(n)?.r.salesPerSec;
    if (a === undefined) continue;
    const rn = r(now);
    const rb = r(before);
    out.push(`Saturated, ${n} terminals: ${fmt(a)} sales/s now${rn !== undefined ? `, ${rn.toFixed(2)} of its SQL floor (aim ≥ ${AIMS.oursOverFloor}, reported)` : ''}${before ? `; before ${b === undefined ? '–' : fmt(b)}${rb !== undefined ? ` (${rb.toFixed(2)} of its floor)` : ''}, now ÷ before ${ratio(a, b)}` : ''}.`);
  }
  return out;
}

async function pendingSection(cfg: BenchConfig): Promise<Section> {
  return { title: 'Aims of features not built yet', rows: [...(await measureReports(cfg.quick ? { lines: 20_000, zOrders: 500 } : {})), ...(await measureLedgerCatchUp(cfg.ledger.entries)), ...(await measureHeadOffice({ batches: cfg.quick ? 1 : 5 }))] };
}

// ---- the figures as JSON (BENCH_JSON), for tests and tools -----------------------------------

function figuresJson(cfg: BenchConfig, machine: Machine, now: Target, before: Target | undefined, baseRef: string | null) {
  const one = (t: Target) => ({
    commit: t.tree?.commit ?? null,
    missing: t.missing ?? null,
    failed: Object.fromEntries(t.failed),
    coldStartMs: t.coldMs,
    paced: t.paced && {
      taps: Object.fromEntries([...t.paced.taps].map(([k, p]) => [k, p])),
      all: t.paced.all,
      salesInWindow: t.paced.r.completed,
      salesPerTerminal: t.paced.r.completedPerTerminal,
      errors: Object.fromEntries(t.paced.r.errors),
      rssMaxBytes: Math.max(...t.paced.rss),
      cpu: t.paced.cpu,
    },
    saturated: Object.fromEntries([...t.saturated].map(([n, s]) => [n, { salesPerSec: s.r.salesPerSec, completed: s.r.completed, errors: Object.fromEntries(s.r.errors) }])),
    floor: Object.fromEntries([...t.floor].map(([n, f]) => [n, { salesPerSec: f.loop.perSec, errors: f.loop.errors, replayed: f.checked.replayed, paid: f.checked.paid ?? null }])),
    sqlPerSale: t.capture ? { statements: t.capture.statements.length, transactions: t.capture.transactions, requests: t.capture.requests } : null,
    kitchen: t.kitchen ? { ...percentiles(t.kitchen.latencies), missing: t.kitchen.missing, sendErrors: t.kitchen.sendErrors } : null,
    scan: t.scan ? { ...percentiles(t.scan.latencies), missing: t.scan.missing, errors: t.scan.errors } : null,
  });
  return { machine, quick: cfg.quick, baseRef, now: one(now), before: before ? one(before) : null, problems };
}

// ---- the document -----------------------------------------------------------------------------

function performanceDoc(cfg: BenchConfig, m: Machine, table: string, steps: Step[], now: Target, before: Target | undefined, baseNote: string): string {
  const p = cfg.paced;
  return `# Performance

**The tuning history at the end of this file is history.** It tells how the sale path was tuned
towards 300 sales a second on two cores, with machinery issue 19 removed (a second implementation
of each change, a transaction runner on pg's internals, process tuning); its figures were measured
with that machinery. The table below is what the server does now, beside the commit before issue 19.

Written by \`npm run bench\` (scripts/bench/): everything above "${'Tuning history (before issue 19)'}" is replaced on each run.

${machineLine(m)}

Servers: **now** = ${now.tree?.commit ?? '–'}, started as \`${now.tree ? startLine(now.tree) : 'node'} --import tsx server/cli.ts start\`; ${baseNote}
${cfg.quick ? '\n**Quick mode (BENCH_QUICK=1): short windows, figures for development only.**\n' : ''}
${table}
${problems.length ? `\n## Problems seen in this run\n\n${problems.map((x) => `- ${x}`).join('\n')}\n` : ''}
## How it is measured

- **Servers**: each is its tree's \`server/cli.ts start\` as its own process, started as that tree's
  \`npm start\` starts it (the environment words and node options of its package.json's start
  script), on a fresh DATA_DIR in the temp directory with its own embedded PostgreSQL (first start
  with \`--demo\`: initdb and the demo seed). The "before" server is the commit BENCH_BASE_REF,
  checked out in a temporary worktree (\`git worktree add /tmp/bench-base-<sha>\`, this tree's
  node_modules linked in) and removed afterwards. Both run side by side; each phase runs on now,
  then on before, so slow drifts of the machine touch both. Only rate limits are raised by the
  environment (the bench pairs and logs in dozens of terminals at once).
- **Setting up, as an owner would**: the first browser pairs with the one-time code \`start --demo\`
  prints and logs in with the owner's PIN; it raises the idle lock in Settings (the form read and
  sent back) so terminals stay signed in between phases, makes an API token (catalog:read) in the
  back office and reads the products and their modifier groups from /api/v1, and makes a pairing
  code in the back office for each terminal, which then pairs (GET and POST /pair) and logs in
  (POST /login) with its own session. No table is read or written by the bench.
- **The sale**: ${uniqueSteps(steps).map((s) => `${s.name} (${s.requests})`).join('; ')}. Each
  request is sent as htmx sends it (HX-Request, X-CSRF-Token, cookies, form bodies) over the
  terminal's own keep-alive HTTP/1.1 socket (scripts/bench/wire.ts); each line is a product with
  modifier groups and a valid choice of modifiers; every answer's status is checked.
- **Paced**: ${p.terminals} terminals, each starting a sale every ${p.saleSeconds} s (a brisk human pace); its taps
  are spread over three quarters of that time with random think time (0.5–1.5 × the mean gap),
  each sent at its planned moment or, if the previous answer came later, 150 ms after it; the
  terminals' first sales are staggered evenly over one period. The schedule is seeded, so both
  servers get the same taps at the same moments. Latency is from sending a request to the last byte
  of its answer, over the requests sent in the ${p.seconds} s window that follows ${p.warmupSeconds} s of the same load;
  "every tap" pools them all. The aim is on its p99. RSS is the server process's VmRSS every 250 ms
  over the window; CPU from /proc (utime + stime) of the server, its PostgreSQL and this script, and
  of every other process from /proc/stat (other work on a shared machine shows there).
- **Saturated**: the same sale with no think time, ${cfg.saturated.terminals.join(' and ')} terminals, each
  level a ${cfg.saturated.seconds} s window after ${cfg.saturated.warmupSeconds} s (and ${cfg.saturated.jitWarmupSeconds} s of load before the first level); the terminals are
  spread over the sale before the clock starts. Sales/s counts sales completed inside the window.
- **Floor**: a second server of the same tree is started on a scratch database of the measured
  server's cluster, its DATABASE_URL pointing at a recording proxy of PostgreSQL's wire protocol
  (scripts/bench/pgwire.ts); after two warm-up sales and 1.5 s with no requests (whatever runs then
  is background work, and a statement outside a transaction whose text ran then is left out), the
  statements of one sale are recorded with their parameters and results. The replay sends those
  texts through \`pg\` over the cluster's Unix socket, as the server connects, on a pool as large as
  the server's (${cfg.floor.pool}), named when the server named them and with the session options its
  connections gave, one sale's statements in order and each transaction on one connection; ids,
  the order number and the chain head are taken from what earlier statements of the same replayed
  sale returned (also inside JSON results), values derived from them (the next seq, totals moved
  on) are derived again, keys, hashes and times are fresh. Sequences, the chain head and the
  order counter start at distinctive values so that these can be told from constants. After each
  level the paid orders the database gained are checked against the sales replayed. When a server
  keeps its PostgreSQL to some cores (the commit before issue 19 did, SERVER_CPU), the cluster gets
  every core back before the replay: the floor is the SQL on the whole machine. Each
  statement is its own round trip in the replay, also where a server sent several in one write.
  BENCH_DUMP_SQL=prefix writes each server's plan to prefix-now.jsonl / prefix-before.jsonl.
- **Kitchen push**: kitchen screens paired in the back office as kitchen terminals, connected over
  socket.io (websocket) with their device cookie, each watching the station of the product sent;
  the time from sending POST /orders/:id/send to each screen's ticket:created for that order.
- **Scan to screen**: a simulated scanner added in the back office (Devices, scanners) and bound to
  a logged-in counter terminal connected over socket.io (websocket) with its device cookie; a first
  scan starts a sale there, the terminal's socket watches it; then, one after another, each scan
  is typed into the scanner with the back office's scan form (HID key reports through the decoder a
  USB scanner's reports go through) and timed from sending that form to the terminal's
  order:updated for the order. Only this tree: the "before" commit has no scanners.
- **Cold start**: SIGTERM, wait for the exit, start again on the same DATA_DIR, time to the first
  200 from /healthz. The cold starts come before the terminals log in, so the loads run on a
  server that has just seen a store's opening: dozens of PIN checks, each a scrypt.

## How to run

\`\`\`sh
npm run bench                               # everything, both servers; writes this file (about 12 minutes)
BENCH_QUICK=1 npm run bench                 # short windows, print only (about 4 minutes)
BENCH_QUICK=1 BENCH_BASE_REF=none BENCH_ONLY=paced npm run bench   # this tree only, one section
\`\`\`

| variable | default (quick) | meaning |
|---|---|---|
${ENV_DOC.map(([k, d, meaning]) => `| ${k} | ${d} | ${meaning} |`).join('\n')}

The load generator runs on the same cores as the servers and PostgreSQL (its CPU is in the table).
Timings never go into tests: \`test/bench-run.test.ts\` checks the bench's wiring with a 2-terminal quick pass.
`;
}

// ---- the machine ------------------------------------------------------------------------------

async function machineInfo(server: ServerProcess | undefined, loadAtStart: number): Promise<Machine> {
  let postgres = 'PostgreSQL (not reached)';
  if (server?.alive()) {
    const c = new pg.Client({ connectionString: server.clusterUrl('postgres') });
    try {
      await c.connect();
      postgres = String((await c.query('select version() as v')).rows[0].v).split(',')[0];
    } catch {
      /* left as not reached */
    } finally {
      await c.end().catch(() => undefined);
    }
  }
  const node = serverNodeVersion();
  return {
    date: new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryBytes: os.totalmem(),
    node: node === process.version ? node : `${node} (the servers, BENCH_SERVER_NODE; the bench ${process.version})`,
    postgres,
    os: `${os.type()} ${os.release()}`,
    loadAtStart,
  };
}

// ---- main -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const cfg = benchConfig();
  const loadAtStart = os.loadavg()[0];
  const steps = saleSteps({ fullBrowser: cfg.fullBrowser });
  note(`${cfg.quick ? 'QUICK: ' : ''}sections ${[...cfg.sections].join(', ')}; paced ${cfg.paced.terminals} terminals × ${cfg.paced.seconds} s; saturated ${cfg.saturated.terminals.join(',')} × ${cfg.saturated.seconds} s; before: ${cfg.baseRef ?? 'none'}; load average ${loadAtStart.toFixed(2)}`);
  for (const k of unknownSettings()) note(`${k} is not a setting of this bench and is ignored (the settings are in docs/PERFORMANCE.md, "How to run"; a quick look is BENCH_QUICK=1)`);
  if (loadAtStart > 1.5) note(`the machine is busy (load average ${loadAtStart.toFixed(2)}): the figures will be noisy`);

  const now = newTarget('now');
  let before: Target | undefined;
  let baseNote = 'no "before" server (BENCH_BASE_REF=none).';
  await start(now, treeAt(ROOT, 'now'), cfg);

  if (cfg.baseRef) {
    before = newTarget('before');
    let base: BaseTree | undefined;
    try {
      base = await checkOutBase(cfg.baseRef, note);
      const b = base;
      onCleanup('remove the base worktree', () => b.remove());
      await start(before, base.tree, cfg);
      baseNote = `**before** = ${base.tree.commit} (BENCH_BASE_REF=${cfg.baseRef}), started as \`${startLine(base.tree)} --import tsx server/cli.ts start\`.`;
    } catch (err) {
      const msg = (err as Error).message.split('\n')[0];
      before.missing = `the base ${cfg.baseRef} could not start: ${msg}`;
      baseNote = `**before**: BENCH_BASE_REF=${cfg.baseRef} COULD NOT START (${msg}); its column is empty.`;
      note(`before: ${before.missing}${(err as Error).stack ? `\n${(err as Error).stack}` : ''}`);
      problems.push(before.missing);
      await before.server?.stop().catch(() => undefined);
    }
  }
  const targets = [now, ...(before ? [before] : [])];
  const machine = await machineInfo(now.server, loadAtStart);

  // cold starts before the terminals log in: the load then runs on a server that has just seen a
  // store's opening (dozens of PIN checks), as in a store
  if (cfg.sections.has('coldstart')) for (const t of targets) await coldStarts(t, cfg);
  for (const t of targets) await prepare(t, cfg);
  if (now.missing) throw new Error(`this tree's server: ${now.missing}`);
  if (cfg.sections.has('paced')) for (const t of targets) await pacedSection(t, cfg, steps);
  if (cfg.sections.has('saturated')) for (const t of targets) await saturatedSection(t, cfg, steps);
  if (cfg.sections.has('kitchen')) for (const t of targets) await kitchenSection(t, cfg);
  if (cfg.sections.has('scan')) await scanSection(now, cfg); // the "before" server has no scanners
  if (cfg.sections.has('print')) await printSection(now, cfg); // nor printers
  if (cfg.sections.has('floor')) for (const t of targets) await floorSection(t, cfg, steps);

  const all = sections(cfg, steps, now, before);
  if (cfg.sections.has('pending')) all.push(await pendingSection(cfg));
  if (cfg.sections.has('appliance')) all.push(await measureAppliance(cfg, note)); // the binary beside npm start (./appliance.ts)
  const table = markdownTable(all, { now: now.tree?.commit ?? '–', before: before ? (before.tree?.commit ?? cfg.baseRef ?? '–') : undefined });
  process.stdout.write(`\n${table}\n\n${summary(cfg, now, before).join('\n')}\n\n`);
  if (before?.missing) process.stdout.write(`The "before" server was not measured: ${before.missing}\n\n`);
  if (problems.length) process.stdout.write(`Problems seen:\n${problems.map((x) => `- ${x}`).join('\n')}\n\n`);
  if (cfg.outFile) {
    const file = path.resolve(ROOT, cfg.outFile);
    writeReport(file, performanceDoc(cfg, machine, table, steps, now, before, baseNote));
    note(`written to ${path.relative(ROOT, file)}`);
  }
  if (cfg.jsonFile) {
    fs.writeFileSync(cfg.jsonFile, JSON.stringify(figuresJson(cfg, machine, now, before, cfg.baseRef), null, 2));
    note(`figures written to ${cfg.jsonFile}`);
  }
}

main().then(
  () => cleanupAll().then(() => process.exit(0)),
  async (err: unknown) => {
    note(`failed: ${(err as Error).stack ?? String(err)}`);
    await cleanupAll();
    process.exit(1);
  },
);
