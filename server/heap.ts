import v8 from 'node:v8';

/**
 * How far V8 lets the old generation grow past what the last full collection left alive before it
 * collects again. V8's own choice went up to about 4×: the live heap is about 30 MB, yet under a
 * 50-terminal rush the server's memory peaked at 220–256 MB from source. At 2× (100 %) it peaked at
 * about 200 MB with the same throughput (docs/PERFORMANCE.md). Only the point at which a full
 * collection starts changes: the heap still grows as far as the live data needs.
 *
 * V8 reads this flag at every collection, so setting it once at start works; NODE_OPTIONS does not
 * take it. A `--heap-growing-percent` on node's own command line wins.
 */
export const HEAP_GROWING_PERCENT = 100;

/** Applies the server's heap setting; returns the flags it set (none when node's command line has its own). */
export function tuneHeap(execArgv: readonly string[] = process.execArgv): string[] {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent\b/.test(a))) return [];
  const flags = [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`];
  for (const f of flags) v8.setFlagsFromString(f);
  return flags;
}
