import type { Browser } from 'playwright-core';
import { bootApp, type TestApp } from './app';
import { launchBrowser } from './browser';
import { createTestDb, type TestDb } from './pg';
import { seedStore } from './store';

export interface E2EStore {
  browser: Browser;
  t: TestDb;
  app: TestApp;
}

/**
 * An e2e suite's store: a fresh database (the demo café unless `empty`), the app on port 0 and a
 * Chromium, made before the suite and torn down after it. Read the fields inside tests.
 */
export function e2eStore(opts: { empty?: boolean } = {}): E2EStore {
  const s = {} as E2EStore;
  before(async function () {
    this.timeout(120_000);
    s.t = await createTestDb();
    if (!opts.empty) await seedStore(s.t.db);
    s.app = await bootApp(s.t.db);
    s.browser = await launchBrowser();
  });
  after(async () => {
    await s.browser?.close();
    await s.app?.close();
    await s.t?.drop();
  });
  return s;
}
