import assert from 'node:assert/strict';
import { bootApp, type TestApp } from '../helpers/app';
import { Client, login, pairedClient, PINS } from '../helpers/client';
import { testConfig } from '../helpers/config';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { LOCK_CAP_MS } from '../../server/auth/attempts';
import { MISUSES_BEFORE_RESET } from '../../server/auth/pin-check';
import { PAIRING_CODE_MAX_FAILURES } from '../../server/auth/pairing';
import { createPairingCode } from '../../server/auth/pairing';
import { createStaff, DEVICE_MAX_AGE_MS } from '../../server/auth/service';

/**
 * The probe of issue 18, items 1, 2, 4 and the auth parts of 6, as scripts: each of these got
 * through before the fix (PIN harvested through override, parallel guesses past the lock, the
 * lock overflowing, pairing codes guessed, a second permission approved unaudited).
 */
describe('PIN and pairing guesses (issue 18)', function () {
  this.timeout(180_000);
  let t: TestDb;
  let app: TestApp;
  let staffNames: string[];
  let orderSeq = 0;

  before(async () => {
    t = await createTestDb();
    await seedStore(t.db);
    // the in-memory per-minute limits are not what is under test here: the database guards are
    app = await bootApp(t.db, { config: testConfig({ RATE_LIMIT_PAIR_PER_MIN: '100000', RATE_LIMIT_LOGIN_PER_MIN: '100000' }) });
    await t.db('settings').insert({ key: 'idleLockSeconds', value: JSON.stringify(86_400), updated_at: new Date() }).onConflict('key').merge();
    staffNames = (await t.db('staff').select('name')).map((r: { name: string }) => r.name);
  });
  after(async () => {
    await app.close();
    await t.drop();
  });

  /** A paired terminal with `pin` logged in, and an open order with one line on it. */
  async function tillWithOrder(pin: string): Promise<{ till: Client; orderId: number }> {
    const till = await pairedClient(app, { pin, name: `Till ${++orderSeq}` });
    const opened = await till.post('/orders', { type: 'counter' });
    const orderId = Number(/(\d+)$/.exec(opened.headers.get('HX-Redirect')!)![1]);
    const bun = await t.db('products').where({ name: 'Cinnamon bun' }).first();
    assert.equal((await till.post(`/orders/${orderId}/lines`, { product_id: String(bun.id), quantity: '10' })).status, 200);
    return { till, orderId };
  }
  const terminalOf = async (name: string) => (await t.db('terminals').where({ name }).first()).id as number;
  const namesIn = (text: string) => staffNames.filter((n) => text.includes(n.split(' ')[0]));

  it('2 000 override guesses from a cashier, her own PIN every 4th: locked after 5, the manager\'s PIN never accepted, no name in any refusal', async () => {
    const { till, orderId } = await tillWithOrder(PINS.cashier);
    const guesses: string[] = [];
    for (let i = 0; guesses.length < 2000; i++) {
      if (guesses.length % 4 === 3) guesses.push(PINS.cashier);
      else guesses.push(String(i).padStart(4, '0'));
    }
    guesses[1234] = PINS.manager; // found by the guessing, but past the lock
    const statuses: number[] = [];
    for (const pin of guesses) {
      const r = await till.post(`/orders/${orderId}/void`, { reason: 'probe' }, { headers: { 'X-Override-PIN': pin } });
      statuses.push(r.status);
      assert.deepEqual(namesIn(r.text), [], `a refusal named someone: ${r.text.slice(0, 200)}`);
      assert.notEqual(r.status, 500);
    }
    assert.deepEqual(statuses.slice(0, 4), [403, 403, 403, 403], 'wrong, wrong, wrong, her own: each refused');
    assert.equal(statuses[4], 423, 'the fifth failure locks');
    assert.ok(statuses.slice(5).every((s) => s === 423), 'locked from then on, whatever PIN comes');
    assert.equal((await t.db('orders').where({ id: orderId }).first()).status, 'open', 'nothing voided');
    const tid = await terminalOf(`Till ${orderSeq}`);
    assert.equal((await t.db('audit_log').where({ terminal_id: tid, action: 'override_failed' })).length, 5);
    assert.equal((await t.db('audit_log').where({ terminal_id: tid, action: 'override' })).length, 0);
  });

  it('the same cashier cannot start afresh on another terminal: her override guesses are counted on her too', async () => {
    // the previous test locked the cashier's own guard as well as that terminal's
    const { till, orderId } = await tillWithOrder(PINS.cashier);
    const r = await till.post(`/orders/${orderId}/void`, { reason: 'probe' }, { headers: { 'X-Override-PIN': '0000' } });
    assert.equal(r.status, 423);
    app.clock.advance(LOCK_CAP_MS + 1000);
  });

  it('2 000 login guesses with the cashier\'s own PIN every 4th: her logins never reset the count, locked after 5 wrong', async () => {
    const c = await pairedClient(app, { name: 'Login probe' });
    await c.get('/login', { htmx: false });
    const statuses: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const own = i % 4 === 3;
      const r = await c.post('/login', { pin: own ? PINS.cashier : String(5000 + i) });
      statuses.push(r.status);
      assert.deepEqual(namesIn(r.text).filter(() => r.status !== 204), [], 'a refusal named someone');
    }
    // wrong, wrong, wrong, own (in), wrong, wrong → the 5th wrong locks
    assert.deepEqual(statuses.slice(0, 6), [401, 401, 401, 204, 401, 423]);
    assert.ok(statuses.slice(6).every((s) => s === 423));
    assert.equal((await t.db('audit_log').where({ terminal_id: await terminalOf('Login probe'), action: 'pin_failed' })).length, 5);
  });

  it('300 parallel override guesses: at most 5 evaluated (other answers 429/423), at most 5 failure rows', async () => {
    const { till, orderId } = await tillWithOrder(PINS.server);
    const tid = await terminalOf(`Till ${orderSeq}`);
    const pins = Array.from({ length: 300 }, (_, i) => (i === 299 ? PINS.manager : String(6000 + i)));
    const answers = await Promise.all(pins.map((pin) => till.post(`/orders/${orderId}/void`, { reason: 'race' }, { headers: { 'X-Override-PIN': pin } })));
    const evaluated = answers.filter((r) => r.status !== 429 && r.status !== 423);
    assert.ok(evaluated.length <= 5, `${evaluated.length} evaluated: ${evaluated.map((r) => r.status).join(',')}`);
    assert.ok(answers.every((r) => r.status !== 500));
    for (const r of answers.filter((x) => x.status === 429 || x.status === 423)) {
      const after = Number(r.headers.get('Retry-After'));
      assert.ok(Number.isInteger(after) && after > 0 && after <= LOCK_CAP_MS / 1000, `Retry-After ${r.headers.get('Retry-After')}`);
    }
    const failures = await t.db('audit_log').where({ terminal_id: tid, action: 'override_failed' });
    assert.ok(failures.length <= 5, `${failures.length} failure rows`);
    const approved = answers.filter((r) => r.status === 200).length;
    assert.equal((await t.db('orders').where({ id: orderId }).first()).status === 'voided', approved === 1);
    app.clock.advance(LOCK_CAP_MS + 1000);
  });

  it('50 failures in a row: every lock is finite and capped at 15 minutes, never a 500; quiet for a day, it starts at a minute again', async () => {
    const c = await pairedClient(app, { name: 'Stubborn' });
    await c.get('/login', { htmx: false });
    const locks: number[] = [];
    for (let i = 0; i < 50; i++) {
      const r = await c.post('/login', { pin: '9898' });
      assert.ok(r.status === 401 || r.status === 423, `got ${r.status}`);
      if (r.status === 423) {
        const secs = Number(/Try again in (\d+) seconds/.exec(r.text)?.[1]);
        assert.ok(Number.isFinite(secs) && secs > 0 && secs <= LOCK_CAP_MS / 1000, `lock of ${secs} s`);
        assert.equal(r.headers.get('Retry-After'), String(secs));
        locks.push(secs);
        app.clock.advance(secs * 1000 + 1000);
      }
    }
    assert.deepEqual(locks, [60, 120, 240, 480, 900, 900, 900, 900, 900, 900]);
    app.clock.advance(25 * 3600_000);
    for (let i = 0; i < 4; i++) assert.equal((await c.post('/login', { pin: '9898' })).status, 401);
    assert.match((await c.post('/login', { pin: '9898' })).text, /Try again in 60 seconds/);
    app.clock.advance(61_000);
  });

  it('someone else\'s real PIN typed to approve what it cannot: refused without a name; after 3 times the owner must set a new one', async () => {
    const sam = await t.db('staff').where({ role: 'server' }).first();
    await t.db('staff').where({ id: sam.id }).update({ pin_misuses: 0 });
    for (let i = 0; i < MISUSES_BEFORE_RESET; i++) {
      const { till, orderId } = await tillWithOrder(PINS.cashier);
      const r = await till.post(`/orders/${orderId}/void`, { reason: 'x' }, { headers: { 'X-Override-PIN': PINS.server } });
      assert.equal(r.status, 403);
      assert.doesNotMatch(r.text, /Sam/);
      app.clock.advance(LOCK_CAP_MS + 1000); // each till's own guard stays clear of this test
    }
    assert.equal((await t.db('staff').where({ id: sam.id }).first()).pin_reset_required, true);
    assert.ok(await t.db('audit_log').where({ action: 'pin_blocked', staff_id: sam.id }).first());
    // Sam cannot log in with it any more, and is told what to do
    const samTill = await pairedClient(app, { name: 'Sam\'s phone' });
    await samTill.get('/login', { htmx: false });
    const blocked = await samTill.post('/login', { pin: PINS.server });
    assert.equal(blocked.status, 403);
    assert.match(blocked.text, /blocked: an owner must set a new one/);
    // the owner sees it and sets a new PIN; only an owner can
    const owner = await pairedClient(app, { pin: PINS.owner, kind: 'back_office', name: 'Office' });
    assert.match((await owner.get('/backoffice/staff', { htmx: false })).text, /PIN blocked/);
    const manager = await pairedClient(app, { pin: PINS.manager, kind: 'back_office', name: 'Office 2' });
    assert.equal((await manager.post(`/backoffice/staff/${sam.id}/pin`, { pin: '4545' })).status, 403);
    assert.equal((await owner.post(`/backoffice/staff/${sam.id}/pin`, { pin: '12' })).status, 400);
    assert.equal((await owner.post(`/backoffice/staff/${sam.id}/pin`, { pin: PINS.manager })).status, 422, 'PINs stay unique');
    assert.equal((await owner.post(`/backoffice/staff/${sam.id}/pin`, { pin: '4545' })).status, 204);
    assert.equal((await samTill.post('/login', { pin: PINS.server })).status, 401, 'the old PIN is gone');
    assert.equal((await samTill.post('/login', { pin: '4545' })).status, 204);
    assert.equal((await t.db('staff').where({ id: sam.id }).first()).pin_reset_required, false);
  });

  it('one override PIN approving two permissions in one request audits both', async () => {
    const ownerRow = await t.db('staff').where({ role: 'owner' }).first();
    const server = await createStaff({ db: app.db, clock: app.clock }, { name: 'Pat', role: 'server', pin: '4747' }, { staff: ownerRow, terminalId: null });
    const { till, orderId } = await tillWithOrder('4747');
    // a server may not discount at all, and 50 % is over the threshold: two permissions, one PIN
    const r = await till.post(`/orders/${orderId}/discount`, { kind: 'percent', value: '50' }, { headers: { 'X-Override-PIN': PINS.manager } });
    assert.equal(r.status, 200, r.text.slice(0, 300));
    const rows = await t.db('audit_log').where({ action: 'override', staff_id: server.id }).orderBy('id');
    assert.deepEqual(rows.map((a: { details: { permission: string } }) => a.details.permission), ['order:discount', 'order:discount-large']);
  });

  it('a pairing code dies after 5 wrong codes; every failed pairing is in the audit log', async () => {
    const deps = { db: app.db, clock: app.clock };
    const { code } = await createPairingCode(deps, { name: 'New tablet', kind: 'counter' }, { staffId: null, terminalId: null });
    const before = (await t.db('audit_log').where({ action: 'pairing_failed' })).length;
    const guesser = new Client(app.url);
    await guesser.get('/pair', { htmx: false });
    const wrong = code === '000000' ? '000001' : '000000';
    for (let i = 0; i < PAIRING_CODE_MAX_FAILURES; i++) assert.equal((await guesser.post('/pair', { code: wrong })).status, 403);
    const late = new Client(app.url);
    await late.get('/pair', { htmx: false });
    const r = await late.post('/pair', { code });
    assert.equal(r.status, 403, 'the right code, after 5 wrong ones, is dead');
    assert.equal(await t.db('terminals').where({ name: 'New tablet' }).first(), undefined);
    const failed = await t.db('audit_log').where({ action: 'pairing_failed' }).orderBy('id');
    assert.equal(failed.length - before, PAIRING_CODE_MAX_FAILURES + 1);
    assert.equal(failed[failed.length - 2].details.codesDied, 1);
  });

  it('pairing guesses store-wide are limited: many addresses cannot spread them out', async () => {
    const made = await createPairingCode({ db: app.db, clock: app.clock }, { name: 'Store-wide', kind: 'counter' }, { staffId: null, terminalId: null });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const c = new Client(app.url);
      await c.get('/pair', { htmx: false });
      const guess = String(100000 + i);
      statuses.push((await c.post('/pair', { code: guess === made.code ? '999999' : guess })).status);
    }
    assert.ok(statuses.includes(423), 'the store\'s pairing locks');
    assert.ok(statuses.filter((s) => s === 403).length <= 20);
    app.clock.advance(LOCK_CAP_MS + 1000);
  });

  it('a staff login ends at the store\'s session limit however busy; the device cookie lasts 90 days, renewed daily, and a terminal unseen longer must pair again', async () => {
    const c = await pairedClient(app, { pin: PINS.cashier, name: 'Long shift' });
    for (let h = 0; h < 16; h++) {
      app.clock.advance(3600_000 - 1000);
      assert.equal((await c.get('/terminal', { htmx: false })).status, 200, `hour ${h}`);
    }
    app.clock.advance(60_000);
    const ended = await c.get('/terminal', { htmx: false });
    assert.equal(ended.status, 302);
    assert.equal(ended.headers.get('location'), '/login?expired=1');
    assert.match((await c.get('/login?expired=1', { htmx: false })).text, /session limit/);
    await login(c, PINS.cashier);

    // the first request of a new day renews the device cookie for 90 days
    app.clock.advance(25 * 3600_000);
    const res = await fetch(`${app.url}/login`, { headers: { Cookie: c.cookieHeader() }, redirect: 'manual' });
    const device = res.headers.getSetCookie().find((s) => s.startsWith('pos_device='));
    assert.ok(device, 'device cookie renewed');
    const expires = Date.parse(/expires=([^;]+)/i.exec(device!)![1]);
    assert.ok(Math.abs(expires - Date.now() - DEVICE_MAX_AGE_MS) < 60_000, `expires ${new Date(expires).toISOString()}`); // the cookie library counts from the real time
    const again = await fetch(`${app.url}/login`, { headers: { Cookie: c.cookieHeader() }, redirect: 'manual' });
    assert.equal(again.headers.getSetCookie().find((s) => s.startsWith('pos_device=')), undefined, 'not again the same day');

    app.clock.advance(DEVICE_MAX_AGE_MS + 3600_000);
    const stale = await c.get('/terminal', { htmx: false });
    assert.equal(stale.status, 302);
    assert.equal(stale.headers.get('location'), '/pair');
  });
});
