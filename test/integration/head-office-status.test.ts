import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { RunningHeadOffice } from '../../server/head-office/main';
import { addStore, RegistryError, revokeStore, setOperatorPassword } from '../../server/head-office/registry';
import { FakeClock } from '../helpers/clock';
import { tempDir } from '../helpers/config';
import { createLedgerDb, HO_SECRET_KEY, makeChain, postBatch, registerStore, startInstance, type LedgerDb } from '../helpers/head-office';
import { spawnCli } from '../helpers/spawn';

/**
 * Issue 26: the status page (its own login; every store with its acknowledged seq, last batch
 * time, backlog age and chain status) and the registry's commands (`ledger set-password`,
 * `ledger revoke-store`, `ledger add-store` refusing a store already registered). Two instances:
 * a session signed in at one is good at the other (nothing is remembered in either).
 */
describe('the head office status page and commands', function () {
  this.timeout(120_000);
  let l: LedgerDb;
  let a: RunningHeadOffice;
  let b: RunningHeadOffice;
  let dataDir = '';
  const clock = new FakeClock('2026-03-14T12:00:00Z');
  const A = () => `http://127.0.0.1:${a.port}`;
  const B = () => `http://127.0.0.1:${b.port}`;

  before(async () => {
    l = await createLedgerDb();
    a = await startInstance(l.url, { clock });
    b = await startInstance(l.url, { clock });
    dataDir = tempDir('head-office-status-');
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await l?.drop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const env = () => ({ DATABASE_URL: l.url, DATA_DIR: dataDir, SECRET_KEY: HO_SECRET_KEY, LOG_LEVEL: 'warn' });
  const login = (base: string, name: string, password: string) =>
    fetch(`${base}/login`, { method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ name, password }).toString() });

  it('asks for a login, takes the password `ledger set-password` printed, and shows every store with its seq, last batch, backlog age and chain', async () => {
    const set = spawnCli(['ledger', 'set-password', '--name', 'owner'], env());
    assert.equal(await set.exited, 0, set.output());
    const password = set.output().trim().split(/\s+/).pop()!;
    assert.ok(password.length >= 12, set.output());

    const anon = await fetch(`${A()}/`, { redirect: 'manual' });
    assert.equal(anon.status, 302);
    assert.equal(anon.headers.get('location'), '/login');
    const form = await fetch(`${A()}/login`);
    assert.match(await form.text(), /<form method="post" action="\/login"/);

    const wrong = await login(A(), 'owner', 'not-the-password');
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /That name and password do not match/);
    assert.equal(wrong.headers.get('set-cookie'), null);

    // the stores: one shipping, one forked, one revoked, one that has sent nothing
    const chain = makeChain(120);
    const north = await registerStore(a.db, 'cafe-north');
    assert.equal((await postBatch(A(), 'cafe-north', north, chain.slice(0, 100))).status, 200);
    const south = await registerStore(a.db, 'cafe-south');
    assert.equal((await postBatch(B(), 'cafe-south', south, chain.slice(0, 50))).status, 200);
    assert.equal((await postBatch(B(), 'cafe-south', south, makeChain(10, chain[39], 'another till'))).status, 422);
    await registerStore(a.db, 'shop-east');
    const revoke = spawnCli(['ledger', 'revoke-store', '--id', 'shop-east'], env());
    assert.equal(await revoke.exited, 0, revoke.output());
    assert.match(revoke.output(), /Store shop-east revoked/);
    await registerStore(a.db, 'kiosk-west');
    clock.advance(90 * 60_000);

    const ok = await login(A(), 'owner', password);
    assert.equal(ok.status, 303);
    const cookie = ok.headers.get('set-cookie')!.split(';')[0];
    assert.match(ok.headers.get('set-cookie')!, /HttpOnly/i);
    assert.match(ok.headers.get('set-cookie')!, /SameSite=Strict/i);
    // signed in at A, read at B
    const page = await fetch(`${B()}/`, { headers: { Cookie: cookie } });
    assert.equal(page.status, 200);
    const html = await page.text();
    const row = (id: string) => {
      const m = new RegExp(`<tr id="store-${id}">([\\s\\S]*?)</tr>`).exec(html);
      assert.ok(m, `a row for ${id}`);
      return m[1].replace(/\s+/g, ' ');
    };
    assert.match(row('cafe-north'), /data-label="Acknowledged" class="num">100</);
    assert.match(row('cafe-north'), /data-label="Last batch"><time datetime="2026-03-14T12:00:00.000Z">1 h 30 min ago/);
    // the newest entry held was written at 09:31:40 (makeChain's times): 3 h 58 min before 13:30
    assert.match(row('cafe-north'), /data-label="Backlog age">3 h 58 min</);
    assert.match(row('cafe-north'), /badge-ok">verified</);
    assert.match(row('cafe-south'), /data-label="Acknowledged" class="num">50</);
    assert.match(row('cafe-south'), /fork at seq 41</);
    assert.match(row('cafe-south'), /Last refused .*422/);
    assert.match(row('shop-east'), /revoked/);
    assert.match(row('kiosk-west'), /none yet/);
    assert.match(html, /1 store has sent an entry that differs/);

    // the table alone for htmx's poll; a new password ends the session
    const partial = await fetch(`${A()}/stores`, { headers: { Cookie: cookie, 'HX-Request': 'true' } });
    assert.match((await partial.text()).trimStart(), /^<section id="stores"/);
    await setOperatorPassword(a.db, clock, 'owner', 'a-brand-new-password-42');
    const after = await fetch(`${A()}/stores`, { headers: { Cookie: cookie, 'HX-Request': 'true' } });
    assert.equal(after.headers.get('hx-redirect'), '/login');
    const forged = await fetch(`${A()}/`, { redirect: 'manual', headers: { Cookie: cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) } });
    assert.equal(forged.status, 302);
    // a sign-in posted from another site is refused
    const cross = await fetch(`${A()}/login`, { method: 'POST', headers: { Origin: 'https://elsewhere.example', 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'name=owner&password=a-brand-new-password-42' });
    assert.equal(cross.status, 403);
  });

  it('add-store refuses a store already registered (exit 2), and gives a revoked one a new secret that ships', async () => {
    await registerStore(a.db, 'bar-central');
    const again = spawnCli(['ledger', 'add-store', '--id', 'bar-central'], env());
    assert.equal(await again.exited, 2);
    assert.match(again.output(), /already registered/);
    await assert.rejects(addStore(a.db, clock, HO_SECRET_KEY, 'no spaces'), RegistryError);
    const old = await registerStore(a.db, 'bar-west');
    assert.equal((await postBatch(A(), 'bar-west', old, makeChain(10))).status, 200);
    await revokeStore(a.db, clock, 'bar-west');
    assert.equal((await postBatch(A(), 'bar-west', old, makeChain(20).slice(10))).status, 401);
    const fresh = await registerStore(a.db, 'bar-west');
    assert.notEqual(fresh, old);
    assert.equal((await postBatch(B(), 'bar-west', old, makeChain(20).slice(10))).status, 401, 'the old secret stays refused');
    assert.deepEqual(await postBatch(B(), 'bar-west', fresh, makeChain(20).slice(10)), { status: 200, body: { ackedThrough: 20 } }, 'its chain goes on');
  });
});
