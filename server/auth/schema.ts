import { z } from 'zod';
import { ROLES } from './permissions';
import { TERMINAL_KINDS } from './service';

const pin = z.string().regex(/^\d{4,8}$/, 'must be 4 to 8 digits');
const name = z.string().trim().min(1, 'is required').max(60, 'must be at most 60 characters');

export const Setup = z
  .object({ owner_name: name, pin, pin_confirm: z.string(), terminal_name: name.default('Back office') })
  .refine((v) => v.pin === v.pin_confirm, { path: ['pin_confirm'], message: 'does not match the PIN' });
export const Pair = z.object({ code: z.string().trim().regex(/^\d{6}$/, 'must be 6 digits') });
export const Login = z.object({ pin: z.string().max(8, 'must be 4 to 8 digits') });
export const NewPairingCode = z.object({ name, kind: z.enum(TERMINAL_KINDS as [string, ...string[]]) });
export const StaffPin = z.object({ pin });
export const NewStaff = z.object({ name, role: z.enum(ROLES as [string, ...string[]]), pin });
export const TerminalDefaults = z.object({
  station_id: z.union([z.literal('').transform(() => null), z.coerce.number().int().positive()]).default(null),
  receipt_printer_id: z.union([z.literal('').transform(() => null), z.coerce.number().int().positive()]).default(null),
});
