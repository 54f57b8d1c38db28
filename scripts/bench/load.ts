/**
 * A closed loop: `workers` concurrent loops each running `once` back to back for a warm-up and a
 * measured window. Rate = iterations completed inside the window / window length; or, when one
 * iteration lasts longer than a third of the window (so few iterations both start and end in it,
 * and they finish in waves), units of progress inside the window / units per iteration / window.
 */
export interface LoopResult {
  completed: number;
  perSec: number;
  method: 'completed' | 'progress';
  errors: number;
  warmupErrors: number;
  firstError?: string;
  /** latency of the iterations that ended inside the window (ms) */
  latencies: number[];
}

export interface LoopWindow {
  /** true while the measured window is open */
  inWindow(t: number): boolean;
  start: number;
  end: number;
}

export type Iteration = (worker: number, window: LoopWindow, tick: () => void) => Promise<void>;

export async function closedLoop(
  workers: number,
  opts: {
    warmupMs: number;
    measureMs: number;
    unitsPerIteration?: number;
    /** before the clock starts: take a worker part way into its first iteration and return the rest of it */
    prepare?: (worker: number) => Promise<Iteration | undefined>;
  },
  once: Iteration,
): Promise<LoopResult> {
  const rest = new Map<number, Iteration>();
  if (opts.prepare) {
    let next = 0;
    const prep = async () => {
      for (let w = next++; w < workers; w = next++) {
        const r = await opts.prepare!(w);
        if (r) rest.set(w, r);
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, workers) }, prep));
  }
  const t0 = performance.now();
  const start = t0 + opts.warmupMs;
  const end = start + opts.measureMs;
  const window: LoopWindow = { start, end, inWindow: (t) => t >= start && t < end };
  const r: LoopResult = { completed: 0, perSec: 0, method: 'completed', errors: 0, warmupErrors: 0, latencies: [] };
  let units = 0;
  const tick = () => {
    if (window.inWindow(performance.now())) units++;
  };
  const loop = async (w: number) => {
    let first = rest.get(w);
    while (performance.now() < end) {
      const began = performance.now();
      const partial = Boolean(first);
      const run = first ?? once;
      first = undefined;
      try {
        await run(w, window, tick);
        const done = performance.now();
        if (window.inWindow(done)) {
          r.completed++;
          if (!partial) r.latencies.push(done - began);
        }
      } catch (err) {
        const now = performance.now();
        if (now < start) r.warmupErrors++;
        else if (now < end) r.errors++;
        r.firstError ??= (err as Error).message;
        await new Promise((res) => setTimeout(res, 5));
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, w) => loop(w)));
  const seconds = opts.measureMs / 1000;
  r.perSec = r.completed / seconds;
  if (opts.unitsPerIteration) {
    const fromUnits = units / opts.unitsPerIteration / seconds;
    if (workers / Math.max(fromUnits, 1e-9) > seconds / 3) {
      r.method = 'progress';
      r.perSec = fromUnits;
    }
  }
  return r;
}
