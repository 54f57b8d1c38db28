import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { e2eStore } from '../helpers/e2e';
import { pairBrowser, watchPage } from '../helpers/browser';
import { PINS } from '../helpers/client';
import { getSettings } from '../../server/settings/service';

/**
 * Forms of the UI kit (docs/UI.md; issue 20): a refused form comes back with the error beside
 * its field and everything else as typed; success says so in a toast; a form is busy until
 * answered, so a double tap sends it once; the PIN screen clears a wrong PIN, warns before the
 * lock and counts the lock down.
 */
describe('e2e: forms, toasts and the PIN screen in Chromium', function () {
  this.timeout(180_000);
  const env = e2eStore();
  const fieldOf = (page: Page, name: string) => page.locator(`label:has([name="${name}"])`);

  it('settings with a bad business-day start: the error beside that field, every other value as chosen or typed, nothing saved; corrected, a toast says saved', async () => {
    const context = await env.browser.newContext();
    const page = await pairBrowser(context, env.app, { pin: PINS.owner, name: 'Office' });
    const watch = watchPage(page);
    await page.goto(`${env.app.url}/backoffice/settings`);
    const before = await getSettings(env.t.db);
    await page.fill('input[name=storeName]', 'Corner Café on the square');
    // the time zone is chosen from a list (issue 24); a bad time of day is the field in error
    await page.selectOption('select[name=timezone]', 'Europe/Paris');
    await page.fill('input[name=businessDayStart]', '25:99');
    await page.fill('input[name=cashRounding]', '5');
    await page.fill('textarea[name=receiptFooter]', 'See you soon!');
    await page.fill('input[name=idleLockSeconds]', '600');
    await page.click('label:has-text("Prices include tax")');
    const wasChecked = before.pricesIncludeTax;
    await page.click('#save-settings');
    await page.waitForSelector('#settings-errors');

    assert.match((await fieldOf(page, 'businessDayStart').textContent())!, /Use a time as HH:MM/);
    assert.equal(await page.getAttribute('input[name=businessDayStart]', 'aria-invalid'), 'true');
    assert.equal(await page.locator('.field-error').count(), 1, 'one error, beside its field');
    assert.equal(await page.inputValue('input[name=businessDayStart]'), '25:99', 'the bad value stays to be corrected');
    assert.equal(await page.inputValue('select[name=timezone]'), 'Europe/Paris', 'the zone as chosen');
    assert.equal(await page.inputValue('input[name=storeName]'), 'Corner Café on the square');
    assert.equal(await page.inputValue('input[name=cashRounding]'), '5');
    assert.equal(await page.inputValue('textarea[name=receiptFooter]'), 'See you soon!');
    assert.equal(await page.inputValue('input[name=idleLockSeconds]'), '600');
    assert.equal(await page.isChecked('input[name=pricesIncludeTax]'), !wasChecked);
    assert.equal(await page.inputValue('select[name=currency]'), before.currency);
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'businessDayStart', 'the bad field has the focus');
    assert.deepEqual(await getSettings(env.t.db), before, 'nothing saved');

    await page.fill('input[name=businessDayStart]', '04:00');
    await page.click('#save-settings');
    await page.waitForSelector('#toasts .toast');
    assert.match((await page.textContent('#toasts'))!, /Settings saved/);
    assert.equal(await page.locator('.field-error').count(), 0);
    const saved = await getSettings(env.t.db);
    assert.equal(saved.timezone, 'Europe/Paris');
    assert.equal(saved.storeName, 'Corner Café on the square');
    assert.equal(saved.cashRounding, 5);
    assert.equal(saved.idleLockSeconds, 600);
    assert.deepEqual(watch.errors, []);
    await context.close();
  });

  it('staff and terminal forms (htmx): the error beside the field with the rest kept; a PIN taken says so at the form; added, a toast', async () => {
    const context = await env.browser.newContext();
    const page = await pairBrowser(context, env.app, { pin: PINS.owner, name: 'Office 2' });
    const watch = watchPage(page);
    await page.goto(`${env.app.url}/backoffice/staff`);
    const form = page.locator('#new-staff');
    await form.locator('input[name=name]').fill('Nadia');
    await form.locator('select[name=role]').selectOption('cashier');
    await form.locator('input[name=pin]').fill('12ab');
    await form.locator('button:has-text("Add")').click();
    await page.waitForSelector('#new-staff .field-error');
    assert.match((await form.locator('label:has([name=pin])').textContent())!, /4 to 8 digits/);
    assert.equal(await form.locator('input[name=name]').inputValue(), 'Nadia');
    assert.equal(await form.locator('select[name=role]').inputValue(), 'cashier');
    assert.equal(await form.locator('input[name=pin]').inputValue(), '', 'a PIN is never sent back');

    await form.locator('input[name=pin]').fill(PINS.manager);
    await form.locator('button:has-text("Add")').click();
    await page.waitForSelector('#new-staff .form-error');
    assert.match((await page.textContent('#new-staff .form-error'))!, /PIN is taken/);
    assert.equal(await form.locator('input[name=name]').inputValue(), 'Nadia');

    await form.locator('input[name=pin]').fill('8642');
    await form.locator('button:has-text("Add")').click();
    await page.waitForSelector('#toasts .toast');
    assert.match((await page.textContent('#toasts'))!, /Nadia can now sign in/);
    assert.match((await page.textContent('#staff-list'))!, /Nadia/);

    // a row's form: the error in that row only
    const sam = await env.t.db('staff').where('name', 'like', '%(server)').first();
    await page.fill(`#pin-${sam.id} input[name=pin]`, '12345a');
    await page.press(`#pin-${sam.id} input[name=pin]`, 'Enter');
    await page.waitForSelector(`#pin-${sam.id} .field-error`);
    assert.equal(await page.locator('.field-error').count(), 1);
    assert.match((await page.textContent(`#pin-${sam.id}`))!, /4 to 8 digits/);

    await page.goto(`${env.app.url}/backoffice/terminals`);
    await page.fill('#pairing input[name=name]', '   ');
    await page.selectOption('#pairing select[name=kind]', 'kitchen');
    await page.click('#make-code');
    await page.waitForSelector('#pairing .field-error');
    assert.match((await page.locator('#pairing label:has([name=name])').textContent())!, /required/);
    assert.equal(await page.inputValue('#pairing select[name=kind]'), 'kitchen');
    assert.deepEqual(watch.errors, []);
    await context.close();
  });

  it('a form is busy until answered: its button spins and a double tap sends one request', async () => {
    const context = await env.browser.newContext();
    const page = await pairBrowser(context, env.app, { pin: PINS.owner, name: 'Office 3' });
    await page.goto(`${env.app.url}/backoffice/staff`);
    let posts = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    await page.route('**/backoffice/staff', async (route) => {
      if (route.request().method() === 'POST') {
        posts++;
        await held;
      }
      await route.continue();
    });
    const form = page.locator('#new-staff');
    await form.locator('input[name=name]').fill('Omar');
    await form.locator('input[name=pin]').fill('7531');
    const add = form.locator('button:has-text("Add")');
    await add.click();
    await page.waitForSelector('#new-staff button[aria-busy="true"]');
    assert.equal(await add.isDisabled(), true);
    await add.click({ force: true });
    await form.locator('input[name=pin]').press('Enter');
    release();
    await page.waitForSelector('#toasts .toast');
    assert.equal(posts, 1, 'one request');
    assert.equal((await env.t.db('staff').where({ name: 'Omar' })).length, 1);
    await context.close();
  });

  it('the PIN screen: a wrong PIN is cleared, a warning before the lock, and the lock counts down', async () => {
    const context = await env.browser.newContext();
    const page = await pairBrowser(context, env.app, { name: 'Fat fingers' });
    const watch = watchPage(page);
    const wrong = async () => {
      for (const d of '9876') await page.click(`#login-form .key[data-key="${d}"]`);
      assert.equal(await page.inputValue('#pin'), '9876', 'the keypad types');
      const answer = page.waitForResponse((r) => r.url().endsWith('/login'));
      await page.click('#login-submit');
      const r = await answer;
      await page.waitForSelector('#flash .flash-error');
      return r;
    };
    await wrong();
    assert.match((await page.textContent('#flash'))!, /not right/);
    assert.doesNotMatch((await page.textContent('#flash'))!, /left before/);
    assert.equal(await page.inputValue('#pin'), '', 'the wrong PIN is cleared');
    await wrong();
    await wrong();
    assert.match((await page.textContent('#flash'))!, /2 tries left before this terminal locks/);
    await wrong();
    assert.match((await page.textContent('#flash'))!, /1 try left before this terminal locks/);
    const locked = await wrong();
    assert.equal(locked.status(), 423);
    assert.equal(locked.headers()['retry-after'], '60');
    assert.equal(await page.inputValue('#pin'), '');
    const first = (await page.textContent('#flash .countdown'))!;
    assert.match(first, /Try again in (60 seconds|1:00|0:59)\./);
    await page.waitForFunction((shown) => {
      const now = document.querySelector('#flash .countdown')?.textContent ?? '';
      return now !== shown && /Try again in 0:5\d\./.test(now);
    }, first, { timeout: 5000 });
    assert.deepEqual(watch.errors, []);
    await context.close();
  });
});
