import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { e2eStore } from '../helpers/e2e';
import { pairBrowser, watchPage } from '../helpers/browser';
import { PINS } from '../helpers/client';
import { until } from '../helpers/wait';
import { FakeEscposPrinter } from '../fakes/escpos-printer';
import { printTestPage } from '../../server/printing/service';

const OUT = path.resolve(__dirname, '../../test-results/ui');

/**
 * The back office's devices page (issue 21) in Chromium: terminals moved there, a printer added
 * through its form (a refusal beside its field, what was typed kept), its live status, a test
 * print on the fake printer, the terminal's receipt printer; and a printer's alert shown on a
 * terminal's page as it happens.
 */
describe('e2e: the devices page and printer alerts', function () {
  this.timeout(180_000);
  const env = e2eStore();
  const fake = new FakeEscposPrinter();
  let address: string;
  before(async () => {
    fake.columns = 48;
    address = await fake.start();
  });
  after(async () => {
    await fake.stop();
  });

  it('adds a printer (an address refused beside its field), shows it ready, test-prints it, and makes it this terminal\'s receipt printer', async () => {
    const context = await env.browser.newContext();
    const page = await pairBrowser(context, env.app, { pin: PINS.owner, name: 'Office D' });
    const watch = watchPage(page);
    await page.goto(`${env.app.url}/backoffice/terminals`);
    await page.waitForURL(/\/backoffice\/devices$/);
    assert.equal(await page.locator('#terminals #pairing').count(), 1, 'the terminals moved here');
    assert.match((await page.textContent('#printers'))!, /No printers yet/);
    assert.equal(await page.locator('nav a[href="/backoffice/devices"]').count(), 1);

    const form = page.locator('#printer-new');
    await form.locator('input[name=name]').fill('Counter printer');
    await form.locator('input[name=address]').fill('printer on the shelf');
    await form.locator('select[name=paper_width]').selectOption('80');
    await form.locator('button:has-text("Add printer")').click();
    await page.waitForSelector('#printer-new .field-error');
    assert.match((await page.locator('#printer-new label:has([name=address])').textContent())!, /host:port/);
    assert.equal(await page.getAttribute('#printer-new input[name=address]', 'aria-invalid'), 'true');
    assert.equal(await page.inputValue('#printer-new input[name=name]'), 'Counter printer', 'what was typed stays');
    assert.equal(await page.locator('.field-error').count(), 1);

    await page.fill('#printer-new input[name=address]', address);
    await page.click('#printer-new button:has-text("Add printer")');
    await page.waitForSelector('#toasts .toast');
    assert.match((await page.textContent('#toasts'))!, /Counter printer added/);
    const printer = await env.t.db('printers').where({ name: 'Counter printer' }).first();
    assert.equal(printer.address, address);
    const card = page.locator(`#printer-${printer.id}`);
    await card.locator('.printer-status .badge:has-text("Ready")').waitFor();

    await card.locator('button:has-text("Test print")').click();
    await until('the test page', () => fake.printed.length === 1);
    assert.ok(fake.printed[0]!.lines.some((l) => l.text === 'Counter printer'));
    assert.deepEqual(fake.errors, []);
    await page.waitForSelector('#toasts .toast:has-text("Test page sent")');

    const me = await env.t.db('terminals').where({ name: 'Office D' }).first();
    await page.selectOption(`#defaults-${me.id} select[name=receipt_printer_id]`, String(printer.id));
    await page.click(`#defaults-${me.id} button:has-text("Save")`);
    await page.waitForSelector('#toasts .toast:has-text("receipt printer saved")');
    assert.equal((await env.t.db('terminals').where({ id: me.id }).first()).receipt_printer_id, printer.id);
    assert.equal(await page.inputValue(`#defaults-${me.id} select[name=receipt_printer_id]`), String(printer.id));

    // the page with a printer, its queue and settings open: the UI kit's rules (docs/UI.md)
    await page.goto(`${env.app.url}/backoffice/devices`);
    await page.locator('.printer-status .badge:has-text("Ready")').waitFor();
    await page.$$eval('details', (ds) => ds.forEach((d) => ((d as HTMLDetailsElement).open = true)));
    const axe = await new AxeBuilder({ page }).analyze();
    assert.deepEqual(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), []);
    fs.mkdirSync(OUT, { recursive: true });
    for (const size of [{ width: 1024, height: 768 }, { width: 390, height: 844 }]) {
      await page.setViewportSize(size);
      await page.waitForTimeout(100);
      await page.screenshot({ path: path.join(OUT, `devices-printers-${size.width}x${size.height}.png`), fullPage: true });
      const problems = await page.evaluate(() => {
        const out: string[] = [];
        if (document.documentElement.scrollWidth > window.innerWidth) out.push(`scrolls sideways: ${document.documentElement.scrollWidth}px`);
        for (const el of document.querySelectorAll('button, input:not([type=hidden]), select, textarea, a[href], summary')) {
          if (!el.getClientRects().length) continue;
          const target = el.matches('[type=checkbox], [type=radio]') ? el.closest('label') ?? el : el;
          const h = target.getBoundingClientRect().height;
          if (h < 43.5) out.push(`${el.tagName} "${(el.textContent ?? '').trim().slice(0, 30)}" is ${h.toFixed(1)}px high`);
        }
        return out;
      });
      assert.deepEqual(problems, [], `at ${size.width}×${size.height}`);
    }
    assert.deepEqual(watch.errors, []);
    await context.close();
  });

  it('shows a printer\'s alert in the terminal\'s message area when it runs out of paper, and a toast when it prints again', async () => {
    const printer = await env.t.db('printers').where({ name: 'Counter printer' }).first();
    const context = await env.browser.newContext();
    const page = await pairBrowser(context, env.app, { pin: PINS.cashier, name: 'Counter T' });
    const watch = watchPage(page);
    await page.goto(`${env.app.url}/terminal`);
    await page.waitForFunction(() => Boolean((window as unknown as { io?: unknown }).io));
    await page.waitForTimeout(300); // its socket connects
    fake.setStatus({ paperOut: true, online: false });
    await printTestPage({ db: env.t.db, clock: env.app.clock, events: env.app.events }, printer.id);
    const alert = page.locator(`#flash [data-printer-alert="${printer.id}"]`);
    await alert.waitFor();
    assert.match((await alert.textContent())!, /Counter printer is out of paper: load a new roll\. 1 job waiting\./);

    // a page opened now reads the printers failing now
    const other = await context.newPage();
    await other.goto(`${env.app.url}/terminal`);
    await other.locator(`#flash [data-printer-alert="${printer.id}"]`).waitFor();
    await other.close();

    fake.setStatus({ paperOut: false, online: true });
    env.app.clock.advance(10 * 60_000);
    env.app.outbox.wake();
    await until('printed', () => fake.printed.length === 2);
    await page.waitForSelector('#toasts .toast:has-text("Counter printer is printing again")');
    assert.equal(await alert.count(), 0, 'the alert goes');
    assert.deepEqual(watch.errors, []);
    await context.close();
  });
});
