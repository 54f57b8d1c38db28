import { z } from 'zod';
import { WEBHOOK_EVENTS } from '../webhooks/service';

/** JSON bodies are strict: an unknown field is a 400, not silently ignored. */
const key = z.string().regex(/^[A-Za-z0-9_-]{8,100}$/, 'must be 8–100 letters, digits, - or _');
const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const money = z.number().int('must be whole minor units').min(0, 'must not be negative').max(100_000_000_000, 'is too large');

export const LineInput = z
  .strictObject({
    productId: id.optional(),
    sku: z.string().min(1).max(60).optional(),
    qty: z.number().int('must be a whole number').min(1, 'must be at least 1').max(999, 'must be at most 999'),
    modifierIds: z.array(id).max(50).default([]),
    note: z.string().max(500, 'must be at most 500 characters').nullable().optional(),
  })
  .refine((l) => (l.productId === undefined) !== (l.sku === undefined), { message: 'give exactly one of productId or sku', path: ['productId'] });
export type LineInput = z.infer<typeof LineInput>;

export const CreateOrder = z.strictObject({
  type: z.enum(['counter', 'takeaway', 'dine_in']),
  tableId: id.nullable().optional(),
  customerName: z.string().trim().max(80).nullable().optional(),
  lines: z.array(LineInput).max(100).default([]),
  idempotencyKey: key,
});

export const VoidInput = z.strictObject({ reason: z.string().trim().min(3, 'give a reason (at least 3 characters)').max(200) });

/** A card payment on a registered reader (issue 22): answered at once, pending; GET /payments/{id} follows it. */
export const CardPaymentInput = z.strictObject({
  method: z.literal('card'),
  amount: money.refine((n) => n > 0, 'must be more than zero'),
  tip: money.optional(),
  tipOnReader: z.boolean().optional(),
  readerId: id,
  idempotencyKey: key,
});

export const PaymentInput = z.strictObject({
  method: z.literal('cash', { error: "must be 'cash' or 'card'" }),
  amount: money.refine((n) => n > 0, 'must be more than zero'),
  tip: money.optional(),
  idempotencyKey: key,
});

export const RefundInput = z
  .strictObject({
    reason: z.string().trim().min(3).max(200),
    lines: z.array(z.strictObject({ lineId: id, qty: z.number().int().min(1).max(999) })).min(1).max(100).optional(),
    /** a sum of money to give back (minor units), spread over the sale's lines; instead of `lines` */
    amount: money.refine((n) => n > 0, 'must be more than zero').optional(),
    idempotencyKey: key,
  })
  .refine((r) => !(r.lines && r.amount !== undefined), { message: 'give lines or an amount, not both', path: ['amount'] });

export const ProductQuery = z.object({
  category: z.coerce.number().int().positive().optional(),
  sku: z.string().max(60).optional(),
  barcode: z.string().max(60).optional(),
  available: z.enum(['true', 'false']).optional(),
});

export const JournalQuery = z.object({
  afterSeq: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const WebhookInput = z.strictObject({
  url: z.string().max(2000),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1),
  secret: z.string().min(16).max(200).optional(),
});
