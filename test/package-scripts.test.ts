import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };

describe('how npm start runs the server', () => {
  // no process tuning outside the code (ARCHITECTURE, "Performance budget"; issue 19): the
  // appliance binary would not get it, and it surprised whoever started the server another way
  it('start and start:store run the CLI with nothing in front of it', () => {
    assert.equal(pkg.scripts.start, 'node --import tsx server/cli.ts start --demo');
    assert.equal(pkg.scripts['start:store'], 'node --import tsx server/cli.ts start');
  });

  it('no script sets an environment variable or gives node a flag beyond loading tsx', () => {
    for (const [name, script] of Object.entries(pkg.scripts)) {
      const words = script.split(/\s+/);
      assert.deepEqual(words.filter((w) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(w)), [], `${name}: ${script}`);
      const node = words.indexOf('node');
      if (node < 0) continue;
      const flags = words.slice(node + 1, words.findIndex((w, i) => i > node && !w.startsWith('-') && words[i - 1] !== '--import'));
      assert.deepEqual(flags, ['--import', 'tsx'], `${name}: ${script}`);
    }
  });
});
