import assert from 'node:assert/strict';
import pg from 'pg';
import { bootApp, type TestApp } from '../helpers/app';
import { pairedClient, PINS, type Client } from '../helpers/client';
import { testConfig } from '../helpers/config';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { until } from '../helpers/wait';
import { flushActivity, lastActivity, noteActivity } from '../../server/auth/activity';
import { createLogger } from '../../server/logger';

/**
 * A staff session's last activity (server/auth/activity.ts): the request that shows it does not
 * wait for its UPDATE, and the idle lock still counts it before it is written.
 */
describe("a staff session's last activity", function () {
  this.timeout(60_000);
  let t: TestDb;
  let app: TestApp;
  let other: pg.Client;

  before(async () => {
    t = await createTestDb();
    await seedStore(t.db);
    app = await bootApp(t.db, { config: testConfig({ RATE_LIMIT_PAIR_PER_MIN: '1000', RATE_LIMIT_LOGIN_PER_MIN: '1000' }) });
    await t.db('settings').insert({ key: 'idleLockSeconds', value: JSON.stringify(120), updated_at: new Date() }).onConflict('key').merge();
    // another process's connection, to hold a session's row while the server wants to write it
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
  /** `c`'s order screen, failing instead of hanging when the request waits for the held row */
  const screen = async (c: Client) => {
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the request waited for its session\'s row')), 10_000)));
    try {
      const r = await Promise.race([c.get('/terminal', { htmx: false }), stuck]);
      return r.status === 200 ? 'ok' : `${r.status} ${r.headers.get('location')}`;
    } finally {
      clearTimeout(timer);
    }
  };
  /** holds the session's row (as a long statement would) until the returned function lets go */
  const hold = async (id: string) => {
    await other.query('begin');
    await other.query('select 1 from sessions where id = $1 for update', [id]);
    return () => other.query('commit');
  };

  it('answers before the UPDATE is written, and writes it after', async () => {
    const c = await pairedClient(app, { pin: PINS.server, name: 'Busy' });
    const id = sessionOf(c);
    await until('the change listener', () => app.authListener.live, 10_000);
    const loggedIn = await written(id);
    const release = await hold(id);
    try {
      app.clock.advance(5_000);
      assert.equal(await screen(c), 'ok', 'answered while the row is held');
      assert.equal(await written(id), loggedIn, 'not written yet: its UPDATE waits for the row');
      assert.equal(lastActivity(t.db, id)?.getTime(), app.clock.now().getTime(), 'noted meanwhile');
    } finally {
      await release();
    }
    await flushActivity(t.db);
    assert.equal(await written(id), app.clock.now().getTime(), 'written once the row is free');
    assert.equal(lastActivity(t.db, id), undefined, 'nothing left to write');
  });

  it('locks a terminal idle past the limit by what was noted, when the session is read from the database', async () => {
    // without the change listener every request reads its session from the database, where
    // the touch may not be yet
    await app.authListener.stop();
    assert.equal(app.authListener.live, false);
    const c = await pairedClient(app, { pin: PINS.server, name: 'Idle' });
    const id = sessionOf(c);
    const release = await hold(id);
    try {
      app.clock.advance(119_000);
      assert.equal(await screen(c), 'ok');
      app.clock.advance(119_000);
      assert.equal(await screen(c), 'ok', 'active 119 s ago by what was noted, though the database still says 238 s');
    } finally {
      await release();
    }
    await flushActivity(t.db);
    app.clock.advance(121_000);
    assert.equal(await screen(c), '302 /login?locked=1', 'idle past the limit: locked');
  });

  it('never moves a time back, leaves an ended session alone, and keeps what a failed write had for the next', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const log = createLogger('info', { write: (s: string) => void lines.push(JSON.parse(s)) });
    const c = await pairedClient(app, { pin: PINS.server, name: 'Writes' });
    const id = sessionOf(c);
    const start = await written(id);
    noteActivity(t.db, id, new Date(start - 60_000), log);
    await flushActivity(t.db, log);
    assert.equal(await written(id), start, 'an older time does not move it back');

    // every write fails while this constraint stands
    await t.db.raw("alter table sessions add constraint test_no_writes check (last_active_at < '2000-01-01') not valid");
    try {
      noteActivity(t.db, id, new Date(start + 1_000), log);
      await flushActivity(t.db, log);
      noteActivity(t.db, id, new Date(start + 2_000), log);
      await flushActivity(t.db, log);
      assert.equal(await written(id), start);
      assert.equal(lastActivity(t.db, id)?.getTime(), start + 2_000, 'kept, the newest');
      const warned = lines.filter((l) => l.level === 40);
      assert.equal(warned.length, 1, 'one warning for the failing streak');
      assert.match(warned[0].msg, /could not write staff sessions' last activity/);
    } finally {
      await t.db.raw('alter table sessions drop constraint test_no_writes');
    }
    await flushActivity(t.db, log);
    assert.equal(await written(id), start + 2_000, 'the next write lands it');
    assert.equal(lastActivity(t.db, id), undefined);
    assert.ok(lines.some((l) => l.level === 30 && /written again/.test(l.msg)));

    await t.db('sessions').where({ id }).update({ ended_at: new Date(start + 3_000) });
    noteActivity(t.db, id, new Date(start + 4_000), log);
    await flushActivity(t.db, log);
    assert.equal(await written(id), start + 2_000, 'an ended session keeps its last activity');
  });
});
