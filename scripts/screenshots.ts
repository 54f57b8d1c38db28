/**
 * Takes the screenshots in docs/screenshots: the terminal on a 10-inch tablet and on a phone,
 * the kitchen screen and the floor, from a demo store on a throwaway embedded database.
 * Run: npx tsx scripts/screenshots.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium as pw, type BrowserContext, type Page } from 'playwright-core';
import { loadConfig } from '../server/config';
import { startServer } from '../server/main';
import { createLogger } from '../server/logger';
import { createPairingCode } from '../server/auth/pairing';
import type { TerminalKind } from '../server/auth/service';
import { systemClock } from '../server/clock';

const out = path.resolve(__dirname, '..', 'docs', 'screenshots');

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-shots-'));
  const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', STORE_NAME: 'Corner Café', TIMEZONE: 'Europe/Berlin', CURRENCY: 'EUR' });
  const server = await startServer(config, { demo: true, log: createLogger('silent') });
  const url = server.url.replace('localhost', '127.0.0.1');
  const sparticuz = (await import('@sparticuz/chromium')).default;
  const browser = await pw.launch({ executablePath: process.env.CHROMIUM_PATH ?? (await sparticuz.executablePath()), headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-zygote', '--disable-background-networking'] });
  const pair = async (ctx: BrowserContext, kind: TerminalKind, pin?: string): Promise<Page> => {
    const { code } = await createPairingCode({ db: server.db, clock: systemClock }, { name: `Shots ${kind}`, kind }, { staffId: null, terminalId: null });
    const page = await ctx.newPage();
    await page.goto(`${url}/pair`);
    await page.fill('input[name=code]', code);
    await page.click('#pair-submit');
    await page.waitForURL(/\/(login|kitchen)/);
    if (pin) {
      await page.fill('#pin', pin);
      await page.click('#login-submit');
      await page.waitForURL(/\/terminal/);
    }
    return page;
  };
  try {
    const tablet = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
    const page = await pair(tablet, 'counter', '1111');
    // the floor re-reads its plan once its socket connects: type the covers after that swap, or it drops them
    await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname === '/floor/plan'), page.goto(`${url}/floor`)]);
    const tile = page.locator('.table-tile', { hasText: 'Table 5' });
    await tile.locator('input.covers').fill('2');
    await tile.locator('button.tile-button').click();
    await page.waitForURL(/\/orders\/\d+$/);
    for (const [cat, name] of [['Cakes & pastries', 'Croissant'], ['Mains', 'Fish & chips'], ['Tea & soft drinks', 'Homemade lemonade']]) {
      await page.click(`.categories button:has-text("${cat}")`);
      await page.click(`#product-grid button.product:has-text("${name}")`);
      await page.waitForSelector(`#order-lines tr.line:has-text("${name}")`);
    }
    await page.click('.categories button:has-text("Coffee")');
    await page.click('#product-grid button.product:has-text("Flat white")');
    await page.waitForSelector('#modal #options-form');
    await page.click('#modal label.tile:has-text("Regular")');
    await page.click('#modal label.tile:has-text("Oat milk")');
    await page.click('#add-with-options');
    await page.waitForSelector('#order-lines tr.line:has-text("Flat white")');
    await page.click('#send');
    await page.waitForSelector('#order-lines .tag:not(.tag-unsent):has-text("sent")');
    await page.screenshot({ path: path.join(out, 'terminal-tablet.png') });
    await page.click('#pay');
    await page.waitForSelector('#modal #tendered');
    await page.screenshot({ path: path.join(out, 'pay-tablet.png') });

    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
    const p2 = await pair(phone, 'waiter', '4444');
    await p2.goto(page.url().replace(/\/orders\/.*/, '') + new URL(page.url()).pathname);
    await p2.waitForSelector('#product-grid button.product');
    await p2.screenshot({ path: path.join(out, 'terminal-phone.png') });

    const k = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const kp = await pair(k, 'kitchen');
    const station = await server.db('stations').where({ name: 'Kitchen' }).first();
    await kp.goto(`${url}/kitchen/${station.id}`);
    await kp.waitForSelector('.ticket');
    await kp.screenshot({ path: path.join(out, 'kitchen.png') });
    await page.goto(`${url}/floor`);
    await page.waitForSelector('.table-tile.state-sent');
    await page.screenshot({ path: path.join(out, 'floor.png') });
    process.stdout.write(`screenshots written to ${out}\n`);
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
