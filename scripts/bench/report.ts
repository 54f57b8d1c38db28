import fs from 'node:fs';
import path from 'node:path';
import { fmt, fmtSpread, summarize, type Summary } from './stats';

/** One row of the one table. */
export interface Row {
  figure: string;
  value: string;
  spread: string;
  aim: string;
  met: 'yes' | 'no' | '';
  note?: string;
}

export const NOT_BUILT = 'not built yet';

export function notBuilt(figure: string, aim: string, note: string): Row {
  return { figure, value: NOT_BUILT, spread: '–', aim, met: '', note };
}

/** A row for a figure measured once per run: median, min–max, and whether the median meets the aim. */
export function summaryRow(
  figure: string,
  perRun: number[],
  opts: { unit?: string; aim?: { text: string; ok: (median: number) => boolean }; note?: string; format?: (n: number) => string } = {},
): Row & { summary: Summary } {
  const s = summarize(perRun);
  const f = opts.format ?? fmt;
  const unit = opts.unit ? ` ${opts.unit}` : '';
  const spread = !s.runs ? '–' : s.runs === 1 ? 'one run' : `${f(s.min)}–${f(s.max)}${unit}`;
  return {
    figure,
    value: Number.isFinite(s.median) ? `${f(s.median)}${unit}` : '–',
    spread,
    aim: opts.aim?.text ?? '',
    met: opts.aim && Number.isFinite(s.median) ? (opts.aim.ok(s.median) ? 'yes' : 'no') : '',
    note: opts.note,
    summary: s,
  };
}

/** A latency row: p50 / p95 / p99 (medians over runs), each with its own min–max. */
export function latencyRow(
  figure: string,
  perRun: Array<{ p50: number; p95: number; p99: number }>,
  opts: { aim?: { text: string; ok: (p: { p50: number; p95: number; p99: number }) => boolean }; note?: string; only?: Array<'p50' | 'p95' | 'p99'> } = {},
): Row {
  const keys = opts.only ?? (['p50', 'p95', 'p99'] as const);
  const sums = keys.map((k) => summarize(perRun.map((p) => p[k])));
  const med = Object.fromEntries(keys.map((k, i) => [k, sums[i].median])) as { p50: number; p95: number; p99: number };
  const ok = sums.every((s) => Number.isFinite(s.median));
  return {
    figure: `${figure} (${keys.join(' / ')})`,
    value: ok ? `${sums.map((s) => fmt(s.median)).join(' / ')} ms` : '–',
    spread: ok ? sums.map(fmtSpread).join(' / ') : '–',
    aim: opts.aim?.text ?? '',
    met: opts.aim && ok ? (opts.aim.ok(med) ? 'yes' : 'no') : '',
    note: opts.note,
  };
}

export interface Section {
  title: string;
  rows: Row[];
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function markdownTable(sections: Section[]): string {
  const lines = ['| Figure | Value (median) | Spread (min–max of runs) | Aim | Met? | Notes |', '|---|---|---|---|---|---|'];
  for (const s of sections) {
    lines.push(`| **${cell(s.title)}** | | | | | |`);
    for (const r of s.rows) {
      lines.push(`| ${cell(r.figure)} | ${cell(r.value)} | ${cell(r.spread)} | ${cell(r.aim || '—')} | ${r.met || '—'} | ${cell(r.note ?? '')} |`);
    }
  }
  return lines.join('\n');
}

export interface Machine {
  date: string;
  commit: string;
  dirty: boolean;
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  postgres: string;
  os: string;
}

export function machineLine(m: Machine): string {
  return [
    `Date: ${m.date}`,
    `commit: ${m.commit}${m.dirty ? ' (with uncommitted changes)' : ''}`,
    `machine: ${m.cores} cores (${m.cpuModel}), ${(m.memoryBytes / 1024 ** 3).toFixed(1)} GB memory, ${m.os}`,
    `Node ${m.node}`,
    `${m.postgres}`,
  ].join(' · ');
}

/** The hand-written part of the file: everything from this heading on survives a new run. */
export const KEPT_HEADING = '## Before and after';

export function writeReport(file: string, doc: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let kept = '';
  try {
    const old = fs.readFileSync(file, 'utf8');
    const at = old.indexOf(KEPT_HEADING);
    if (at >= 0) kept = '\n' + old.slice(at);
  } catch {
    /* first run */
  }
  fs.writeFileSync(file, doc.replace(/\n*$/, '\n') + kept);
}
