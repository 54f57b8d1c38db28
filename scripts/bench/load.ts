/**
 * A closed loop: `workers` concurrent loops each running `once` back to back for a warm-up and a
 * measured window. Rate = iterations completed inside the window / window length.
 */
export interface LoopResult {
  completed: number;
  perSec: number;
  errors: number;
  warmupErrors: number;
  firstError?: string;
  /** latency of the iterations that started and ended inside the window (ms) */
  latencies: number[];
}

export interface LoopWindow {
  /** true while the measured window is open */
  inWindow(t: number): boolean;
  start: number;
  end: number;
}

export async function closedLoop(
  workers: number,
  opts: { warmupMs: number; measureMs: number },
  once: (worker: number, window: LoopWindow) => Promise<void>,
): Promise<LoopResult> {
  const t0 = performance.now();
  const start = t0 + opts.warmupMs;
  const end = start + opts.measureMs;
  const window: LoopWindow = { start, end, inWindow: (t) => t >= start && t < end };
  const r: LoopResult = { completed: 0, perSec: 0, errors: 0, warmupErrors: 0, latencies: [] };
  const loop = async (w: number) => {
    while (performance.now() < end) {
      const began = performance.now();
      try {
        await once(w, window);
        const done = performance.now();
        if (window.inWindow(done)) {
          r.completed++;
          if (began >= start) r.latencies.push(done - began);
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
  r.perSec = r.completed / (opts.measureMs / 1000);
  return r;
}
