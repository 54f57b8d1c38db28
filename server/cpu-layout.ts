import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { Logger } from './logger';

/**
 * Which cores the server and its own PostgreSQL run on (SERVER_CPU).
 *
 * The server's JavaScript runs on one thread, and in a rush that thread is what binds. Left to
 * the kernel, each statement the server sends wakes a PostgreSQL backend on the server's own core
 * (a wake-up from a socket write asks for the waker's core), and the server waits for a core
 * while the other one may be idle: in the bench's rush the thread spent a quarter of its time
 * waiting that way (docs/PERFORMANCE.md). With the JavaScript thread on one core and PostgreSQL on
 * the others, that stops.
 *
 * The server's other threads go with PostgreSQL, not with the JavaScript thread: V8's helpers
 * (which mark the heap while the JavaScript runs, and share the young generation's collections)
 * and libuv's pool (a PIN's scrypt, file reads). On the JavaScript thread's core they take their
 * time from it: each full collection then stopped the server for some 50 ms, and those stops
 * were the rush's slowest answers (docs/PERFORMANCE.md). The price is memory: with helpers that
 * keep up, V8 lets the heap grow further (on Node 24 past the 200 MB aim; the same file has the
 * flags that bring it back).
 *
 * The JavaScript thread's core is the one that handles the fewest device interrupts: on the
 * machine the bench runs on, every disk interrupt (each commit's fsync) goes to one core, and a
 * server placed there lost what it gained. On 2 cores PostgreSQL then has one core to itself; a
 * report or an export that could have used both takes longer. A process the server starts later
 * inherits the JavaScript thread's core.
 *
 * Only with the embedded PostgreSQL (the server starts it, so it knows its processes), at least
 * 2 usable cores and `taskset` (util-linux) to set it; otherwise nothing is pinned, and the log
 * says why once.
 */
export type CpuSetting = 'auto' | 'off' | number;

export interface CpuLayout {
  /** the JavaScript thread's core */
  server: number;
  /** PostgreSQL's cores, and the server's other threads' */
  postgres: number[];
}

/** "0-3,6" → [0, 1, 2, 3, 6] (the kernel's cpu list format). */
export function parseCpuList(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.trim().split(',')) {
    if (!part) continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`not a cpu list: ${text}`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let c = from; c <= to; c++) out.add(c);
  }
  return [...out].sort((a, b) => a - b);
}

export function formatCpuList(cpus: readonly number[]): string {
  return cpus.join(',');
}

/** The cores a process may run on (its Cpus_allowed_list), from /proc/<pid>/status's text. */
export function allowedCpus(statusText: string): number[] {
  const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(statusText);
  if (!m) throw new Error('no Cpus_allowed_list in the process status');
  return parseCpuList(m[1]);
}

/**
 * Device interrupts per core from /proc/interrupts's text: the numbered lines only (disks,
 * network cards), not the timer and inter-processor lines every core has.
 */
export function deviceInterrupts(text: string): Map<number, number> {
  const [header, ...rows] = text.split('\n');
  const columns = header.trim().split(/\s+/).map((h) => Number(/^CPU(\d+)$/.exec(h)?.[1] ?? Number.NaN));
  const out = new Map<number, number>(columns.filter(Number.isFinite).map((c) => [c, 0]));
  for (const row of rows) {
    const m = /^\s*\d+:\s+(.*)$/.exec(row);
    if (!m) continue;
    const fields = m[1].trim().split(/\s+/);
    columns.forEach((cpu, i) => {
      const n = Number(fields[i]);
      if (Number.isFinite(cpu) && Number.isInteger(n)) out.set(cpu, out.get(cpu)! + n);
    });
  }
  return out;
}

/** Where the server and PostgreSQL go, or why nothing is pinned. */
export function planCpuLayout(setting: CpuSetting, allowed: readonly number[], interrupts: Map<number, number>): CpuLayout | { none: string } {
  if (setting === 'off') return { none: 'SERVER_CPU=off' };
  if (allowed.length < 2) return { none: `only ${allowed.length} usable core` };
  let server: number;
  if (setting === 'auto') {
    // the fewest device interrupts; on a tie, the last core (the first usually takes the timers)
    server = [...allowed].reverse().reduce((best, c) => ((interrupts.get(c) ?? 0) < (interrupts.get(best) ?? 0) ? c : best));
  } else {
    if (!allowed.includes(setting)) return { none: `SERVER_CPU=${setting} is not one of the usable cores (${formatCpuList(allowed)})` };
    server = setting;
  }
  return { server, postgres: allowed.filter((c) => c !== server) };
}

/** A process and every process it started (PostgreSQL's postmaster and its backends), from /proc. */
export function processAndChildren(pid: number): number[] {
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

/** Every thread of `pid` onto `cpus`; the error's text when taskset could not. */
export function pinProcess(pid: number, cpus: readonly number[]): string | undefined {
  return taskset(['--all-tasks'], pid, cpus);
}

/** One thread (a task id; a process's main thread has the process's id) onto `cpus`. */
export function pinThread(tid: number, cpus: readonly number[]): string | undefined {
  return taskset([], tid, cpus);
}

function taskset(flags: string[], pid: number, cpus: readonly number[]): string | undefined {
  const res = spawnSync('taskset', [...flags, '--pid', '--cpu-list', formatCpuList(cpus), String(pid)], { encoding: 'utf8' });
  if (res.error) return (res.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'taskset (util-linux) is not installed' : res.error.message;
  if (res.status !== 0) return res.stderr.trim() || `taskset exited with ${res.status}`;
  return undefined;
}

/**
 * Puts this process's JavaScript thread on its core, and its other threads with PostgreSQL's
 * postmaster and children on the others (backends it starts later inherit that). Returns the
 * layout, or undefined when nothing was pinned.
 */
export async function applyCpuLayout(setting: CpuSetting, postmasterPid: number, log: Logger): Promise<CpuLayout | undefined> {
  let plan: CpuLayout | { none: string };
  try {
    // read through libuv's pool, so its threads exist before they are placed (a thread starts on
    // the cores of the one that creates it: made later, they would join the JavaScript thread)
    const status = await fs.promises.readFile('/proc/self/status', 'utf8');
    plan = planCpuLayout(setting, allowedCpus(status), deviceInterrupts(fs.readFileSync('/proc/interrupts', 'utf8')));
  } catch (err) {
    plan = { none: `cannot read the cores from /proc (${(err as Error).message})` };
  }
  if ('none' in plan) {
    log.info({ reason: plan.none }, 'the server and PostgreSQL share every core');
    return undefined;
  }
  // PostgreSQL first: were the server pinned and PostgreSQL not, its backends would crowd the server's core
  for (const pid of processAndChildren(postmasterPid)) {
    const failed = pinProcess(pid, plan.postgres);
    // a backend that ended meanwhile is no failure; the postmaster is
    if (failed && pid === postmasterPid) {
      log.warn({ reason: failed }, 'the server and PostgreSQL share every core');
      return undefined;
    }
  }
  // every thread of the server with PostgreSQL, then the JavaScript thread (the process's id) on its own
  const failed = pinProcess(process.pid, plan.postgres) ?? pinThread(process.pid, [plan.server]);
  if (failed) {
    const every = [plan.server, ...plan.postgres];
    pinProcess(process.pid, every);
    for (const pid of processAndChildren(postmasterPid)) pinProcess(pid, every);
    log.warn({ reason: failed }, 'the server and PostgreSQL share every core');
    return undefined;
  }
  log.info({ serverCpu: plan.server, postgresCpus: formatCpuList(plan.postgres) }, 'the server\'s JavaScript thread has a core of its own; its other threads and PostgreSQL the others');
  return plan;
}
