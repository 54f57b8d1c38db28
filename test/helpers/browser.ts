import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createPairingCode } from '../../server/auth/pairing';
import type { TerminalKind } from '../../server/auth/service';
import type { TestApp } from './app';

/**
 * Chromium for e2e tests: the build @sparticuz/chromium ships inside its npm package (no download,
 * no apt, no root), or CHROMIUM_PATH when set.
 */
export async function launchBrowser(): Promise<Browser> {
  let executablePath = process.env.CHROMIUM_PATH;
  if (!executablePath) {
    const sparticuz = (await import('@sparticuz/chromium')).default;
    executablePath = await sparticuz.executablePath();
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-zygote'],
  });
}

/**
 * Collects console errors and CSP violations of a page, so a test can assert there were none.
 * A 4xx answer the test provoked on purpose (wrong PIN, locked terminal) is not an error of the page.
 */
export function watchPage(page: Page): { errors: string[] } {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { errors };
}

/**
 * Pairs a fresh browser context through the real pages (pairing code typed on /pair) and, with a
 * PIN, logs in on /login. Returns the page, left on wherever login leads.
 */
export async function pairBrowser(context: BrowserContext, app: TestApp, opts: { pin?: string; kind?: TerminalKind; name?: string } = {}): Promise<Page> {
  const { code } = await createPairingCode({ db: app.db, clock: app.clock }, { name: opts.name ?? 'Browser', kind: opts.kind ?? 'counter' }, { staffId: null, terminalId: null });
  const page = await context.newPage();
  await page.goto(`${app.url}/pair`);
  await page.fill('input[name=code]', code);
  await page.click('#pair-submit');
  await page.waitForURL(/\/(login|kitchen)/);
  if (opts.pin) await loginPage(page, opts.pin);
  return page;
}

export async function loginPage(page: Page, pin: string): Promise<void> {
  await page.fill('#pin', pin);
  await page.click('#login-submit');
  await page.waitForURL(/\/(terminal|backoffice)/);
}
