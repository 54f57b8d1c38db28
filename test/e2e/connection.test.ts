import assert from 'node:assert/strict';
import type { BrowserContext, Page, Route } from 'playwright-core';
import { e2eStore } from '../helpers/e2e';
import { pairBrowser } from '../helpers/browser';
import { pairedClient, PINS } from '../helpers/client';

/**
 * Wi-Fi blips (issue 20; static/js/ui.js "connection lost"): the test cuts the browser's link to
 * the server (requests aborted as the network would) during "add line" and during "take cash".
 * The bar shows; when the link is back the tap is sent again with its key, and the line lands
 * once, the sale is paid once, whether the lost request had reached the server or not. A tap
 * without a key is not sent again, and the bar says so.
 */
describe('e2e: a dropped link loses no tap and doubles none', function () {
  this.timeout(120_000);
  const env = e2eStore();
  let context: BrowserContext;
  let page: Page;

  /** the link: while it is down every request to the server fails like a dropped Wi-Fi */
  let down = false;
  const sent: Record<string, number> = {};
  const cut = async (route: Route, what: string, reachServer: boolean) => {
    sent[what] = (sent[what] ?? 0) + 1;
    if (sent[what] === 1) {
      // the first one is lost: before the server saw it, or with its answer
      if (reachServer) await route.fetch();
      down = true;
      return route.abort('internetdisconnected');
    }
    return down ? route.abort('internetdisconnected') : route.continue();
  };

  before(async () => {
    context = await env.browser.newContext({ viewport: { width: 1024, height: 768 } });
    page = await pairBrowser(context, env.app, { pin: PINS.cashier, name: 'Till by the window' });
    await context.route('**/healthz', (route) => (down ? route.abort('internetdisconnected') : route.continue()));
  });
  after(() => context.close());
  beforeEach(() => {
    down = false;
    for (const k of Object.keys(sent)) delete sent[k];
  });
  afterEach(() => context.unrouteAll({ behavior: 'ignoreErrors' }).then(() => context.route('**/healthz', (route) => (down ? route.abort('internetdisconnected') : route.continue()))));

  const till = async () => pairedClient(env.app, { pin: PINS.cashier, name: `Helper till ${Date.now()}` });
  /** an order with one brownie on it, shown on the page */
  const orderOnScreen = async (): Promise<number> => {
    const c = await till();
    const r = await c.post('/orders', { type: 'counter' });
    const id = Number(/(\d+)$/.exec(r.headers.get('HX-Redirect')!)![1]);
    const brownie = await env.t.db('products').where({ name: 'Brownie' }).first();
    assert.equal((await c.post(`/orders/${id}/lines`, { product_id: String(brownie.id) })).status, 200);
    await page.goto(`${env.app.url}/orders/${id}`);
    await page.click('.categories button:has-text("Cakes")');
    await page.waitForSelector('#product-grid button.product:has-text("Croissant")');
    return id;
  };
  const croissants = async (orderId: number) =>
    Number((await env.t.db('order_lines').where({ order_id: orderId, name: 'Croissant' }).sum({ q: 'quantity' }))[0].q ?? 0);
  const backOnline = async () => {
    down = false;
    await page.waitForSelector('#connection-bar', { state: 'detached', timeout: 20_000 });
  };

  for (const reachServer of [false, true]) {
    it(`add line, the request lost ${reachServer ? 'with its answer (the server had it)' : 'before the server saw it'}: the bar shows, and the line lands once when the link is back`, async () => {
      const orderId = await orderOnScreen();
      await context.route('**/orders/*/lines', (route) => cut(route, 'lines', reachServer));
      await page.click('#product-grid button.product:has-text("Croissant")');
      await page.waitForSelector('#connection-bar:has-text("Connection lost")');
      assert.match((await page.textContent('#connection-bar'))!, /1 tap will be sent when the link is back/);
      assert.equal(await croissants(orderId), reachServer ? 1 : 0, 'what the server has while the link is down');

      await backOnline();
      await page.waitForSelector('#order-lines tr.line:has-text("Croissant")');
      assert.equal(sent.lines, 2, 'the tap was sent again once');
      assert.equal(await croissants(orderId), 1, 'and landed once');
      assert.equal(await page.locator('#order-lines tr.line:has-text("Croissant")').count(), 1);
      assert.match((await page.textContent('#order-lines tr.line:has-text("Croissant") td.qty'))!, /1×/);
    });
  }

  it('take cash, the answer lost after the server took it: the bar shows, and the sale is paid once when the link is back', async () => {
    const orderId = await orderOnScreen();
    const sales = async () => (await env.t.db('journal').whereRaw("entry->>'kind' = 'sale'")).length;
    const salesBefore = await sales();
    await page.click('#pay');
    await page.waitForSelector('#modal #tendered');
    await page.click('#modal button.quick >> nth=0'); // exact
    await context.route('**/orders/*/payments', (route) => cut(route, 'payments', true));
    await page.click('#take-cash');
    await page.waitForSelector('#connection-bar:has-text("Connection lost")');
    assert.equal((await env.t.db('orders').where({ id: orderId }).first()).status, 'paid', 'the server took it before the link dropped');

    await backOnline();
    await page.waitForSelector('#order-panel:has-text("PAID")');
    assert.equal(sent.payments, 2, 'sent again once, with its key');
    const payments = await env.t.db('payments').where({ order_id: orderId });
    assert.equal(payments.length, 1, 'paid once');
    assert.equal(await sales(), salesBefore + 1, 'one sale in the journal');
  });

  it('a tap without a key ("one more") is not sent again, and the bar says to check the order', async () => {
    const orderId = await orderOnScreen();
    await page.locator('#order-lines tr.line', { hasText: 'Brownie' }).locator('button.edit-line').click();
    await context.route('**/orders/*/lines/*/quantity', (route) => cut(route, 'quantity', false));
    await page.click('#modal button[aria-label="One more"]');
    await page.waitForSelector('#connection-bar:has-text("not sent")');
    down = false;
    await page.waitForSelector('#connection-bar:has-text("Connection is back")', { timeout: 20_000 });
    assert.match((await page.textContent('#connection-bar'))!, /not sent: check the order/);
    assert.equal(sent.quantity, 1, 'not sent again');
    const brownies = Number((await env.t.db('order_lines').where({ order_id: orderId, name: 'Brownie' }).sum({ q: 'quantity' }))[0].q);
    assert.equal(brownies, 1);
    await page.click('#connection-bar [data-dismiss-bar]');
    await page.waitForSelector('#connection-bar', { state: 'detached' });
  });
});
