import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/config';
import { needRoot } from '../helpers/tools';
import { waitForListening } from '../helpers/spawn';
import { binaryToken, cashSale, installedBinary, postmasterPid, processTree, runBinary, spawnBinary, stillRunning } from '../helpers/appliance';

const ROOT = path.resolve(__dirname, '../..');

describe('the packaged binary (dist/store-server) away from the source tree', function () {
  this.timeout(300_000);
  let dir: string;
  let exe: string;
  let dataDir: string;
  let tree: number[] = [];

  before(async () => {
    ({ dir, exe } = await installedBinary('store-binary-'));
    dataDir = tempDir('store-binary-data-');
  });

  after(() => {
    // a failed stop leaves processes behind: stop them here, not for ever
    for (const pid of stillRunning(tree)) process.kill(pid, 'SIGQUIT');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('is one executable that carries its own Node 24, not a script for the machine\'s node', () => {
    assert.ok(path.relative(ROOT, dir).startsWith('..'), 'the copy is outside the repository');
    assert.equal(fs.existsSync(path.join(dir, 'views')), false, 'no views folder beside it: they are inside');
    const r = runBinary(exe, ['version'], {});
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^store-server \d+\.\d+\.\d+ \(Node v24\.\d+\.\d+, single executable\)/);
    const js = runBinary(exe, ['--help'], {});
    assert.match(js.out, /backup/, 'the usage lists backup');
  });

  it('names the folder and the fix when, started as root, its PostgreSQL cannot reach DATA_DIR', function () {
    needRoot(this);
    const closed = tempDir('store-binary-closed-'); // 0700, owned by root: the postgres user cannot enter it
    try {
      const r = runBinary(exe, ['migrate'], { DATA_DIR: path.join(closed, 'data') });
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, new RegExp(`cannot enter ${closed} \\(mode 0700`));
      assert.match(r.out, /Fix: run the server as an ordinary user/);
      assert.match(r.out, new RegExp(`chmod o\\+x ${closed}`));
    } finally {
      fs.rmSync(closed, { recursive: true, force: true });
    }
  });

  it('starts on a temporary data dir, answers /healthz, sells one cash sale over HTTP, verifies its journal and stops leaving no process', async () => {
    const env = { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' };
    const seeded = runBinary(exe, ['seed-demo'], env);
    assert.equal(seeded.code, 0, seeded.out);
    const token = binaryToken(exe, env);

    const s = spawnBinary(exe, ['start'], env);
    try {
      const url = await waitForListening(s);
      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
      assert.equal((await health.json()).db, 'ok');
      const page = await fetch(`${url}/pair`); // a page: the views inside the binary
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<form/);
      const htmx = await fetch(`${url}/vendor/htmx.min.js`);
      assert.equal(htmx.status, 200);
      assert.ok((await htmx.text()).length > 10_000);
      const css = await fetch(`${url}/static/css/app.css`);
      assert.equal(css.status, 200, 'a static file inside the binary');

      const order = await cashSale(url, token);
      assert.equal(order.status, 'paid');

      tree = [...processTree(s.child.pid!), ...processTree(postmasterPid(dataDir))];
      assert.ok(tree.length > 2, `the server and its PostgreSQL run: ${tree}`);
    } finally {
      s.child.kill('SIGTERM');
    }
    assert.equal(await s.exited, 0, s.output());
    assert.match(s.output(), /embedded PostgreSQL stopped/);
    assert.deepEqual(stillRunning(tree), [], 'no process of the server or its PostgreSQL is left');

    // the configuration from a file (as the unit gives it), nothing in the environment
    const configFile = path.join(dir, 'config');
    fs.writeFileSync(configFile, `# as installer/config.template writes it\nDATA_DIR=${dataDir}\nLOG_LEVEL="warn"\n`);
    const verify = runBinary(exe, ['journal-verify', '--config', configFile], {});
    assert.equal(verify.code, 0, verify.out);
    assert.match(verify.out, /journal OK: [1-9]\d* entries, chain intact/);
  });
});
