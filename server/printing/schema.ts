import { z } from 'zod';
import { EPSON_CODE_PAGES } from '../../drivers/printer/profile';
import { SIMULATOR } from './render';

/** A printer's settings as the services take them, whichever form or API sent them. */
export interface PrinterInput {
  name: string;
  address: string;
  paperWidth: 58 | 80;
  columns: 32 | 42 | 48;
  codePage: number;
  acknowledgement: boolean;
  fallbackPrinterId: number | null;
  failoverAfterSeconds: number;
  /** the kitchen stations whose chits it prints */
  stationIds: number[];
  /** the terminals whose receipts it prints */
  terminalIds: number[];
}

export const CODE_PAGES = Object.entries(EPSON_CODE_PAGES).map(([n, enc]) => ({ number: Number(n), encoding: enc }));

const name = z.string().trim().min(1, 'is required').max(60, 'must be at most 60 characters');
/** `host:port` (9100 when no port), a bracketed IPv6 address, or the simulator */
const address = z
  .string()
  .trim()
  .min(1, 'is required')
  .max(260)
  .transform((v, ctx) => {
    if (v.toLowerCase() === SIMULATOR) return SIMULATOR;
    const m = /^([A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/.exec(v);
    if (!m || (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535))) {
      ctx.addIssue({ code: 'custom', message: 'must be host:port (e.g. 192.168.1.50:9100) or simulator' });
      return z.NEVER;
    }
    return `${m[1]}:${m[2] ?? 9100}`;
  });
const codePage = z.coerce.number().int().refine((n) => EPSON_CODE_PAGES[n] !== undefined, `must be one of ${CODE_PAGES.map((c) => `${c.number} (${c.encoding})`).join(', ')}`);
const failover = z.coerce.number().int('must be whole seconds').min(5, 'must be at least 5 seconds').max(86_400, 'must be at most a day');
const optionalId = z.union([z.literal('').transform(() => null), z.null(), z.coerce.number().int().positive()]);
const ids = z.array(z.coerce.number().int().positive()).max(200);
/** a form's multi-select: absent, one value, or several */
const formIds = z.preprocess((v) => (v === undefined || v === '' ? [] : Array.isArray(v) ? v : [v]), ids);

function paperFits(v: { paperWidth: number; columns: number }, ctx: z.RefinementCtx) {
  const ok = v.paperWidth === 58 ? v.columns === 32 : v.columns === 42 || v.columns === 48;
  if (!ok) ctx.addIssue({ code: 'custom', path: ['columns'], message: v.paperWidth === 58 ? '58 mm paper has 32 characters per line' : '80 mm paper has 42 or 48 characters per line' });
}

/** The back office form (field names as the template sends them). */
export const PrinterForm = z
  .object({
    name,
    address,
    paper_width: z.enum(['58', '80'], 'must be 58 or 80 mm').transform(Number),
    columns: z.enum(['32', '42', '48'], 'must be 32, 42 or 48').transform(Number),
    code_page: codePage,
    acknowledgement: z.union([z.literal('on'), z.literal('true')]).optional().transform((v) => v !== undefined),
    fallback_printer_id: optionalId.default(null),
    failover_after_s: failover,
    station_ids: formIds,
    terminal_ids: formIds,
  })
  .transform((v): PrinterInput => ({
    name: v.name, address: v.address, paperWidth: v.paper_width as 58 | 80, columns: v.columns as 32 | 42 | 48, codePage: v.code_page,
    acknowledgement: v.acknowledgement, fallbackPrinterId: v.fallback_printer_id, failoverAfterSeconds: v.failover_after_s,
    stationIds: v.station_ids, terminalIds: v.terminal_ids,
  }))
  .superRefine(paperFits);

/** POST /api/v1/printers: strict JSON, defaults for what a simple setup leaves out. */
export const PrinterJson = z
  .strictObject({
    name,
    address,
    paperWidth: z.union([z.literal(58), z.literal(80)]).default(80),
    columns: z.union([z.literal(32), z.literal(42), z.literal(48)]).optional(),
    codePage: codePage.default(19),
    acknowledgement: z.boolean().default(true),
    fallbackPrinterId: z.number().int().positive().nullable().default(null),
    failoverAfterSeconds: failover.default(60),
    stationIds: ids.default([]),
    terminalIds: ids.default([]),
  })
  .transform((v): PrinterInput => ({ ...v, columns: v.columns ?? (v.paperWidth === 58 ? 32 : 48) }))
  .superRefine(paperFits);

/** PATCH /api/v1/printers/{id}: any of the fields; the rest stay. */
export const PrinterPatch = z.strictObject({
  name: name.optional(),
  address: address.optional(),
  paperWidth: z.union([z.literal(58), z.literal(80)]).optional(),
  columns: z.union([z.literal(32), z.literal(42), z.literal(48)]).optional(),
  codePage: codePage.optional(),
  acknowledgement: z.boolean().optional(),
  fallbackPrinterId: z.number().int().positive().nullable().optional(),
  failoverAfterSeconds: failover.optional(),
  stationIds: ids.optional(),
  terminalIds: ids.optional(),
});
export type PrinterPatch = z.infer<typeof PrinterPatch>;

/** Move a printer's waiting jobs to another printer. */
export const MoveQueue = z.object({ to_printer_id: z.coerce.number({ message: 'choose a printer' }).int().positive('choose a printer') });
