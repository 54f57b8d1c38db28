import assert from 'node:assert/strict';
import { e2eStore } from '../helpers/e2e';
import { pairBrowser, watchPage } from '../helpers/browser';
import { PINS } from '../helpers/client';

/**
 * Issue 24, "Done means": a manager makes a product with a modifier group in the back office; it
 * appears on an open terminal's grid without a reload, and sells there with its option.
 */
describe('e2e: a product made in the back office reaches an open terminal live, and sells', function () {
  this.timeout(180_000);
  const env = e2eStore();

  it('manager creates "Lemon tart" with the Extras group → the cashier\'s grid shows it unreloaded → sold with Vanilla syrup, paid in cash', async () => {
    const tillContext = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const till = await pairBrowser(tillContext, env.app, { pin: PINS.cashier, name: 'Till' });
    const tillWatch = watchPage(till);
    await till.goto(`${env.app.url}/terminal`);
    await till.click('.categories button:has-text("Cakes & pastries")');
    await till.waitForSelector('#product-grid button.product:has-text("Croissant")');
    assert.equal(await till.locator('#product-grid button.product:has-text("Lemon tart")').count(), 0);
    await till.evaluate(() => { (window as unknown as { notReloaded: boolean }).notReloaded = true; });

    const officeContext = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const office = await pairBrowser(officeContext, env.app, { pin: PINS.manager, name: 'Office' });
    const officeWatch = watchPage(office);
    await office.goto(`${env.app.url}/backoffice`);
    await office.click('nav a:has-text("Catalog")');
    await office.waitForURL(/\/backoffice\/products$/);
    await office.click('#new-product');
    await office.waitForSelector('#product-form');
    await office.fill('#product-form input[name=name]', 'Lemon tart');
    await office.selectOption('#product-form select[name=category_id]', { label: 'Cakes & pastries' });
    await office.fill('#product-form input[name=price]', '4.50');
    await office.selectOption('#product-form select[name=station_id]', { label: 'Cold & Pastry' });
    await office.check('#product-groups label:has-text("Extras") input');
    await office.click('#save-product');
    await office.waitForURL(/\/backoffice\/products\?category=\d+/);
    assert.match((await office.textContent('#product-list'))!, /Lemon tart/);

    // the terminal was told: its grid reads the catalog again, with no reload
    await till.waitForSelector('#product-grid button.product:has-text("Lemon tart")', { timeout: 15_000 });
    assert.equal(await till.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true, 'the page was not reloaded');
    assert.match((await till.textContent('#product-grid button.product:has-text("Lemon tart")'))!, /€4\.50/);

    await till.click('#product-grid button.product:has-text("Lemon tart")');
    await till.waitForSelector('#modal #options-form');
    await till.check('#modal label:has-text("Vanilla syrup") input');
    await till.click('#add-with-options');
    await till.waitForSelector('#order-lines tr.line:has-text("Lemon tart")');
    assert.equal((await till.textContent('#order-total'))!.trim(), '€4.90');
    await till.click('#pay');
    await till.waitForSelector('#modal #tendered');
    await till.click('#modal button.quick:has-text("€5.00")');
    await till.click('#take-cash');
    await till.waitForSelector('#modal #receipt, #flash .flash-error', { timeout: 15_000 });
    assert.equal(await till.locator('#flash .flash-error').count(), 0, `the payment failed: ${await till.textContent('#flash')}`);
    assert.match((await till.textContent('#receipt'))!, /Lemon tart[\s\S]*Vanilla syrup/);
    const sold = await env.t.db('order_lines as l').join('orders as o', 'o.id', 'l.order_id').where({ 'l.name': 'Lemon tart', 'o.status': 'paid' }).first('l.unit_price');
    assert.equal(sold.unit_price, 490);
    assert.deepEqual(tillWatch.errors, []);
    assert.deepEqual(officeWatch.errors, []);
    await tillContext.close();
    await officeContext.close();
  });
});
