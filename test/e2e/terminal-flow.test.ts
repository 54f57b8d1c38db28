import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { e2eStore } from '../helpers/e2e';
import { pairBrowser, watchPage } from '../helpers/browser';
import { pairedClient, PINS, type Client } from '../helpers/client';

/**
 * The terminal staff use (issue 20, "Terminal", "Phone layout"): a sale starts with its first
 * product and no order exists before it has a line; the options dialog's tiles, required groups
 * first, Add always on screen; one line editor that stays open until Done; table service's tags
 * only on dine-in orders; on a phone the grid first and the order as a bar under it.
 * Screenshots of each screen are stored under test-results/terminal/ to be looked at.
 */
const OUT = path.resolve(__dirname, '../../test-results/terminal');
const TABLET = { width: 1024, height: 768 };
const PHONE = { width: 390, height: 844 };

describe('e2e: the terminal in Chromium (first tap starts the sale, options, line editor, phone)', function () {
  this.timeout(180_000);
  const env = e2eStore();
  let device: Awaited<ReturnType<BrowserContext['storageState']>>;
  let cashierDevice: Awaited<ReturnType<BrowserContext['storageState']>>;
  let till: Client;
  const contexts: BrowserContext[] = [];

  before(async () => {
    fs.mkdirSync(OUT, { recursive: true });
    // browsers paired once (pairing is rate-limited per address), each test in a fresh context of one
    for (const [pin, name] of [[PINS.owner, 'Counter tablet'], [PINS.cashier, 'Cashier tablet']] as const) {
      const context = await env.browser.newContext();
      await pairBrowser(context, env.app, { pin, name });
      if (pin === PINS.owner) device = await context.storageState();
      else cashierDevice = await context.storageState();
      await context.close();
    }
    till = await pairedClient(env.app, { pin: PINS.owner, name: 'Helper till' });
  });
  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close();
  });

  const open = async (url: string, viewport = TABLET, as = device): Promise<Page> => {
    const context = await env.browser.newContext({ viewport });
    contexts.push(context);
    await context.addCookies(as.cookies);
    const page = await context.newPage();
    await page.goto(env.app.url + url);
    return page;
  };
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(OUT, `${name}.png`) });
  const orderCount = async () => Number((await env.t.db('orders').count({ n: '*' }))[0].n);
  const product = (name: string) => env.t.db('products').where({ name }).first();
  const orderIdOf = (page: Page) => Number(/\/orders\/(\d+)/.exec(page.url())![1]);
  /** an order made the way the API and older terminals can: POST /orders, then lines */
  const orderWith = async (type: string, names: string[], extra: Record<string, string> = {}): Promise<number> => {
    const r = await till.post('/orders', { type });
    const id = Number(/(\d+)$/.exec(r.headers.get('HX-Redirect')!)![1]);
    for (const name of names) assert.equal((await till.post(`/orders/${id}/lines`, { product_id: String((await product(name)).id), ...extra })).status, 200, name);
    return id;
  };
  const showCategory = async (page: Page, category: string, product: string) => {
    await page.click(`.categories button:has-text("${category}")`);
    await page.waitForSelector(`#product-grid button.product:has-text("${product}")`);
  };

  it('the first product tapped on an idle terminal opens a counter sale with that line; the grid is not greyed before', async () => {
    const before = await orderCount();
    const page = await open('/terminal');
    const watch = watchPage(page);
    await showCategory(page, 'Cakes & pastries', 'Croissant');
    assert.equal(await page.locator('#product-grid button.product:not(.unavailable):disabled').count(), 0, 'no product greyed while no sale is open');
    assert.equal(await page.isChecked('#sale-start input[value=counter]'), true, 'a counter sale by default');
    assert.equal(await orderCount(), before, 'the idle terminal opened no order');
    await shot(page, 'idle-1024x768');

    await page.click('#product-grid button.product:has-text("Croissant")');
    await page.waitForURL(/\/orders\/\d+/);
    await page.waitForSelector('#order-lines tr.line:has-text("Croissant")');
    const id = orderIdOf(page);
    assert.equal(await orderCount(), before + 1);
    const order = await env.t.db('orders').where({ id }).first();
    assert.equal(order.type, 'counter');
    const lines = await env.t.db('order_lines').where({ order_id: id });
    assert.deepEqual(lines.map((l) => [l.name, l.quantity]), [['Croissant', 1]]);
    assert.equal(await page.inputValue('#order-panel select[name=type]'), 'counter');
    // the grid stays on the category the sale started from, and the next tap adds to the sale
    await page.waitForSelector('#product-grid button.product:has-text("Brownie")');
    assert.equal(await page.getAttribute('.categories button:has-text("Cakes & pastries")', 'aria-pressed'), 'true');
    await page.click('#product-grid button.product:has-text("Brownie")');
    await page.waitForSelector('#order-lines tr.line:has-text("Brownie")');
    assert.equal(await orderCount(), before + 1);
    assert.deepEqual(watch.errors, []);
  });

  it('two quick taps on an idle terminal, the second before the first is answered, land in one sale', async () => {
    const before = await orderCount();
    const page = await open('/terminal');
    await showCategory(page, 'Cakes & pastries', 'Brownie');
    // both taps reach the server at once; their answers come back late, so neither tap has seen one
    let answered = 0;
    await page.route('**/terminal/lines', async (route) => {
      const response = await route.fetch();
      answered++;
      await new Promise((r) => setTimeout(r, 300));
      await route.fulfill({ response }).catch(() => {}); // the page may have moved on to the sale
    });
    // plain JavaScript text: code compiled by tsx would call helpers the page does not have
    await page.evaluate(`for (const name of ['Brownie', 'Cinnamon bun'])
      [...document.querySelectorAll('#product-grid button.product')].find((b) => b.textContent.includes(name)).click()`);
    await page.waitForURL(/\/orders\/\d+/);
    for (let i = 0; answered < 2 && i < 100; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(answered, 2, 'both taps were sent');
    assert.equal(await orderCount(), before + 1, 'one sale');
    const id = orderIdOf(page);
    assert.deepEqual((await env.t.db('order_lines').where({ order_id: id }).orderBy('name')).map((l) => l.name), ['Brownie', 'Cinnamon bun']);
    await page.waitForSelector('#order-lines tr.line:has-text("Cinnamon bun")');
  });

  it('POST /terminal/lines: a retried tap (same key) adds nothing; a bad line opens no order; the type chosen is the sale\'s', async () => {
    const brownie = await product('Brownie');
    const before = await orderCount();
    const tap = { product_id: String(brownie.id), type: 'takeaway', idempotency_key: 'tap-retry-0001', sale_key: 'idle-screen-0001' };
    const first = await till.post('/terminal/lines', tap);
    assert.equal(first.status, 204, first.text);
    const again = await till.post('/terminal/lines', tap);
    assert.equal(again.headers.get('HX-Redirect'), first.headers.get('HX-Redirect'));
    const id = Number(/(\d+)$/.exec(first.headers.get('HX-Redirect')!)![1]);
    assert.equal(await orderCount(), before + 1);
    assert.equal((await env.t.db('orders').where({ id }).first()).type, 'takeaway');
    assert.equal((await env.t.db('order_lines').where({ order_id: id })).length, 1, 'the retry added nothing');

    const latte = await product('Latte');
    const refused = await till.post('/terminal/lines', { product_id: String(latte.id) }); // Latte needs a size
    assert.ok(refused.status >= 400 && refused.status < 500, `${refused.status}`);
    assert.equal(await orderCount(), before + 1, 'no order without its line');
  });

  it('New sale opens no order until a line is added; the type chosen before the first tap is the sale\'s', async () => {
    const id = await orderWith('counter', ['Brownie']);
    const paid = await orderWith('counter', ['Croissant']);
    const due = (await env.t.db('orders').where({ id: paid }).first()).total;
    assert.equal((await till.post(`/orders/${paid}/payments`, { tendered: (due / 100).toFixed(2), idempotency_key: `pay-${paid}-xxxxxx` })).status, 200);
    const before = await orderCount();

    const page = await open(`/orders/${id}`);
    await page.click('#new-sale');
    await page.waitForURL(/\/terminal$/);
    await page.waitForSelector('#product-grid button.product');
    // the receipt's panel (a paid order) leads to the idle terminal too
    await page.goto(`${env.app.url}/orders/${paid}`);
    await page.click('#order-panel a:has-text("New sale")');
    await page.waitForURL(/\/terminal$/);
    await page.waitForSelector('#product-grid button.product');
    assert.equal(await orderCount(), before, 'no order opened by New sale');

    await page.click('#sale-start label:has-text("Take-away")');
    await showCategory(page, 'Cakes & pastries', 'Cinnamon bun');
    await page.click('#product-grid button.product:has-text("Cinnamon bun")');
    await page.waitForURL(/\/orders\/\d+/);
    assert.equal(await orderCount(), before + 1);
    assert.equal((await env.t.db('orders').where({ id: orderIdOf(page) }).first()).type, 'takeaway');
  });

  it('Open orders shows no empty orders, on its page and on the idle terminal', async () => {
    const empty = await orderWith('counter', []);
    const full = await orderWith('counter', ['Brownie']);
    const page = await open('/orders');
    const list = (await page.textContent('main'))!;
    const number = async (id: number) => (await env.t.db('orders').where({ id }).first()).number;
    assert.match(list, new RegExp(`#${await number(full)}(?!\\d)`));
    assert.doesNotMatch(list, new RegExp(`#${await number(empty)}(?!\\d)`), 'the empty order is not listed');
    assert.equal(await page.locator(`a[href="/orders/${empty}"]`).count(), 0);
    await page.goto(`${env.app.url}/terminal`);
    assert.equal(await page.locator(`#order-panel a[href="/orders/${full}"]`).count(), 1);
    assert.equal(await page.locator(`a[href="/orders/${empty}"]`).count(), 0);
  });

  for (const [size, name] of [[TABLET, '1024x768'], [PHONE, '390x844']] as const) {
    it(`options dialog at ${name}: large tiles, the required group first and marked, no keypad, Add on screen; Add starts the sale`, async () => {
      const page = await open('/terminal', size);
      await showCategory(page, 'Coffee', 'Latte');
      await page.click('#product-grid button.product:has-text("Latte")');
      await page.waitForSelector('#modal #options-form');
      const groups = page.locator('#modal .modifier-group');
      assert.equal(await groups.first().getAttribute('data-group'), 'Size', 'the required group first');
      assert.match((await groups.first().locator('legend').textContent())!, /Size\s*Required\s*Choose 1/);
      assert.equal(await page.locator('#modal .modifier-group:has-text("Milk") .badge:has-text("Required")').count(), 0);
      assert.match((await page.locator('#modal .modifier-group:has-text("Extras") legend').textContent())!, /Optional\s*Up to 3/);
      assert.equal(await page.locator('#modal .keypad').count(), 0, 'no keypad for a fixed-price product');
      for (const tile of await page.locator('#modal label.choice.tile').all()) assert.ok((await tile.boundingBox())!.height >= 48, 'a tile is at least 48 px high');
      const inView = async (sel: string) => {
        const box = (await page.locator(sel).boundingBox())!;
        return box.y >= 0 && box.y + box.height <= size.height && box.x >= 0 && box.x + box.width <= size.width;
      };
      assert.ok(await inView('#add-with-options'), 'Add is on screen');
      await shot(page, `options-${name}`);

      await page.click('#add-with-options');
      assert.match((await page.textContent('#modal .modifier-error'))!, /Size: choose 1/);
      await page.click('#modal label.tile:has-text("Large")');
      await page.click('#modal label.tile:has-text("Oat milk")');
      assert.match((await page.textContent('#add-with-options'))!, /€5\.60/, 'Add says what it adds');
      assert.ok(await inView('#add-with-options'), 'Add is still on screen');
      await page.click('#add-with-options');
      await page.waitForURL(/\/orders\/\d+/);
      const lines = await env.t.db('order_lines').where({ order_id: orderIdOf(page) });
      assert.deepEqual(lines.map((l) => [l.name, l.unit_price]), [['Latte', 560]]);
    });
  }

  it('an open-price product\'s dialog has the keypad, with a decimal point', async () => {
    const page = await open('/terminal');
    await showCategory(page, 'Retail', 'Gift voucher');
    await page.click('#product-grid button.product:has-text("Gift voucher")');
    await page.waitForSelector('#modal #options-form .keypad');
    for (const k of ['2', '5', '.', '5', '0']) await page.click(`#modal .key[data-key="${k}"]`);
    assert.equal(await page.inputValue('#modal input[name=open_price]'), '25.50');
    await page.click('#add-with-options');
    await page.waitForURL(/\/orders\/\d+/);
    assert.equal((await env.t.db('order_lines').where({ order_id: orderIdOf(page) }).first()).unit_price, 2550);
  });

  it('the line editor stays open across changes, each shown in the dialog and the order, and closes on Done; a refusal needing a manager layers the approval over it', async () => {
    const id = await orderWith('counter', ['Croissant', 'Brownie']);
    const page = await open(`/orders/${id}`, TABLET, cashierDevice);
    const watch = watchPage(page);
    await page.locator('#order-lines tr.line', { hasText: 'Croissant' }).click(); // a tap on the line edits it
    await page.waitForSelector('#modal #line-editor');
    await page.click('#line-editor button[aria-label="One more"]');
    await page.waitForSelector('#order-lines tr.line:has-text("Croissant") td.qty:has-text("2×")');
    assert.equal(await page.inputValue('#line-editor input[name=quantity]'), '2', 'the dialog shows the new quantity');
    await page.fill('#line-editor input[name=note]', 'warm it up');
    await page.click('#line-editor button:has-text("Save note")');
    await page.waitForSelector('#order-lines .note:has-text("warm it up")');
    assert.equal(await page.inputValue('#line-editor input[name=note]'), 'warm it up');
    assert.equal(await page.locator('#modal #line-editor').count(), 1, 'still open after two changes');

    // a refusal is said beside its field in the editor, with what was typed
    await page.click('#line-editor #edit-discount label:has-text("Amount")');
    await page.click('#line-editor button:has-text("Apply")');
    await page.waitForSelector('#line-editor #edit-discount .field-error');
    assert.match((await page.textContent('#line-editor #edit-discount .field-error'))!, /enter a value/i);
    assert.equal(await page.isChecked('#line-editor #edit-discount input[value=amount]'), true, 'what was chosen is kept');
    assert.equal(await page.locator('#modal #line-editor').count(), 1);

    // approved, then refused by the form (no reason given): the approval closes and the error is said beside the field
    await page.fill('#line-editor input[name=price]', '2.00');
    await page.fill('#line-editor input[name=reason]', '');
    await page.click('#line-editor button:has-text("Change price")');
    await page.waitForSelector('.approval-layer [role=dialog]');
    await page.fill('#override-pin', PINS.manager);
    await page.click('#approve');
    await page.waitForSelector('#line-editor #edit-price .field-error');
    assert.equal(await page.locator('.approval-layer').count(), 0, 'the approval closed: its PIN was right');
    assert.equal(await page.locator('#approval-error #line-editor').count(), 0, 'the form is not drawn inside the approval');
    assert.equal(await page.inputValue('#line-editor input[name=price]'), '2.00', 'what was typed is kept');

    // a cashier may not change a price: the manager's approval opens over the editor, and the answer lands in it
    await page.fill('#line-editor input[name=price]', '2.00');
    await page.fill('#line-editor input[name=reason]', 'day-old');
    await page.click('#line-editor button:has-text("Change price")');
    await page.waitForSelector('.approval-layer [role=dialog]');
    assert.equal(await page.locator('#modal #line-editor').count(), 1, 'the editor stays below');
    await page.fill('#override-pin', PINS.manager);
    await page.click('#approve');
    await page.waitForSelector('#order-lines tr.line:has-text("Croissant") td.amount:has-text("€4.00")');
    assert.equal(await page.locator('.approval-layer').count(), 0);
    assert.equal(await page.locator('#modal #line-editor').count(), 1, 'still open after the approved change');
    assert.match((await page.textContent('#line-editor'))!, /€4\.00/);
    await shot(page, 'line-editor-1024x768');

    await page.click('#line-editor #edit-done');
    await page.waitForSelector('#modal #line-editor', { state: 'detached' });
    const line = await env.t.db('order_lines').where({ order_id: id, name: 'Croissant' }).first();
    assert.deepEqual([line.quantity, line.note, line.unit_price, line.override_reason], [2, 'warm it up', 200, 'day-old']);

    // Remove closes the editor: the line is gone
    await page.locator('#order-lines tr.line', { hasText: 'Brownie' }).locator('.edit-line').click();
    await page.click('#line-editor #remove-line');
    await page.waitForSelector('#modal #line-editor', { state: 'detached' });
    assert.equal(await page.locator('#order-lines tr.line:has-text("Brownie")').count(), 0);
    assert.deepEqual(watch.errors, []);
  });

  it('counter and take-away orders show no course, seat or sent tags and no course buttons; dine-in ones do; the type can be changed after', async () => {
    const id = await orderWith('counter', ['Croissant', 'Fish & chips']);
    assert.ok((await till.post(`/orders/${id}/send`)).status < 400);
    const page = await open(`/orders/${id}`);
    await page.waitForSelector('#order-lines tr.line');
    const panelText = async () => (await page.textContent('#order-panel'))!;
    for (const word of [/not sent/, /sent \d/, /Course \d/, /Seat/, /Hold course/, /Fire course/]) assert.doesNotMatch(await panelText(), word);
    await page.locator('#order-lines tr.line', { hasText: 'Croissant' }).click();
    await page.waitForSelector('#line-editor');
    assert.equal(await page.locator('#line-editor select[name=course]').count(), 0, 'no course for a counter sale');
    await page.click('#line-editor #edit-done');

    await page.selectOption('#order-panel select[name=type]', 'dine_in');
    await page.waitForSelector('#order-panel .line-state');
    assert.equal((await env.t.db('orders').where({ id }).first()).type, 'dine_in');
    assert.match(await panelText(), /Course 1/);
    assert.match(await panelText(), /sent 1/);
    assert.match(await panelText(), /Hold course 2/);
    await page.locator('#order-lines tr.line', { hasText: 'Croissant' }).click();
    await page.waitForSelector('#line-editor select[name=course]');
    await shot(page, 'dine-in-editor-1024x768');
    await page.click('#line-editor #edit-done');

    await page.selectOption('#order-panel select[name=type]', 'takeaway');
    await page.waitForFunction(() => !document.querySelector('#order-panel .line-state'));
    assert.equal((await env.t.db('orders').where({ id }).first()).type, 'takeaway');
    assert.doesNotMatch(await panelText(), /Hold course/);
  });

  it('POST /orders/:id/type goes through the one change path: the version moves, an order at a table stays dine-in', async () => {
    const id = await orderWith('counter', ['Brownie']);
    const v = (await env.t.db('orders').where({ id }).first()).version;
    assert.equal((await till.post(`/orders/${id}/type`, { type: 'takeaway' })).status, 200);
    const after = await env.t.db('orders').where({ id }).first();
    assert.deepEqual([after.type, after.version], ['takeaway', v + 1]);
    assert.equal((await till.post(`/orders/${id}/type`, { type: 'counter', version: String(v) })).status, 409, 'drawn before the change: refused');
    assert.equal((await till.post(`/orders/${id}/type`, { type: 'buffet' })).status, 400);
    const table = await env.t.db('tables').where({ name: 'Table 9' }).first();
    const seated = await till.post(`/tables/${table.id}/open`, { covers: '2' });
    const atTable = Number(/(\d+)$/.exec(seated.headers.get('HX-Redirect')!)![1]);
    assert.equal((await till.post(`/orders/${atTable}/type`, { type: 'counter' })).status, 409);
    assert.equal((await env.t.db('orders').where({ id: atTable }).first()).type, 'dine_in');
  });

  it('at 1024×768 a line with options and a note is one compact row whose Edit button is not clipped', async () => {
    const latte = await product('Latte');
    const large = await env.t.db('modifiers').where({ name: 'Large' }).first();
    const oat = await env.t.db('modifiers').where({ name: 'Oat milk' }).first();
    const id = await orderWith('counter', ['Croissant']);
    await till.post(`/orders/${id}/lines`, { product_id: String(latte.id), modifier_ids: [String(large.id), String(oat.id)], note: 'extra hot please' });
    const page = await open(`/orders/${id}`);
    await page.waitForSelector('#order-lines tr.line:has-text("Latte")');
    const panel = (await page.locator('#order-panel').boundingBox())!;
    for (const row of await page.locator('#order-lines tr.line').all()) {
      const edit = (await row.locator('.edit-line').boundingBox())!;
      assert.ok(edit.x + edit.width <= panel.x + panel.width && edit.x + edit.width <= TABLET.width, 'Edit inside the panel');
      assert.ok(edit.width >= 44 && edit.height >= 44);
      const h = (await row.boundingBox())!.height;
      assert.ok(h <= 80, `a line is at most three short rows high, not ${h}px`);
    }
    const pay = (await page.locator('#pay').boundingBox())!;
    assert.ok(pay.y + pay.height <= TABLET.height, 'Pay is on screen');
    await shot(page, 'order-1024x768');
  });

  it('at 390×844 the grid comes first, the order is a bar under it with its count and total, and opens over the grid; the top bar is one row', async () => {
    const id = await orderWith('counter', ['Croissant', 'Brownie', 'Brownie']);
    const page = await open(`/orders/${id}`, PHONE);
    await page.waitForSelector('#product-grid button.product');
    const grid = (await page.locator('#product-grid').boundingBox())!;
    const bar = (await page.locator('#order-panel .order-bar-toggle').boundingBox())!;
    assert.ok(grid.y < bar.y, 'the grid before the order');
    assert.ok(grid.y < 200, `the grid starts near the top, at ${grid.y}px`);
    assert.ok(bar.y + bar.height <= PHONE.height && bar.y > PHONE.height / 2, 'the bar at the bottom, on screen');
    assert.match((await page.textContent('#bar-count'))!, /^3 items$/);
    assert.equal((await page.textContent('#bar-total'))!.trim(), '€9.80');
    assert.equal(await page.isVisible('#order-lines'), false, 'the order is folded into the bar');
    assert.ok((await page.locator('header.topbar').boundingBox())!.height <= 70, 'the top bar is one row');
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true, 'no sideways scroll');
    await shot(page, 'order-390x844');

    // a tap adds to the order: the bar says so
    await showCategory(page, 'Cakes & pastries', 'Croissant');
    await page.click('#product-grid button.product:has-text("Croissant")');
    await page.waitForSelector('#bar-count:has-text("4 items")');
    await page.click('#order-panel .order-bar-toggle');
    await page.waitForSelector('#order-lines tr.line', { state: 'visible' });
    const expanded = (await page.locator('#order-panel').boundingBox())!;
    assert.ok(expanded.y <= 1 && expanded.height >= PHONE.height - 1, 'the order opens over the grid');
    assert.ok(await page.isVisible('#pay'));
    await shot(page, 'order-open-390x844');
    await page.click('#order-panel .order-close');
    await page.waitForSelector('#order-lines', { state: 'hidden' });
  });

  it('at 390×844 the floor shows every table in the screen\'s width', async () => {
    const page = await open('/floor', PHONE);
    await page.waitForSelector('.table-tile');
    await page.waitForLoadState('networkidle');
    const tiles: Array<{ name: string; left: number; right: number }> = await page.evaluate(`[...document.querySelectorAll('.table-tile')].map((t) => {
      const r = t.getBoundingClientRect();
      return { name: t.querySelector('.table-name').textContent, left: r.left, right: r.right };
    })`);
    assert.ok(tiles.length >= 10);
    for (const t of tiles) assert.ok(t.left >= 0 && t.right <= PHONE.width, `${t.name} is cut off: ${t.left}–${t.right}`);
    assert.equal(await page.evaluate(() => document.querySelectorAll('#modal').length), 1, 'one dialog host');
    assert.ok((await page.locator('header.topbar').boundingBox())!.height <= 70, 'the top bar is one row');
    await page.screenshot({ path: path.join(OUT, 'floor-390x844.png'), fullPage: true });
  });

  it('the pay dialog\'s keypad types a decimal amount and says nothing of features not built', async () => {
    const id = await orderWith('counter', ['Croissant']);
    const page = await open(`/orders/${id}`);
    assert.equal(await page.evaluate(() => document.querySelectorAll('#modal').length), 1, 'one dialog host');
    await page.click('#pay');
    await page.waitForSelector('#modal #tendered');
    for (const k of ['5', '.', '5']) await page.click(`#modal .key[data-key="${k}"]`);
    assert.equal(await page.inputValue('#tendered'), '5.5');
    assert.doesNotMatch((await page.textContent('#modal'))!, /feature|minor units/i);
    await shot(page, 'pay-1024x768');
    await page.click('#take-cash');
    await page.waitForSelector('#modal #change-due');
    assert.equal((await page.textContent('#change-due'))!.trim(), '€2.70');
  });
});
