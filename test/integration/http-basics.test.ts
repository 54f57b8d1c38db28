import assert from 'node:assert/strict';
import path from 'node:path';
import { PgCluster } from '../../server/db/embedded';
import { createDb } from '../../server/db/knex';
import { migrateLatest } from '../../server/db/migrations';
import { bootApp, type TestApp } from '../helpers/app';
import { tempDir } from '../helpers/config';
import { testLog } from '../helpers/log';
import { createTestDb, type TestDb } from '../helpers/pg';

describe('HTTP basics', () => {
  let t: TestDb;
  let app: TestApp;
  before(async () => {
    t = await createTestDb();
    app = await bootApp(t.db);
  });
  after(async () => {
    await app.close();
    await t.drop();
  });

  it('GET /healthz → 200 with db, version and uptime', async () => {
    const res = await fetch(`${app.url}/healthz`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.db, 'ok');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    assert.equal(typeof body.uptime, 'number');
  });

  it('an unknown route → the 404 page', async () => {
    const res = await fetch(`${app.url}/no/such/page`);
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type')!, /text\/html/);
    const html = await res.text();
    assert.match(html, /<h1>404<\/h1>/);
    assert.match(html, /was not found/);
  });

  it('an unknown route asked for JSON → problem+json 404', async () => {
    const res = await fetch(`${app.url}/nope`, { headers: { Accept: 'application/json' } });
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
    assert.equal((await res.json()).type, '/problems/not-found');
  });

  it('a malformed JSON body → 400 with a message, as JSON to a JSON client', async () => {
    const res = await fetch(`${app.url}/anything`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: '{"a": ',
    });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.type, '/problems/malformed-request');
    assert.match(body.title, /not valid JSON/);
  });

  it('an htmx request that fails gets the error partial aimed at #flash, no stack trace', async () => {
    const res = await fetch(`${app.url}/nope`, { headers: { 'HX-Request': 'true' } });
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('HX-Retarget'), '#flash');
    const html = await res.text();
    assert.doesNotMatch(html, /<html/);
    assert.match(html, /class="flash flash-error"/);
    assert.doesNotMatch(html, /at .*\.ts:\d+/);
  });

  it('an oversized body → 413', async () => {
    const res = await fetch(`${app.url}/anything`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ a: 'x'.repeat(1024 * 1024) }),
    });
    assert.equal(res.status, 413);
  });

  it('serves htmx and the socket.io client from their packages', async () => {
    const htmx = await fetch(`${app.url}/vendor/htmx.min.js`);
    assert.equal(htmx.status, 200);
    assert.match(await htmx.text(), /htmx/);
    const sio = await fetch(`${app.url}/socket.io/socket.io.min.js`);
    assert.equal(sio.status, 200);
    const traversal = await fetch(`${app.url}/static/..%2f..%2fpackage.json`);
    assert.equal(traversal.status, 404);
  });
});

describe('migrations and /healthz against a database that goes away', function () {
  this.timeout(120_000);

  it('migrates from empty; /healthz 200, then 503 while the database is stopped, then 200 again', async () => {
    const dir = path.join(tempDir('store-health-'), 'pg');
    const cluster = new PgCluster({ dir, log: testLog });
    await cluster.start();
    const port = cluster.connectionPort;
    const db = createDb(cluster.connectionString());
    const applied = await migrateLatest(db);
    assert.deepEqual(applied.slice(0, 3), ['0001_settings', '0002_catalog', '0003_floor_and_staff']);
    assert.deepEqual(await migrateLatest(db), [], 'a second run applies nothing');
    const app = await bootApp(db);
    try {
      assert.equal((await fetch(`${app.url}/healthz`)).status, 200);
      await cluster.stop();
      const down = await fetch(`${app.url}/healthz`);
      assert.equal(down.status, 503);
      assert.equal((await down.json()).db, 'unreachable');
      const back = new PgCluster({ dir, log: testLog, port });
      await back.start();
      let status = 0;
      for (let i = 0; i < 20 && status !== 200; i++) {
        status = (await fetch(`${app.url}/healthz`)).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 250));
      }
      assert.equal(status, 200, 'healthz recovers without a restart');
      await app.close();
      await db.destroy();
      await back.stop();
    } finally {
      await cluster.stop();
    }
  });
});
