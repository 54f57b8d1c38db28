import assert from 'node:assert/strict';
import { e2eStore } from '../helpers/e2e';
import { pairBrowser, watchPage } from '../helpers/browser';
import { PINS } from '../helpers/client';

describe('e2e: table service in Chromium', function () {
  this.timeout(120_000);
  const env = e2eStore();

  it('a waiter opens table 5, adds items for two seats, sends; the kitchen screen shows the ticket; bump → the floor shows table 5 ready', async () => {
    const waiterCtx = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const waiter = await pairBrowser(waiterCtx, env.app, { pin: PINS.server, kind: 'waiter', name: 'Waiter phone' });
    const watchWaiter = watchPage(waiter);
    const kitchenCtx = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const kitchen = await pairBrowser(kitchenCtx, env.app, { kind: 'kitchen', name: 'Grill' });
    const watchKitchen = watchPage(kitchen);
    const station = await env.t.db('stations').where({ name: 'Kitchen' }).first();
    await kitchen.goto(`${env.app.url}/kitchen/${station.id}`);
    await kitchen.waitForSelector('#conn-state:has-text("live")');

    await waiter.goto(`${env.app.url}/floor`);
    const tile = waiter.locator('.table-tile', { hasText: 'Table 5' });
    await tile.locator('input.covers').fill('2');
    // the floor re-reads itself on every change (another waiter seats a table): typed covers stay
    const reread = waiter.waitForResponse((r) => r.url().endsWith('/floor/plan'));
    await waiter.evaluate(() => (window as unknown as { htmx: { trigger(el: Element, name: string): void } }).htmx.trigger(document.getElementById('floor')!, 'floor-changed'));
    await reread;
    await waiter.waitForTimeout(50);
    assert.equal(await tile.locator('input.covers').inputValue(), '2');
    await tile.locator('button.tile-button').click();
    await waiter.waitForURL(/\/orders\/\d+$/);
    assert.match((await waiter.textContent('#table-name'))!, /Table 5 · 2 covers/);

    const addForSeat = async (category: string, product: string, seat: string, choose?: string) => {
      await waiter.click(`.categories button:has-text("${category}")`);
      await waiter.click(`#product-grid button.product:has-text("${product}")`);
      await waiter.waitForSelector('#modal #options-form');
      if (choose) await waiter.check(`#modal label:has-text("${choose}") input`);
      await waiter.fill('#modal input[name=seat]', seat);
      const n = await waiter.locator('#order-lines tr.line').count();
      await waiter.click('#add-with-options');
      await waiter.waitForFunction((k) => document.querySelectorAll('#order-lines tr.line').length === k + 1, n);
    };
    await addForSeat('Mains', 'Cheeseburger', '1', 'Medium');
    await addForSeat('Mains', 'Rib-eye steak', '2', 'Rare');
    await waiter.click('#send');
    await waiter.waitForSelector('#order-lines .tag:has-text("sent 1")');

    // the kitchen screen gets it live, without a reload
    await kitchen.waitForSelector('.ticket:has-text("Cheeseburger")', { timeout: 10_000 });
    const ticketText = (await kitchen.textContent('.ticket'))!;
    assert.match(ticketText, /Table 5/);
    assert.match(ticketText, /seat 1/);
    assert.match(ticketText, /Rib-eye steak[\s\S]*seat 2/);
    assert.match(ticketText, /Rare/);

    await waiter.goto(`${env.app.url}/floor`);
    await waiter.waitForSelector('.table-tile.state-sent:has-text("Table 5")');
    await kitchen.click('.ticket button.bump');
    await kitchen.waitForSelector('.ticket', { state: 'detached' });
    await waiter.waitForSelector('.table-tile.state-ready:has-text("Table 5")', { timeout: 10_000 });
    assert.deepEqual(watchWaiter.errors, []);
    assert.deepEqual(watchKitchen.errors, []);
    await waiterCtx.close();
    await kitchenCtx.close();
  });
});
