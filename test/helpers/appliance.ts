import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBinary } from '../../scripts/build';
import type { Spawned } from './spawn';

const ROOT = path.resolve(__dirname, '../..');

/**
 * The packaged binary (dist/store-server, built when missing or stale) in tests: copied with what
 * travels beside it (pg/, node_modules/) into a folder away from the source tree, and run there
 * with nothing of the repository around it.
 */
export async function installedBinary(prefix = 'store-appliance-'): Promise<{ dir: string; exe: string }> {
  const built = await ensureBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const from = path.dirname(built);
  fs.copyFileSync(built, path.join(dir, 'store-server'));
  fs.chmodSync(path.join(dir, 'store-server'), 0o755);
  for (const sub of ['pg', 'node_modules']) fs.cpSync(path.join(from, sub), path.join(dir, sub), { recursive: true, verbatimSymlinks: true });
  return { dir, exe: path.join(dir, 'store-server') };
}

/** The binary's environment: no PATH entries into the repository, no NODE_* settings. */
export function applianceEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: process.env.HOME, LOG_LEVEL: 'info', ...env };
}

/** Starts the binary (`start` and `args`) in its own folder, output collected like spawnCli's. */
export function spawnBinary(exe: string, args: string[], env: Record<string, string | undefined>): Spawned {
  const child = spawn(exe, args, { cwd: path.dirname(exe), env: applianceEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Runs one CLI command of the binary to its end. */
export function runBinary(exe: string, args: string[], env: Record<string, string | undefined>): { code: number | null; out: string } {
  const r = spawnSync(exe, args, { cwd: path.dirname(exe), env: applianceEnv(env), encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** An API token made with the binary's own `api-token` command (the server need not run). */
export function binaryToken(exe: string, env: Record<string, string | undefined>): string {
  const r = runBinary(exe, ['api-token', '--name', `test ${crypto.randomBytes(3).toString('hex')}`, '--scopes', 'catalog:read,orders:write,payments:write'], env);
  assert.equal(r.code, 0, r.out);
  return r.out.trim().split('\n').pop()!.trim();
}

async function api<T>(base: string, token: string, method: string, p: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}/api/v1${p}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/**
 * One cash sale over HTTP through the public API: the first product, one of it, paid in cash.
 * The one place the tests of the appliance sell: when a sale needs more first (a drawer opened
 * with a float, say), it changes here. Returns the paid order.
 */
export async function cashSale(base: string, token: string): Promise<{ id: number; total: number; status: string }> {
  const products = await api<{ items: Array<{ id: number }> }>(base, token, 'GET', '/products');
  assert.equal(products.status, 200, JSON.stringify(products.body));
  assert.ok(products.body.items.length, 'the store has products to sell');
  const key = crypto.randomBytes(6).toString('hex');
  const order = await api<{ id: number; total: number }>(base, token, 'POST', '/orders', {
    type: 'counter', lines: [{ productId: products.body.items[0].id, qty: 1 }], idempotencyKey: `order-${key}`,
  });
  assert.equal(order.status, 201, JSON.stringify(order.body));
  const pay = await api<unknown>(base, token, 'POST', `/orders/${order.body.id}/payments`, { method: 'cash', amount: order.body.total, idempotencyKey: `pay-${key}` });
  assert.equal(pay.status, 201, JSON.stringify(pay.body));
  const after = await api<{ id: number; total: number; status: string }>(base, token, 'GET', `/orders/${order.body.id}`);
  assert.equal(after.status, 200, JSON.stringify(after.body));
  return after.body;
}

/** A process and every process under it (by parent pid in /proc): what a clean stop must leave none of. */
export function processTree(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, ppid] of parents) if (ppid === tree[i]) tree.push(pid);
  return tree;
}

/** Those of `pids` still running (a zombie counts as gone). */
export function stillRunning(pids: number[]): number[] {
  return pids.filter((pid) => {
    try {
      return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  });
}

/** The postmaster's pid from its pid file, while it runs. */
export function postmasterPid(dataDir: string): number {
  return Number(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** Runs installer/install.sh with `args` (a test always gives --prefix). */
export function install(args: string[]): { code: number | null; out: string } {
  const r = spawnSync('bash', [path.join(ROOT, 'installer', 'install.sh'), ...args], { encoding: 'utf8', timeout: 240_000, env: { PATH: process.env.PATH, HOME: process.env.HOME } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** install() without blocking: the test's own children (a server the installer stops) are served and reaped meanwhile. */
export function installAsync(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn('bash', [path.join(ROOT, 'installer', 'install.sh'), ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

/** A prefix folder the installed server's PostgreSQL user can enter (mkdtemp makes it 0700). */
export function prefixDir(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), name));
  fs.chmodSync(dir, 0o755);
  return dir;
}
