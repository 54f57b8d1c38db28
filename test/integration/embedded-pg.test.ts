import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PgCluster } from '../../server/db/embedded';
import { createDb } from '../../server/db/knex';
import { tempDir } from '../helpers/config';
import { testLog } from '../helpers/log';
import { postmastersFor } from '../helpers/spawn';

describe('embedded PostgreSQL', function () {
  this.timeout(120_000);

  it('initialises, keeps data across stop and start, and leaves no process after stop', async () => {
    const dir = path.join(tempDir('store-pg-'), 'pg');
    const cluster = new PgCluster({ dir, log: testLog });
    await cluster.start();
    assert.ok(fs.existsSync(path.join(dir, 'PG_VERSION')));
    let db = createDb(cluster.connectionString(), { poolMax: 1 });
    const [{ server_version }] = (await db.raw('show server_version')).rows;
    assert.match(server_version, /^15\./);
    await db.raw('create table kept (v text)');
    await db('kept').insert({ v: 'survives' });
    await db.destroy();
    await cluster.stop();
    assert.deepEqual(postmastersFor(dir), []);
    assert.equal(cluster.runningPid(), undefined);

    const again = new PgCluster({ dir, log: testLog });
    await again.start();
    db = createDb(again.connectionString(), { poolMax: 1 });
    assert.deepEqual(await db('kept').select('v'), [{ v: 'survives' }]);
    await db.destroy();
    await again.stop();
    assert.deepEqual(postmastersFor(dir), []);
  });

  it('is reached over the Unix socket in its own directory, and over TCP on 127.0.0.1 for other processes', async () => {
    const dir = path.join(tempDir('store-pg-'), 'pg');
    const cluster = new PgCluster({ dir, log: testLog });
    await cluster.start();
    try {
      assert.match(cluster.connectionString(), /\?host=/);
      let db = createDb(cluster.connectionString(), { poolMax: 1 });
      // a Unix-socket connection has no server address
      assert.equal((await db.raw('select inet_server_addr() as a')).rows[0].a, null);
      await db.destroy();
      db = createDb(cluster.tcpConnectionString(), { poolMax: 1 });
      assert.equal((await db.raw('select inet_server_addr() as a')).rows[0].a, '127.0.0.1');
      await db.destroy();
      const mode = fs.statSync(path.join(dir, `.s.PGSQL.${cluster.connectionPort}`)).mode & 0o777;
      assert.equal(mode, 0o700, 'only its owner (and root) may connect through the socket');
    } finally {
      await cluster.stop();
    }
  });

  it('refuses connections without the generated password', async () => {
    const dir = path.join(tempDir('store-pg-'), 'pg');
    const cluster = new PgCluster({ dir, log: testLog });
    await cluster.start();
    try {
      const db = createDb(`postgres://postgres:wrong@127.0.0.1:${cluster.connectionPort}/postgres`, { poolMax: 1 });
      await assert.rejects(db.raw('select 1'), /password authentication failed/);
      await db.destroy();
    } finally {
      await cluster.stop();
    }
  });
});
