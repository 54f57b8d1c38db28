import assert from 'node:assert/strict';
import pg from 'pg';
import { bootApp, type TestApp } from '../helpers/app';
import { pairedClient, PINS, type Client } from '../helpers/client';
import { testConfig } from '../helpers/config';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { touchSession } from '../../server/auth/activity';

/**
 * What a request knows of its terminal and staff session comes from the database, on every
 * request: no copy kept in memory, no change notice (LISTEN/NOTIFY) to wait for.
 */
describe("a terminal's and a staff session's state, read per request", function () {
  this.timeout(60_000);
  let t: TestDb;
  let app: TestApp;
  let other: pg.Client;

  before(async () => {
    t = await createTestDb();
    await seedStore(t.db);
    app = await bootApp(t.db, { config: testConfig({ RATE_LIMIT_PAIR_PER_MIN: '1000', RATE_LIMIT_LOGIN_PER_MIN: '1000' }) });
    await t.db('settings').insert({ key: 'idleLockSeconds', value: JSON.stringify(120), updated_at: new Date() }).onConflict('key').merge();
    // another process's connection (psql, a second server): nothing it writes notifies anyone
    other = new pg.Client({ connectionString: t.url });
    await other.connect();
  });
  after(async () => {
    await other.end();
    await app.close();
    await t.drop();
  });

  const sessionOf = (c: Client) => decodeURIComponent(c.cookies.get('pos_session')!);
  const written = async (id: string) => ((await t.db('sessions').where({ id }).first()) as { last_active_at: Date }).last_active_at.getTime();
  const screen = async (c: Client) => {
    const r = await c.get('/terminal', { htmx: false });
    return r.status === 200 ? 'ok' : `${r.status} ${r.headers.get('location')}`;
  };

  it('a terminal revoked by another connection, with no listener anywhere, is refused on its next request', async () => {
    const listening = await t.db.raw(`select count(*)::int as n from pg_stat_activity where datname = current_database() and query ilike 'listen%'`);
    assert.equal(listening.rows[0].n, 0, 'no connection of the server listens for notices');
    const c = await pairedClient(app, { pin: PINS.cashier, name: 'Revoked elsewhere' });
    assert.equal(await screen(c), 'ok');
    await other.query(`update terminals set revoked_at = now() where name = 'Revoked elsewhere'`);
    assert.equal(await screen(c), '302 /pair', 'refused at once');
  });

  it('a staff member deactivated by another connection is logged out on the next request', async () => {
    const c = await pairedClient(app, { pin: PINS.server, name: 'Deactivated elsewhere' });
    assert.equal(await screen(c), 'ok');
    const staff = await t.db('sessions').where({ id: sessionOf(c) }).first('staff_id');
    await other.query('update staff set active = false where id = $1', [staff.staff_id]);
    try {
      assert.match(await screen(c), /^302 \/login/);
    } finally {
      await other.query('update staff set active = true where id = $1', [staff.staff_id]);
    }
  });

  it('a request writes its session\'s activity, and the idle lock measures from it', async () => {
    const c = await pairedClient(app, { pin: PINS.server, name: 'Busy' });
    const id = sessionOf(c);
    app.clock.advance(100_000);
    assert.equal(await screen(c), 'ok');
    assert.equal(await written(id), app.clock.now().getTime(), 'written with the request');
    app.clock.advance(100_000);
    assert.equal(await screen(c), 'ok', 'active 100 s ago: not idle');
    app.clock.advance(121_000);
    assert.equal(await screen(c), '302 /login?locked=1', 'idle past the limit: locked');
  });

  it("a page's background request (a poll, a refresh after another terminal's change) keeps no session awake and ends none", async () => {
    const c = await pairedClient(app, { pin: PINS.server, name: 'Left alone' });
    const id = sessionOf(c);
    const start = await written(id);
    const poll = () => c.get('/terminal/products?category=1', { headers: { 'X-Background': '1' } });
    app.clock.advance(100_000);
    assert.equal((await poll()).status, 200, 'answered while the session is awake');
    assert.equal(await written(id), start, 'not activity');
    app.clock.advance(21_000); // 121 s since the last tap: idle
    assert.notEqual((await poll()).status, 200, 'refused once idle');
    assert.equal((await t.db('sessions').where({ id }).first()).ended_at, null, 'the poll did not end it');
    assert.equal(await screen(c), '302 /login?locked=1', 'the next tap finds the lock and says so');
  });

  it('never moves a time back and leaves an ended session alone', async () => {
    const c = await pairedClient(app, { pin: PINS.server, name: 'Writes' });
    const id = sessionOf(c);
    const start = await written(id);
    await touchSession(t.db, id, new Date(start - 60_000));
    assert.equal(await written(id), start, 'an older time does not move it back');
    await touchSession(t.db, id, new Date(start + 1_000));
    assert.equal(await written(id), start + 1_000);
    await t.db('sessions').where({ id }).update({ ended_at: new Date(start + 3_000) });
    await touchSession(t.db, id, new Date(start + 4_000));
    assert.equal(await written(id), start + 1_000, 'an ended session keeps its last activity');
  });
});
