import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { requires } from '../auth/middleware';
import { invalid } from '../errors';
import { redirectAfterPost, render } from '../http/render';
import { idParam, parseInput } from '../http/validate';
import { getOrderView, openOrders, toMinor, type Actor, type OrderDeps } from '../orders/service';
import { getSettings } from '../settings/service';
import * as checks from './checks';
import * as tables from './service';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const OpenTable = z.object({ covers: z.union([z.literal('').transform(() => null), z.coerce.number().int().min(1).max(99)]).optional() });
const Split = z.object({
  mode: z.enum(['seat', 'evenly', 'amount', 'items']),
  parts: z.coerce.number().int().min(2).max(20).optional(),
  amounts: z.string().max(200).optional(),
});
const TableForm = z.object({
  area_id: id,
  name: z.string().trim().min(1).max(40),
  seats: z.coerce.number().int().min(1).max(40),
  x: z.coerce.number().int().min(0).max(2000),
  y: z.coerce.number().int().min(0).max(2000),
});


/** Floor view, seating, check operations, and the back office's floor-plan editor. */
export function tableRoutes(deps: OrderDeps & { checks: checks.CheckDeps }): Router {
  const router = new Router();
  const sell = requires('order:sell', deps);
  const manage = requires('backoffice:access', deps);
  const actor = (ctx: Context): Actor => ({ staffId: ctx.state.auth.staff?.id, staffName: ctx.state.auth.staff?.name, terminal: ctx.state.auth.terminal?.name, terminalId: ctx.state.auth.terminal?.id });
  const floorData = async () => {
    const list = await tables.floor(deps.db, deps.clock);
    const areas = [...new Map(list.map((t) => [t.area_id, t.area_name])).entries()].map(([areaId, name]) => ({ id: areaId, name, tables: list.filter((t) => t.area_id === areaId) }));
    return { settings: await getSettings(deps.db), areas };
  };

  router.get('/floor', sell, async (ctx) => render(ctx, 'tables/floor.html', null, await floorData()));
  router.get('/floor/plan', sell, async (ctx) => render(ctx, 'tables/_plan.html', 'tables/_plan.html', await floorData()));

  router.post('/tables/:id/open', sell, async (ctx) => {
    const { covers } = parseInput(OpenTable, ctx.request.body);
    const orderId = await tables.openTable(deps, idParam(ctx, 'id'), covers ?? null, actor(ctx));
    redirectAfterPost(ctx, `/orders/${orderId}`);
  });

  router.get('/orders/:id/check', sell, async (ctx) => {
    const id = idParam(ctx, 'id');
    // four reads that do not depend on each other, side by side: one wait for the pool's
    // connections instead of four in a row (each its own snapshot, as before)
    const [view, floorList, staff, open] = await Promise.all([
      getOrderView(deps.db, id),
      tables.floor(deps.db, deps.clock),
      deps.db('staff').where({ active: true }).orderBy('name').select('id', 'name'),
      openOrders(deps.db),
    ]);
    const others = open.filter((o: { id: number }) => o.id !== view.order.id);
    render(ctx, 'tables/_check.html', 'tables/_check.html', { ...view, freeTables: floorList.filter((t) => t.state === 'free'), staff, others });
  });

  router.post('/orders/:id/transfer-table', sell, async (ctx) => {
    const orderId = idParam(ctx, 'id');
    await checks.transferToTable(deps.checks, orderId, parseInput(z.object({ table_id: id }), ctx.request.body).table_id);
    redirectAfterPost(ctx, `/orders/${orderId}`);
  });

  router.post('/orders/:id/transfer-server', sell, async (ctx) => {
    const orderId = idParam(ctx, 'id');
    await checks.transferToServer(deps.checks, orderId, parseInput(z.object({ staff_id: id }), ctx.request.body).staff_id);
    redirectAfterPost(ctx, `/orders/${orderId}`);
  });

  router.post('/orders/:id/merge', sell, async (ctx) => {
    const orderId = idParam(ctx, 'id');
    await checks.mergeChecks(deps.checks, orderId, parseInput(z.object({ source_id: id }), ctx.request.body).source_id);
    redirectAfterPost(ctx, `/orders/${orderId}`);
  });

  router.post('/orders/:id/split', sell, async (ctx) => {
    const orderId = idParam(ctx, 'id');
    const body = ctx.request.body as Record<string, string>;
    const input = parseInput(Split, body);
    const settings = await getSettings(deps.db);
    let ids: number[];
    if (input.mode === 'seat') ids = await checks.splitBySeat(deps.checks, orderId);
    else if (input.mode === 'evenly') {
      if (!input.parts) throw invalid('Into how many checks?', [{ field: 'parts', message: 'required' }]);
      ids = await checks.splitByAmounts(deps.checks, orderId, { evenly: input.parts });
    } else if (input.mode === 'amount') {
      const amounts = (input.amounts ?? '').split(/[\s;]+/).filter(Boolean).map((a) => toMinor(a, settings.currency, 'amounts'));
      if (!amounts.length) throw invalid('Type the amount of each new check.', [{ field: 'amounts', message: 'required' }]);
      ids = await checks.splitByAmounts(deps.checks, orderId, { amounts });
    } else {
      const part = new Map<number, number>();
      for (const [k, v] of Object.entries(body)) {
        const m = /^line_(\d{1,15})$/.exec(k);
        if (!m || !v || v === '0') continue;
        const q = Number(v);
        if (!Number.isInteger(q) || q < 0) throw invalid('Quantities are whole numbers.', [{ field: k, message: 'not a whole number' }]);
        part.set(Number(m[1]), q);
      }
      ids = await checks.splitByItems(deps.checks, orderId, [part]);
    }
    redirectAfterPost(ctx, `/orders/${ids[0] ?? orderId}`);
  });

  // ---- floor-plan editor ----
  router.get('/backoffice/floor', manage, async (ctx) => {
    const areas = await deps.db('areas').orderBy(['position', 'id']);
    const list = await deps.db('tables').where({ active: true }).orderBy('id');
    render(ctx, 'tables/editor.html', null, { settings: await getSettings(deps.db), areas: areas.map((a: { id: number }) => ({ ...a, tables: list.filter((t: { area_id: number }) => t.area_id === a.id) })) });
  });

  router.post('/backoffice/floor/areas', manage, async (ctx) => {
    await tables.saveArea(deps.db, parseInput(z.object({ name: z.string().max(60) }), ctx.request.body));
    redirectAfterPost(ctx, '/backoffice/floor');
  });

  router.post('/backoffice/floor/tables', manage, async (ctx) => {
    const t = parseInput(TableForm, ctx.request.body);
    await tables.saveTable(deps.db, { areaId: t.area_id, name: t.name, seats: t.seats, x: t.x, y: t.y });
    redirectAfterPost(ctx, '/backoffice/floor');
  });

  router.post('/backoffice/floor/tables/:id', manage, async (ctx) => {
    const t = parseInput(TableForm, ctx.request.body);
    await tables.saveTable(deps.db, { id: idParam(ctx, 'id'), areaId: t.area_id, name: t.name, seats: t.seats, x: t.x, y: t.y });
    redirectAfterPost(ctx, '/backoffice/floor');
  });

  router.post('/backoffice/floor/tables/:id/remove', manage, async (ctx) => {
    await tables.removeTable(deps.db, idParam(ctx, 'id'));
    redirectAfterPost(ctx, '/backoffice/floor');
  });

  return router;
}
