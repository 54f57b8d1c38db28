import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import type { Publisher } from '../events';
import { parseInput } from '../http/validate';
import { ADJUST_REASONS, adjustStock, type AdjustReason } from './service';

/** /api/v1/inventory/adjustments (scope inventory:write): a delivery, waste or a count, as on the back office's stock page. */

const AdjustmentInput = z.object({
  productId: z.number().int().positive(),
  reason: z.enum(ADJUST_REASONS as [AdjustReason, ...AdjustReason[]]),
  quantity: z.number().int().min(0).max(1_000_000),
  note: z.string().max(200).nullable().optional(),
  idempotencyKey: z.string().regex(/^[A-Za-z0-9_-]{8,100}$/),
}).strict();

export function inventoryApiRoutes(router: Router, deps: { db: Db; clock: Clock; events: Publisher; auth: Middleware; scope: Middleware }): void {
  router.post('/inventory/adjustments', deps.auth, deps.scope, async (ctx) => {
    const b = parseInput(AdjustmentInput, ctx.request.body);
    const m = await adjustStock(deps, { productId: b.productId, reason: b.reason, quantity: b.quantity, note: b.note ?? null, idempotencyKey: b.idempotencyKey }, { staffId: null });
    ctx.status = 201;
    ctx.body = { id: m.id, productId: m.product_id, reason: m.reason, delta: m.delta, stockAfter: m.stock_after, note: m.note, createdAt: m.created_at.toISOString() };
  });
}
