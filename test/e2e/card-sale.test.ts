import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { bootApp, type TestApp } from '../helpers/app';
import { launchBrowser, pairBrowser, watchPage } from '../helpers/browser';
import { PINS } from '../helpers/client';
import { testConfig } from '../helpers/config';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { StripeFake } from '../fakes/stripe-api';

/** A card sale in Chromium (issue 22): Pay → Card → tip → the terminal waits for the card live → the customer taps → paid. */
describe('e2e: a card sale through Stripe Terminal in Chromium', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: TestApp;
  let fake: StripeFake;
  let browser: Browser;

  before(async () => {
    t = await createTestDb();
    await seedStore(t.db);
    fake = await new StripeFake().start();
    app = await bootApp(t.db, { config: testConfig({ STRIPE_SECRET_KEY: fake.secretKey, STRIPE_API_BASE: fake.url }) });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await fake?.close();
    await t?.drop();
  });

  it('pays by card with a 15 % tip: waiting for the card, then approved, the receipt, the journal\'s card tender', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await pairBrowser(context, app, { pin: PINS.cashier, name: 'Card counter' });
    const watch = watchPage(page);
    const terminal = await t.db('terminals').where({ name: 'Card counter' }).first('id');
    const reader = fake.addReader('Counter reader');
    await t.db('card_readers').insert({ stripe_reader_id: reader.id, label: 'Counter reader', device_type: reader.device_type, terminal_id: terminal.id, created_at: new Date(), updated_at: new Date() });

    await page.goto(`${app.url}/terminal`);
    await page.click('.categories button:has-text("Cakes & pastries")');
    await page.click('#product-grid button.product:has-text("Brownie")');
    await page.waitForURL(/\/orders\/\d+/);
    const orderId = Number(/\/orders\/(\d+)/.exec(page.url())![1]);
    await page.waitForSelector('#order-lines tr.line:has-text("Brownie")');
    await page.click('#pay');
    await page.click('#modal #pay-card');
    await page.waitForSelector('#modal #card-dialog input[name=amount]');
    assert.equal(await page.inputValue('#modal input[name=amount]'), '3.50');
    await page.check('#modal input[name=tip][value="15"]');
    await page.click('#charge-card');
    await page.waitForSelector('#card-state[data-state=waiting]');
    assert.match((await page.textContent('#card-state'))!, /Waiting for the card/);
    assert.equal((await t.db('orders').where({ id: orderId }).first()).status, 'open');

    fake.tap(reader.id);
    await page.waitForSelector('#modal #paid-title', { timeout: 20_000 });
    assert.match((await page.textContent('#order-panel'))!, /PAID/);
    assert.equal(await page.locator('#order-panel').count(), 1, 'the panel was replaced, not copied into the dialog');
    assert.equal(await page.locator('#card-dialog').count(), 0, 'the card dialog gave way to the receipt');
    const order = await t.db('orders').where({ id: orderId }).first();
    assert.equal(order.status, 'paid');
    const entry = await t.db('journal').where({ seq: order.journal_seq }).first();
    const [tender] = entry.entry.tenders;
    assert.deepEqual([tender.method, tender.amount, tender.tip, tender.brand, tender.last4], ['card', 350, 53, 'visa', '4242']);
    assert.ok(!(await page.content()).includes(fake.secretKey));
    assert.deepEqual(watch.errors, []);
    await context.close();
  });
});
