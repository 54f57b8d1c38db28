import { stringify } from 'csv-stringify/sync';

/** A cell: text, a number (written as a number, never touched), or empty. */
export type Cell = string | number | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A text cell as a spreadsheet may read it safely: one starting with = + - @ (or a tab or carriage
 * return, which some tools skip before looking) gets a leading apostrophe, so `=HYPERLINK(…)` is
 * shown, not run (OWASP, "CSV injection"). Numbers are numbers and stay as they are.
 */
export function neutralise(cell: Cell): string | number {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'number') return cell;
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}

/**
 * CSV as RFC 4180 has it: CRLF line ends, fields with a comma, quote or line break quoted, quotes
 * doubled, UTF-8; a byte-order mark first when asked (some spreadsheet tools need it to read UTF-8).
 */
export function toCsv(header: string[], rows: Cell[][], opts: { bom?: boolean } = {}): string {
  const body = stringify([header, ...rows.map((r) => r.map(neutralise))], { record_delimiter: '\r\n', quoted_match: /[\r\n]|^\s|\s$/ });
  return (opts.bom ? '\ufeff' : '') + body;
}
