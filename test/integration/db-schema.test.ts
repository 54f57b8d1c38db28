import assert from 'node:assert/strict';
import { createTestDb, type TestDb } from '../helpers/pg';

describe('the schema', function () {
  this.timeout(60_000);
  let t: TestDb;
  before(async () => {
    t = await createTestDb();
  });
  after(() => t.drop());

  it('leaves room on the pages of the rows a sale rewrites, so updates stay in place (fillfactor)', async () => {
    const res = await t.db.raw(
      "select relname, reloptions from pg_class where relname in ('orders', 'order_lines', 'order_counters', 'order_sends') and relkind = 'r'",
    );
    const fill = Object.fromEntries(res.rows.map((r: { relname: string; reloptions: string[] | null }) => [r.relname, r.reloptions?.find((o) => o.startsWith('fillfactor='))]));
    assert.deepEqual(fill, { orders: 'fillfactor=70', order_lines: 'fillfactor=80', order_counters: 'fillfactor=50', order_sends: 'fillfactor=50' });
  });

  it('sends no change notices: the triggers and functions of migrations 0010 and 0011 are gone', async () => {
    const fns = await t.db.raw("select proname from pg_proc where proname in ('notify_auth_changed', 'notify_catalog_changed')");
    assert.deepEqual(fns.rows, []);
    const triggers = await t.db.raw("select tgname from pg_trigger where not tgisinternal and (tgname like '%_auth_changed' or tgname like '%_catalog_changed' or tgname in ('sessions_auth_removed', 'settings_changed', 'settings_truncated'))");
    assert.deepEqual(triggers.rows, []);
  });
});
