import assert from 'node:assert/strict';
import { e2eStore } from '../helpers/e2e';
import type { Page } from 'playwright-core';
import { pairBrowser, watchPage } from '../helpers/browser';
import { PINS } from '../helpers/client';
import { verifyJournal } from '../../server/journal/verify';

/** A counter sale started the way a cashier does: the first product tapped on the idle terminal opens it. */
async function startSale(page: Page, url: string, category: string, product: string): Promise<number> {
  await page.goto(`${url}/terminal`);
  await page.click(`.categories button:has-text("${category}")`);
  await page.click(`#product-grid button.product:has-text("${product}")`);
  await page.waitForURL(/\/orders\/\d+/);
  await page.waitForSelector(`#order-lines tr.line:has-text("${product}")`);
  await page.waitForSelector('#product-grid button.product');
  return Number(/\/orders\/(\d+)/.exec(page.url())![1]);
}

async function addPlain(page: Page, category: string, product: string) {
  await page.click(`.categories button:has-text("${category}")`);
  await page.waitForSelector(`#product-grid button.product:has-text("${product}")`);
  const before = await page.locator('#order-lines tr.line').count();
  await page.click(`#product-grid button.product:has-text("${product}")`);
  await page.waitForFunction((n) => document.querySelectorAll('#order-lines tr.line').length === n + 1, before);
}

describe('e2e: selling at the counter in Chromium', function () {
  this.timeout(120_000);
  const env = e2eStore();

  it('adds 3 products (one with a required modifier), sets a quantity to 2, adds a note, pays cash with change, shows the receipt', async () => {
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await pairBrowser(context, env.app, { pin: PINS.owner });
    const watch = watchPage(page);
    const orderId = await startSale(page, env.app.url, 'Cakes & pastries', 'Croissant'); // 2.80

    // Latte needs a size: the picker refuses to add without one, then adds with Large + oat milk
    await page.click('.categories button:has-text("Coffee")');
    await page.click('#product-grid button.product:has-text("Latte")');
    await page.waitForSelector('#modal #options-form');
    await page.click('#add-with-options');
    assert.match((await page.textContent('#modal .modifier-error'))!, /Size: choose 1/);
    await page.check('#modal label:has-text("Large") input');
    await page.check('#modal label:has-text("Oat milk") input');
    await page.click('#add-with-options');
    await page.waitForFunction(() => document.querySelectorAll('#order-lines tr.line').length === 2);
    assert.equal(await page.locator('#modal .modal').count(), 0, 'the dialog closed');

    await addPlain(page, 'Cakes & pastries', 'Brownie'); // 3.50
    // the line editor: one more Brownie, then Done
    await page.locator('#order-lines tr.line', { hasText: 'Brownie' }).locator('button.edit-line').click();
    await page.click('#modal button[aria-label="One more"]');
    await page.waitForSelector('#order-lines tr.line:has-text("Brownie") td.qty:has-text("2×")');
    await page.click('#modal #edit-done');

    await page.locator('#order-lines tr.line', { hasText: 'Croissant' }).locator('button.edit-line').click();
    await page.fill('#modal input[name=note]', 'warm it up');
    await page.click('#modal button:has-text("Save note")');
    await page.waitForSelector('#order-lines .note:has-text("warm it up")');
    await page.click('#modal #edit-done');

    // 2.80 + (4.20 + 1.00 + 0.40) + 2 × 3.50 = 15.40
    assert.equal((await page.textContent('#order-total'))!.trim(), '€15.40');
    await page.click('#pay');
    await page.waitForSelector('#modal #tendered');
    await page.click('#modal button.quick:has-text("€20.00")');
    assert.equal(await page.inputValue('#tendered'), '20.00');
    await page.click('#take-cash');
    await page.waitForSelector('#modal #receipt, #flash .flash-error', { timeout: 15_000 }).catch(async (err) => {
      await page.screenshot({ path: '/tmp/take-cash-failure.png' });
      throw new Error(`no receipt: ${(err as Error).message}\n${(await page.content()).slice(0, 3000)}`);
    });
    assert.equal(await page.locator('#flash .flash-error').count(), 0, `the payment failed: ${await page.textContent('#flash')}`);
    assert.equal((await page.textContent('#change-due'))!.trim(), '€4.60');
    assert.match((await page.textContent('#receipt'))!, /Latte[\s\S]*Large[\s\S]*Oat milk/);
    assert.match((await page.textContent('#receipt'))!, /warm it up/);
    assert.doesNotMatch((await page.textContent('#receipt'))!, /DUPLICATE/);
    assert.match((await page.textContent('#order-panel'))!, /PAID/);
    assert.deepEqual(watch.errors, []);

    const order = await env.t.db('orders').where({ id: orderId }).first();
    assert.equal(order.status, 'paid');
    const entry = (await env.t.db('journal').where({ seq: order.journal_seq }).first()).entry;
    assert.equal(entry.kind, 'sale');
    assert.equal(entry.total, 1540);
    assert.equal(entry.lines.length, 3);
    assert.deepEqual(entry.tenders, [{ method: 'cash', amount: 1540, tendered: 2000, change: 460 }]);
    assert.ok((await verifyJournal(env.t.db)).ok);
    await context.close();
  });

  it('two pages on one order: a line added on one appears on the other without a reload', async () => {
    const ca = await env.browser.newContext();
    const cb = await env.browser.newContext();
    const a = await pairBrowser(ca, env.app, { pin: PINS.cashier, name: 'A' });
    const b = await pairBrowser(cb, env.app, { pin: PINS.server, name: 'B' });
    const orderId = await startSale(a, env.app.url, 'Cakes & pastries', 'Croissant');
    await b.goto(`${env.app.url}/orders/${orderId}`);
    await b.waitForSelector('#product-grid button.product');
    await b.waitForFunction(() => (window as unknown as { io?: unknown }).io !== undefined);
    await new Promise((r) => setTimeout(r, 300)); // let b's socket join the order's room
    let reloaded = false;
    b.on('load', () => (reloaded = true));
    await addPlain(a, 'Cakes & pastries', 'Cinnamon bun');
    await b.waitForSelector('#order-lines tr.line:has-text("Cinnamon bun")', { timeout: 10_000 });
    assert.equal(reloaded, false, 'no page reload');
    await ca.close();
    await cb.close();
  });
});
