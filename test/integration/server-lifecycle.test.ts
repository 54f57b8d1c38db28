import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawnCli, waitForListening, postmastersFor, type Spawned } from '../helpers/spawn';
import { tempDir } from '../helpers/config';
import { Client, login, PINS } from '../helpers/client';
import pg from 'pg';
import { loadConfig } from '../../server/config';
import { runningClusterUrl } from '../../server/db/database';
import { createLogger } from '../../server/logger';

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
