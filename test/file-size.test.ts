import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const MAX_LINES = 450;

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** ARCHITECTURE: a service is split by capability when it grows past ~400 lines. */
describe('the size of the server\'s source files', () => {
  it(`keeps every non-test .ts file under server/ at ${MAX_LINES} lines or fewer`, () => {
    const root = path.join(__dirname, '..', 'server');
    const over = sources(root)
      .map((f) => ({ file: path.relative(root, f), lines: fs.readFileSync(f, 'utf8').split('\n').length }))
      .filter((f) => f.lines > MAX_LINES)
      .map((f) => `server/${f.file}: ${f.lines} lines`);
    assert.deepEqual(over, []);
  });
});
