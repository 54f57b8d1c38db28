import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Issue 19 took out the sale core's second paths, its caches trusted for writes, the private
 * internals of pg and knex it leaned on, and the process tuning. This keeps them out: none of
 * the files, and no source mentions them. The benchmark is left out of the scan on purpose: it
 * starts an older commit the way that commit was started, flags and all, to measure the change.
 */
const ROOT = path.resolve(__dirname, '..');

const REMOVED_FILES = [
  'server/orders/memory.ts', 'server/auth/cache.ts', 'server/db/direct.ts', 'server/db/round-trips.ts', 'server/db/write-all.ts',
  'server/db/per-database.ts', 'server/cpu-layout.ts', 'server/heap.ts',
];

/** What may not appear in the sources: private internals, the removed modules, process tuning. */
export const FORBIDDEN: Array<[RegExp, string]> = [
  [/\b_getRows\b/, "pg's private _getRows"],
  [/_result\._parsers/, "pg's private result parsers"],
  [/__knex/, "knex's private __knexTxId and friends"],
  [/(orders\/memory|auth\/cache|db\/direct|db\/round-trips|db\/write-all|db\/per-database|cpu-layout|\/heap)['"]/, 'an import of a removed module'],
  [/MALLOC_[A-Z_]+/, 'a glibc malloc setting'],
  [/--max-semi-space-size|--heap-growing-percent|allocation-site-pretenuring|setFlagsFromString/, 'a V8 flag'],
  [/\btaskset\b/, 'CPU pinning'],
];

function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules') walk(p);
      } else if (/\.(ts|js|cjs|mjs|json|sh)$/.test(e.name) || e.name === 'run') out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Every (file, what) where a forbidden thing appears in `files` (path → text). */
export function findForbidden(files: Map<string, string>): Array<{ file: string; what: string }> {
  const hits: Array<{ file: string; what: string }> = [];
  for (const [file, text] of files) for (const [re, what] of FORBIDDEN) if (re.test(text)) hits.push({ file, what });
  return hits;
}

describe('the machinery issue 19 removed stays removed', () => {
  it('none of the removed files exists', () => {
    assert.deepEqual(REMOVED_FILES.filter((f) => fs.existsSync(path.join(ROOT, f))), []);
  });

  it('no source, script, test, package.json, README or CI script mentions their internals, modules or tuning', () => {
    const files = [
      ...sources(path.join(ROOT, 'server')), ...sources(path.join(ROOT, 'drivers')), ...sources(path.join(ROOT, '.ci')),
      ...sources(path.join(ROOT, 'test')).filter((f) => !/bench-|removed-machinery/.test(path.basename(f))),
      ...sources(path.join(ROOT, 'scripts')).filter((f) => !f.includes(`${path.sep}bench${path.sep}`)),
      path.join(ROOT, 'package.json'), path.join(ROOT, 'README.md'),
    ];
    const hits = findForbidden(new Map(files.map((f) => [path.relative(ROOT, f), fs.readFileSync(f, 'utf8')])));
    assert.deepEqual(hits, []);
  });

  it('the scan finds each of them when it is there', () => {
    const planted = new Map([
      ['a.ts', 'const rows = result._getRows();'],
      ['b.ts', 'const p = res._result._parsers;'],
      ['c.ts', 'if (trx.__knexTxId) {}'],
      ['d.ts', "import { query } from '../db/direct';"],
      ['e.json', '{ "start": "MALLOC_ARENA_MAX=2 node server.js" }'],
      ['f.ts', "v8.setFlagsFromString('--no-allocation-site-pretenuring');"],
      ['g.ts', "spawnSync('taskset', ['-c', '0', pid]);"],
      ['h.ts', "import { orderMemory } from './orders/memory';"],
    ]);
    assert.deepEqual(findForbidden(planted).map((h) => h.file).sort(), ['a.ts', 'b.ts', 'c.ts', 'd.ts', 'e.json', 'f.ts', 'g.ts', 'h.ts']);
    assert.deepEqual(findForbidden(new Map([['ok.ts', "import { db } from '../db/knex'; // a heap of orders"]])), []);
  });
});
