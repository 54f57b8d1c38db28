import fs from 'node:fs';
import path from 'node:path';
import { fmt, type Percentiles } from './stats';

/** One row of the one table: the figure now, before (the base commit), and their ratio. */
export interface Row {
  figure: string;
  now: string;
  before: string;
  /** now ÷ before */
  ratio: string;
  aim: string;
  /** whether "now" meets the aim */
  met: 'yes' | 'no' | '';
  note?: string;
}

export interface Section {
  title: string;
  rows: Row[];
}

export const NOT_BUILT = 'not built yet';

export function notBuilt(figure: string, aim: string, note: string): Row {
  return { figure, now: NOT_BUILT, before: '', ratio: '', aim, met: '', note };
}

/** now ÷ before, "–" when either is missing. */
export function ratio(now: number | undefined, before: number | undefined): string {
  if (now === undefined || before === undefined || !Number.isFinite(now) || !Number.isFinite(before) || before === 0) return '–';
  return `${(now / before).toFixed(2)}×`;
}

export const fmtMs = (ms: number | undefined) => (ms === undefined || !Number.isFinite(ms) ? '–' : `${fmt(ms)} ms`);

export function fmtPercentiles(p: Percentiles | undefined): string {
  if (!p || !p.n) return '–';
  return `${fmt(p.p50)} / ${fmt(p.p95)} / ${fmt(p.p99)} ms`;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The table; without a comparison (no base commit) the before and ratio columns are left out. */
export function markdownTable(sections: Section[], labels: { now: string; before?: string }): string {
  const compare = labels.before !== undefined;
  const head = compare
    ? [`Figure`, `Now (${labels.now})`, `Before (${labels.before})`, 'Now ÷ before', 'Aim (now)', 'Met?', 'Notes']
    : ['Figure', `Now (${labels.now})`, 'Aim', 'Met?', 'Notes'];
  const lines = [`| ${head.map(cell).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const s of sections) {
    lines.push(`| **${cell(s.title)}** |${head.slice(1).map(() => ' ').join('|')}|`);
    for (const r of s.rows) {
      const cells = compare
        ? [r.figure, r.now, r.before || '–', r.ratio || '–', r.aim || '—', r.met || '—', r.note ?? '']
        : [r.figure, r.now, r.aim || '—', r.met || '—', r.note ?? ''];
      lines.push(`| ${cells.map(cell).join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

export interface Machine {
  date: string;
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  postgres: string;
  os: string;
  /** the 1-minute load average when the bench started: other work on the machine */
  loadAtStart: number;
}

export function machineLine(m: Machine): string {
  return [
    `Date: ${m.date}`,
    `machine: ${m.cores} cores (${m.cpuModel}), ${(m.memoryBytes / 1024 ** 3).toFixed(1)} GB memory, ${m.os}`,
    `Node ${m.node}`,
    m.postgres,
    `load average at the start: ${m.loadAtStart.toFixed(2)}`,
  ].join(' · ');
}

/**
 * The hand-written part of the file: everything from this heading on survives a new run (the
 * heading it had before issue 19 is recognised and renamed).
 */
export const KEPT_HEADING = '## Tuning history (before issue 19)';
const OLD_KEPT_HEADING = '## Before and after';

export function writeReport(file: string, doc: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let kept = '';
  try {
    const old = fs.readFileSync(file, 'utf8');
    let at = old.indexOf(KEPT_HEADING);
    if (at >= 0) kept = old.slice(at);
    else if ((at = old.indexOf(`\n${OLD_KEPT_HEADING}\n`)) >= 0) kept = KEPT_HEADING + old.slice(at + 1 + OLD_KEPT_HEADING.length);
  } catch {
    /* first run */
  }
  fs.writeFileSync(file, doc.replace(/\n*$/, '\n') + (kept ? `\n${kept}` : ''));
}
