import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { npmStartWords } from '../scripts/bench/server';
import { formFields } from '../scripts/bench/store';

const ROOT = path.resolve(__dirname, '..');

/**
 * The bench's wiring, not its figures: a quick pass with 2 terminals on a real server must
 * complete a sale on each terminal in every load and produce every figure; a "before" commit that
 * does not exist is reported and skipped. No timing is asserted.
 */
/** What this test reads of the bench's figures.json. */
interface BenchFigures {
  now: {
    failed: Record<string, unknown>;
    paced: { salesPerTerminal: number[]; errors: Record<string, number>; taps: Record<string, { n: number } | undefined>; all: { p99: number }; rssMaxBytes: number };
    saturated: Record<string, { completed: number; errors: Record<string, number> }>;
    sqlPerSale: { statements: number; requests: number };
    floor: Record<string, { replayed: number; errors: number; paid: number }>;
    kitchen: { n: number; missing: number };
    coldStartMs: number[];
  };
  before: { missing: string };
}

describe('npm run bench, a 2-terminal quick pass', function () {
  this.timeout(300_000);
  let dir: string;
  let figures: BenchFigures;
  let doc: string;
  let stdout = '';
  let stderr = '';

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-test-'));
    const out = path.join(dir, 'PERFORMANCE.md');
    // a document from before: its hand-written history must survive the run
    fs.writeFileSync(out, '# Performance\n\nold generated table\n\n## Before and after\n\nhand-written history stays\n');
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BENCH_')));
    Object.assign(env, {
      BENCH_QUICK: '1',
      BENCH_BASE_REF: 'bench-test-no-such-ref',
      BENCH_PACED_TERMINALS: '2',
      BENCH_PACED_SALE_SECONDS: '2',
      BENCH_PACED_WARMUP: '0',
      BENCH_PACED_SECONDS: '5',
      BENCH_SATURATED_TERMINALS: '2',
      BENCH_SATURATED_WARMUP: '0',
      BENCH_SATURATED_SECONDS: '2',
      BENCH_JIT_WARMUP: '0',
      BENCH_FLOOR_WARMUP: '0',
      BENCH_FLOOR_SECONDS: '1',
      BENCH_KITCHEN_CLIENTS: '2',
      BENCH_KITCHEN_SENDS: '2',
      BENCH_COLD_STARTS: '1',
      BENCH_OUT: out,
      BENCH_JSON: path.join(dir, 'figures.json'),
    });
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench/run.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, `the bench failed:\n${stderr.slice(-4000)}`);
    figures = JSON.parse(fs.readFileSync(path.join(dir, 'figures.json'), 'utf8')) as BenchFigures;
    doc = fs.readFileSync(out, 'utf8');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('paced: each terminal completes a sale, and every tap kind has latencies', () => {
    const p = figures.now.paced;
    assert.deepEqual(figures.now.failed, {});
    assert.equal(p.salesPerTerminal.length, 2);
    assert.ok(p.salesPerTerminal.every((n: number) => n >= 1), `sales per terminal: ${p.salesPerTerminal}`);
    assert.deepEqual(p.errors, {});
    for (const tap of ['open', 'line', 'send', 'pay', 'tender', 'receipt']) assert.ok((p.taps[tap]?.n ?? 0) > 0, `no ${tap} taps`);
    assert.ok(Number.isFinite(p.all.p99));
    assert.ok(p.rssMaxBytes > 0);
  });

  it('saturated and the SQL floor: sales on both, and the replay pays one order per replayed sale', () => {
    assert.ok(figures.now.saturated['2'].completed >= 1);
    assert.deepEqual(figures.now.saturated['2'].errors, {});
    assert.ok(figures.now.sqlPerSale.statements > 0);
    assert.equal(figures.now.sqlPerSale.requests, 9);
    const f = figures.now.floor['2'];
    assert.ok(f.replayed >= 1);
    assert.equal(f.errors, 0);
    assert.equal(f.paid, f.replayed);
  });

  it('kitchen push reaches every screen, and the cold start is timed', () => {
    assert.equal(figures.now.kitchen.n, 4);
    assert.equal(figures.now.kitchen.missing, 0);
    assert.equal(figures.now.coldStartMs.length, 1);
  });

  it('a base ref that does not exist is said and skipped', () => {
    assert.match(figures.before.missing, /bench-test-no-such-ref could not start/);
    assert.match(stdout, /"before" server was not measured/);
    assert.match(doc, /BENCH_BASE_REF=bench-test-no-such-ref COULD NOT START/);
  });

  it('writes the document: the note on history, the table with every figure, the history kept', () => {
    assert.match(doc, /^# Performance\n/);
    assert.match(doc, /tuning history at the end of this file is history/);
    for (const figure of ['Every tap (p50 / p95 / p99)', 'Server RSS under this load', 'complete sales/s', 'the same SQL straight through pg', 'saturated ÷ floor', 'Kitchen push', 'first 200 from /healthz']) {
      assert.ok(doc.includes(figure), `no row "${figure}"`);
    }
    assert.doesNotMatch(doc, /old generated table/);
    assert.match(doc, /\n## Tuning history \(before issue 19\)\n\nhand-written history stays\n$/);
  });
});

describe('the bench\'s helpers', () => {
  it('reads a form as a browser submits it', () => {
    const html = `<form id="other"><input name="x" value="no"></form>
      <form method="post" id="settings-form"><input type="hidden" name="_csrf" value="t0k">
      <label>Name <input name="storeName" value="Caf&#233; &amp; Bar" required></label>
      <input type="checkbox" name="on" checked> <input type="checkbox" name="off">
      <textarea name="notes">
line 1
line 2</textarea>
      <select name="tz"><option value="a">A</option><option value="b" selected>B</option></select>
      <input name="idleLockSeconds" value="300"><button>Save</button></form>`;
    assert.deepEqual(formFields(html, 'settings-form'), [
      ['_csrf', 't0k'], ['storeName', 'Café & Bar'], ['on', 'on'], ['notes', 'line 1\nline 2'], ['tz', 'b'], ['idleLockSeconds', '300'],
    ]);
  });

  it('starts a tree\'s server as its npm start script does', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-words-'));
    try {
      const write = (start: string) => fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ scripts: { start } }));
      write('MALLOC_ARENA_MAX=2 node --max-semi-space-size=16 --import tsx server/cli.ts start --demo');
      assert.deepEqual(npmStartWords(dir), { env: { MALLOC_ARENA_MAX: '2' }, nodeArgs: ['--max-semi-space-size=16'] });
      write('node --import tsx server/cli.ts start --demo');
      assert.deepEqual(npmStartWords(dir), { env: {}, nodeArgs: [] });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
