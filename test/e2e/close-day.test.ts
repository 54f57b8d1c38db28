import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { unzipSync } from 'fflate';
import { e2eStore } from '../helpers/e2e';
import { pairBrowser, watchPage } from '../helpers/browser';
import { PINS } from '../helpers/client';
import * as orders from '../../server/orders/service';

/**
 * The manager's close of day in Chromium (issue 23): the back office's Close of day page shows
 * the X, closes the business day with a Z, exports it and downloads the zip.
 */
describe('e2e: the manager closes the day and downloads the export', function () {
  this.timeout(180_000);
  const env = e2eStore();
  let day: string;

  before(async () => {
    const { app } = env;
    const deps = { db: app.db, clock: app.clock, events: app.events };
    for (const [name, qty] of [['Croissant', 2], ['Brownie', 1]] as const) {
      const o = await orders.openOrder(deps, { type: 'counter' });
      await orders.addLine(deps, o.id, { productId: (await app.db('products').where({ name }).first()).id, quantity: qty, modifierIds: [], note: null });
      await orders.tenderCash(deps, o.id, 1000, crypto.randomUUID());
    }
    day = (await app.db('journal').orderBy('seq', 'desc').first()).entry.business_date;
  });

  it('closes the business day from the back office with a Z, exports it and downloads the zip', async () => {
    const context = await env.browser.newContext({ viewport: { width: 1024, height: 768 }, acceptDownloads: true });
    const page = await pairBrowser(context, env.app, { pin: PINS.manager, name: 'Office', kind: 'back_office' });
    const watch = watchPage(page);
    await page.goto(`${env.app.url}/backoffice`);
    await page.click('nav a:has-text("Close of day")');
    await page.waitForURL(/\/backoffice\/close$/);
    assert.match((await page.textContent('#x-report'))!, /Sales total\s*€9\.10/);
    await page.click('#close-day');
    await page.waitForSelector('#z-list');
    assert.match((await page.textContent('#toasts'))!, new RegExp(`Business day ${day} closed: Z 1`));
    assert.match((await page.textContent('#z-list'))!, new RegExp(`1\\s*${day}`));
    const z = await env.app.db('journal').where({ kind: 'z_closure' }).first();
    assert.equal(z.entry.sales.total, 910);

    await page.fill('#export-form input[name=date]', day);
    await page.click('#export-now');
    await page.waitForSelector(`#export-list a[href="/backoffice/exports/${day}/zip"]`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(`#export-list a[href="/backoffice/exports/${day}/zip"]`)]);
    assert.equal(download.suggestedFilename(), `export-${day}.zip`);
    const files = unzipSync(new Uint8Array(fs.readFileSync((await download.path())!)));
    assert.deepEqual(Object.keys(files).sort(), ['journal.ndjson', 'manifest.json', 'order_lines.csv', 'orders.csv', 'payments.csv', 'summary.html', 'summary.json'].map((n) => `${day}/${n}`));
    const manifest = JSON.parse(new TextDecoder().decode(files[`${day}/manifest.json`]));
    assert.equal(manifest.business_date, day);
    assert.deepEqual(watch.errors, []);
    await context.close();
  });
});
