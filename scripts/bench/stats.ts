/** Small statistics helpers: percentiles of latency samples, and the median of several runs with its spread. */

/** The p-th percentile (0–100) of `values`, nearest-rank on a sorted copy; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  n: number;
}

export function percentiles(values: readonly number[]): Percentiles {
  if (!values.length) return { p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, n: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
  return { p50: at(50), p95: at(95), p99: at(99), n: sorted.length };
}

export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x));
  if (!v.length) return Number.NaN;
  const s = [...v].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** One figure measured once per run: its median over the runs, and the spread (min–max). */
export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function summarize(perRun: readonly number[]): Summary {
  const v = perRun.filter((x) => Number.isFinite(x));
  return {
    median: median(v),
    min: v.length ? Math.min(...v) : Number.NaN,
    max: v.length ? Math.max(...v) : Number.NaN,
    runs: v.length,
  };
}

/** A number for the table: 3 significant digits below 100, whole numbers above. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const a = Math.abs(n);
  if (a >= 100) return Math.round(n).toLocaleString('en-US');
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  return n.toFixed(3);
}

export function fmtSpread(s: Summary): string {
  if (!s.runs) return '–';
  if (s.runs === 1) return 'one run';
  return `${fmt(s.min)}–${fmt(s.max)}`;
}

export function fmtBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '–';
  return `${fmt(bytes / (1024 * 1024))} MB`;
}
