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

export const RefundInput = z
  .object({
    reason,
    idempotency_key: idempotencyKey,
    /** "all", per-line quantities as line_<id>=<qty> fields, or an `amount` of money */
    scope: z.enum(['all', 'lines', 'amount']).default('all'),
    amount: z.union([z.literal('').transform(() => undefined), decimal]).optional(),
    /** back to the card that paid, through Stripe (server/payments/), or cash from the drawer */
    method: z.enum(['cash', 'card']).default('cash'),
  })
  .superRefine((r, ctx) => {
    if (r.scope === 'amount' && r.amount === undefined) ctx.addIssue({ code: 'custom', path: ['amount'], message: 'enter the amount to refund' });
  });
export type RefundInput = z.infer<typeof RefundInput>;

/** The sales history's query: a business day (default today), a search, and the page's cursor. */
export const HistoryQuery = z.object({
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2026-03-14').refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'must be a real date').optional().or(z.literal('').transform(() => undefined)),
  q: z.string().trim().max(60, 'must be at most 60 characters').optional().transform((s) => (s ? s : undefined)),
  before: z.string().regex(/^\d{1,15}$/).transform(Number).optional(),
});
export type HistoryQuery = z.infer<typeof HistoryQuery>;

export const ProductSearch = z.object({
  category: id.optional(),
  q: z.string().trim().max(60).optional(),
});

export const orderType = z.enum(['counter', 'takeaway', 'dine_in']);

/**
 * The first tap of a sale (POST /terminal/lines): a line as for POST /orders/:id/lines, plus the
 * order type chosen on the idle terminal and the idle screen's sale key, which makes every tap
 * drawn on one idle screen land in one sale (a quick second tap before the first answer adds to
 * the sale the first one opened). `category`: the grid's category, shown again on the order.
 */
export const StartSale = AddLine.extend({
  type: orderType.default('counter'),
  sale_key: idempotencyKey.optional(),
  category: id.optional(),
});
export type StartSale = z.infer<typeof StartSale>;

/** What the idle terminal carries to the options dialog of a sale's first product. */
export const SaleStart = z.object({
  type: orderType.default('counter'),
  sale_key: idempotencyKey.optional(),
  category: id.optional(),
});

export const SetOrderType = z.object({ type: orderType });

/** A line's course and seat (table service). */
export const SetPlace = z.object({
  course: z.coerce.number({ error: 'must be a number' }).int().min(1, 'must be 1 to 9').max(9, 'must be 1 to 9'),
  seat: z.union([z.literal('').transform(() => null), z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be 1 to 99').max(99, 'must be 1 to 99')]).default(null),
});
