import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import type { Publisher } from '../events';
import { idParam, parseInput } from '../http/validate';
import * as printing from '../printing/service';
import { PrinterJson, PrinterPatch } from '../printing/schema';

/** A printer as the API shows it. */
export function printerJson(p: printing.PrinterDetail, waiting: number) {
  return {
    id: p.id, name: p.name, address: p.address, paperWidth: p.paper_width, columns: p.columns, codePage: p.code_page, acknowledgement: p.acknowledgement,
    fallbackPrinterId: p.fallback_printer_id, failoverAfterSeconds: p.failover_after_s, stationIds: p.stationIds, terminalIds: p.terminalIds,
    downSince: p.down_since ? p.down_since.toISOString() : null, lastError: p.last_error, waiting,
  };
}

function jobJson(j: printing.PrintJobRow) {
  return {
    id: j.id, kind: j.kind, state: j.state, possibleDuplicate: j.possible_duplicate, orderId: j.order_id, reprintOf: j.reprint_of, attempts: j.attempts,
    lastError: j.last_error, printedOn: j.printed_on, createdAt: j.created_at.toISOString(), printedAt: j.printed_at ? j.printed_at.toISOString() : null,
  };
}

/**
 * Printers in the integration API (scope devices:admin), added to its router (server/api/routes.ts):
 * what an installer or an integrator sets up, over the same services as the back office.
 */
export function printerApiRoutes(router: Router, deps: { db: Db; clock: Clock; events: Publisher; pool?: printing.PrinterPool; auth: Middleware; scope: Middleware }): void {
  const { auth, scope } = deps;
  const by = (ctx: Context) => ({ api: ctx.state.api!.token.name });
  const one = async (id: number) => {
    const [p] = await printing.printerDetails(deps.db, id);
    return printerJson(p!, (await printing.waitingCounts(deps.db)).get(id) ?? 0);
  };

  router.get('/printers', auth, scope, async (ctx) => {
    const [printers, waiting] = await Promise.all([printing.printerDetails(deps.db), printing.waitingCounts(deps.db)]);
    ctx.body = { items: printers.map((p) => printerJson(p, waiting.get(p.id) ?? 0)) };
  });

  router.post('/printers', auth, scope, async (ctx) => {
    const p = await printing.createPrinter(deps, parseInput(PrinterJson, ctx.request.body), by(ctx));
    ctx.status = 201;
    ctx.body = await one(p.id);
  });

  router.get('/printers/:id', auth, scope, async (ctx) => {
    const id = idParam(ctx, 'id');
    const body = await one(id);
    const p = await printing.getPrinter(deps.db, id);
    const [status, queue] = await Promise.all([
      deps.pool ? printing.liveStatus(deps.pool, p) : Promise.resolve(null),
      printing.printerQueue(deps.db, id, 20),
    ]);
    ctx.body = {
      ...body,
      status: status ? { state: status.state, label: status.label, flags: status.flags } : null,
      queue: { waiting: queue.waiting.map(jobJson), recent: queue.recent.map(jobJson) },
    };
  });

  router.patch('/printers/:id', auth, scope, async (ctx) => {
    const id = idParam(ctx, 'id');
    await printing.updatePrinter(deps, id, parseInput(PrinterPatch, ctx.request.body), by(ctx));
    ctx.body = await one(id);
  });

  router.post('/printers/:id/test', auth, scope, async (ctx) => {
    const jobId = await printing.printTestPage(deps, idParam(ctx, 'id'));
    ctx.status = 202;
    ctx.body = { jobId };
  });
}
