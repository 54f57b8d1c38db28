import assert from 'node:assert/strict';
import { bootApp, type TestApp } from '../helpers/app';
import { pairedClient, PINS } from '../helpers/client';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';

/** Issue 20: the back office was not linked from the terminal or the floor. */
describe('the terminal and floor link the back office for staff who may open it', function () {
  this.timeout(60_000);
  let t: TestDb;
  let app: TestApp;
  before(async () => {
    t = await createTestDb();
    await seedStore(t.db);
    app = await bootApp(t.db);
  });
  after(async () => {
    await app.close();
    await t.drop();
  });

  it('a manager sees Back office on the terminal and the floor, and it opens; a cashier does not see it', async () => {
    const manager = await pairedClient(app, { pin: PINS.manager, name: 'Manager till' });
    for (const page of ['/terminal', '/floor']) {
      assert.match((await manager.get(page, { htmx: false })).text, /<a class="btn" href="\/backoffice" id="to-backoffice">Back office<\/a>/, page);
    }
    assert.equal((await manager.get('/backoffice', { htmx: false })).status, 200);
    const cashier = await pairedClient(app, { pin: PINS.cashier, name: 'Cashier till' });
    for (const page of ['/terminal', '/floor']) assert.doesNotMatch((await cashier.get(page, { htmx: false })).text, /id="to-backoffice"/, page);
  });
});
