import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { io as ioClient } from 'socket.io-client';
import type Router from '@koa/router';
import { bootApp, type TestApp } from '../helpers/app';
import { Client, login, pairedClient, PINS } from '../helpers/client';
import { testConfig } from '../helpers/config';
import { createTestDb, type TestDb } from '../helpers/pg';
import { counts, seedStore } from '../helpers/store';
import { roleCan, KITCHEN_DEVICE_PERMISSIONS, type Permission, type Role } from '../../server/auth/permissions';
import type { Access } from '../../server/auth/middleware';
import { getSettings } from '../../server/settings/service';

interface RouteInfo {
  method: string;
  path: string;
  access: Access | undefined;
  /** API routes declare a token scope instead */
  scope?: string;
}

/** Every route of every router the app mounts, with what it declares: the app's own list. */
function enumerateRoutes(app: TestApp): RouteInfo[] {
  const out: RouteInfo[] = [];
  for (const router of app.app.routers) {
    for (const layer of (router as Router).stack) {
      const guard = layer.stack.find((fn) => 'access' in fn) as { access?: Access } | undefined;
      const scoped = layer.stack.find((fn) => 'scope' in fn) as { scope?: string } | undefined;
      for (const method of layer.methods) if (method !== 'HEAD') out.push({ method, path: layer.path as string, access: guard?.access, scope: scoped?.scope });
    }
  }
  return out;
}
const concrete = (path: string) => path.replace(/:[A-Za-z]+/g, '1');
// /ca.pem: the store's own certificate authority, which a browser must trust before it can pair over HTTPS (server/http/tls.ts); public by nature
const PUBLIC = new Set(['GET /healthz', 'GET /setup', 'POST /setup', 'GET /pair', 'POST /pair', 'GET /ca.pem']);

function socketConnect(url: string, cookie?: string): Promise<{ ok: boolean; error?: string; socket: ReturnType<typeof ioClient> }> {
  const socket = ioClient(url, { transports: ['websocket'], extraHeaders: cookie ? { Cookie: cookie } : {}, reconnection: false, forceNew: true });
  return new Promise((resolve) => {
    socket.on('connect', () => resolve({ ok: true, socket }));
    socket.on('connect_error', (err) => resolve({ ok: false, error: err.message, socket }));
  });
}

describe('staff, terminals and security', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: TestApp;
  let owner: Client;
  before(async () => {
    t = await createTestDb();
    await seedStore(t.db);
    app = await bootApp(t.db, { config: testConfig({ RATE_LIMIT_PAIR_PER_MIN: '1000', RATE_LIMIT_LOGIN_PER_MIN: '1000' }) });
    // these tests move the clock by minutes; the idle lock has its own test
    await t.db('settings').insert({ key: 'idleLockSeconds', value: JSON.stringify(86_400), updated_at: new Date() }).onConflict('key').merge();
    owner = await pairedClient(app, { pin: PINS.owner, kind: 'back_office', name: 'Office' });
  });
  after(async () => {
    await app.close();
    await t.drop();
  });

  it('every route refuses an unpaired browser (enumerated from the routers); only setup, pairing, /healthz and the store\'s CA certificate answer', async () => {
    const routes = enumerateRoutes(app);
    assert.ok(routes.length > 30, `found ${routes.length} routes`);
    const undeclared = routes.filter((r) => !r.access && !r.scope).map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(undeclared, [], 'every route declares what it needs');
    const stranger = new Client(app.url);
    await stranger.get('/pair', { htmx: false }); // a real CSRF token, so the refusal is the device gate
    for (const r of routes) {
      const key = `${r.method} ${r.path}`;
      if (r.path.startsWith('/api/')) {
        // token-only: neither a stranger nor a paired, logged-in browser's cookies get in
        for (const who of [stranger, owner]) {
          const res = await who.request(r.method, concrete(r.path), { htmx: false, json: r.method === 'GET' || r.method === 'DELETE' ? undefined : {} });
          if (r.scope === 'public') assert.equal(res.status, 200, key);
          else {
            assert.equal(res.status, 401, `${key} → ${res.status}`);
            assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
          }
        }
        continue;
      }
      if (PUBLIC.has(key)) {
        assert.equal(r.access, 'public', key);
        continue;
      }
      assert.notEqual(r.access, 'public', `${key} must not be public`);
      const res = await stranger.request(r.method, concrete(r.path), { htmx: false, form: r.method === 'GET' ? undefined : {} });
      if (r.method === 'GET') {
        assert.equal(res.status, 302, `${key} → ${res.status}`);
        assert.equal(res.headers.get('location'), '/pair', key);
      } else {
        assert.equal(res.status, 401, `${key} → ${res.status} ${res.text.slice(0, 120)}`);
        assert.match(res.text, /not a terminal of this store/);
      }
    }
    assert.equal((await stranger.get('/healthz')).status, 200);
    const htmxGet = await stranger.get('/terminal');
    assert.equal(htmxGet.status, 401);
    assert.equal(htmxGet.headers.get('HX-Redirect'), '/pair');
  });

  it('the socket.io handshake refuses an unpaired browser and accepts a paired one', async () => {
    const refused = await socketConnect(app.url);
    assert.equal(refused.ok, false);
    assert.match(refused.error!, /unpaired/);
    refused.socket.close();
    const forged = await socketConnect(app.url, 'pos_device=1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA; pos_device.sig=forged');
    assert.equal(forged.ok, false);
    forged.socket.close();
    const ok = await socketConnect(app.url, owner.cookieHeader());
    assert.equal(ok.ok, true);
    ok.socket.close();
  });

  it('a revoked terminal is refused on its next request and its socket is closed', async () => {
    const victim = await pairedClient(app, { pin: PINS.cashier, name: 'Lost tablet' });
    assert.equal((await victim.get('/terminal', { htmx: false })).status, 200);
    const conn = await socketConnect(app.url, victim.cookieHeader());
    assert.ok(conn.ok);
    const disconnected = new Promise<string>((resolve) => conn.socket.on('disconnect', (reason) => resolve(reason)));
    const terminal = await t.db('terminals').where({ name: 'Lost tablet' }).first();
    const r = await owner.post(`/backoffice/terminals/${terminal.id}/revoke`);
    assert.equal(r.status, 204, r.text);
    assert.equal(await disconnected, 'io server disconnect');
    const next = await victim.get('/terminal', { htmx: false });
    assert.equal(next.status, 302);
    assert.equal(next.headers.get('location'), '/pair');
    assert.equal((await socketConnect(app.url, victim.cookieHeader())).ok, false);
    const audited = await t.db('audit_log').where({ action: 'terminal_revoked' }).first();
    assert.equal(audited.details.revoked, terminal.id);
  });

  it('every route refuses a request without the permission it declares (enumerated), and nothing changes', async () => {
    const routes = enumerateRoutes(app).filter((r) => r.access && r.access !== 'public' && r.access !== 'device');
    const kitchen = await pairedClient(app, { kind: 'kitchen', name: 'Grill screen' });
    const byRole: Record<Role, Client> = {
      server: await pairedClient(app, { pin: PINS.server, name: 'S' }),
      cashier: await pairedClient(app, { pin: PINS.cashier, name: 'C' }),
      manager: await pairedClient(app, { pin: PINS.manager, name: 'M' }),
      owner,
    };
    const tables = ['orders', 'order_lines', 'payments', 'refunds', 'journal', 'staff', 'terminals', 'settings', 'pairing_codes'];
    const before = await counts(t.db, ...tables);
    let checked = 0;
    for (const r of routes) {
      const p = r.access as Permission;
      const role = (['server', 'cashier', 'manager'] as Role[]).find((x) => !roleCan(x, p));
      const who = role ? byRole[role] : !KITCHEN_DEVICE_PERMISSIONS.has(p) ? kitchen : undefined;
      assert.ok(who, `${r.method} ${r.path} (${p}): some principal must lack it`);
      const res = await who.request(r.method, concrete(r.path), { form: r.method === 'GET' ? undefined : { reason: 'testing', product_id: '1' } });
      assert.equal(res.status, 403, `${r.method} ${r.path} as ${role ?? 'kitchen'} → ${res.status} ${res.text.slice(0, 160)}`);
      assert.match(res.text, /Manager approval|data-error-id="forbidden"/, `${r.method} ${r.path}: refused for the permission, not for something else`);
      checked++;
    }
    assert.ok(checked > 15);
    assert.deepEqual(await counts(t.db, ...tables), before);
  });

  it('a settings save in the back office shows on the next request of every terminal', async () => {
    const counter = await pairedClient(app, { pin: PINS.cashier, name: 'Settings watcher' });
    assert.match((await counter.get('/terminal', { htmx: false })).text, /class="store-name">[^<]*</);
    const current = await getSettings(t.db);
    const form: Record<string, string> = {
      storeName: 'Corner Café (renamed)', timezone: current.timezone, currency: current.currency, cashRounding: String(current.cashRounding),
      businessDayStart: current.businessDayStart, receiptHeader: current.receiptHeader, receiptFooter: current.receiptFooter,
      idleLockSeconds: String(current.idleLockSeconds), sessionMaxHours: String(current.sessionMaxHours), discountLimitPercent: String(current.discountLimitPercent),
      kitchenWarnMinutes: String(current.kitchenWarnMinutes), kitchenLateMinutes: String(current.kitchenLateMinutes),
      ...(current.pricesIncludeTax ? { pricesIncludeTax: 'on' } : {}),
    };
    const saved = await owner.post('/backoffice/settings', form, { htmx: false });
    assert.equal(saved.status, 200, saved.text);
    // first work outside a terminal request (the API, workers): the save dropped the old copy
    assert.equal((await getSettings(t.db)).storeName, 'Corner Café (renamed)');
    assert.match((await counter.get('/terminal', { htmx: false })).text, /class="store-name">Corner Café \(renamed\)</);
    // put it back for the other tests
    const back = await owner.post('/backoffice/settings', { ...form, storeName: current.storeName }, { htmx: false });
    assert.equal(back.status, 200);
  });

  it('sets a terminal\'s defaults: a kitchen screen opens on its station', async () => {
    const screen = await pairedClient(app, { kind: 'kitchen', name: 'Pastry screen' });
    const term = await t.db('terminals').where({ name: 'Pastry screen' }).first();
    const station = await t.db('stations').where({ name: 'Cold & Pastry' }).first();
    assert.equal((await owner.post(`/backoffice/terminals/${term.id}/defaults`, { station_id: String(station.id), printer: 'pastry-printer' })).status, 204);
    const landing = await screen.get('/kitchen', { htmx: false });
    assert.equal(landing.headers.get('location'), `/kitchen/${station.id}`);
    assert.equal((await owner.post(`/backoffice/terminals/${term.id}/defaults`, { station_id: '999999' })).status, 404);
  });

  it('a pairing code works once, and not after 10 minutes', async () => {
    const made = await owner.post('/backoffice/terminals/pairing-codes', { name: 'Bar tablet', kind: 'waiter' });
    const code = /id="the-code">(\d{6})</.exec(made.text)![1];
    const first = new Client(app.url);
    await first.get('/pair', { htmx: false });
    assert.equal((await first.post('/pair', { code })).status, 204);
    const second = new Client(app.url);
    await second.get('/pair', { htmx: false });
    const again = await second.post('/pair', { code });
    assert.equal(again.status, 403);
    assert.match(again.text, /not valid/);

    const late = await owner.post('/backoffice/terminals/pairing-codes', { name: 'Late tablet', kind: 'counter' });
    const lateCode = /id="the-code">(\d{6})</.exec(late.text)![1];
    app.clock.advance(10 * 60_000 + 1000);
    const third = new Client(app.url);
    await third.get('/pair', { htmx: false });
    assert.equal((await third.post('/pair', { code: lateCode })).status, 403);
    assert.equal(await t.db('terminals').where({ name: 'Late tablet' }).first(), undefined);
  });

  it('5 wrong PINs lock the terminal (doubling after each lockout) and the audit log shows them; other terminals are not affected', async () => {
    const c = await pairedClient(app, { name: 'Fat fingers' });
    const terminal = await t.db('terminals').where({ name: 'Fat fingers' }).first();
    await c.get('/login', { htmx: false });
    for (let i = 1; i <= 4; i++) assert.equal((await c.post('/login', { pin: '9090' })).status, 401);
    const fifth = await c.post('/login', { pin: '9090' });
    assert.equal(fifth.status, 423);
    assert.match(fifth.text, /Try again in 60 seconds/);
    assert.equal((await c.post('/login', { pin: PINS.cashier })).status, 423, 'even the right PIN waits');
    const other = await pairedClient(app, { name: 'Neighbour' });
    await login(other, PINS.server); // same address, another terminal: not locked
    app.clock.advance(61_000);
    await login(c, PINS.cashier);
    for (let i = 1; i <= 5; i++) await c.post('/login', { pin: '9090' });
    const doubled = await c.post('/login', { pin: PINS.cashier });
    assert.equal(doubled.status, 423);
    assert.match(doubled.text, /Try again in 120 seconds/);
    const failed = await t.db('audit_log').where({ terminal_id: terminal.id, action: 'pin_failed' });
    assert.equal(failed.length, 10);
    const locks = await t.db('audit_log').where({ terminal_id: terminal.id, action: 'lockout' });
    assert.equal(locks.length, 2);
    const page = await owner.get('/backoffice/audit?action=lockout', { htmx: false });
    assert.match(page.text, /Fat fingers/);
  });

  it('rate-limits pairing attempts per client address, configurably', async () => {
    const strict = await bootApp(t.db, { config: testConfig({ RATE_LIMIT_PAIR_PER_MIN: '3' }), clock: app.clock });
    try {
      const c = new Client(strict.url);
      await c.get('/pair', { htmx: false });
      for (let i = 0; i < 3; i++) assert.equal((await c.post('/pair', { code: '000000' })).status, 403);
      assert.equal((await c.post('/pair', { code: '000000' })).status, 429);
      app.clock.advance(60_000);
      assert.equal((await c.post('/pair', { code: '000000' })).status, 403);
    } finally {
      await strict.close();
    }
  });

  it('a mutating request without the CSRF token → 403 and nothing changed', async () => {
    const before = await counts(t.db, 'orders');
    const none = await owner.post('/orders', { type: 'counter' }, { csrf: false });
    assert.equal(none.status, 403);
    assert.match(none.text, /CSRF/);
    const wrong = await owner.post('/orders', { type: 'counter' }, { csrf: false, headers: { 'X-CSRF-Token': 'x'.repeat(43) } });
    assert.equal(wrong.status, 403);
    assert.deepEqual(await counts(t.db, 'orders'), before);
    assert.equal((await owner.post('/orders', { type: 'counter' })).status, 204, 'with the token it works');
  });

  it('a cashier cannot refund; with a manager override the refund goes through and the record holds both ids', async () => {
    const cashier = await pairedClient(app, { pin: PINS.cashier, name: 'Till 3' });
    const opened = await cashier.post('/orders', { type: 'counter' });
    const orderId = Number(/(\d+)$/.exec(opened.headers.get('HX-Redirect')!)![1]);
    const scone = await t.db('products').where({ name: 'Scone with jam & cream' }).first();
    await cashier.post(`/orders/${orderId}/lines`, { product_id: String(scone.id) });
    assert.equal((await cashier.post(`/orders/${orderId}/payments`, { tendered: '10', idempotency_key: crypto.randomUUID() })).status, 200);

    const form = { reason: 'cold scone', idempotency_key: crypto.randomUUID(), scope: 'all' };
    const refused = await cashier.post(`/orders/${orderId}/refunds`, form, { headers: { 'HX-Target': 'section#refund-panel' } });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('HX-Retarget'), '#modal');
    assert.match(refused.text, /Manager approval/);
    assert.match(refused.text, /name="reason" value="cold scone"/);
    assert.equal(await t.db('refunds').where({ order_id: orderId }).first(), undefined);

    const wrongApprover = await cashier.post(`/orders/${orderId}/refunds`, { ...form, override_pin: PINS.server });
    assert.equal(wrongApprover.status, 403);
    const approved = await cashier.post(`/orders/${orderId}/refunds`, { ...form, override_pin: PINS.manager });
    assert.equal(approved.status, 200, approved.text);
    const cashierRow = await t.db('staff').where({ role: 'cashier' }).first();
    const managerRow = await t.db('staff').where({ role: 'manager' }).first();
    const refund = await t.db('refunds').where({ order_id: orderId }).first();
    assert.equal(refund.staff_id, cashierRow.id);
    assert.equal(refund.approved_by, managerRow.id);
    const entry = (await t.db('journal').where({ seq: refund.journal_seq }).first()).entry;
    assert.equal(entry.staff.id, cashierRow.id);
    assert.equal(entry.approved_by.id, managerRow.id);
    const audited = await t.db('audit_log').where({ action: 'refund' }).orderBy('id', 'desc').first();
    assert.equal(audited.staff_id, cashierRow.id);
    assert.equal(audited.approved_by, managerRow.id);
    const override = await t.db('audit_log').where({ action: 'override' }).orderBy('id', 'desc').first();
    assert.equal(override.details.permission, 'order:refund');
  });

  it('discounts above the threshold need a manager; below it a cashier may give them', async () => {
    const cashier = await pairedClient(app, { pin: PINS.cashier, name: 'Till 4' });
    const opened = await cashier.post('/orders', { type: 'counter' });
    const orderId = Number(/(\d+)$/.exec(opened.headers.get('HX-Redirect')!)![1]);
    const bun = await t.db('products').where({ name: 'Cinnamon bun' }).first();
    await cashier.post(`/orders/${orderId}/lines`, { product_id: String(bun.id), quantity: '10' });
    assert.equal((await cashier.post(`/orders/${orderId}/discount`, { kind: 'percent', value: '5' })).status, 200);
    const big = await cashier.post(`/orders/${orderId}/discount`, { kind: 'percent', value: '50' });
    assert.equal(big.status, 403);
    assert.match(big.text, /Manager approval/);
    const order = await t.db('orders').where({ id: orderId }).first();
    assert.equal(order.discount_value, 50_000, 'still the 5% discount');
  });

  it('shows <img src=x onerror=…> as a staff or product name escaped everywhere', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    const created = await owner.post('/backoffice/staff', { name: evil, role: 'server', pin: '8642' });
    assert.equal(created.status, 204, created.text);
    const product = await t.db('products').where({ name: 'Brownie' }).first();
    await t.db('products').where({ id: product.id }).update({ name: evil });
    const evilStaff = await pairedClient(app, { pin: '8642', name: evil });
    const opened = await evilStaff.post('/orders', { type: 'counter' });
    const orderId = Number(/(\d+)$/.exec(opened.headers.get('HX-Redirect')!)![1]);
    const pages = [
      await owner.get('/backoffice/staff', { htmx: false }),
      await owner.get('/backoffice/audit', { htmx: false }),
      await owner.get('/backoffice/devices', { htmx: false }), // the terminals' page (issue 21)
      await evilStaff.get(`/terminal/products?category=${product.category_id}&order=${orderId}`),
      await evilStaff.post(`/orders/${orderId}/lines`, { product_id: String(product.id) }),
      await evilStaff.get(`/orders/${orderId}`, { htmx: false }),
      await evilStaff.get('/login', { htmx: false }),
    ];
    for (const p of pages) {
      assert.equal(p.status, 200, p.text.slice(0, 200));
      assert.ok(!p.text.includes('<img src=x'), 'raw markup must never reach the page');
    }
    assert.ok(pages.filter((p) => p.text.includes('&lt;img src=x onerror=alert(1)&gt;')).length >= 5);
  });

  it('a new login rotates the session id', async () => {
    const c = await pairedClient(app, { pin: PINS.server, name: 'Rotation' });
    const first = c.cookies.get('pos_session');
    await login(c, PINS.cashier);
    const second = c.cookies.get('pos_session');
    assert.ok(first && second && first !== second);
    const old = await t.db('sessions').where({ id: decodeURIComponent(first!) }).first();
    assert.ok(old.ended_at, 'the old session ended');
  });

  it('locks a terminal left untouched past the idle time: the next request asks for the PIN', async () => {
    await t.db('settings').where({ key: 'idleLockSeconds' }).update({ value: JSON.stringify(120) });
    try {
      const c = await pairedClient(app, { pin: PINS.server, name: 'Idle' });
      app.clock.advance(119_000);
      assert.equal((await c.get('/terminal', { htmx: false })).status, 200, 'activity within the limit keeps it open');
      app.clock.advance(119_000);
      assert.equal((await c.get('/terminal', { htmx: false })).status, 200);
      app.clock.advance(121_000);
      const locked = await c.get('/terminal', { htmx: false });
      assert.equal(locked.status, 302);
      assert.equal(locked.headers.get('location'), '/login?locked=1');
      assert.equal((await c.get('/terminal', { htmx: false })).headers.get('location'), '/login', 'the session is over');
    } finally {
      await t.db('settings').where({ key: 'idleLockSeconds' }).update({ value: JSON.stringify(86_400) });
    }
  });

  it('sends CSP and the usual security headers', async () => {
    const r = await owner.get('/terminal', { htmx: false });
    const csp = r.headers.get('content-security-policy')!;
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
    const cookies = (await fetch(`${app.url}/pair`)).headers.getSetCookie().join('\n');
    assert.match(cookies, /pos_csrf=[^;]+;.*samesite=strict; httponly/i);
  });
});
