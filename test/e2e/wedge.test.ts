import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { pairBrowser, watchPage } from '../helpers/browser';
import { PINS } from '../helpers/client';
import { e2eStore } from '../helpers/e2e';
import { until } from '../helpers/wait';
import { terminalRoom } from '../../server/realtime/io';

const WATER = '4006040000013'; // Sparkling water 0.5 l
const COLA = '5000112548167'; // Cola 0.33 l

/**
 * Issue 21: a keyboard-wedge scanner plugged into the terminal types the code as fast keys and
 * Enter (static/js/wedge.js); Playwright's keyboard types it the same way, a key every few ms.
 */
describe('e2e: a keyboard-wedge barcode scanner on the terminal', function () {
  this.timeout(120_000);
  const env = e2eStore();
  let page: Page;
  let errors: string[];
  let terminalId: number;
  before(async () => {
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await pairBrowser(context, env.app, { pin: PINS.cashier, name: 'Wedge till' });
    errors = watchPage(page).errors;
    terminalId = Number((await env.t.db('terminals').where({ name: 'Wedge till' }).first()).id);
  });

  /** the scanner's burst, with the focus on no field (as after a tap on the screen) */
  const scan = async (code: string, delay = 2) => {
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.type(`${code}\n`, { delay });
  };
  const lineCount = () => page.locator('#order-lines tr.line').count();

  it('on the idle terminal, a burst ending in Enter starts a sale with the scanned product', async () => {
    await page.goto(`${env.app.url}/terminal`);
    await page.waitForSelector('#product-grid button.product');
    await scan(WATER);
    await page.waitForURL(/\/orders\/\d+/);
    await page.waitForSelector('#order-lines tr.line:has-text("Sparkling water 0.5 l")');
    assert.equal(await lineCount(), 1);
  });

  it('on an order, a burst adds the product to the order on screen, without leaving it', async () => {
    const url = page.url();
    await page.waitForSelector('#product-grid button.product');
    await scan(COLA);
    await page.waitForSelector('#order-lines tr.line:has-text("Cola 0.33 l")');
    assert.equal(page.url(), url);
    assert.equal(await lineCount(), 2);
    const orderId = Number(/\/orders\/(\d+)/.exec(url)![1]);
    const rows = await env.t.db('order_lines').where({ order_id: orderId }).orderBy('id').pluck('name');
    assert.deepEqual(rows, ['Sparkling water 0.5 l', 'Cola 0.33 l']);
  });

  it('keys typed at a person\'s pace are not a scan, nor is a fast burst typed into the search box', async () => {
    await scan(WATER, 90);
    await page.waitForTimeout(400);
    assert.equal(await lineCount(), 2);
    await page.click('#product-search');
    await page.keyboard.type(`${WATER}\n`, { delay: 2 });
    await page.waitForTimeout(400);
    assert.equal(await page.inputValue('#product-search'), WATER, 'the search box has what was typed');
    assert.equal(await lineCount(), 2);
  });

  it('an unknown code is said in #flash with the code, and adds nothing', async () => {
    await scan('9999999');
    await page.waitForSelector('#flash .flash-error:has-text("No product has the barcode 9999999")');
    assert.equal(await lineCount(), 2);
  });

  it("shows what a USB scanner bound to this terminal tells it: a refusal in #flash, a sale it started", async () => {
    const io = env.app.http.io;
    await until('the page\'s sockets', async () => (await io.in(terminalRoom(terminalId)).fetchSockets()).length >= 2, 10_000);
    io.to(terminalRoom(terminalId)).emit('scan:refused', { code: '123', message: 'No product has the barcode 123.' });
    await page.waitForSelector('#flash .flash-error:has-text("No product has the barcode 123.")');
    const [other] = await env.t.db('orders').insert({ number: 99, business_date: '2026-03-14', type: 'counter', created_at: new Date(), updated_at: new Date() }).returning('id');
    io.to(terminalRoom(terminalId)).emit('scan:opened', { orderId: Number(other.id) });
    await page.waitForURL(new RegExp(`/orders/${other.id}$`));
  });

  it('left no console errors', () => {
    assert.deepEqual(errors.filter((e) => !/status of 422/.test(e)), []);
  });

  it('the devices page loads its scanners section, which adds a scanner bound to a terminal and disables it in place', async () => {
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const office = await pairBrowser(context, env.app, { pin: PINS.owner, name: 'Office' });
    const officeErrors = watchPage(office).errors;
    await office.goto(`${env.app.url}/backoffice/devices`);
    await office.waitForSelector('#scanners #scanner-list .empty-title:has-text("No scanners yet.")');
    await office.click('#scanners summary:has-text("Add a scanner by hand")');
    const form = office.locator('#scanners details.add-scanner form');
    await form.locator('input[name=name]').fill('Demo scanner');
    await form.locator('select[name=kind]').selectOption('simulated');
    await form.locator('select[name=terminal_id]').selectOption({ label: 'Wedge till' });
    await form.locator('button:has-text("Add scanner")').click();
    await office.waitForSelector('#scanner-list tr:has-text("Demo scanner"):has-text("Simulator")');
    assert.equal(await office.locator('#scanner-list tr:has-text("Demo scanner") select[name=terminal_id] option:checked').textContent(), 'Wedge till');
    await office.click('#scanner-list button[aria-label="Disable Demo scanner"]');
    await office.waitForSelector('#scanner-list tr:has-text("Demo scanner") .badge:has-text("Disabled")');
    assert.match(office.url(), /\/backoffice\/devices$/, 'all in place');
    const row = await env.t.db('scanners').where({ name: 'Demo scanner' }).first();
    assert.deepEqual([row.kind, Number(row.terminal_id), row.enabled], ['simulated', terminalId, false]);
    assert.deepEqual(officeErrors, []);
    await context.close();
  });
});
