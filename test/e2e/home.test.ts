import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { bootApp, type TestApp } from '../helpers/app';
import { launchBrowser, pairBrowser, watchPage } from '../helpers/browser';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';

describe('e2e: the status page in Chromium', function () {
  this.timeout(90_000);
  let browser: Browser;
  let t: TestDb;
  let app: TestApp;
  before(async () => {
    t = await createTestDb();
    await seedStore(t.db);
    app = await bootApp(t.db);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await t?.drop();
  });

  it('loads, and an hx-get swap replaces its target (htmx is really active)', async () => {
    const context = await browser.newContext();
    const page = await pairBrowser(context, app);
    const watch = watchPage(page);
    await page.goto(app.url + '/status');
    await page.waitForFunction(() => typeof (window as unknown as { htmx?: unknown }).htmx === 'object');
    assert.equal(await page.textContent('#store-clock'), 'Store time appears here.');
    await page.click('button[hx-get="/status/clock"]');
    await page.waitForSelector('#store-clock .clock');
    assert.match((await page.textContent('#store-clock'))!, /Store time: 14 Mar 2026/);
    assert.deepEqual(watch.errors, []);
    await context.close();
  });
});
