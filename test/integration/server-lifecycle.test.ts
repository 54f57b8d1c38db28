import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawnCli, waitForListening, postmastersFor, type Spawned } from '../helpers/spawn';
import { tempDir } from '../helpers/config';
import { allowedCpus, processAndChildren } from '../../server/cpu-layout';
import { createTestDb } from '../helpers/pg';
import { Client, login, PINS } from '../helpers/client';
import pg from 'pg';
import { loadConfig } from '../../server/config';
import { runningClusterUrl } from '../../server/db/database';
import { createLogger } from '../../server/logger';

/** The cores each thread of a process may run on. */
function threadCpus(pid: number): number[][] {
  return threadsOf(pid).map((t) => t.cpus);
}

/** Each thread of a process (its task id; the main thread's is the process's id) and its cores. */
function threadsOf(pid: number): Array<{ tid: number; cpus: number[] }> {
  return fs.readdirSync(`/proc/${pid}/task`).map((tid) => ({ tid: Number(tid), cpus: allowedCpus(fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8')) }));
}

/** A browser paired with the demo's printed code and logged in as the owner. */
async function demoOwner(s: Spawned, url: string): Promise<Client> {
  const code = /pairing code for this browser \(valid 10 minutes\): (\S+)/.exec(s.output())?.[1];
  assert.ok(code, `the demo prints a pairing code:\n${s.output()}`);
  const c = new Client(url);
  await c.get('/pair', { htmx: false });
  assert.equal((await c.post('/pair', { code })).status, 204);
  await login(c, PINS.owner);
  return c;
}

/** The server's own PostgreSQL, database store, while it runs (what `psql`-like tools use). */
function storeUrl(dataDir: string): string {
  const url = runningClusterUrl(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }), createLogger('silent'));
  assert.ok(url, 'the embedded PostgreSQL is running');
  return url;
}

/** A process's children (PostgreSQL's backends and helpers). */
const childrenOf = (pid: number) => processAndChildren(pid).slice(1);

async function healthz(url: string) {
  const res = await fetch(`${url}/healthz`);
  return { status: res.status, body: (await res.json()) as { db: string; version: string; uptime: number } };
}

describe('the server process on its own DATA_DIR', function () {
  this.timeout(180_000);
  const running: Spawned[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) {
      if (s.child.exitCode === null && s.child.signalCode === null) {
        s.child.kill('SIGTERM');
        await s.exited;
      }
    }
  });

  it('refuses a second server on the same DATA_DIR; after kill -9 a new start serves with exactly one postmaster', async () => {
    const dataDir = tempDir('store-lock-');
    const pgDir = path.join(dataDir, 'pg');
    const first = spawnCli(['start'], { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' });
    running.push(first);
    const url1 = await waitForListening(first);
    assert.equal((await healthz(url1)).status, 200);

    const second = spawnCli(['start'], { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' });
    running.push(second);
    assert.equal(await second.exited, 1);
    assert.match(second.output(), /Another store server is already running on DATA_DIR .*\(pid \d+\)/);
    assert.equal((await healthz(url1)).status, 200, 'the refused start must not disturb the running server');

    first.child.kill('SIGKILL');
    await first.exited;
    assert.equal(postmastersFor(pgDir).length, 1, 'the dead server left its PostgreSQL running');

    const third = spawnCli(['start'], { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' });
    running.push(third);
    const url3 = await waitForListening(third);
    const h = await healthz(url3);
    assert.equal(h.status, 200);
    assert.equal(h.body.db, 'ok');
    assert.equal(postmastersFor(pgDir).length, 1);

    third.child.kill('SIGTERM');
    assert.equal(await third.exited, 0);
    assert.deepEqual(postmastersFor(pgDir), [], 'no PostgreSQL may be left after a clean stop');
  });

  it('keeps a core for its JavaScript thread and puts its other threads and its PostgreSQL on the others (SERVER_CPU), or shares them when told', async function () {
    const cores = allowedCpus(fs.readFileSync('/proc/self/status', 'utf8'));
    if (cores.length < 2 || spawnSync('taskset', ['--version']).error) return this.skip();
    const dataDir = tempDir('store-cpu-');
    const s = spawnCli(['start', '--demo'], { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' });
    running.push(s);
    const url = await waitForListening(s);
    assert.equal((await healthz(url)).status, 200);
    const [postmaster] = postmastersFor(path.join(dataDir, 'pg'));
    const m = /"serverCpu":(\d+),"postgresCpus":"([\d,]+)"/.exec(s.output());
    assert.ok(m, `the layout is logged:\n${s.output()}`);
    const server = Number(m[1]);
    const postgres = m[2].split(',').map(Number);
    assert.deepEqual([...postgres, server].sort((a, b) => a - b), cores, 'between them, every core');
    // the JavaScript thread alone on its core; V8's helpers (heap marking, the young generation's
    // collections) and libuv's pool with PostgreSQL, where they take no time from it
    const placed = () => {
      const threads = threadsOf(s.child.pid!);
      assert.deepEqual(threads.find((t) => t.tid === s.child.pid)?.cpus, [server], 'the JavaScript thread');
      const helpers = threads.filter((t) => t.tid !== s.child.pid);
      assert.ok(helpers.length >= 8, `V8's helpers and libuv's pool (${helpers.length} threads)`);
      for (const t of helpers) assert.deepEqual(t.cpus, postgres, `thread ${t.tid}`);
    };
    placed();
    // a PIN login hashes on libuv's pool: its threads are still off the JavaScript thread's core
    const c = await demoOwner(s, url);
    placed();
    const pgProcs = [postmaster, ...childrenOf(postmaster)];
    assert.ok(pgProcs.length >= 4, 'the postmaster, its helpers and the pool\'s backends');
    for (const pid of pgProcs) assert.deepEqual(threadCpus(pid)[0], postgres, `PostgreSQL process ${pid}`);
    // a backend started afterwards inherits the postmaster's cores
    const before = new Set(childrenOf(postmaster));
    const conn = net.connect(Number(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[3]), '127.0.0.1');
    await new Promise((r) => conn.once('connect', r));
    let fresh: number[] = [];
    for (let i = 0; i < 100 && !fresh.length; i++) {
      fresh = childrenOf(postmaster).filter((p) => !before.has(p));
      await new Promise((r) => setTimeout(r, 20));
    }
    conn.destroy();
    assert.ok(fresh.length, 'a new backend was seen');
    for (const pid of fresh) {
      try {
        assert.deepEqual(threadCpus(pid)[0], postgres);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // it ended meanwhile
      }
    }
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);

    const off = spawnCli(['start'], { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', SERVER_CPU: 'off' });
    running.push(off);
    await waitForListening(off);
    assert.match(off.output(), /"reason":"SERVER_CPU=off","msg":"the server and PostgreSQL share every core"/);
    const [pm] = postmastersFor(path.join(dataDir, 'pg'));
    for (const t of threadCpus(off.child.pid!)) assert.deepEqual(t, cores);
    assert.deepEqual(threadCpus(pm)[0], cores);
    off.child.kill('SIGTERM');
    assert.equal(await off.exited, 0);

    // a PostgreSQL the server did not start is not its to place, and the server alone is not pinned
    const t = await createTestDb({ empty: true });
    try {
      const other = spawnCli(['start'], { DATA_DIR: tempDir('store-cpu-url-'), DATABASE_URL: t.url, PORT: '0', HOST: '127.0.0.1' });
      running.push(other);
      await waitForListening(other);
      assert.match(other.output(), /"reason":"DATABASE_URL: not the server's own PostgreSQL","msg":"the server and PostgreSQL share every core"/);
      for (const th of threadCpus(other.child.pid!)) assert.deepEqual(th, cores);
      other.child.kill('SIGTERM');
      assert.equal(await other.exited, 0);
    } finally {
      await t.drop();
    }
  });

  it('stops cleanly, PostgreSQL included, when SIGTERM comes while it is still starting', async () => {
    const dataDir = tempDir('store-early-');
    const pgDir = path.join(dataDir, 'pg');
    const s = spawnCli(['start'], { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' });
    running.push(s);
    try {
      const deadline = Date.now() + 60_000;
      while (!/"msg":"embedded PostgreSQL started"/.test(s.output())) {
        if (Date.now() > deadline || s.child.exitCode !== null) throw new Error(`PostgreSQL did not start:\n${s.output()}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      s.child.kill('SIGTERM');
      assert.equal(await s.exited, 0, s.output());
      assert.match(s.output(), /"msg":"signal received"/);
      assert.match(s.output(), /"msg":"stopped"/);
      assert.deepEqual(postmastersFor(pgDir), [], 'no PostgreSQL left running');
    } finally {
      // a server killed by the signal would have left its PostgreSQL behind
      for (const pid of postmastersFor(pgDir)) process.kill(pid, 'SIGQUIT');
    }
  });

  it('finishes an in-flight request during SIGTERM, then stops everything', async () => {
    const dataDir = tempDir('store-term-');
    const s = spawnCli(['start'], { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' });
    running.push(s);
    const url = new URL(await waitForListening(s));
    const body = JSON.stringify({ note: 'x'.repeat(2000) });
    // a request whose body is still arriving when the signal lands
    const socket = net.connect(Number(url.port), url.hostname);
    await new Promise((r) => socket.once('connect', r));
    let response = '';
    socket.on('data', (d) => (response += d));
    const ended = new Promise((r) => socket.once('close', r));
    socket.write(`POST /no-such-thing HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
    socket.write(body.slice(0, 1000));
    await new Promise((r) => setTimeout(r, 300));
    s.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    socket.end(body.slice(1000));
    await ended;
    // an unpaired browser's POST is refused (no CSRF token): what matters is the complete answer
    assert.match(response, /^HTTP\/1\.1 403 /, 'the in-flight request got its full answer');
    assert.match(response, /"type":"\/problems\/csrf"\}?/);
    assert.equal(await s.exited, 0);
    assert.deepEqual(postmastersFor(path.join(dataDir, 'pg')), []);
    assert.match(s.output(), /"msg":"stopped"/);
  });
});
