import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withLedgerDatabase, runsAsSuperuser } from '../../server/head-office/database';
import { startHeadOffice } from '../../server/head-office/main';
import { addStore } from '../../server/head-office/registry';
import { FakeClock } from '../helpers/clock';
import { tempDir, testConfig } from '../helpers/config';
import { HO_SECRET_KEY, makeChain, postBatch } from '../helpers/head-office';
import { testLog } from '../helpers/log';
import { postmastersFor } from '../helpers/spawn';

/**
 * Issue 26: with no DATABASE_URL the head office runs on its own embedded PostgreSQL under its
 * DATA_DIR (server/db/embedded.ts), in a database of its own owned by an ordinary role, so the
 * REVOKE that keeps entries append-only holds for it; a command run beside it attaches to that
 * cluster; stopping the service stops its PostgreSQL.
 */
describe('the head office on its embedded PostgreSQL', function () {
  this.timeout(180_000);
  const dataDir = tempDir('head-office-embedded-');
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('makes its cluster, role and database, takes batches as an ordinary role, and stops its PostgreSQL on stop', async () => {
    const config = testConfig({ DATA_DIR: dataDir, SECRET_KEY: HO_SECRET_KEY });
    const ho = await startHeadOffice(config, { log: testLog });
    const pgDir = path.join(dataDir, 'pg');
    try {
      assert.equal(postmastersFor(pgDir).length, 1);
      assert.equal(await runsAsSuperuser(ho.db), false);
      // `ledger add-store` beside the running service: it attaches to the same cluster
      const secret = await withLedgerDatabase(config, testLog, async (db) => (await addStore(db, new FakeClock(), HO_SECRET_KEY, 'cafe-1')).secret);
      assert.deepEqual(await postBatch(`http://127.0.0.1:${ho.port}`, 'cafe-1', secret, makeChain(25)), { status: 200, body: { ackedThrough: 25 } });
      await assert.rejects(ho.db.raw(`delete from ho_entries where store_id = 'cafe-1'`), (err: { code?: string }) => err.code === '42501');
      assert.equal(fs.statSync(path.join(dataDir, 'ledger-db.password')).mode & 0o777, 0o600);
    } finally {
      await ho.stop();
    }
    assert.deepEqual(postmastersFor(pgDir), [], 'its PostgreSQL stopped with it');
  });
});
