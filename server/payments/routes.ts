import crypto from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { requires } from '../auth/middleware';
import { formatLocal } from '../business-date';
import { invalid } from '../errors';
import { formView, isHtmx, redirectAfterPost, render, toast } from '../http/render';
import { idParam, validate } from '../http/validate';
import { merged } from '../merge';
import { applyRate, PPM } from '../money';
import * as orders from '../orders/service';
import type { CardDeps } from './card-deps';
import { cancelCardPayment, startCardTender } from './card-tender';
import { cardPayment, pendingCardOf, readerOfTerminal } from './queries';
import { bindReader, listReadersWithStatus, registerReader } from './readers';
import * as schema from './schema';

/** Tip presets offered on the terminal, in percent of what the card pays. */
export const TIP_PRESETS = [10, 15, 20];

/**
 * The terminal's card flow (the card dialog, the live status it polls, Cancel) and the readers
 * section of the devices page. Thin handlers over card-tender.ts and readers.ts.
 */
export function paymentRoutes(deps: CardDeps): Router {
  const router = new Router();
  const actor = (ctx: Context): orders.Actor => {
    const a = ctx.state.auth;
    return { staffId: a.staff?.id, staffName: a.staff?.name, terminal: a.terminal?.name, terminalId: a.terminal?.id };
  };

  /** the card button of the pay dialog: what a tap on it will do, said before it is tapped */
  router.get('/orders/:id/card-button', requires('order:sell', deps), async (ctx) => {
    const reader = ctx.state.auth.terminal ? await readerOfTerminal(deps.db, ctx.state.auth.terminal.id) : undefined;
    const pending = await pendingCardOf(deps.db, idParam(ctx, 'id'));
    render(ctx, 'payments/_card_button.html', 'payments/_card_button.html', { orderId: idParam(ctx, 'id'), configured: deps.terminal !== null, reader, reachable: deps.health.reachable, pending });
  });

  const cardData = async (ctx: Context) => {
    const view = await orders.getOrderView(deps.db, idParam(ctx, 'id'));
    const presets = TIP_PRESETS.map((p) => ({ percent: p, amount: applyRate(view.due, p * (PPM / 100)) }));
    return merged(view, { idempotencyKey: crypto.randomUUID(), presets, reachable: deps.health.reachable });
  };
  router.get('/orders/:id/card', requires('order:sell', deps), async (ctx) => {
    render(ctx, 'payments/_card.html', 'payments/_card.html', await cardData(ctx));
  });

  const cardForm = formView({ page: 'payments/_card.html', partial: 'payments/_card.html', target: () => '#card-dialog', data: cardData });
  router.post('/orders/:id/card', requires('order:sell', deps), cardForm, validate(schema.CardTender), async (ctx) => {
    const id = idParam(ctx, 'id');
    const input = ctx.state.input as schema.CardTender;
    const view = await orders.getOrderView(deps.db, id);
    const currency = view.settings.currency;
    const amount = orders.toMinor(input.amount, currency, 'amount');
    let tip = 0;
    if (input.tip === 'custom') {
      if (!input.tip_amount) throw invalid('Type the tip, or choose another.', [{ field: 'tip_amount', message: 'Type the tip, or choose another.' }]);
      tip = orders.toMinor(input.tip_amount, currency, 'tip_amount');
    } else if (input.tip.startsWith('p')) {
      tip = applyRate(amount, Number(input.tip.slice(1)) * (PPM / 100));
    }
    const payment = await startCardTender(deps, id, { amount, tip, tipOnReader: input.tip === 'reader', idempotencyKey: input.idempotency_key }, actor(ctx));
    await answerStatus(ctx, payment.id);
  });

  router.get('/payments/:id/card', requires('order:sell', deps), async (ctx) => answerStatus(ctx, idParam(ctx, 'id')));

  router.post('/payments/:id/cancel', requires('order:sell', deps), async (ctx) => {
    await cancelCardPayment(deps, idParam(ctx, 'id'));
    await answerStatus(ctx, idParam(ctx, 'id'));
  });

  /** the live status: waiting for card, processing, approved, declined; a closed sale's receipt */
  async function answerStatus(ctx: Context, paymentId: number) {
    const payment = await cardPayment(deps.db, paymentId);
    if (!payment) ctx.throw(404);
    const view = await orders.getOrderView(deps.db, payment.order_id);
    if (payment.status === 'succeeded' && view.order.status === 'paid') {
      const result = { change: 0, closed: true, receiptNo: view.order.receipt_no };
      // the paid answer replaces the order panel and puts the receipt in the dialog, as a cash tender's does
      if (isHtmx(ctx)) {
        ctx.set('HX-Retarget', '#order-panel');
        ctx.set('HX-Reswap', 'outerHTML');
      }
      return render(ctx, 'orders/_paid.html', 'orders/_paid.html', merged(view, { result, printedAt: formatLocal(view.order.closed_at!, view.settings.timezone), duplicate: false }));
    }
    render(ctx, 'payments/_card_status.html', 'payments/_card_status.html', merged(view, { payment, withPanel: true }));
  }

  // -- readers on the devices page (issue 22)
  router.get('/backoffice/devices/readers', requires('devices:manage', deps), async (ctx) => {
    render(ctx, 'payments/_readers.html', 'payments/_readers.html', await readersData());
  });
  const readersData = async () => ({
    readersLoaded: true,
    readers: await listReadersWithStatus(deps),
    terminals: await deps.db('terminals').whereNull('revoked_at').orderBy('name').select('id', 'name'),
    configured: deps.terminal !== null,
    simulated: deps.terminal?.kind === 'simulated',
  });
  const readerForm = formView({ page: 'payments/_readers.html', partial: 'payments/_readers.html', target: () => '#readers', data: readersData });
  router.post('/backoffice/devices/readers', requires('devices:manage', deps), readerForm, validate(schema.RegisterReader), async (ctx) => {
    const input = ctx.state.input as schema.RegisterReader;
    await registerReader(deps, { code: input.code, label: input.label, terminalId: input.terminal_id ?? null });
    toast(ctx, `Reader ${input.label} registered.`);
    render(ctx, 'payments/_readers.html', 'payments/_readers.html', await readersData());
  });
  router.post('/backoffice/devices/readers/:id/terminal', requires('devices:manage', deps), validate(schema.BindReader), async (ctx) => {
    await bindReader(deps, idParam(ctx, 'id'), (ctx.state.input as { terminal_id: number | null }).terminal_id);
    if (!ctx.get('HX-Request')) return redirectAfterPost(ctx, '/backoffice/devices', { toast: 'Reader bound.' });
    toast(ctx, 'Reader bound.');
    render(ctx, 'payments/_readers.html', 'payments/_readers.html', await readersData());
  });

  return router;
}
