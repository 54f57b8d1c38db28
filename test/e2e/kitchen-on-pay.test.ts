import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { e2eStore } from '../helpers/e2e';
import { pairBrowser, watchPage } from '../helpers/browser';
import { PINS } from '../helpers/client';
import { getSettings } from '../../server/settings/service';

/**
 * Kitchen for every order type (issue 20): a paid counter sale reaches its station's kitchen
 * screen without anyone pressing Send; with the back-office setting off it does not.
 */
describe('e2e: a paid sale reaches the kitchen screen without Send, as the settings say', function () {
  this.timeout(180_000);
  const env = e2eStore();

  /**
   * A sale of one product, paid exactly in cash on the terminal, Send never touched. The sale is
   * started as the terminal offers it: a type button that opens the order, or (once an order only
   * exists with its first line) the idle screen's type choice and a first product tap.
   */
  async function paidSale(page: Page, type: 'Counter' | 'Take-away', category: string, product: string): Promise<number> {
    await page.goto(`${env.app.url}/terminal`);
    const start = page.locator(`.start-buttons button:has-text("${type}")`);
    if (await start.count()) {
      await start.click();
      await page.waitForURL(/\/orders\/\d+$/);
    } else {
      await page.check(`#sale-start label:has-text("${type}") input`);
    }
    await page.click(`.categories button:has-text("${category}")`);
    await page.click(`#product-grid button.product:has-text("${product}")`);
    await page.waitForSelector(`#order-lines tr.line:has-text("${product}")`);
    const order = await env.t.db('orders').orderBy('id', 'desc').first();
    await page.click('#pay');
    await page.waitForSelector('#modal #tendered');
    await page.click('#modal button.quick >> nth=0'); // Exact
    await page.click('#take-cash');
    await page.waitForSelector('#modal #receipt');
    const paid = await env.t.db('orders').where({ id: order.id }).first();
    assert.equal(paid.status, 'paid');
    assert.equal(paid.type, type === 'Counter' ? 'counter' : 'takeaway');
    return order.id;
  }

  it('a paid counter sale appears on its station\'s screen live; with "Counter sales" unticked in the back office the next one does not', async () => {
    const kitchenCtx = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const kitchen = await pairBrowser(kitchenCtx, env.app, { kind: 'kitchen', name: 'Pastry screen' });
    const watchKitchen = watchPage(kitchen);
    const station = await env.t.db('stations').where({ name: 'Cold & Pastry' }).first();
    await kitchen.goto(`${env.app.url}/kitchen/${station.id}`);
    await kitchen.waitForSelector('#conn-state:has-text("live")');
    let reloads = 0;
    kitchen.on('load', () => reloads++);

    const tillCtx = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const till = await pairBrowser(tillCtx, env.app, { pin: PINS.owner, name: 'Till' });
    const watchTill = watchPage(till);
    const sends: string[] = [];
    till.on('request', (r) => {
      if (/\/send$|\/fire$/.test(new URL(r.url()).pathname)) sends.push(r.url());
    });

    // on by default for counter sales: paying is all it takes
    const first = await paidSale(till, 'Counter', 'Cakes & pastries', 'Croissant');
    await kitchen.waitForSelector('.ticket:has-text("Croissant")', { timeout: 10_000 });
    assert.equal(reloads, 0, 'the ticket arrived live, without a reload');
    assert.equal((await env.t.db('kitchen_tickets').where({ order_id: first, station_id: station.id })).length, 1);

    // the owner turns it off for counter sales in the back office
    await till.goto(`${env.app.url}/backoffice/settings`);
    const counterBox = till.locator('input[name=kitchenOnPayCounter]');
    assert.equal(await counterBox.isChecked(), true);
    assert.equal(await till.isChecked('input[name=kitchenOnPayTakeaway]'), true);
    assert.equal(await till.isChecked('input[name=kitchenOnPayDineIn]'), false);
    const box = await till.locator('label.choice:has(input[name=kitchenOnPayCounter])').boundingBox();
    assert.ok(box && box.height >= 44, `the checkbox's label is a touch target (${box?.height} px)`);
    await till.click('label.choice:has-text("Counter sales")');
    await till.click('#save-settings');
    await till.waitForSelector('#toasts .toast');
    assert.equal(await till.isChecked('input[name=kitchenOnPayCounter]'), false);
    assert.deepEqual((await getSettings(env.t.db)).kitchenOnPay, { counter: false, takeaway: true, dine_in: false });

    const second = await paidSale(till, 'Counter', 'Cakes & pastries', 'Brownie');
    // a take-away sale after it still goes (its own setting): once it shows, the brownie would have too
    await paidSale(till, 'Take-away', 'Cakes & pastries', 'Cinnamon bun');
    await kitchen.waitForSelector('.ticket:has-text("Cinnamon bun")', { timeout: 10_000 });
    assert.equal(await kitchen.locator('.ticket:has-text("Brownie")').count(), 0, 'the counter sale paid with the setting off is not on the screen');
    await kitchen.reload();
    await kitchen.waitForSelector('.ticket:has-text("Cinnamon bun")');
    assert.equal(await kitchen.locator('.ticket:has-text("Brownie")').count(), 0, 'nor after a reload');
    assert.equal(await kitchen.locator('.ticket:has-text("Croissant")').count(), 1);
    assert.deepEqual(await env.t.db('kitchen_tickets').where({ order_id: second }), []);

    assert.deepEqual(sends, [], 'nobody pressed Send');
    assert.deepEqual(watchTill.errors, []);
    assert.deepEqual(watchKitchen.errors, []);
    await tillCtx.close();
    await kitchenCtx.close();
  });
});
