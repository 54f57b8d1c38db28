import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('applies defaults and resolves DATA_DIR', () => {
    const c = loadConfig({ DATA_DIR: '/tmp/x' });
    assert.equal(c.PORT, 8080);
    assert.equal(c.dataDir, '/tmp/x');
    assert.equal(c.exportDir, '/tmp/x/exports');
    assert.equal(c.DB_POOL_MAX, 8);
    assert.ok(Object.isFrozen(c));
  });

  it('names every bad setting and what is wrong with it', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty', TIMEZONE: 'Mars/Olympus', CURRENCY: 'XYZ', LOG_LEVEL: 'loud', DB_POOL_MAX: '1' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const text = err.problems.join('\n');
        for (const key of ['PORT', 'TIMEZONE', 'CURRENCY', 'LOG_LEVEL', 'DB_POOL_MAX']) assert.match(text, new RegExp(`Invalid setting ${key}:`));
        return true;
      },
    );
  });

  it('reads a config file and lets the environment win', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-')), 'store.json');
    fs.writeFileSync(file, JSON.stringify({ PORT: 9001, STORE_NAME: 'From file', CURRENCY: 'jpy' }));
    const c = loadConfig({ CONFIG_FILE: file, PORT: '9002' });
    assert.equal(c.PORT, 9002);
    assert.equal(c.STORE_NAME, 'From file');
    assert.equal(c.CURRENCY, 'JPY');
  });

  it('refuses unknown keys in the config file and a TLS cert without its key', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-')), 'store.json');
    fs.writeFileSync(file, JSON.stringify({ PROT: 1 }));
    assert.throws(() => loadConfig({ CONFIG_FILE: file }), /Invalid setting PROT in CONFIG_FILE/);
    assert.throws(() => loadConfig({ TLS_CERT: '/x.pem' }), /Invalid setting TLS_KEY/);
  });
});
