import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { configFromArgs, DEFAULT_CONFIG_FILE, loadConfig, parseConfigFile } from '../../server/config';
import { tempDir } from '../helpers/config';

describe('the config file the installer writes (KEY=value) and --config FILE', () => {
  it('reads KEY=value lines: comments, blank lines, quotes, export', () => {
    assert.deepEqual(parseConfigFile('# a comment\n\nDATA_DIR=/var/lib/store-server\nexport PORT=443\nSTORE_NAME="Café Nord"\nLOG_LEVEL=\'warn\'\n'), {
      DATA_DIR: '/var/lib/store-server', PORT: '443', STORE_NAME: 'Café Nord', LOG_LEVEL: 'warn',
    });
    assert.deepEqual(parseConfigFile('{"PORT": 8081}'), { PORT: 8081 }, 'JSON still works');
    assert.throws(() => parseConfigFile('DATA_DIR=/x\nnot a setting\n'), /line 2 is not KEY=value/);
  });

  it('--config FILE is taken out of the arguments and read; the environment wins over it', () => {
    const dir = tempDir('store-config-');
    try {
      const file = path.join(dir, 'config');
      fs.writeFileSync(file, `DATA_DIR=${dir}/data\nPORT=9000\nSECRET_KEY=${'s'.repeat(40)}\n`);
      const given = configFromArgs(['start', '--config', file, '--demo'], { LOG_LEVEL: 'warn' }, false);
      assert.deepEqual(given.args, ['start', '--demo']);
      const cfg = loadConfig(given.env);
      assert.equal(cfg.dataDir, `${dir}/data`);
      assert.equal(cfg.PORT, 9000);
      assert.equal(cfg.LOG_LEVEL, 'warn');
      assert.equal(loadConfig(configFromArgs([`--config=${file}`], { PORT: '7000' }, false).env).PORT, 7000, 'the environment wins');
      const wrong = configFromArgs(['start', '--config', path.join(dir, 'missing')], {}, false);
      assert.throws(() => loadConfig(wrong.env), /cannot read .*missing/);
      fs.writeFileSync(file, 'NOT_A_SETTING=1\n');
      assert.throws(() => loadConfig(configFromArgs(['--config', file], {}, false).env), /Invalid setting NOT_A_SETTING/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('only the packaged binary falls back to /etc/store-server/config, and only when it exists', () => {
    const fromSource = configFromArgs(['start'], {}, false);
    assert.equal(fromSource.env.CONFIG_FILE, undefined);
    const packaged = configFromArgs(['start'], {}, true);
    assert.equal(packaged.env.CONFIG_FILE, fs.existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
    assert.equal(configFromArgs(['start'], { CONFIG_FILE: '/x' }, true).env.CONFIG_FILE, '/x', 'CONFIG_FILE as set wins');
  });
});
