/**
 * The appliance (issue 27): the packaged binary dist/store-server (Node 24, one executable) beside
 * the same tree started as `npm start` starts it (node --import tsx server/cli.ts, on the machine's
 * node). For each: the binary's size, cold start to /healthz (a restart on a store that exists),
 * RSS of the server process idle and under the paced load of the bench's terminals.
 *
 * Alone: `npx tsx scripts/bench/appliance.ts` (BENCH_QUICK=1 for short windows).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBinary } from '../build';
import type { BenchConfig } from './config';
import { keepAliveAgent, waitFor200 } from './http';
import { fmtMs, type Row, type Section } from './report';
import { paced, saleSteps } from './sale';
import { ServerProcess, freePort, rssBytes, serverEnv, treeAt, type ServerEnv } from './server';
import { fmt, fmtBytes, median, percentile } from './stats';
import { PINS, Store } from './store';

const AIM_RSS = 200 * 1024 * 1024;
const AIM_COLD_MS = 2000;
const IDLE_MS = 10_000;
const PAIRING_LINE = /One-time pairing code[^:\n]*:\s*(\S+)/g;

/** What the section needs of a running server, whichever way it was started. */
interface Running {
  url: string;
  pid: number;
  pairingCode(): Promise<string>;
  stop(): Promise<number | null>;
}

/** The binary, started as its systemd unit starts it (its own folder, nothing of the repository around). */
class BinaryServer implements Running {
  private out = '';
  readonly exited: Promise<number | null>;
  readonly url: string;

  constructor(readonly child: ChildProcess, env: ServerEnv) {
    this.url = `http://127.0.0.1:${env.port}`;
    child.stdout!.on('data', (d: Buffer) => (this.out = (this.out + d.toString()).slice(-64 * 1024)));
    child.stderr!.on('data', (d: Buffer) => (this.out = (this.out + d.toString()).slice(-64 * 1024)));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  static async start(exe: string, env: ServerEnv, demo: boolean): Promise<{ server: BinaryServer; readyMs: number }> {
    const started = process.hrtime.bigint();
    const child = spawn(exe, ['start', ...(demo ? ['--demo'] : [])], {
      cwd: path.dirname(exe),
      env: {
        PATH: '/usr/bin:/bin', HOME: process.env.HOME, DATA_DIR: env.dataDir, PORT: String(env.port), HOST: '127.0.0.1', LOG_LEVEL: env.logLevel, SECRET_KEY: env.secretKey,
        RATE_LIMIT_LOGIN_PER_MIN: '100000', RATE_LIMIT_PAIR_PER_MIN: '100000', RATE_LIMIT_API_PER_MIN: '1000000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const server = new BinaryServer(child, env);
    process.once('exit', () => server.child.exitCode === null && child.kill('SIGTERM'));
    const readyMs = await waitFor200(`${server.url}/healthz`, started, 180_000, () => child.exitCode === null);
    return { server, readyMs };
  }

  get pid(): number {
    return this.child.pid!;
  }

  async pairingCode(): Promise<string> {
    for (let i = 0; i < 300; i++) {
      const codes = [...this.out.matchAll(PAIRING_LINE)].map((m) => m[1]);
      if (codes.length) return codes[codes.length - 1];
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the binary printed no pairing code\n${this.out.slice(-2000)}`);
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

interface Figures {
  coldMs: number[];
  rssIdle: number;
  rssLoad: number[];
  tapP99?: number;
  sales: number;
  errors: number;
  /** why this variant could not be measured (its figures stay empty) */
  failed?: string;
}

type Starter = (env: ServerEnv, demo: boolean) => Promise<{ server: Running; readyMs: number }>;

async function measureOne(label: string, startServer: Starter, cfg: BenchConfig, note: (m: string) => void): Promise<Figures> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-appliance-${label}-`));
  const env = serverEnv(dataDir, await freePort(), cfg.serverLogLevel);
  const agent = keepAliveAgent();
  let server: Running | undefined;
  try {
    note(`appliance, ${label}: first start (initdb + demo seed)`);
    server = (await startServer(env, true)).server;
    const coldMs: number[] = [];
    for (let i = 0; i < Math.max(1, cfg.coldStarts); i++) {
      await server.stop();
      const s = await startServer(env, true); // --demo on a seeded store only prints a new pairing code
      server = s.server;
      coldMs.push(s.readyMs);
    }
    note(`appliance, ${label}: cold starts ${coldMs.map((m) => m.toFixed(0)).join(', ')} ms; idle ${IDLE_MS / 1000} s`);
    const store = await Store.open(server, agent);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const rssIdle = rssBytes(server.pid);
    await store.raiseIdleLock();
    const recipes = await store.lineRecipes();
    const n = cfg.paced.terminals;
    note(`appliance, ${label}: pairing ${n} terminals; paced load ${cfg.paced.warmupSeconds} s + ${cfg.paced.seconds} s`);
    const terminals = await store.pair(n, { kind: 'counter', pin: PINS.owner, prefix: 'Appliance counter' });
    const rssLoad: number[] = [];
    const pid = server.pid;
    const r = await paced(terminals, recipes, saleSteps({ fullBrowser: cfg.fullBrowser }), {
      saleMs: cfg.paced.saleSeconds * 1000,
      warmupMs: cfg.paced.warmupSeconds * 1000,
      measureMs: cfg.paced.seconds * 1000,
      sampler: { begin() {}, sample: () => rssLoad.push(rssBytes(pid)), end() {} },
    });
    const taps = [...r.taps.values()].flat();
    return {
      coldMs, rssIdle, rssLoad: rssLoad.filter(Number.isFinite), tapP99: taps.length ? percentile(taps, 99) : undefined, sales: r.completed,
      errors: [...r.errors.values()].reduce((a, b) => a + b, 0),
    };
  } finally {
    await server?.stop();
    agent.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

function dirBytes(p: string): number {
  const st = fs.lstatSync(p);
  if (!st.isDirectory()) return st.size;
  return fs.readdirSync(p).reduce((n, e) => n + dirBytes(path.join(p, e)), 0);
}

/** The section: the binary (Node 24) beside `npm start` (this machine's node). */
export async function measureAppliance(cfg: BenchConfig, note: (m: string) => void): Promise<Section> {
  const exe = await ensureBinary();
  const dist = path.dirname(exe);
  const exeBytes = fs.statSync(exe).size;
  const besideBytes = dirBytes(path.join(dist, 'pg')) + dirBytes(path.join(dist, 'node_modules'));
  // a variant that fails is said in its rows; the other is still measured
  const attempt = (label: string, start: Starter) =>
    measureOne(label, start, cfg, note).catch((err: Error): Figures => {
      note(`appliance, ${label}: failed: ${err.stack ?? err.message}`);
      return { coldMs: [], rssIdle: Number.NaN, rssLoad: [], sales: 0, errors: 0, failed: err.message.split('\n')[0] };
    });
  const node24 = await attempt('binary', (env, demo) => BinaryServer.start(exe, env, demo));
  const tree = treeAt(path.resolve(__dirname, '../..'), 'now');
  const npmStart = await attempt('npm start', (env, demo) => ServerProcess.start(tree, env, { demo }));
  const ratioOf = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? `${fmt(a / b)}×` : '–');
  const met = (ok: boolean): Row['met'] => (ok ? 'yes' : 'no');
  const coldB = node24.coldMs.length ? median(node24.coldMs) : undefined;
  const coldS = npmStart.coldMs.length ? median(npmStart.coldMs) : undefined;
  const loadB = node24.rssLoad.length ? Math.max(...node24.rssLoad) : Number.NaN;
  const loadS = npmStart.rssLoad.length ? Math.max(...npmStart.rssLoad) : Number.NaN;
  const bytes = (n: number) => (Number.isFinite(n) ? fmtBytes(n) : '–');
  const rows: Row[] = [
    { figure: 'Binary size (dist/store-server)', now: fmtBytes(exeBytes), before: '', ratio: '', aim: '', met: '', note: `${fmtBytes(besideBytes)} more beside it (PostgreSQL in pg/, node-hid in node_modules/)` },
    { figure: 'Cold start to /healthz, median', now: fmtMs(coldB), before: fmtMs(coldS), ratio: ratioOf(coldB, coldS), aim: `< ${AIM_COLD_MS} ms`, met: met((coldB ?? Infinity) < AIM_COLD_MS), note: `${node24.coldMs.length} restarts each on a seeded store` },
    { figure: 'RSS of the server, idle', now: bytes(node24.rssIdle), before: bytes(npmStart.rssIdle), ratio: ratioOf(node24.rssIdle, npmStart.rssIdle), aim: `< ${fmtBytes(AIM_RSS)}`, met: met(node24.rssIdle < AIM_RSS), note: `${IDLE_MS / 1000} s after the owner's browser paired` },
    { figure: `RSS of the server, max under the paced load (${cfg.paced.terminals} terminals)`, now: bytes(loadB), before: bytes(loadS), ratio: ratioOf(loadB, loadS), aim: `< ${fmtBytes(AIM_RSS)}`, met: met(loadB < AIM_RSS), note: `${node24.sales} / ${npmStart.sales} sales in the window, ${node24.errors} / ${npmStart.errors} errors` },
    { figure: 'Every tap p99 under that load', now: fmtMs(node24.tapP99), before: fmtMs(npmStart.tapP99), ratio: ratioOf(node24.tapP99, npmStart.tapP99), aim: '< 50 ms', met: met((node24.tapP99 ?? Infinity) < 50) },
  ];
  const failures = [node24.failed && `binary: ${node24.failed}`, npmStart.failed && `npm start: ${npmStart.failed}`].filter(Boolean);
  if (failures.length) rows.push({ figure: 'Not measured', now: node24.failed ? 'failed' : '', before: npmStart.failed ? 'failed' : '', ratio: '', aim: '', met: '', note: failures.join('; ') });
  return { title: `The appliance: the binary (Node 24, "now") beside npm start (${process.version}, "before" column)`, rows };
}

if (require.main === module) {
  void (async () => {
    const { benchConfig } = await import('./config');
    const { markdownTable } = await import('./report');
    const section = await measureAppliance(benchConfig(), (m) => process.stderr.write(`[appliance] ${m}\n`));
    process.stdout.write(`${markdownTable([section], { now: 'binary', before: 'npm start' })}\n`);
  })().then(() => process.exit(0), (err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
}
