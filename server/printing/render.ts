import { encodeJob } from '../../drivers/printer/encode';
import { defaultProfile, EPSON_CODE_PAGES, type PrinterProfile } from '../../drivers/printer/profile';
import { layoutJob, type JobInput, type JobMarks } from './layouts';

/** A printer as configured (the `printers` table). */
export interface PrinterRow {
  id: number;
  name: string;
  /** `host:port`, or 'simulator' */
  address: string;
  paper_width: 58 | 80;
  columns: 32 | 42 | 48;
  /** the `ESC t` number of the code page; its encoding comes from Epson's table */
  code_page: number;
  acknowledgement: boolean;
  fallback_printer_id: number | null;
  failover_after_s: number;
  down_since: Date | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
}

export const SIMULATOR = 'simulator';

/** The driver's profile of a configured printer. */
export function profileOf(p: Pick<PrinterRow, 'paper_width' | 'columns' | 'code_page' | 'acknowledgement'>): PrinterProfile {
  const encoding = EPSON_CODE_PAGES[p.code_page];
  if (!encoding) throw new Error(`code page ${p.code_page} is not one this server can encode`);
  return defaultProfile(p.paper_width, {
    columns: p.columns,
    codePage: { number: p.code_page, encoding },
    acknowledgement: p.acknowledgement ? 'gs-r' : 'none',
  });
}

/** What the bytes of a job depend on: a job rendered for one fingerprint prints as is on a printer with the same. */
export function fingerprint(p: Pick<PrinterRow, 'paper_width' | 'columns' | 'code_page'>): string {
  return `${p.paper_width}mm/${p.columns}/cp${p.code_page}`;
}

/** Lays a job out for a printer and encodes it: the bytes stored with the job, or sent after a failover. */
export function renderFor(input: JobInput, printer: Pick<PrinterRow, 'paper_width' | 'columns' | 'code_page' | 'acknowledgement'>, marks: JobMarks = {}): Buffer {
  const profile = profileOf(printer);
  return encodeJob(layoutJob(input, profile.columns, marks), profile);
}
