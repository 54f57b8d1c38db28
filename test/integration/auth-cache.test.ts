import assert from 'node:assert/strict';
import pg from 'pg';
import { bootApp, type TestApp } from '../helpers/app';
import { login, pairedClient, PINS, type Client } from '../helpers/client';
import { testConfig } from '../helpers/config';
import { testLog } from '../helpers/log';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { until } from '../helpers/wait';
import { listenForAuthChanges } from '../../server/auth/cache';
import { decodeDevice, deviceAndSession, endSession } from '../../server/auth/service';
import { DEVICE_COOKIE, SESSION_COOKIE } from '../../server/auth/cookies';

/**
 * The auth lookup's answers kept in memory (server/auth/cache.ts): kept only while the server
 * hears every change, dropped by every change, whoever makes it.
 */
describe('the auth lookup kept in memory', function () {
  this.timeout(60_000);
  let t: TestDb;
  let app: TestApp;
  let other: pg.Client;
  let authQueries = 0;
  const onQuery = (q: { sql: string }) => {
    if (/^select t\.\*, s\.id as s_id/.test(q.sql)) authQueries++;
  };
  const countAuth = () => {
    const n = authQueries;
    authQueries = 0;
    return n;
  };

  before(async () => {
    t = await createTestDb();
    await seedStore(t.db);
    app = await bootApp(t.db, { config: testConfig({ RATE_LIMIT_PAIR_PER_MIN: '1000', RATE_LIMIT_LOGIN_PER_MIN: '1000' }) });
    await t.db('settings').insert({ key: 'idleLockSeconds', value: JSON.stringify(86_400), updated_at: new Date() }).onConflict('key').merge();
    // another process's connection: psql, a command-line tool
    other = new pg.Client({ connectionString: t.url });
    await other.connect();
    t.db.on('query', onQuery);
    await until('the change listener', () => app.authListener.live, 10_000);
  });
  after(async () => {
    t.db.off('query', onQuery);
    await other.end();
    await app.close();
    await t.drop();
  });

  const page = async (c: Client) => {
    const r = await c.get('/terminal', { htmx: false });
    return r.status === 200 ? 'ok' : `${r.status} ${r.headers.get('location')}`;
  };
  /** until a request of `c` is answered from memory (a notice from its own pairing may still be on its way) */
  const kept = (c: Client, what = 'its answer kept') =>
    until(what, async () => {
      await page(c);
      countAuth();
      assert.equal(await page(c), 'ok');
      return countAuth() === 0;
    }, 5000);
  const terminalOf = async (name: string) => (await t.db('terminals').where({ name }).first()).id as number;

  it('a terminal\'s later requests send no auth query; a change by another connection shows once its notice arrives', async () => {
    const c = await pairedClient(app, { pin: PINS.cashier, name: 'Cached till' });
    assert.equal(await page(c), 'ok');
    await kept(c);
    countAuth();
    for (let i = 0; i < 3; i++) assert.equal(await page(c), 'ok');
    assert.equal(countAuth(), 0, 'answered from memory');

    // the session ended by someone else: the PIN is asked again
    await other.query('update sessions set ended_at = now() where terminal_id = $1 and ended_at is null', [await terminalOf('Cached till')]);
    await until('the ended session to show', async () => (await page(c)) === '302 /login', 5000);

    // staff made inactive by someone else
    await login(c, PINS.cashier);
    assert.equal(await page(c), 'ok');
    await other.query("update staff set active = false where name = (select name from staff where role = 'cashier' order by id limit 1)");
    try {
      await until('the inactive staff member to be refused', async () => (await page(c)) === '302 /login', 5000);
    } finally {
      await other.query("update staff set active = true where role = 'cashier'");
    }

    // the terminal revoked by someone else
    await login(c, PINS.cashier);
    assert.equal(await page(c), 'ok');
    await other.query('update terminals set revoked_at = now() where id = $1', [await terminalOf('Cached till')]);
    await until('the revoked terminal to be refused', async () => (await page(c)) === '302 /pair', 5000);
  });

  it('a store setting changed by another connection shows on the next pages once its notice arrives', async () => {
    const c = await pairedClient(app, { pin: PINS.cashier, name: 'Settings till' });
    assert.equal(await page(c), 'ok');
    await other.query(`update settings set value = '"Corner Café (renamed)"', updated_at = now() where key = 'storeName'`);
    await until('the new store name', async () => (await c.get('/terminal', { htmx: false })).text.includes('Corner Café (renamed)'), 5000);
  });

  it('the server\'s own logout holds from the very next lookup, before any notice', async () => {
    const c = await pairedClient(app, { pin: PINS.cashier, name: 'Logout till' });
    assert.equal(await page(c), 'ok');
    const cred = decodeDevice(decodeURIComponent(c.cookies.get(DEVICE_COOKIE)!))!;
    const sessionId = decodeURIComponent(c.cookies.get(SESSION_COOKIE)!);
    const kept = await deviceAndSession(t.db, cred, sessionId);
    assert.ok(kept.session, 'the session is open');
    countAuth();
    await endSession({ db: t.db, clock: app.clock }, sessionId);
    const next = await deviceAndSession(t.db, cred, sessionId);
    assert.equal(next.session, undefined, 'the session is gone at once');
    assert.equal(next.terminal?.id, kept.terminal?.id);
    assert.equal(countAuth(), 1, 'read from the database, not from memory');
    // a kept answer is only given to the right device secret
    await deviceAndSession(t.db, cred, sessionId);
    assert.deepEqual(await deviceAndSession(t.db, { ...cred, secret: cred.secret.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A')) }, sessionId), {});
  });

  it('while the listener is down nothing is kept, and another connection\'s change holds from the next request; then it listens again', async () => {
    // a listener that waits 3 s before reconnecting: the outage outlasts the checks below
    await app.authListener.stop();
    app.authListener = listenForAuthChanges(t.db, testLog, { retryMs: 3000 });
    await until('the new listener', () => app.authListener.live, 10_000);
    const c = await pairedClient(app, { pin: PINS.cashier, name: 'Outage till' });
    assert.equal(await page(c), 'ok');
    await other.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'store-server-listen' and datname = current_database()");
    await until('the listener to notice', () => !app.authListener.live, 5000);
    countAuth();
    assert.equal(await page(c), 'ok');
    assert.equal(await page(c), 'ok');
    assert.equal(countAuth(), 2, 'every request asked the database');
    // no notice can arrive now: the change holds from the very next request all the same
    await other.query('update sessions set ended_at = now() where terminal_id = $1 and ended_at is null', [await terminalOf('Outage till')]);
    assert.equal(await page(c), '302 /login');
    assert.equal(app.authListener.live, false, 'all of that happened while nothing listened');
    await until('the listener to be back', () => app.authListener.live, 10_000);
    await login(c, PINS.cashier);
    assert.equal(await page(c), 'ok');
    await kept(c, 'kept again');
  });

  it('a second listener on the same database keeps the cache live when the first stops', async () => {
    const second = listenForAuthChanges(t.db, testLog, { retryMs: 100 });
    try {
      await until('the second listener', () => second.live, 10_000);
      const c = await pairedClient(app, { pin: PINS.cashier, name: 'Two listeners till' });
      assert.equal(await page(c), 'ok');
      await kept(c);
    } finally {
      await second.stop();
    }
    const c2 = await pairedClient(app, { pin: PINS.cashier, name: 'One listener till' });
    assert.equal(await page(c2), 'ok');
    await kept(c2, 'the first listener still keeping answers');
  });
});
