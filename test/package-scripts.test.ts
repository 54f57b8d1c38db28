import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { npmStartEnv, npmStartNodeArgs } from '../scripts/bench/server';

const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };

describe('how npm start runs the server', () => {
  it('sets glibc malloc settings for the server, the same in start and start:store', () => {
    const lead = (script: string) => script.slice(0, script.indexOf(' node '));
    assert.equal(lead(pkg.scripts.start), 'MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072');
    assert.equal(lead(pkg.scripts['start:store']), lead(pkg.scripts.start));
  });

  it('the bench starts its server with the same settings, overridable, empty meaning unset', () => {
    assert.deepEqual(npmStartEnv({}), { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' });
    assert.deepEqual(npmStartEnv({ MALLOC_ARENA_MAX: '', MALLOC_MMAP_THRESHOLD_: '65536' }), { MALLOC_MMAP_THRESHOLD_: '65536' });
  });

  it('caps V8\'s young generation at 16 MB semi-spaces, in start and start:store, and the bench does the same', () => {
    // Node 20's default; Node 24 (the appliance's) takes 64 MB ones: 273 → 181 MB under the rush
    const nodeFlags = (script: string) => script.slice(script.indexOf(' node ') + 6, script.indexOf(' --import '));
    assert.equal(nodeFlags(pkg.scripts.start), '--max-semi-space-size=16');
    assert.equal(nodeFlags(pkg.scripts['start:store']), nodeFlags(pkg.scripts.start));
    assert.deepEqual(npmStartNodeArgs(), ['--max-semi-space-size=16']);
  });
});
