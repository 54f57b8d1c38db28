import { z } from 'zod';

/** Form fields arrive as strings; these coerce and bound them. */
const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const idList = z
  .union([z.array(z.string()), z.string()])
  .optional()
  .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]))
  .pipe(z.array(z.string().regex(/^\d{1,15}$/, 'must be an id').transform(Number)).max(50));
export const MAX_QTY = 999;
const quantity = z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must not be negative').max(MAX_QTY, `must be at most ${MAX_QTY}`);
const addQuantity = quantity.refine((n) => n >= 1, 'must be at least 1');
const note = z.string().max(500, 'must be at most 500 characters').optional().transform((s) => (s?.trim() ? s.trim() : null));
const reason = z.string().trim().min(3, 'give a reason (at least 3 characters)').max(200, 'must be at most 200 characters');
/** A typed decimal amount ("12.50"); turned into minor units by the service with the store's currency. */
const decimal = z.string().trim().regex(/^\d{1,11}([.,]\d{0,4})?$/, 'must be an amount like 12.50');
export const idempotencyKey = z.string().regex(/^[A-Za-z0-9_-]{8,100}$/, 'must be 8–100 letters, digits, - or _');

export const OpenOrder = z.object({
  type: z.enum(['counter', 'takeaway', 'dine_in']).default('counter'),
  customer_name: z.string().trim().max(80).optional(),
});

export const AddLine = z.object({
  product_id: id,
  quantity: addQuantity.default(1),
  modifier_ids: idList,
  note,
  open_price: decimal.optional(),
  course: z.coerce.number().int().min(1).max(9).default(1),
  seat: z.union([z.literal('').transform(() => undefined), z.coerce.number().int().min(1).max(99)]).optional(),
  // the tap's key: a terminal retrying after a lost link sends it again (./request-keys.ts)
  idempotency_key: idempotencyKey.optional(),
});
export type AddLine = z.infer<typeof AddLine>;

/** `quantity` (a typed quantity) or `delta` (the "+" / "−" buttons: one more or one less than the line has now). */
export const SetQuantity = z
  .object({
    quantity: quantity.optional(),
    delta: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(-MAX_QTY).max(MAX_QTY).refine((n) => n !== 0, 'must not be 0').optional(),
    reason: z.string().trim().min(3, 'give a reason (at least 3 characters)').max(200).optional().or(z.literal('').transform(() => undefined)),
  })
  .superRefine((q, ctx) => {
    if ((q.quantity === undefined) === (q.delta === undefined)) ctx.addIssue({ code: 'custom', path: ['quantity'], message: 'send a quantity or a delta' });
  });
export type SetQuantity = z.infer<typeof SetQuantity>;
export const Reason = z.object({ reason });
export const Availability = z.object({ available: z.enum(['true', 'false']).transform((v) => v === 'true') });
export const OverridePrice = z.object({ price: decimal, reason });
export const SetNote = z.object({ note });

export const DiscountInput = z
  .object({
    kind: z.enum(['percent', 'amount', 'none']),
    value: z.string().trim().max(20).optional(),
  })
  .superRefine((d, ctx) => {
    if (d.kind !== 'none' && !d.value) ctx.addIssue({ code: 'custom', path: ['value'], message: 'enter a value' });
  });

export const CustomerName = z.object({ customer_name: z.string().trim().max(80) });

export const VoidOrder = z.object({ reason, idempotency_key: idempotencyKey.optional() });

export const CashTender = z.object({ tendered: decimal, idempotency_key: idempotencyKey });

export const RefundInput = z.object({
  reason,
  idempotency_key: idempotencyKey,
  /** "all", or per-line quantities as line_<id>=<qty> fields */
  scope: z.enum(['all', 'lines']).default('all'),
});

export const ProductSearch = z.object({
  category: id.optional(),
  q: z.string().trim().max(60).optional(),
});
