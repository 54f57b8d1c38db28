import { z } from 'zod';

const decimal = z.string().trim().regex(/^\d{1,11}([.,]\d{0,4})?$/, 'must be an amount like 12.50');
const idempotencyKey = z.string().regex(/^[A-Za-z0-9_-]{8,100}$/, 'must be 8–100 letters, digits, - or _');

/**
 * The card dialog: what the card pays (all that is due by default; less for a split tender) and
 * the tip: none, a preset percentage, a custom amount, or asked on the reader.
 */
export const CardTender = z.object({
  amount: decimal,
  tip: z.enum(['none', 'custom', 'reader']).or(z.string().regex(/^\d{1,2}$/, 'must be a percentage').transform((p) => `p${p}`)).default('none'),
  tip_amount: z.union([z.literal('').transform(() => undefined), decimal]).optional(),
  idempotency_key: idempotencyKey,
});
export type CardTender = z.infer<typeof CardTender>;

export const RegisterReader = z.object({
  code: z.string().trim().min(3, 'type the code the reader shows').max(100),
  label: z.string().trim().min(1, 'give the reader a name').max(60, 'at most 60 characters'),
  terminal_id: z.union([z.literal('').transform(() => null), z.coerce.number().int().positive()]).optional(),
});
export type RegisterReader = z.infer<typeof RegisterReader>;

export const BindReader = z.object({
  terminal_id: z.union([z.literal('').transform(() => null), z.coerce.number().int().positive()]),
});
