/** Per-printer settings that change the bytes of a job or how it is confirmed. */
export interface PrinterProfile {
  paperWidth: 58 | 80;
  /** characters per line in the normal font: 32 on 58 mm; 42 or 48 on 80 mm, by model */
  columns: 32 | 42 | 48;
  /**
   * The code page as the printer's `ESC t n` number and the iconv-lite encoding of that table.
   * Tables differ between models: 19 is PC858 (with €) on Epson's table, not on every printer's.
   */
  codePage: { number: number; encoding: string };
  /** 'gs-r': a job counts as printed when the printer answers `GS r 1`; 'none': on write */
  acknowledgement: 'gs-r' | 'none';
  /** 'feed-then-cut': `ESC d n` then `GS V 0`; 'feed-and-cut': `GS V 66 n` (feeds n, then cuts) */
  cut: 'feed-then-cut' | 'feed-and-cut';
  /** lines fed before the cut so the last printed lines clear the cutter */
  feedBeforeCut: number;
  /** drawer kick connector pin: 0 = pin 2, 1 = pin 5 */
  drawerPin: 0 | 1;
  /** what pin 3 of the drawer connector reads when the drawer is open (depends on the drawer) */
  drawerOpenWhenPin3: 'high' | 'low';
}

/** Epson's `ESC t` table (TM-T20/T88 and most clones), number → iconv-lite encoding. */
export const EPSON_CODE_PAGES: Readonly<Record<number, string>> = Object.freeze({
  0: 'CP437',
  2: 'CP850',
  3: 'CP860',
  4: 'CP863',
  5: 'CP865',
  16: 'CP1252',
  17: 'CP866',
  18: 'CP852',
  19: 'CP858',
});

const COLUMNS_BY_WIDTH: Record<PrinterProfile['paperWidth'], readonly number[]> = { 58: [32], 80: [42, 48] };

/** A profile for an Epson-compatible printer of the given paper width, PC858 for €. */
export function defaultProfile(paperWidth: PrinterProfile['paperWidth'], overrides: Partial<PrinterProfile> = {}): PrinterProfile {
  return checkProfile({
    paperWidth,
    columns: paperWidth === 58 ? 32 : 48,
    codePage: { number: 19, encoding: 'CP858' },
    acknowledgement: 'gs-r',
    cut: 'feed-then-cut',
    feedBeforeCut: 4,
    drawerPin: 0,
    drawerOpenWhenPin3: 'high',
    ...overrides,
  });
}

/** Throws on a profile whose columns do not fit its paper or whose numbers are out of range. */
export function checkProfile(p: PrinterProfile): PrinterProfile {
  if (!COLUMNS_BY_WIDTH[p.paperWidth]?.includes(p.columns)) {
    throw new Error(`a ${p.paperWidth} mm printer has ${COLUMNS_BY_WIDTH[p.paperWidth]?.join(' or ') ?? 'no'} columns, not ${p.columns}`);
  }
  if (!Number.isInteger(p.codePage.number) || p.codePage.number < 0 || p.codePage.number > 255) {
    throw new Error(`code page number ${p.codePage.number} is not a byte`);
  }
  if (!Number.isInteger(p.feedBeforeCut) || p.feedBeforeCut < 0 || p.feedBeforeCut > 255) {
    throw new Error(`feedBeforeCut ${p.feedBeforeCut} is not a byte`);
  }
  return p;
}
