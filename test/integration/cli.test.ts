import assert from 'node:assert/strict';
import { spawnCli } from '../helpers/spawn';
import { tempDir } from '../helpers/config';
import { testCluster } from '../helpers/pg';
import { createTestDb } from '../helpers/pg';

describe('the command line', () => {
  it('exits 2 with one line naming an invalid setting', async () => {
    const s = spawnCli(['start'], { DATA_DIR: tempDir(), PORT: '99999' });
    assert.equal(await s.exited, 2);
    assert.match(s.output(), /^Invalid setting PORT: must be 0–65535 \(got "99999"\)$/m);
  });

  it('exits 2 on an unknown command and prints the usage', async () => {
    const s = spawnCli(['frobnicate'], {});
    assert.equal(await s.exited, 2);
    assert.match(s.output(), /unknown command: frobnicate/);
    assert.match(s.output(), /usage: store-server/);
  });

  it('prints the version', async () => {
    const s = spawnCli(['version'], {});
    assert.equal(await s.exited, 0);
    assert.match(s.output(), /^store-server \d+\.\d+\.\d+/);
  });

  it('migrates and seeds the demo through DATABASE_URL, once', async () => {
    assert.ok(testCluster());
    const t = await createTestDb({ empty: true });
    try {
      const env = { DATA_DIR: tempDir(), DATABASE_URL: t.url, LOG_LEVEL: 'warn' };
      const m = spawnCli(['migrate'], env);
      assert.equal(await m.exited, 0, m.output());
      assert.match(m.output(), /applied 0001_settings/);
      const s1 = spawnCli(['seed-demo'], env);
      assert.equal(await s1.exited, 0, s1.output());
      assert.match(s1.output(), /1111 +Olivia/);
      const s2 = spawnCli(['seed-demo'], env);
      assert.equal(await s2.exited, 0, s2.output());
      assert.match(s2.output(), /nothing seeded/);
      const [{ count }] = await t.db('products').count<{ count: string }[]>('* as count');
      assert.equal(Number(count), 50);
    } finally {
      await t.drop();
    }
  });
});
