import v8 from 'node:v8';

/**
 * How far V8 lets the old generation grow past what the last full collection left alive before it
 * collects again. V8's own choice went up to about 4×: the live heap is about 30 MB, yet under a
 * 50-terminal rush the server's memory peaked at 220–256 MB from source. At 2× (100 %) it peaked at
 * about 200 MB with the same throughput (docs/PERFORMANCE.md). Only the point at which a full
 * collection starts changes: the heap still grows as far as the live data needs.
 */
export const HEAP_GROWING_PERCENT = 100;

/**
 * The server's V8 settings. V8 consults both while it runs, so setting them once at start works
 * (measured: the same effect as on node's command line); NODE_OPTIONS refuses both. One named on
 * node's own command line wins over ours.
 *
 * - `--heap-growing-percent`: above.
 * - `--no-allocation-site-pretenuring`: V8 watches what share of the objects made at each place in
 *   the code are still alive at a young collection, and past a threshold it makes that place's
 *   objects in the old generation from then on, where only a full collection frees them. Under a
 *   rush a request lives about 35 ms and young collections come every ~55 ms, so the order views and
 *   pages of requests in flight were caught alive often enough: the old generation grew 10 MB/s at
 *   50 terminals, a full collection every 2–3 s, each the start of a burst of slow answers. Without
 *   it, 2 MB/s and one every ~10 s (docs/PERFORMANCE.md). What does live long is still promoted
 *   after surviving two young collections.
 */
const SETTINGS: ReadonlyArray<{ flag: string; named: RegExp }> = [
  { flag: `--heap-growing-percent=${HEAP_GROWING_PERCENT}`, named: /^--heap[-_]growing[-_]percent\b/ },
  { flag: '--no-allocation-site-pretenuring', named: /^--(no[-_])?allocation[-_]site[-_]pretenuring\b/ },
];

/** Applies the server's V8 settings; returns the flags it set (not those node's command line names). */
export function tuneHeap(execArgv: readonly string[] = process.execArgv): string[] {
  const flags = SETTINGS.filter((s) => !execArgv.some((a) => s.named.test(a))).map((s) => s.flag);
  for (const f of flags) v8.setFlagsFromString(f);
  return flags;
}
