import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { BrowserContext, Page } from 'playwright-core';
import { e2eStore, type E2EStore } from '../helpers/e2e';
import { pairBrowser, watchPage } from '../helpers/browser';
import { PINS, pairedClient } from '../helpers/client';

/**
 * The UI kit on every screen (docs/UI.md; issue 20): no serious or critical accessibility
 * violation (axe-core), and at a tablet's and a phone's sizes no sideways scrolling, every control
 * at least 44 px high, a dialog's buttons on screen. Each screen is stored as a picture under
 * test-results/ui/ to be looked at.
 *
 * A screen is one entry of SCREENS: a name and how to get a page showing it. Every page, and every
 * dialog staff meet, is here; a new page joins the list.
 */
interface Screen {
  name: string;
  open(env: E2EStore, context: BrowserContext): Promise<Page>;
  /** a dialog is open: its action buttons must be on screen */
  dialog?: boolean;
}

const SIZES = [
  { width: 1024, height: 768 },
  { width: 768, height: 1024 },
  { width: 390, height: 844 },
];
const OUT = path.resolve(__dirname, '../../test-results/ui');

/** Browsers paired once (pairing is rate-limited per address), each screen in a fresh context of one of them. */
type Role = 'owner' | 'cashier' | 'kitchen' | 'device';
const devices: Partial<Record<Role, Awaited<ReturnType<BrowserContext['storageState']>>>> = {};
const as = (role: Role) => async (env: E2EStore, context: BrowserContext, url: string) => {
  await context.addCookies(devices[role]!.cookies);
  const page = await context.newPage();
  await page.goto(env.app.url + url);
  return page;
};
const go = (role: Role, url: string | (() => string)) => (env: E2EStore, context: BrowserContext) => as(role)(env, context, typeof url === 'string' ? url : url());
/** made in before(): an open counter sale with two lines, and a paid one */
let saleId = 0;
let paidId = 0;

const SCREENS: Screen[] = [
  {
    name: 'pairing',
    open: async (env, context) => {
      const page = await context.newPage();
      await page.goto(`${env.app.url}/pair`);
      return page;
    },
  },
  {
    name: 'login',
    open: async (env, context) => {
      const page = await as('device')(env, context, '/login');
      await page.fill('#pin', '0000');
      await page.click('#login-submit');
      await page.waitForSelector('#flash .flash-error');
      return page;
    },
  },
  { name: 'kitchen-stations', open: go('kitchen', '/kitchen') },
  // issue 23: the drawer, the reports, the close of day, the drawer sessions
  { name: 'cash-drawer', open: go('cashier', '/cash') },
  { name: 'reports', open: go('owner', '/backoffice/reports') },
  { name: 'reports-hourly', open: go('owner', '/backoffice/reports?report=hourly') },
  { name: 'close-of-day', open: go('owner', '/backoffice/close') },
  { name: 'cash-sessions', open: go('owner', '/backoffice/cash') },
  {
    name: 'kitchen',
    open: async (env, context) => {
      const station = await env.t.db('stations').where({ name: 'Kitchen' }).first();
      const page = await as('kitchen')(env, context, `/kitchen/${station.id}`);
      await page.waitForSelector('.ticket');
      await page.waitForSelector('#conn-state:has-text("live")');
      return page;
    },
  },
  { name: 'terminal-idle', open: go('cashier', '/terminal') },
  {
    name: 'terminal-order',
    open: async (env, context) => {
      const page = await go('cashier', () => `/orders/${saleId}`)(env, context);
      await page.waitForSelector('#product-grid button.product');
      return page;
    },
  },
  {
    name: 'modifier-dialog',
    dialog: true,
    open: async (env, context) => {
      const page = await go('cashier', () => `/orders/${saleId}`)(env, context);
      await page.click('.categories button:has-text("Coffee")');
      await page.click('#product-grid button.product:has-text("Latte")');
      await page.waitForSelector('#modal #options-form');
      return page;
    },
  },
  {
    name: 'line-editor',
    dialog: true,
    open: async (env, context) => {
      const page = await go('cashier', () => `/orders/${saleId}`)(env, context);
      await page.locator('#order-lines tr.line').first().click();
      await page.waitForSelector('#modal #line-editor');
      return page;
    },
  },
  {
    name: 'pay',
    dialog: true,
    open: async (env, context) => {
      const page = await go('cashier', () => `/orders/${saleId}`)(env, context);
      await page.click('#pay');
      await page.waitForSelector('#modal #tendered');
      return page;
    },
  },
  {
    name: 'receipt',
    open: async (env, context) => {
      const page = await go('cashier', () => `/orders/${paidId}/receipt`)(env, context);
      await page.waitForSelector('#receipt');
      return page;
    },
  },
  { name: 'paid-order', open: go('cashier', () => `/orders/${paidId}`) },
  { name: 'open-orders', open: go('cashier', '/orders') },
  { name: 'history', open: go('cashier', '/orders/history') },
  { name: 'refund', open: go('cashier', () => `/orders/${paidId}/refund`) },
  { name: 'floor', open: go('owner', '/floor') },
  { name: 'backoffice', open: go('owner', '/backoffice') },
  { name: 'backoffice-devices', open: go('owner', '/backoffice/devices') },
  { name: 'backoffice-ledger', open: go('owner', '/backoffice/ledger') },
  { name: 'backoffice-backups', open: go('owner', '/backoffice/backups') },
  { name: 'backoffice-floor-plan', open: go('owner', '/backoffice/floor') },
  { name: 'backoffice-staff', open: go('owner', '/backoffice/staff') },
  { name: 'backoffice-settings', open: go('owner', '/backoffice/settings') },
  {
    name: 'backoffice-settings-errors',
    open: async (env, context) => {
      const page = await go('owner', '/backoffice/settings')(env, context);
      await page.fill('input[name=businessDayStart]', '25:99');
      await page.click('#save-settings');
      await page.waitForSelector('#settings-errors');
      return page;
    },
  },
  { name: 'backoffice-audit', open: go('owner', '/backoffice/audit') },
  // the catalog, stock and staff hours (issue 24)
  { name: 'backoffice-products', open: go('owner', '/backoffice/products') },
  { name: 'backoffice-product-form', open: go('owner', '/backoffice/products/new') },
  { name: 'backoffice-modifier-groups', open: go('owner', '/backoffice/modifier-groups') },
  { name: 'backoffice-catalog-import', open: go('owner', '/backoffice/catalog/import') },
  { name: 'backoffice-stock', open: go('owner', '/backoffice/inventory') },
  { name: 'backoffice-staff-hours', open: go('owner', '/backoffice/staff/hours') },
  { name: 'backoffice-integrations', open: go('owner', '/backoffice/integrations') },
  { name: 'approval-page', open: go('cashier', '/backoffice') },
  { name: 'not-found', open: go('owner', '/backoffice/no-such-page') },
  {
    name: 'approval-dialog',
    dialog: true,
    open: async (env, context) => {
      // a cashier let into the terminals page asks for a pairing code: the approval dialog
      const page = await go('cashier', '/backoffice/terminals')(env, context);
      await page.fill('#override-pin', PINS.manager);
      await page.click('#approve');
      await page.fill('#pairing input[name=name]', 'Patio tablet');
      await page.click('#make-code');
      await page.waitForSelector('.approval-layer [role=dialog]');
      return page;
    },
  },
];

/**
 * What breaks the kit at this size, measured in the browser. Plain JavaScript text: code compiled
 * by tsx would call its own helpers, which the page does not have.
 */
const MEASURE = `(dialog) => {
  const problems = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.getAttribute('name') ? '[name=' + el.getAttribute('name') + ']' : '')
    + ' "' + (el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 30) + '"';
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth) problems.push('scrolls sideways: ' + doc.scrollWidth + 'px wide in ' + window.innerWidth + 'px');
  for (const el of document.querySelectorAll('button, input:not([type=hidden]), select, textarea, a[href]')) {
    if (!el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
    // a link inside running text is exempt (WCAG 2.5.8); a checkbox's target is its label
    if (el.tagName === 'A' && el.closest('p') && !el.matches('.btn')) continue;
    const target = el.matches('[type=checkbox], [type=radio]') ? (el.closest('label') || el) : el;
    const h = target.getBoundingClientRect().height;
    if (h < 43.5) problems.push(name(el) + ' is ' + h.toFixed(1) + 'px high');
  }
  if (dialog) {
    const buttons = document.querySelectorAll('.modal-host [role=dialog] .modal-actions button');
    if (!buttons.length) problems.push('no dialog actions found');
    for (const b of buttons) {
      const r = b.getBoundingClientRect();
      if (r.top < 0 || r.bottom > window.innerHeight || r.left < 0 || r.right > window.innerWidth) problems.push(name(b) + ' is outside the viewport');
    }
  }
  return problems;
}`;
const layoutProblems = (page: Page, dialog: boolean): Promise<string[]> => page.evaluate(`(${MEASURE})(${dialog})`);

describe('e2e: the UI kit on every screen (accessibility, sizes, screenshots)', function () {
  this.timeout(600_000);
  const env = e2eStore();

  before(async () => {
    fs.mkdirSync(OUT, { recursive: true });
    const pins: Record<Role, string | undefined> = { owner: PINS.owner, cashier: PINS.cashier, kitchen: undefined, device: undefined };
    for (const role of Object.keys(pins) as Role[]) {
      const context = await env.browser.newContext();
      await pairBrowser(context, env.app, { pin: pins[role], kind: role === 'kitchen' ? 'kitchen' : 'counter', name: `Audit ${role}` });
      devices[role] = await context.storageState();
      await context.close();
    }
    // a ticket on the kitchen screen
    const owner = await pairedClient(env.app, { pin: PINS.owner, name: 'Till for the audit' });
    const opened = await owner.post('/orders', { type: 'counter' });
    const orderId = /(\d+)$/.exec(opened.headers.get('HX-Redirect') ?? '')?.[1];
    for (const name of ['Fish & chips', 'Mushroom risotto']) {
      const p = await env.t.db('products').where({ name }).first();
      assert.equal((await owner.post(`/orders/${orderId}/lines`, { product_id: String(p.id) })).status, 200, name);
    }
    assert.ok((await owner.post(`/orders/${orderId}/send`)).status < 400, 'the order reached the kitchen');
    saleId = Number(orderId);
    // a paid counter sale, for the receipt, the history and the refund page
    const sale = await owner.post('/orders', { type: 'counter' });
    paidId = Number(/(\d+)$/.exec(sale.headers.get('HX-Redirect') ?? '')?.[1]);
    const croissant = await env.t.db('products').where({ name: 'Croissant' }).first();
    assert.equal((await owner.post(`/orders/${paidId}/lines`, { product_id: String(croissant.id) })).status, 200);
    assert.equal((await owner.post(`/orders/${paidId}/payments`, { tendered: '10.00', idempotency_key: 'audit-paid-sale' })).status, 200);
  });

  for (const screen of SCREENS) {
    it(`${screen.name}: no serious or critical axe violation; at ${SIZES.map((s) => `${s.width}×${s.height}`).join(', ')} no sideways scroll, controls ≥ 44 px${screen.dialog ? ', dialog buttons on screen' : ''}`, async () => {
      const context = await env.browser.newContext({ viewport: SIZES[0] });
      const page = await screen.open(env, context);
      const watch = watchPage(page);
      await page.waitForLoadState('networkidle');
      const axe = await new AxeBuilder({ page }).analyze();
      const bad = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [], `axe on ${screen.name}`);
      for (const size of SIZES) {
        await page.setViewportSize(size);
        await page.waitForTimeout(100);
        await page.screenshot({ path: path.join(OUT, `${screen.name}-${size.width}x${size.height}.png`), fullPage: !screen.dialog });
        assert.deepEqual(await layoutProblems(page, !!screen.dialog), [], `${screen.name} at ${size.width}×${size.height}`);
      }
      assert.deepEqual(watch.errors, []);
      await context.close();
    });
  }
});

