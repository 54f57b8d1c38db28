import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { e2eStore } from '../helpers/e2e';
import { pairBrowser, watchPage } from '../helpers/browser';
import { pairedClient, PINS } from '../helpers/client';
import { until } from '../helpers/wait';
import { FakeEscposPrinter } from '../fakes/escpos-printer';
import * as printing from '../../server/printing/service';

/**
 * The terminal's print buttons (issue 21) in Chromium: "Reprint receipt", "Print the bill" and
 * "No sale" reach the terminal's receipt printer (the fake one on loopback) and say so; a terminal
 * without a printer is shown the page to print in the browser instead, never a dead end, and is
 * offered no drawer it does not have.
 */
describe('e2e: reprint, bill and no sale from the terminal', function () {
  this.timeout(180_000);
  const env = e2eStore();
  const fake = new FakeEscposPrinter();
  before(async () => {
    fake.columns = 48;
    const address = await fake.start();
    await printing.createPrinter({ db: env.t.db, clock: env.app.clock }, {
      name: 'Counter printer', address, paperWidth: 80, columns: 48, codePage: 19, acknowledgement: true, fallbackPrinterId: null, failoverAfterSeconds: 60, stationIds: [], terminalIds: [],
    }, {});
  });
  after(() => fake.stop());

  /** a paid counter sale made by `name`'s terminal over HTTP */
  const paidSale = async (pin: string, name: string): Promise<number> => {
    const c = await pairedClient(env.app, { pin, name });
    const r = await c.post('/orders', { type: 'counter' });
    const id = Number(/(\d+)$/.exec(r.headers.get('HX-Redirect')!)![1]);
    const mug = await env.t.db('products').where({ name: 'Café mug' }).first();
    assert.equal((await c.post(`/orders/${id}/lines`, { product_id: String(mug.id) })).status, 200);
    assert.equal((await c.post(`/orders/${id}/payments`, { tendered: '20.00', idempotency_key: `sale-${id}-paid` })).status, 200);
    return id;
  };
  const toast = (page: Page, text: RegExp) => page.waitForSelector(`#toasts .toast:text-matches("${text.source}")`);

  it('with a receipt printer: Reprint prints DUPLICATE, the bill prints NOT A RECEIPT, No sale opens the drawer; each says so', async () => {
    const context = await env.browser.newContext({ viewport: { width: 1024, height: 768 } });
    const page = await pairBrowser(context, env.app, { pin: PINS.owner, name: 'Counter by the door' });
    const terminalId = (await env.t.db('terminals').where({ name: 'Counter by the door' }).first()).id;
    const printer = (await env.t.db('printers').where({ name: 'Counter printer' }).first()).id;
    await env.t.db('terminals').where({ id: terminalId }).update({ receipt_printer_id: printer });
    const watch = watchPage(page);
    const sale = await paidSale(PINS.owner, 'Helper till 1');
    const papers = fake.printed.length;

    await page.goto(`${env.app.url}/orders/${sale}`);
    await page.click('#reprint');
    await toast(page, /Receipt sent to Counter printer/);
    await until('the duplicate printed', () => fake.printed.length > papers);
    assert.ok(fake.printed.at(-1)!.lines.some((l) => /DUPLICATE/.test(l.text)));
    assert.match(page.url(), new RegExp(`/orders/${sale}$`), 'the terminal stays where it was');

    // the bill of an open order, from the order's menu
    await page.goto(`${env.app.url}/terminal`);
    await page.click('.categories button:has-text("Cakes")');
    await page.click('#product-grid button.product:has-text("Croissant")');
    await page.waitForURL(/\/orders\/\d+/);
    await page.click('#order-panel details.menu summary');
    await page.click('#guest-check');
    await toast(page, /Guest check sent to Counter printer/);
    await until('the bill printed', () => fake.printed.some((p) => p.lines.some((l) => /NOT A RECEIPT/.test(l.text))));

    // no sale, from the idle terminal
    await page.goto(`${env.app.url}/terminal`);
    const pulses = () => fake.printed.reduce((n, p) => n + p.drawerPulses.length, 0) + fake.current.drawerPulses.length; // a pulse cuts no paper
    const before = pulses();
    await page.click('#no-sale');
    await toast(page, /Drawer opened/);
    await until('the drawer pulse', () => pulses() === before + 1);
    assert.ok(await env.t.db('audit_log').where({ action: 'no_sale', terminal_id: terminalId }).first(), 'audited');
    assert.deepEqual(watch.errors, []);
    await context.close();
  });

  it('without a receipt printer: Reprint shows the receipt page to print, and no drawer is offered', async () => {
    const context = await env.browser.newContext({ viewport: { width: 1024, height: 768 } });
    const page = await pairBrowser(context, env.app, { pin: PINS.owner, name: 'Tablet with no printer' });
    const watch = watchPage(page);
    const sale = await paidSale(PINS.owner, 'Helper till 2');
    await page.goto(`${env.app.url}/orders/${sale}`);
    await page.click('#reprint');
    await page.waitForURL(new RegExp(`/orders/${sale}/receipt$`));
    await page.waitForSelector('#receipt');
    assert.match((await page.textContent('#receipt'))!, /DUPLICATE/);
    assert.equal(await page.locator('.receipt-actions button[data-print]').count(), 1, 'printed from the browser');
    await page.goto(`${env.app.url}/terminal`);
    await page.waitForSelector('#product-grid button.product');
    assert.equal(await page.locator('#no-sale').count(), 0);
    assert.deepEqual(watch.errors, []);
    await context.close();
  });
});
