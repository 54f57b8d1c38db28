/**
 * What the bench is told by its environment. Defaults are sized so the whole bench takes about
 * 5–10 minutes on a 2-core box.
 */
export const SECTIONS = ['coldstart', 'rush', 'tables', 'kitchen', 'api', 'scan', 'floor', 'ledger', 'reports'] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchConfig {
  /** how many times each figure is measured; the table shows the median and the spread */
  runs: number;
  /** the measured window of one load run, in seconds */
  seconds: number;
  /** load before the measured window, not counted */
  warmupSeconds: number;
  /**
   * load once before the first rush run, not counted: V8 compiles the server's hot code in the
   * background during its first tens of seconds under load (a store server then runs all day)
   */
  jitWarmupSeconds: number;
  /** concurrency levels of the rush and the floor */
  terminals: number[];
  /** waiters of the table service, each seating a table of their own */
  waiters: number[];
  /** the concurrency at which the footprint (RSS) is sampled and the latency aim applies */
  aimTerminals: number;
  /** socket.io kitchen clients for the kitchen push */
  kitchenClients: number;
  /** sends per kitchen-push run */
  kitchenSends: number;
  /** which sections run (BENCH_ONLY); every one by default */
  sections: Set<Section>;
  /** the server's LOG_LEVEL (warn: no per-request log line) */
  serverLogLevel: string;
  /** also send the requests a browser makes around the htmx steps (page load after HX-Redirect, options dialog) */
  fullBrowser: boolean;
  /** where the report goes; empty: print only */
  outFile: string;
  /** a path prefix: each rush writes every request of its window to <prefix>-<N>-terminals.tsv (empty: none) */
  trace: string;
}

function int(env: NodeJS.ProcessEnv, key: string, dflt: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${key} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  return n;
}

export function benchConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const terminals = (env.BENCH_TERMINALS || '10,50,200').split(',').map((s) => Number(s.trim()));
  if (!terminals.length || terminals.some((n) => !Number.isInteger(n) || n < 1 || n > 1000)) {
    throw new Error(`BENCH_TERMINALS must be a comma-separated list of whole numbers from 1 to 1000 (got ${JSON.stringify(env.BENCH_TERMINALS)})`);
  }
  const waiters = (env.BENCH_WAITERS || '10,30').split(',').map((s) => Number(s.trim()));
  if (!waiters.length || waiters.some((n) => !Number.isInteger(n) || n < 1 || n > 1000)) {
    throw new Error(`BENCH_WAITERS must be a comma-separated list of whole numbers from 1 to 1000 (got ${JSON.stringify(env.BENCH_WAITERS)})`);
  }
  const only = (env.BENCH_ONLY || '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of only) {
    if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`BENCH_ONLY: unknown section ${s} (known: ${SECTIONS.join(', ')})`);
  }
  const aim = int(env, 'BENCH_AIM_TERMINALS', 50, 1, 1000);
  return {
    runs: int(env, 'BENCH_RUNS', 3, 1, 50),
    seconds: int(env, 'BENCH_SECONDS', 8, 1, 3600),
    warmupSeconds: int(env, 'BENCH_WARMUP', 2, 0, 600),
    jitWarmupSeconds: int(env, 'BENCH_JIT_WARMUP', 20, 0, 600),
    terminals,
    waiters,
    aimTerminals: terminals.includes(aim) ? aim : terminals[Math.min(1, terminals.length - 1)],
    kitchenClients: int(env, 'BENCH_KITCHEN_CLIENTS', 30, 1, 500),
    kitchenSends: int(env, 'BENCH_KITCHEN_SENDS', 30, 1, 10_000),
    sections: new Set<Section>(only.length ? (only as Section[]) : SECTIONS),
    serverLogLevel: env.BENCH_LOG_LEVEL || 'warn',
    fullBrowser: env.BENCH_FULL_BROWSER === '1',
    outFile: env.BENCH_OUT ?? 'docs/PERFORMANCE.md',
    trace: env.BENCH_TRACE ?? '',
  };
}
