import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/config';
import { waitForListening } from '../helpers/spawn';
import { installedBinary, postmasterPid, processTree, spawnBinary, stillRunning } from '../helpers/appliance';

const ROOT = path.resolve(__dirname, '../..');

/**
 * The unit stops the server with KillMode=mixed: systemd sends SIGTERM to the server's main
 * process only, and the server stops its own PostgreSQL (whose postmaster runs in a session of its
 * own, out of the server's process group). This is that stop, done by hand on the binary.
 */
describe('stopping the binary as its systemd unit does (KillMode=mixed)', function () {
  this.timeout(240_000);
  let dir: string;
  let exe: string;
  const dataDir = tempDir('store-killmode-');
  let pg: number[] = [];

  before(async () => {
    ({ dir, exe } = await installedBinary('store-killmode-bin-'));
  });

  after(() => {
    // a failed stop leaves PostgreSQL running: stop it here (immediate shutdown), not for ever
    for (const pid of stillRunning(pg)) process.kill(pid, 'SIGQUIT');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('the unit says KillMode=mixed and SIGTERM', () => {
    const unit = fs.readFileSync(path.join(ROOT, 'installer', 'store-server.service'), 'utf8');
    assert.match(unit, /^KillMode=mixed$/m);
    assert.match(unit, /^KillSignal=SIGTERM$/m);
  });

  it('SIGTERM to the server\'s PID only: no postgres process remains and PostgreSQL logged a fast shutdown', async () => {
    const s = spawnBinary(exe, ['start'], { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' });
    try {
      await waitForListening(s);
      const postmaster = postmasterPid(dataDir);
      pg = processTree(postmaster);
      assert.ok(pg.length > 1, 'the postmaster and its workers run');
      assert.equal(processTree(s.child.pid!).includes(postmaster), false, 'the postmaster is not under the server: only the server itself can stop it');
    } catch (err) {
      s.child.kill('SIGKILL');
      throw err;
    }
    process.kill(s.child.pid!, 'SIGTERM'); // the main process only, as KillMode=mixed does
    assert.equal(await s.exited, 0, s.output());
    assert.deepEqual(stillRunning(pg), [], 'no postgres process remains');
    const log = fs.readFileSync(path.join(dataDir, 'pg', 'startup.log'), 'utf8');
    assert.match(log, /received fast shutdown request/);
    assert.match(log, /database system is shut down/);
  });
});
