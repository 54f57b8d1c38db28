import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'esbuild';
import { buildBinary, ensureBinary } from '../../scripts/build';
import { loadConfig } from '../../server/config';
import { runningClusterUrl } from '../../server/db/database';
import { createDb } from '../../server/db/knex';
import { binaryToken, cashSale, install, installAsync, prefixDir, spawnBinary } from '../helpers/appliance';
import { freePort } from '../../server/db/embedded';
import { testLog } from '../helpers/log';
import { waitForListening } from '../helpers/spawn';

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/**
 * A release whose new migration changes data outside a transaction and then fails: what a bad
 * upgrade does to a store. Built by the real build with one more migration in the bundle.
 */
const failingMigration: Plugin = {
  name: 'failing-migration',
  setup(build) {
    build.onLoad({ filter: /server[\\/]db[\\/]migrations[\\/]index\.ts$/ }, async (args) => {
      const src = await fs.promises.readFile(args.path, 'utf8');
      const extra = `
migrations.push(['9999_fails_halfway', {
  config: { transaction: false },
  async up(knex: Knex) {
    await knex('settings').where({ key: 'storeName' }).update({ value: JSON.stringify('Half-migrated') });
    throw new Error('9999_fails_halfway: this migration fails after changing data');
  },
  async down() {},
}]);
`;
      return { contents: src.replace('export const migrationSource', `${extra}\nexport const migrationSource`), loader: 'ts' };
    });
  },
};

describe('an upgrade whose migration fails (installer/install.sh)', function () {
  this.timeout(600_000);
  let prefix: string;
  let release: string;
  let config: ReturnType<typeof loadConfig> | undefined;

  before(async () => {
    await ensureBinary();
    prefix = prefixDir('store-upgrade-');
    release = prefixDir('store-upgrade-release-');
    await buildBinary({ outDir: release, plugins: [failingMigration] });
  });

  after(async () => {
    // the installer started the previous version in the background: stop it through its pid file
    const pid = config ? Number(fs.readFileSync(path.join(config.dataDir, 'server.pid'), { encoding: 'utf8', flag: 'a+' })) : 0;
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 300; i++) {
          process.kill(pid, 0);
          await new Promise((r) => setTimeout(r, 100));
        }
      } catch {
        // stopped
      }
    }
    fs.rmSync(release, { recursive: true, force: true });
    fs.rmSync(prefix, { recursive: true, force: true });
  });

  it('comes back on the previous binary with the data as it was', async () => {
    const port = await freePort();
    const first = install(['--prefix', prefix, '--no-systemd', '--port', String(port)]);
    assert.equal(first.code, 0, first.out);
    const configFile = path.join(prefix, 'etc/store-server/config');
    const cfg = loadConfig({ CONFIG_FILE: configFile });
    config = cfg;
    const exe = path.join(prefix, 'opt/store-server/store-server');
    const previous = sha(exe);

    // the installed version runs and sells
    const env = { CONFIG_FILE: configFile };
    const seeded = spawnBinary(exe, ['seed-demo', '--config', configFile], {});
    assert.equal(await seeded.exited, 0, seeded.output());
    const token = binaryToken(exe, env);
    const running = spawnBinary(exe, ['start', '--config', configFile], {});
    const url = await waitForListening(running);
    const sold = await cashSale(url, token);

    // the bad upgrade: stop, back up, replace, migrate (fails), put back, start the previous one
    const up = await installAsync(['--prefix', prefix, '--no-systemd', '--from', release]);
    assert.equal(await running.exited, 0, 'the installer stopped the running server cleanly');
    assert.equal(up.code, 1, up.out);
    assert.match(up.out, /9999_fails_halfway: this migration fails after changing data/);
    assert.match(up.out, /the migration FAILED: putting back the previous program and the data as they were/);
    assert.equal(sha(exe), previous, 'the previous binary is back');

    // the previous version runs again (the installer started it), on the data as it was
    let health = 0;
    for (let i = 0; i < 600 && health !== 200; i++) {
      health = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0);
      if (health !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(health, 200, 'the previous version answers');
    const db = createDb(runningClusterUrl(cfg, testLog)!, { poolMax: 1 });
    try {
      const names = (await db('knex_migrations').select('name')).map((r) => r.name as string);
      assert.equal(names.includes('9999_fails_halfway'), false);
      const store = await db('settings').where({ key: 'storeName' }).first('value');
      assert.notEqual(store.value, 'Half-migrated', 'the half-done change was undone with the data');
      const order = await db('orders').where({ id: sold.id }).first('status', 'total');
      assert.deepEqual(order, { status: 'paid', total: sold.total }, 'the sale made before the upgrade is there');
    } finally {
      await db.destroy();
    }
  });
});
