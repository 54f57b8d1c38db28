import assert from 'node:assert/strict';
import { e2eStore } from '../helpers/e2e';
import { pairBrowser, watchPage } from '../helpers/browser';

describe('e2e: the status page in Chromium', function () {
  this.timeout(90_000);
  const env = e2eStore();

  it('loads, and an hx-get swap replaces its target (htmx is really active)', async () => {
    const context = await env.browser.newContext();
    const page = await pairBrowser(context, env.app);
    const watch = watchPage(page);
    await page.goto(env.app.url + '/status');
    await page.waitForFunction(() => typeof (window as unknown as { htmx?: unknown }).htmx === 'object');
    assert.equal(await page.textContent('#store-clock'), 'Store time appears here.');
    await page.click('button[hx-get="/status/clock"]');
    await page.waitForSelector('#store-clock .clock');
    assert.match((await page.textContent('#store-clock'))!, /Store time: 14 Mar 2026/);
    assert.deepEqual(watch.errors, []);
    await context.close();
  });
});
