import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { e2eStore } from '../helpers/e2e';
import { pairBrowser, watchPage } from '../helpers/browser';
import { PINS } from '../helpers/client';

/**
 * Manager approval from every page and every htmx target (docs/UI.md; issue 20): a page refused
 * for want of a permission asks for a manager's PIN and then shows the page, for that request
 * only; an htmx action refused the same way opens the approval dialog, which sends the same
 * request again (method, URL, fields) to its own target.
 */
describe('e2e: manager approval in Chromium', function () {
  this.timeout(180_000);
  const env = e2eStore();
  const staffId = async (pin: keyof typeof PINS) => (await env.t.db('staff').where('name', 'like', `%(${pin})`).first()).id as number;
  const overrides = () => env.t.db('audit_log').where({ action: 'override' }).orderBy('id');
  const typePin = async (page: Page, pin: string) => {
    for (const d of pin) await page.click(`#approval-form .key[data-key="${d}"], #override-form .key[data-key="${d}"]`);
  };

  it('a cashier opening the back office: the approval page, a wrong PIN asks again, a manager\'s PIN shows the back office for that request only', async () => {
    const context = await env.browser.newContext();
    const page = await pairBrowser(context, env.app, { pin: PINS.cashier, name: 'Counter 1' });
    const watch = watchPage(page);

    const refused = await page.goto(`${env.app.url}/backoffice`);
    assert.equal(refused!.status(), 403);
    assert.equal(await page.locator('.error-page').count(), 0, 'no bare 403 page');
    assert.match((await page.textContent('main'))!, /Manager approval[\s\S]*a manager's PIN is needed[\s\S]*Needed to open the back office/);

    await typePin(page, PINS.server); // a PIN that cannot approve this
    await page.click('#approve');
    await page.waitForSelector('.approval .flash-error');
    assert.match((await page.textContent('.approval .flash-error'))!, /cannot approve this/);
    assert.equal(await page.inputValue('#override-pin'), '', 'the wrong PIN is not kept');
    assert.match(page.url(), /\/backoffice$/);

    const before = (await overrides()).length;
    await typePin(page, PINS.manager);
    await page.click('#approve');
    await page.waitForSelector('h1:has-text("Back office")');
    assert.match(page.url(), /\/backoffice$/);
    assert.match((await page.textContent('main'))!, /Opened with Marco \(manager\)'s approval, for this page only/);
    const after = await overrides();
    assert.equal(after.length, before + 1);
    assert.equal(after.at(-1).approved_by, await staffId('manager'));
    assert.equal(after.at(-1).staff_id, await staffId('cashier'));
    assert.equal(after.at(-1).details.permission, 'backoffice:access');

    // the approval was for that one request: a reload asks again and sends no PIN
    const again = await page.reload();
    assert.equal(again!.status(), 403);
    await page.waitForSelector('#approval-form');
    assert.equal((await overrides()).length, before + 1, 'the reload did not send the PIN again');
    assert.deepEqual(watch.errors, []);
    await context.close();
  });

  it('the approval dialog sends the refused htmx request again, with its fields, to its own target; Cancel and a wrong PIN leave things as they were', async () => {
    const context = await env.browser.newContext();
    const page = await pairBrowser(context, env.app, { pin: PINS.cashier, name: 'Counter 2' });
    const watch = watchPage(page);
    await page.goto(`${env.app.url}/backoffice/terminals`);
    await typePin(page, PINS.manager);
    await page.click('#approve');
    await page.waitForSelector('#terminals h2:has-text("Terminals")'); // on the devices page (issue 21)

    await page.fill('#pairing input[name=name]', 'Patio tablet');
    await page.selectOption('#pairing select[name=kind]', 'waiter');
    await page.click('#make-code');
    await page.waitForSelector('.approval-layer [role=dialog]');
    assert.match((await page.textContent('.approval-layer'))!, /Manager approval[\s\S]*pair or change terminals/);
    await page.click('.approval-layer button:has-text("Cancel")');
    await page.waitForSelector('.approval-layer [role=dialog]', { state: 'detached' });
    assert.equal(await page.inputValue('#pairing input[name=name]'), 'Patio tablet', 'Cancel leaves the form as typed');
    assert.equal(await page.locator('#the-code').count(), 0);

    await page.click('#make-code');
    await page.waitForSelector('.approval-layer [role=dialog]');
    await typePin(page, '9999');
    await page.click('#approve');
    await page.waitForSelector('#approval-error .flash-error');
    assert.match((await page.textContent('#approval-error'))!, /cannot approve this/);
    assert.equal(await page.inputValue('#override-pin'), '', 'the wrong PIN is cleared');
    assert.equal(await page.locator('.approval-layer [role=dialog]').count(), 1, 'the dialog stays open');

    const posts: string[] = [];
    page.on('request', (r) => { if (r.method() === 'POST') posts.push(`${new URL(r.url()).pathname} ${r.postData()} ${r.headers()['x-override-pin'] ? 'with PIN' : ''}`); });
    await page.fill('#override-pin', PINS.manager);
    await page.click('#approve');
    await page.waitForSelector('#the-code');
    assert.equal(await page.locator('.approval-layer [role=dialog]').count(), 0, 'the dialog closed');
    assert.match((await page.textContent('#pairing'))!, /Code for Patio tablet: \d{6}/);
    assert.deepEqual(posts, ['/backoffice/terminals/pairing-codes name=Patio+tablet&kind=waiter with PIN']);
    const code = await env.t.db('pairing_codes').orderBy('id', 'desc').first();
    assert.equal(code.terminal_name, 'Patio tablet');
    assert.equal(code.kind, 'waiter');
    const o = (await overrides()).at(-1);
    assert.equal(o.details.permission, 'terminals:pair');
    assert.equal(o.approved_by, await staffId('manager'));
    assert.deepEqual(watch.errors, []);
    await context.close();
  });

  it('over an open dialog: the approval lays itself on top, Cancel returns to the dialog as typed, approved the answer lands in the dialog', async () => {
    const context = await env.browser.newContext();
    const page = await pairBrowser(context, env.app, { pin: PINS.cashier, name: 'Counter 4' });
    const watch = watchPage(page);
    await page.goto(`${env.app.url}/backoffice/terminals`);
    await page.fill('#override-pin', PINS.manager);
    await page.click('#approve');
    await page.waitForSelector('#terminals h2:has-text("Terminals")'); // on the devices page (issue 21)
    // a dialog holding a form whose answer replaces part of that dialog (as a refund dialog would)
    await page.evaluate(() => {
      const dialog = document.createElement('div');
      dialog.className = 'modal';
      dialog.setAttribute('role', 'dialog');
      dialog.append(document.getElementById('pairing')!);
      document.getElementById('modal')!.append(dialog);
      (window as unknown as { htmx: { process(el: Element): void } }).htmx.process(dialog);
    });
    await page.fill('#modal #pairing input[name=name]', 'Bar screen');
    await page.click('#modal #make-code');
    await page.waitForSelector('.approval-layer [role=dialog]');
    assert.equal(await page.locator('#modal > .modal #pairing').count(), 1, 'the dialog below stays');
    await page.keyboard.press('Escape');
    await page.waitForSelector('.approval-layer', { state: 'detached' });
    assert.equal(await page.inputValue('#modal #pairing input[name=name]'), 'Bar screen', 'back to the dialog as typed');

    await page.click('#modal #make-code');
    await page.waitForSelector('.approval-layer [role=dialog]');
    await page.fill('#override-pin', PINS.manager);
    await page.click('#approve');
    await page.waitForSelector('#modal #pairing #the-code');
    assert.match((await page.textContent('#modal #pairing'))!, /Code for Bar screen: \d{6}/);
    assert.equal(await page.locator('.approval-layer').count(), 0);
    assert.deepEqual(watch.errors, []);
    await context.close();
  });

  it('no bare 403 page is a click away: the terminal\'s menu for a cashier, the back office\'s menu for a cashier and a manager', async () => {
    const bare = async (page: Page, what: string) => {
      for (const href of await page.$$eval('header nav a[href]', (as) => as.map((a) => a.getAttribute('href')!))) {
        const r = await page.goto(env.app.url + href);
        const status = r!.status();
        if (status === 403) assert.equal(await page.locator('#approval-form').count(), 1, `${what} → ${href}: a 403 without a way on`);
        else assert.ok(status < 400, `${what} → ${href}: ${status}`);
        assert.equal(await page.locator('.error-page').count(), 0, `${what} → ${href}: an error page`);
      }
    };
    const cashier = await pairBrowser(await env.browser.newContext(), env.app, { pin: PINS.cashier, name: 'Counter 3' });
    await cashier.goto(`${env.app.url}/terminal`);
    await bare(cashier, 'cashier on the terminal');
    await cashier.goto(`${env.app.url}/backoffice`);
    await cashier.fill('#override-pin', PINS.manager);
    await cashier.click('#approve');
    await cashier.waitForSelector('h1:has-text("Back office")');
    await bare(cashier, 'cashier in the back office');

    const manager = await pairBrowser(await env.browser.newContext(), env.app, { pin: PINS.manager, name: 'Office' });
    await manager.goto(`${env.app.url}/backoffice`);
    await bare(manager, 'manager in the back office');
    // a manager opening an owner's page is asked for an owner's PIN, and gets it with one
    const staff = await manager.goto(`${env.app.url}/backoffice/staff`);
    assert.equal(staff!.status(), 403);
    assert.match((await manager.textContent('main'))!, /an owner's PIN is needed/);
    await manager.fill('#override-pin', PINS.owner);
    await manager.click('#approve');
    await manager.waitForSelector('h1:has-text("Staff")');
  });
});
