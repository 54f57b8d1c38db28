import assert from 'node:assert/strict';
import { e2eStore } from '../helpers/e2e';
import type { Request } from 'playwright-core';
import { loginPage, pairBrowser, watchPage } from '../helpers/browser';
import { PINS } from '../helpers/client';

describe('e2e: first run, pairing, PIN login and idle lock in Chromium', function () {
  this.timeout(120_000);
  const env = e2eStore({ empty: true }); // an empty store: no staff, no products

  it('sets up the owner, pairs a second browser with a code from the back office, logs in by PIN, and locks when idle', async () => {
    const office = await env.browser.newContext();
    const page = await office.newPage();
    const watch = watchPage(page);
    await page.goto(`${env.app.url}/terminal`);
    await page.waitForURL(/\/setup$/); // unpaired → /pair → empty store → /setup
    await page.fill('input[name=owner_name]', 'Ada Owner');
    await page.fill('input[name=pin]', '5791');
    await page.fill('input[name=pin_confirm]', '5791');
    await page.click('#create-owner');
    await page.waitForURL(/\/backoffice$/);
    assert.match((await page.textContent('main'))!, /Signed in as Ada Owner \(owner\)/);

    await page.click('main a.menu-card:has-text("Devices")');
    await page.fill('input[name=name]', 'Counter 2');
    await page.selectOption('select[name=kind]', 'counter');
    await page.click('#make-code');
    const code = (await page.textContent('#the-code'))!.trim();
    assert.match(code, /^\d{6}$/);

    const counter = await env.browser.newContext();
    const p2 = await counter.newPage();
    const watch2 = watchPage(p2);
    await p2.goto(`${env.app.url}/terminal`);
    await p2.waitForURL(/\/pair$/);
    await p2.fill('input[name=code]', code);
    await p2.click('#pair-submit');
    await p2.waitForURL(/\/login$/);
    await p2.fill('#pin', '0000');
    await p2.click('#login-submit');
    await p2.waitForSelector('#flash .flash-error');
    assert.match((await p2.textContent('#flash'))!, /not right/);
    await loginPage(p2, '5791');
    assert.match(p2.url(), /\/terminal$/);

    await env.t.db('settings').insert({ key: 'idleLockSeconds', value: JSON.stringify(60), updated_at: new Date() }).onConflict('key').merge();
    env.app.clock.advance(61_000);
    await p2.click('#new-sale');
    await p2.waitForURL(/\/login\?locked=1$/);
    assert.match((await p2.textContent('#idle-locked'))!, /locked itself/);
    await loginPage(p2, '5791');

    assert.deepEqual(watch.errors, [], 'no console errors or CSP violations');
    assert.deepEqual(watch2.errors, []);
    const audit = await env.t.db('audit_log').pluck('action');
    for (const a of ['setup', 'pairing_code_created', 'terminal_paired', 'pin_failed', 'login']) assert.ok(audit.includes(a), a);
    await office.close();
    await counter.close();
  });
});

describe('e2e: CSP and CSRF in Chromium', function () {
  this.timeout(120_000);
  const env = e2eStore();

  it('pages work under the CSP with no violations, and a nested button\'s request carries the CSRF header', async () => {
    const context = await env.browser.newContext();
    const page = await pairBrowser(context, env.app, { pin: PINS.owner });
    const watch = watchPage(page);
    const posts: Request[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') posts.push(r);
    });
    // the first product tapped opens the sale
    await page.click('.categories button:has-text("Cakes & pastries")');
    await page.click('#product-grid button.product:has-text("Croissant")');
    await page.waitForURL(/\/orders\/\d+/);
    await page.waitForSelector('#order-lines tr.line');
    // the line editor's "+" sits deep inside the dialog: it inherits the token from <body>
    await page.click('#order-lines tr.line button.edit-line');
    await page.click('#modal button[aria-label="One more"]');
    await page.waitForSelector('#order-lines td.qty:has-text("2×")');
    const plus = posts.find((r) => /\/lines\/\d+\/quantity$/.test(r.url()));
    assert.ok(plus, 'the nested button sent its request');
    assert.match((await plus.allHeaders())['x-csrf-token'] ?? '', /^[A-Za-z0-9_-]{20,}$/);
    for (const path of ['/backoffice', '/backoffice/terminals', '/backoffice/staff', '/backoffice/audit', '/backoffice/settings', '/orders', '/status']) {
      await page.goto(env.app.url + path);
      await page.waitForLoadState('networkidle');
    }
    assert.deepEqual(watch.errors, [], 'no console errors, no CSP violations');
    await context.close();
  });
});
