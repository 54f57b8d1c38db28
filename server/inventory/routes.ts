import Router from '@koa/router';
import crypto from 'node:crypto';
import type { Context } from 'koa';
import { z } from 'zod';
import { requires } from '../auth/middleware';
import { invalid } from '../errors';
import { formView, redirectAfterPost, render, type FormView } from '../http/render';
import { parseInput } from '../http/validate';
import { getSettings } from '../settings/service';
import { ADJUST_REASONS, adjustMany, adjustStock, listMovements, listStock, type Adjustment, type InventoryDeps, type Who } from './service';

/** The back office's stock pages (issue 24): stock on hand, adjustments with a reason, the stock-count sheet. */

const who = (ctx: Context): Who => ({ staffId: ctx.state.auth.staff!.id, terminalId: ctx.state.auth.terminal?.id ?? null, approvedBy: ctx.state.auth.approver?.id ?? null });

export const AdjustForm = z.object({
  product_id: z.coerce.number().int().positive(),
  reason: z.enum(ADJUST_REASONS as [string, ...string[]]),
  quantity: z.coerce.number().int('must be a whole number').min(0).max(1_000_000),
  note: z.string().trim().max(200).default(''),
  idempotency_key: z.string().min(8).max(100).optional(),
});

const REASON_NAMES = { received: 'Received (adds)', waste: 'Waste (takes off)', count: 'Count (sets)' };

export function inventoryRoutes(deps: InventoryDeps): Router {
  const router = new Router();
  const need = requires('inventory:manage', deps);
  const page = async () => {
    const settings = await getSettings(deps.db);
    const fmt = new Intl.DateTimeFormat('en-GB', { timeZone: settings.timezone, dateStyle: 'short', timeStyle: 'short' });
    return {
      settings, stock: await listStock(deps.db), products: await listStock(deps.db, { all: true }),
      movements: (await listMovements(deps.db, { limit: 50 })).map((m) => ({ ...m, when: fmt.format(m.created_at) })),
      reasons: ADJUST_REASONS, reasonNames: REASON_NAMES, key: crypto.randomUUID(),
    };
  };
  const view: FormView = {
    page: 'inventory/index.html', data: page,
    messages: { quantity: 'A whole number from 0 up (received and waste: more than 0).', product_id: 'Choose a product.' },
  };

  router.get('/backoffice/inventory', need, async (ctx) => render(ctx, 'inventory/index.html', null, await page()));

  router.post('/backoffice/inventory/adjustments', need, formView(view), async (ctx) => {
    const input = parseInput(AdjustForm, ctx.request.body);
    const m = await adjustStock(deps, { productId: input.product_id, reason: input.reason as Adjustment['reason'], quantity: input.quantity, note: input.note, idempotencyKey: input.idempotency_key }, who(ctx));
    redirectAfterPost(ctx, '/backoffice/inventory', { toast: `Stock saved: now ${m.stock_after}.` });
  });

  const sheet = async (ctx: Context) => ({ settings: await getSettings(deps.db), products: await listStock(deps.db, { all: ctx.query.all === '1' }), all: ctx.query.all === '1', key: crypto.randomUUID() });
  router.get('/backoffice/inventory/count', need, async (ctx) => render(ctx, 'inventory/count.html', null, await sheet(ctx)));

  // the count sheet: every filled-in count at once, in one transaction (a blank is "not counted")
  router.post('/backoffice/inventory/count', need, formView({ page: 'inventory/count.html', data: sheet }), async (ctx) => {
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const key = typeof body.idempotency_key === 'string' && body.idempotency_key.length >= 8 ? body.idempotency_key.slice(0, 100) : undefined;
    const list: Adjustment[] = [];
    const issues: Array<{ field: string; message: string }> = [];
    for (const [field, value] of Object.entries(body)) {
      const m = /^count_(\d{1,15})$/.exec(field);
      if (!m || typeof value !== 'string' || value.trim() === '') continue;
      if (!/^\d{1,7}$/.test(value.trim())) { issues.push({ field, message: 'a whole number from 0 up' }); continue; }
      list.push({ productId: Number(m[1]), reason: 'count', quantity: Number(value.trim()), note: 'stock count', idempotencyKey: key ? `${key}:${m[1]}` : null });
    }
    if (issues.length) throw invalid('Some counts are not whole numbers: nothing was saved.', issues);
    if (!list.length) throw invalid('Type at least one count.', [{ field: 'counts', message: 'nothing counted' }]);
    await adjustMany(deps, list, who(ctx));
    redirectAfterPost(ctx, '/backoffice/inventory', { toast: `${list.length} count${list.length === 1 ? '' : 's'} saved.` });
  });

  return router;
}
