import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { requires } from '../auth/middleware';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import type { Publisher } from '../events';
import { isHtmx, redirectAfterPost, render, toast } from '../http/render';
import { idParam, validate } from '../http/validate';
import { formatLocal } from '../business-date';
import { getOrderView } from '../orders/service';
import * as printing from './service';
import { noSale } from '../cash/service';

export interface PrintRouteDeps {
  db: Db;
  clock: Clock;
  events: Publisher;
}

/**
 * The terminal's printing: a receipt again (DUPLICATE), the guest check, a no-sale drawer, and the
 * printers' alerts a page reads when it (re)connects. Each queues a job and answers at once: the
 * printer is reached after the commit (server/printing/topic.ts). A terminal with no receipt
 * printer prints in the browser instead: the receipt and guest-check pages.
 */
export function printingRoutes(deps: PrintRouteDeps): Router {
  const router = new Router();
  const need = (p: Parameters<typeof requires>[0]) => requires(p, deps);
  const terminalOf = (ctx: Context) => ctx.state.auth.terminal?.id ?? null;

  /** sent: a toast where the button was; the browser's print page when the terminal has no printer */
  const sent = (ctx: Context, message: string, back: string) => {
    if (!isHtmx(ctx)) return redirectAfterPost(ctx, back, { toast: message });
    toast(ctx, message);
    ctx.set('HX-Reswap', 'none');
    ctx.status = 200;
    ctx.body = '';
  };
  const orBrowser = async (ctx: Context, page: string, back: string, print: () => Promise<{ printer: printing.PrinterRow }>, message: (name: string) => string) => {
    if (!(await printing.receiptPrinterOf(deps.db, terminalOf(ctx)))) {
      // no receipt printer here: the page to print in the browser
      if (isHtmx(ctx)) {
        ctx.set('HX-Redirect', page);
        ctx.status = 204;
      } else ctx.redirect(page);
      return;
    }
    const { printer } = await print();
    sent(ctx, message(printer.name), back);
  };

  router.post('/orders/:id/receipt/print', need('order:sell'), async (ctx) => {
    const id = idParam(ctx, 'id');
    await orBrowser(ctx, `/orders/${id}/receipt`, `/orders/${id}`, () => printing.reprintReceipt(deps, id, terminalOf(ctx), { staffId: ctx.state.auth.staff?.id }), (p) => `Receipt sent to ${p} (marked duplicate).`);
  });

  router.post('/orders/:id/guest-check', need('order:sell'), async (ctx) => {
    const id = idParam(ctx, 'id');
    await orBrowser(ctx, `/orders/${id}/guest-check`, `/orders/${id}`, () => printing.printGuestCheck(deps, id, terminalOf(ctx), { staff: ctx.state.auth.staff?.name }), (p) => `Guest check sent to ${p}.`);
  });

  // the guest check for the browser's print dialog (a terminal without a receipt printer)
  router.get('/orders/:id/guest-check', need('order:sell'), async (ctx) => {
    const view = await getOrderView(deps.db, idParam(ctx, 'id'));
    render(ctx, 'printing/guest-check.html', null, { ...view, printedAt: formatLocal(deps.clock.now(), view.settings.timezone) });
  });

  router.post('/refunds/:id/print', need('order:sell'), async (ctx) => {
    const id = idParam(ctx, 'id');
    const { printer } = await printing.printRefund(deps, id, terminalOf(ctx), true);
    sent(ctx, `Refund receipt sent to ${printer.name}.`, '/terminal');
  });

  // no sale: a manager may; a cashier with a manager's PIN (the approval dialog)
  router.post('/drawer/open', need('drawer:no-sale'), validate(NoSale), async (ctx) => {
    const a = ctx.state.auth;
    // a journal entry of its own kind, and with "ask for a float" only while the drawer is open (server/cash/)
    const { printer } = await noSale(deps, { staffId: a.staff?.id, staffName: a.staff?.name, approvedBy: a.approver?.id, approverName: a.approver?.name, terminalId: terminalOf(ctx), terminal: a.terminal?.name }, (ctx.state.input as { reason?: string }).reason);
    sent(ctx, `Drawer opened (${printer}).`, '/terminal');
  });

  // what a page shows when it (re)connects: the printers failing now (static/js/printer-alerts.js)
  router.get('/printers/alerts', need('device'), async (ctx) => {
    const [printers, waiting] = await Promise.all([printing.listPrinters(deps.db), printing.waitingCounts(deps.db)]);
    ctx.body = {
      alerts: printers
        .filter((p) => p.down_since !== null)
        .map((p) => ({ printerId: p.id, name: p.name, level: 'error', message: `${p.name} ${p.last_error ?? 'is not printing.'}`, waiting: waiting.get(p.id) ?? 0 })),
    };
  });

  return router;
}

const NoSale = z.object({ reason: z.string().trim().max(200).optional() });
