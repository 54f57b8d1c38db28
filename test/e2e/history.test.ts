import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { Page } from 'playwright-core';
import { e2eStore } from '../helpers/e2e';
import { pairBrowser, watchPage } from '../helpers/browser';
import { PINS } from '../helpers/client';
import * as orders from '../../server/orders/service';

/**
 * The sales history in Chromium, as a cashier (issue 20): yesterday's sale found by its receipt
 * number, one line refunded with a manager's PIN through the approval dialog on the refund page,
 * the refund receipt printable; a refund by amount; the order showing its refunds.
 */
describe('e2e: sales history and refunds in Chromium', function () {
  this.timeout(180_000);
  const env = e2eStore();
  const typePin = async (page: Page, pin: string) => {
    for (const d of pin) await page.click(`#override-form .key[data-key="${d}"]`);
  };
  const approve = async (page: Page) => {
    await page.waitForSelector('.approval-layer [role=dialog]');
    assert.match((await page.textContent('.approval-layer'))!, /Manager approval/);
    await typePin(page, PINS.manager);
    await page.click('#approve');
    await page.waitForSelector('.approval-layer', { state: 'detached' });
  };

  let sale: orders.OrderView;
  before(async () => {
    // yesterday's sale: the injected clock is moved back for it, then to today again
    const { app } = env;
    const deps = { db: app.db, clock: app.clock, events: app.events };
    const cashier = (await app.db('staff').where('name', 'like', '%(cashier)').first()).id as number;
    const product = async (name: string) => (await app.db('products').where({ name }).first()).id as number;
    const today = app.clock.now();
    app.clock.set(new Date(today.getTime() - 24 * 3600_000));
    const o = await orders.openOrder(deps, { type: 'counter' }, { staffId: cashier });
    await orders.addLine(deps, o.id, { productId: await product('Homemade lemonade'), quantity: 2, modifierIds: [], note: null });
    await orders.addLine(deps, o.id, { productId: await product('Brownie'), quantity: 1, modifierIds: [], note: null });
    await orders.tenderCash(deps, o.id, 2000, crypto.randomUUID(), { staffId: cashier });
    app.clock.set(today);
    sale = await orders.getOrderView(app.db, o.id);
  });

  it('finds yesterday\'s sale by its receipt number and refunds one line with a manager\'s PIN; the refund receipt prints; then a refund by amount; the order shows both', async () => {
    const context = await env.browser.newContext({ viewport: { width: 1024, height: 768 } });
    const page = await pairBrowser(context, env.app, { pin: PINS.cashier, name: 'Counter 1' });
    const watch = watchPage(page);
    const receiptNo = String(sale.order.receipt_no);
    const lemonade = sale.lines.find((l) => l.name === 'Homemade lemonade')!;

    // the terminal links the history; today has no sale yet
    await page.click('a:has-text("History")');
    await page.waitForURL(/\/orders\/history$/);
    assert.match((await page.textContent('#history-results .empty'))!, /No sales on .* yet/);

    // yesterday's sale by its receipt number, typed on today's page
    await page.fill('input[name=q]', receiptNo);
    await page.click('.history-search button');
    await page.waitForSelector(`#history-results tr[data-order-id="${sale.order.id}"]`);
    const row = page.locator(`tr[data-order-id="${sale.order.id}"]`);
    assert.equal((await row.locator('.receipt-no').textContent())!.trim(), receiptNo);
    assert.match((await row.textContent())!, /2× Homemade lemonade, 1× Brownie[\s\S]*€11\.50[\s\S]*Paid/);

    // refund one lemonade: a cashier may not alone, the approval dialog opens on the refund page
    await row.locator('a:has-text("Refund")').click();
    await page.waitForURL(new RegExp(`/orders/${sale.order.id}/refund$`));
    await page.fill('input[name=reason]', 'too sweet');
    await page.fill(`input[name=line_${lemonade.id}]`, '1');
    await page.click('button:has-text("Refund chosen items")');
    await approve(page);
    await page.waitForSelector('#refund-result #refund-receipt');
    const shown = (await page.textContent('#refund-receipt'))!;
    assert.match(shown, /REFUND[\s\S]*Original receipt\s*\d+[\s\S]*1× Homemade lemonade\s*−€4\.00[\s\S]*Refunded\s*−€4\.00[\s\S]*Paid back in cash\s*€4\.00[\s\S]*Reason: too sweet[\s\S]*Staff: Chloe \(cashier\) · Approved by Marco \(manager\)/);
    assert.doesNotMatch(shown, /DUPLICATE/);
    const first = await env.app.db('refunds').where({ order_id: sale.order.id }).first();
    assert.equal(first.total, 400);
    assert.equal(first.approved_by, (await env.app.db('staff').where('name', 'like', '%(manager)').first()).id);
    assert.equal(await page.locator('button:has-text("Print the refund receipt")').count(), 1);

    // its printable page, linked right there
    await page.click(`.refund-item[data-refund-id="${first.id}"] a:has-text("Reprint")`);
    await page.waitForURL(new RegExp(`/orders/${sale.order.id}/refunds/${first.id}/receipt$`));
    const printable = (await page.textContent('#refund-receipt'))!;
    assert.match(printable, /DUPLICATE[\s\S]*REFUND[\s\S]*1× Homemade lemonade/);
    assert.equal(await page.locator('button[data-print]').count(), 1);

    // a refund by amount, approved the same way
    await page.click('a:has-text("Back to the refunds")');
    await page.waitForSelector('#refund-panel form');
    assert.match((await page.textContent('#refund-panel'))!, /Up to €7\.50/);
    await page.fill('input[name=reason]', 'goodwill');
    await page.fill('input[name=amount]', '2.50');
    await page.click('button:has-text("Refund this amount")');
    await approve(page);
    await page.waitForSelector('#refund-result');
    assert.match((await page.textContent('#refund-result'))!, /Refunded €2\.50 in cash[\s\S]*Amount refunded, taken from/);
    assert.equal(await page.locator('.refund-item').count(), 2);
    assert.match((await page.textContent('#refund-panel'))!, /Up to €5\.00/);

    // the order shows its refunds: its panel per line, its receipt, the history row
    await page.goto(`${env.app.url}/orders/${sale.order.id}`);
    assert.match((await page.textContent(`#order-lines tr[data-line-id="${lemonade.id}"]`))!, /Refunded 1/);
    await page.goto(`${env.app.url}/orders/${sale.order.id}/receipt`);
    assert.match((await page.textContent('#receipt-refunds'))!, /−€4\.00[\s\S]*1× Homemade lemonade[\s\S]*−€2\.50[\s\S]*An amount: goodwill/);
    await page.click('a:has-text("History")');
    await page.waitForSelector(`tr[data-order-id="${sale.order.id}"]`);
    assert.match((await page.textContent(`tr[data-order-id="${sale.order.id}"]`))!, /Refunded €6\.50/);
    assert.deepEqual(watch.errors, []);
    await context.close();
  });

  it('a phone: the history is one card per sale, with no sideways scroll', async () => {
    const context = await env.browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await pairBrowser(context, env.app, { pin: PINS.cashier, name: 'Phone' });
    const y = new Date(env.app.clock.now().getTime() - 24 * 3600_000).toISOString().slice(0, 10);
    await page.goto(`${env.app.url}/orders/history?date=${y}`);
    await page.waitForSelector(`tr[data-order-id="${sale.order.id}"]`);
    const { scroll, client, header } = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,
      header: getComputedStyle(document.querySelector('.history-table thead')!).display,
    }));
    assert.ok(scroll <= client, `no sideways scroll (${scroll} > ${client})`);
    assert.equal(header, 'none', 'cards, not a table');
    for (const h of await page.$$eval('main a.btn, main button, main input', (els) => els.filter((e) => (e as HTMLElement).offsetParent).map((e) => e.getBoundingClientRect().height))) {
      assert.ok(h >= 44, `a control of ${h}px`);
    }
    await context.close();
  });
});
