import assert from 'node:assert/strict';
import path from 'node:path';
import { buildBundle } from '../../scripts/build';
import { tempDir } from '../helpers/config';
import { postmastersFor, spawnCli, waitForListening } from '../helpers/spawn';

describe('the bundle npm run build makes (dist/store-server.cjs)', function () {
  this.timeout(180_000);

  it('serves the demo store with its pages and static files, and stops cleanly with its PostgreSQL', async () => {
    const bundle = await buildBundle();
    const dataDir = tempDir('store-bundle-');
    const s = spawnCli(['start', '--demo'], { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' }, { bundle });
    try {
      const url = await waitForListening(s);
      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
      assert.equal((await health.json()).db, 'ok');
      const pair = await fetch(`${url}/pair`); // a page: the views were found beside the bundle
      assert.equal(pair.status, 200);
      assert.match(await pair.text(), /<form/);
      const htmx = await fetch(`${url}/vendor/htmx.min.js`);
      assert.equal(htmx.status, 200);
      assert.ok((await htmx.text()).length > 10_000);
      assert.equal(postmastersFor(path.join(dataDir, 'pg')).length, 1);
    } finally {
      s.child.kill('SIGTERM');
    }
    assert.equal(await s.exited, 0, s.output());
    assert.deepEqual(postmastersFor(path.join(dataDir, 'pg')), [], 'PostgreSQL stopped with the server');
  });
});
