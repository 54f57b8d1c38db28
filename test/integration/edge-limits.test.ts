import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { io as ioClient } from 'socket.io-client';
import { bootApp, type TestApp } from '../helpers/app';
import { pairedClient, PINS, type Client } from '../helpers/client';
import { testConfig } from '../helpers/config';
import { createTestDb, type TestDb } from '../helpers/pg';
import { counts, seedStore } from '../helpers/store';
import { createApiToken, API_SCOPES } from '../../server/api/tokens';
import { getSettings } from '../../server/settings/service';
import { FakeClock } from '../helpers/clock';

/** Issue 18, item 6: the edge's limits (JSON depth, bad escapes, Retry-After, Host, caching, tenders). */

const key = () => crypto.randomUUID();
const deepJson = (n: number) => '['.repeat(n) + ']'.repeat(n);

/** A request with a Host header of our choosing (fetch always sends the URL's). */
function withHost(url: string, host: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: { ...opts.headers, Host: host } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('edge limits (issue 18: depth, escapes, Retry-After, Host, no-store, tenders)', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: TestApp;
  let owner: Client;
  let cashier: Client;
  let token: string;
  let store: Awaited<ReturnType<typeof seedStore>>;
  before(async () => {
    t = await createTestDb();
    store = await seedStore(t.db);
    app = await bootApp(t.db, { config: testConfig({ RATE_LIMIT_API_PER_MIN: '8', RATE_LIMIT_LOGIN_PER_MIN: '3' }) });
    owner = await pairedClient(app, { pin: PINS.owner, kind: 'back_office', name: 'Office' });
    cashier = await pairedClient(app, { pin: PINS.cashier, name: 'Till 1' });
    token = (await createApiToken(t.db, new FakeClock(), { name: 'Shop', scopes: [...API_SCOPES] })).token;
  });
  after(async () => {
    await app.close();
    await t.drop();
  });

  async function openOrderWith(c: Client, product: string): Promise<number> {
    const r = await c.post('/orders', { type: 'counter' });
    const id = Number(/(\d+)$/.exec(r.headers.get('HX-Redirect')!)![1]);
    const p = await store.product(product);
    assert.equal((await c.post(`/orders/${id}/lines`, { product_id: String(p.id) })).status, 200);
    return id;
  }

  describe('JSON nesting', () => {
    it('a 100 000-deep JSON array to /api/v1 → 400 problem+json that says it is too deeply nested, no stack', async () => {
      const res = await fetch(`${app.url}/api/v1/orders`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
        body: deepJson(100_000),
      });
      assert.equal(res.status, 400);
      assert.match(res.headers.get('content-type')!, /application\/problem\+json/);
      const text = await res.text();
      const body = JSON.parse(text);
      assert.equal(body.type, '/problems/malformed-request');
      assert.match(body.title, /too deeply nested/);
      assert.doesNotMatch(text, /RangeError|at \S+ \(|\.ts:\d+/);
    });

    it('the same body to an htmx POST → 400, the error partial says too deeply nested', async () => {
      const r = await fetch(`${app.url}/orders`, {
        method: 'POST',
        headers: { 'HX-Request': 'true', 'Content-Type': 'application/json', Cookie: cashier.cookieHeader(), 'X-CSRF-Token': cashier.csrf! },
        body: deepJson(100_000),
      });
      assert.equal(r.status, 400);
      assert.equal(r.headers.get('HX-Retarget'), '#flash');
      const html = await r.text();
      assert.match(html, /too deeply nested/);
      assert.doesNotMatch(html, /RangeError|at \S+ \(|\.ts:\d+/);
    });

    it('32 levels still reach the route (its own validation answers), and an oversized body is still 413', async () => {
      const nested = await fetch(`${app.url}/api/v1/orders`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ type: 'counter', idempotencyKey: key(), lines: JSON.parse(deepJson(31)) }),
      });
      assert.equal(nested.status, 400);
      assert.equal((await nested.json()).type, '/problems/validation');
      const big = await fetch(`${app.url}/api/v1/orders`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ a: 'x'.repeat(300 * 1024) }),
      });
      assert.equal(big.status, 413);
    });
  });

  it('/static/%E0%A4%A (a malformed percent-encoding) → 400 with a clear message', async () => {
    const page = await fetch(`${app.url}/static/%E0%A4%A`);
    assert.equal(page.status, 400);
    assert.match(await page.text(), /malformed percent-encoding/);
    const json = await fetch(`${app.url}/static/%E0%A4%A`, { headers: { Accept: 'application/json' } });
    assert.equal(json.status, 400);
    assert.equal((await json.json()).type, '/problems/malformed-request');
    assert.equal((await fetch(`${app.url}/static/css/app.css`)).status, 200, 'a good path still serves');
  });

  it('an API token over its limit → 429 with Retry-After in whole seconds until the window frees', async () => {
    const own = (await createApiToken(t.db, new FakeClock(), { name: 'Busy', scopes: ['catalog:read'] })).token;
    const get = () => fetch(`${app.url}/api/v1/products`, { headers: { Authorization: `Bearer ${own}`, Accept: 'application/json' } });
    for (let i = 0; i < 8; i++) assert.equal((await get()).status, 200, `request ${i + 1}`);
    const limited = await get();
    assert.equal(limited.status, 429);
    const first = limited.headers.get('Retry-After');
    assert.match(first ?? '', /^[1-9]\d*$/, `Retry-After: ${first}`);
    assert.ok(Number(first) <= 60);
    app.clock.advance(20_000);
    const later = await get();
    assert.equal(later.status, 429);
    assert.ok(Number(later.headers.get('Retry-After')) <= 40, `after 20 s: ${later.headers.get('Retry-After')}`);
    app.clock.advance(40_000);
    assert.equal((await get()).status, 200, 'the window freed when it said');
  });

  it('PIN logins over the terminal\'s limit → 429 with Retry-After', async () => {
    const till = await pairedClient(app, { name: 'Typo till' });
    await till.get('/login', { htmx: false });
    for (let i = 0; i < 3; i++) assert.equal((await till.post('/login', { pin: '0000' })).status, 401, `attempt ${i + 1}`);
    const limited = await till.post('/login', { pin: '0000' });
    assert.equal(limited.status, 429);
    const after = limited.headers.get('Retry-After');
    assert.match(after ?? '', /^[1-9]\d*$/, `Retry-After: ${after}`);
    assert.ok(Number(after) <= 60);
  });

  describe('Cache-Control', () => {
    it('a receipt page, a back-office page, a partial and an error answer no-store; static files keep their caching', async () => {
      const id = await openOrderWith(cashier, 'Brownie');
      assert.equal((await cashier.post(`/orders/${id}/payments`, { tendered: '50', idempotency_key: key() })).status, 200);
      const receipt = await cashier.get(`/orders/${id}/receipt`, { htmx: false });
      assert.equal(receipt.status, 200);
      assert.equal(receipt.headers.get('Cache-Control'), 'no-store');
      const settings = await owner.get('/backoffice/settings', { htmx: false });
      assert.equal(settings.status, 200);
      assert.equal(settings.headers.get('Cache-Control'), 'no-store');
      const staff = await owner.get('/backoffice/staff', { htmx: false });
      assert.equal(staff.headers.get('Cache-Control'), 'no-store');
      const panel = await cashier.get(`/orders/${id}/panel`);
      assert.equal(panel.status, 200);
      assert.equal(panel.headers.get('Cache-Control'), 'no-store');
      const missing = await cashier.get('/orders/999999', { htmx: false });
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get('Cache-Control'), 'no-store');
      const api = await fetch(`${app.url}/api/v1/orders/${id}`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(api.headers.get('Cache-Control'), 'no-store');
      for (const path of ['/static/css/app.css', '/vendor/htmx.min.js']) {
        const res = await fetch(app.url + path);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('Cache-Control'), 'public, max-age=3600', path);
      }
    });
  });

  describe('cash tender sanity', () => {
    it('a 1e11 tender through the API → 422 looks mistyped, nothing written; a 50 note is taken', async () => {
      const brownie = await store.product('Brownie');
      const token = (await createApiToken(t.db, new FakeClock(), { name: 'Till app', scopes: ['orders:write', 'payments:write'] })).token;
      const made = await fetch(`${app.url}/api/v1/orders`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'takeaway', lines: [{ productId: brownie.id, qty: 1 }], idempotencyKey: key() }),
      });
      assert.equal(made.status, 201);
      const order = (await made.json()) as { id: number; total: number };
      const before = await counts(t.db, 'payments', 'journal', 'webhook_events');
      const pay = (amount: number) => fetch(`${app.url}/api/v1/orders/${order.id}/payments`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ method: 'cash', amount, idempotencyKey: key() }),
      });
      const refused = await pay(100_000_000_000);
      assert.equal(refused.status, 422);
      const problem = await refused.json();
      assert.equal(problem.type, '/problems/tender-implausible');
      assert.match(problem.title, /looks mistyped/);
      assert.deepEqual(await counts(t.db, 'payments', 'journal', 'webhook_events'), before);
      const row = await t.db('orders').where({ id: order.id }).first();
      assert.equal(row.status, 'open');
      assert.equal(row.paid_total, 0);
      assert.equal((await pay(order.total + 5_000)).status, 201, 'a 50 note over what is due is fine');
    });

    it('a 1e11 tender through the htmx pay route → 422 looks mistyped, the order still unpaid', async () => {
      const id = await openOrderWith(cashier, 'Brownie');
      const before = await counts(t.db, 'payments', 'journal');
      const r = await cashier.post(`/orders/${id}/payments`, { tendered: '1000000000', idempotency_key: key() }); // 1e11 cents
      assert.equal(r.status, 422);
      assert.equal(r.headers.get('HX-Retarget'), '#flash');
      assert.match(r.text, /looks mistyped/);
      assert.deepEqual(await counts(t.db, 'payments', 'journal'), before);
      const row = await t.db('orders').where({ id }).first();
      assert.equal(row.status, 'open');
      assert.equal(row.paid_total, 0);
      assert.equal((await cashier.post(`/orders/${id}/payments`, { tendered: '100', idempotency_key: key() })).status, 200, 'a 100 note is fine');
      assert.equal((await t.db('orders').where({ id }).first()).status, 'paid');
    });
  });

  describe('Host allow-list', () => {
    /** The settings form as the page would send it: every current value, allowedHosts as given. */
    const settingsForm = async (allowedHosts: string): Promise<Record<string, string>> => {
      const form: Record<string, string> = {};
      for (const [k, v] of Object.entries(await getSettings(t.db))) {
        if (typeof v === 'boolean') { if (v) form[k] = 'on'; } else if (Array.isArray(v)) form[k] = v.join('\n');
        else form[k] = String(v);
      }
      return { ...form, allowedHosts };
    };
    after(async () => {
      await owner.post('/backoffice/settings', await settingsForm(''), { htmx: false });
    });

    it('empty (the default): any Host is served, and the status page warns how to set the list', async () => {
      assert.deepEqual((await getSettings(t.db)).allowedHosts, []);
      const r = await withHost(`${app.url}/pair`, 'anything.example');
      assert.equal(r.status, 200);
      const status = await cashier.get('/status', { htmx: false });
      assert.equal(status.status, 200);
      assert.match(status.text, /id="any-host-warning"[^>]*>[^<]*accepts requests addressed to any host name/);
      assert.match(status.text, /Allowed hosts/);
      assert.match(status.text, /href="\/backoffice\/settings"/);
      assert.match((await owner.get('/backoffice/settings', { htmx: false })).text, /<textarea name="allowedHosts"[^>]*><\/textarea>/);
    });

    it('bad entries → 400 naming them, nothing changes', async () => {
      const before = await t.db('settings').orderBy('key');
      for (const bad of ['http://pos.local', 'pos.local:3000', '*.shop.example']) {
        const r = await owner.post('/backoffice/settings', await settingsForm(`pos.local\n${bad}`), { htmx: false });
        assert.equal(r.status, 400, bad);
        assert.match(r.text, /is not a host name or IP address/, bad);
        assert.ok(r.text.includes(`&quot;${bad}&quot;`), `names ${bad}`);
      }
      assert.deepEqual(await t.db('settings').orderBy('key'), before);
    });

    it('a list that leaves out the name this browser used → 400, nothing changes', async () => {
      const before = await t.db('settings').orderBy('key');
      const form = new URLSearchParams({ ...(await settingsForm('pos.local')), _csrf: owner.csrf! }).toString();
      const r = await withHost(`${app.url}/backoffice/settings`, 'till.shop.example:8080', {
        method: 'POST',
        headers: { Cookie: owner.cookieHeader(), 'Content-Type': 'application/x-www-form-urlencoded', 'X-CSRF-Token': owner.csrf! },
        body: form,
      });
      assert.equal(r.status, 400, r.text);
      assert.match(r.text, /reached as &quot;till.shop.example&quot;, which is not in Allowed hosts/);
      assert.deepEqual(await t.db('settings').orderBy('key'), before);
    });

    it('set: another Host → 421 with a clear message (pages, API and socket.io); listed names and loopback pass; /healthz is exempt', async () => {
      const saved = await owner.post('/backoffice/settings', await settingsForm('POS.local\n192.168.1.10, [fe80::1]'), { htmx: false });
      assert.equal(saved.status, 200, saved.text);
      assert.deepEqual((await getSettings(t.db)).allowedHosts, ['pos.local', '192.168.1.10', 'fe80::1']);
      assert.match((await owner.get('/backoffice/settings', { htmx: false })).text, /<textarea name="allowedHosts"[^>]*>pos.local\n192.168.1.10\nfe80::1<\/textarea>/);

      const page = await withHost(`${app.url}/pair`, 'evil.example');
      assert.equal(page.status, 421);
      assert.match(page.text, /does not answer to the name &quot;evil.example&quot;/);
      const api = await withHost(`${app.url}/api/v1/products`, 'evil.example:3000', { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(api.status, 421);
      assert.equal(JSON.parse(api.text).type, '/problems/host-not-allowed');
      const asset = await withHost(`${app.url}/static/css/app.css`, 'evil.example');
      assert.equal(asset.status, 421);
      for (const ok of ['pos.local', 'POS.LOCAL:8080', '192.168.1.10:3000', '[fe80::1]:3000', '127.0.0.1', 'localhost:3000']) {
        assert.equal((await withHost(`${app.url}/pair`, ok)).status, 200, ok);
      }
      assert.equal((await withHost(`${app.url}/healthz`, 'evil.example')).status, 200, '/healthz answers any Host');

      // socket.io's handshake is held to the same list
      const connect = (host: string) => new Promise<string>((resolve) => {
        const socket = ioClient(app.url, { transports: ['websocket'], extraHeaders: { Cookie: cashier.cookieHeader(), Host: host }, reconnection: false, forceNew: true });
        socket.on('connect', () => { socket.close(); resolve('connected'); });
        socket.on('connect_error', (err) => { socket.close(); resolve(err.message); });
      });
      assert.match(await connect('evil.example'), /does not answer to the name "evil.example"/);
      assert.equal(await connect('pos.local'), 'connected');

      // the status page no longer warns
      const status = await cashier.get('/status', { htmx: false });
      assert.equal(status.status, 200);
      assert.doesNotMatch(status.text, /any-host-warning/);
    });
  });
});
