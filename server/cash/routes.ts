import crypto from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { requires } from '../auth/middleware';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import type { Publisher } from '../events';
import { formatLocal } from '../business-date';
import { formView, isHtmx, redirectAfterPost, render, toast, type FormView } from '../http/render';
import { idParam, parseInput, validate } from '../http/validate';
import { formatMoney } from '../money';
import { getSettings } from '../settings/service';
import { amountField, CloseForm, countFields, MoveForm, OpenForm, Then } from './schema';
import * as cash from './service';

export interface CashRouteDeps {
  db: Db;
  clock: Clock;
  events: Publisher;
}

const newKey = () => crypto.randomUUID();
const PAGE = 50;

/**
 * The terminal's cash drawer (/cash): open it with a float (an amount, or counted note by note),
 * paid in / paid out / drops with a reason, and the blind close; the float dialog the pay dialog
 * offers when "ask for a float" is on; the back office's list of sessions (/backoffice/cash).
 */
export function cashRoutes(deps: CashRouteDeps): Router {
  const router = new Router();
  const need = (p: Parameters<typeof requires>[0]) => requires(p, deps);
  const actor = (ctx: Context): cash.CashActor => {
    const a = ctx.state.auth;
    return { staffId: a.staff?.id, staffName: a.staff?.name, terminal: a.terminal?.name, terminalId: a.terminal?.id, approvedBy: a.approver?.id, approverName: a.approver?.name };
  };
  const drawerView = async (ctx: Context, extra: object = {}) => {
    const settings = await getSettings(deps.db);
    const { drawer, session } = await cash.currentSession(deps.db, ctx.state.auth.terminal?.id);
    const movements = session ? (await cash.sessionDetail(deps.db, session.id)).movements : [];
    return {
      settings, drawer, session, movements, denominations: cash.denominationsOf(settings.currency),
      openedAt: session ? formatLocal(session.opened_at, settings.timezone) : null,
      openKey: newKey(), moveKey: newKey(), closeKey: newKey(), ...extra,
    };
  };
  const drawerForm: FormView = { page: 'cash/index.html', partial: 'cash/_drawer.html', target: () => '#drawer-panel', data: (ctx) => drawerView(ctx) };
  const dialogForm: FormView = {
    page: 'cash/index.html', partial: 'cash/_open_dialog.html', target: () => '#float-dialog',
    data: async (ctx) => ({ ...(await drawerView(ctx)), then: Then.parse((ctx.request.body as Record<string, unknown>)?.then) }),
  };

  router.get('/cash', need('order:sell'), async (ctx) => {
    render(ctx, 'cash/index.html', 'cash/_drawer.html', await drawerView(ctx));
  });

  // the pay dialog asks (views/orders/_pay.html): with "ask for a float" and this drawer not open, the way to open it
  router.get('/cash/float-check', need('order:sell'), async (ctx) => {
    const settings = await getSettings(deps.db);
    const { drawer, session } = await cash.currentSession(deps.db, ctx.state.auth.terminal?.id);
    const then = Then.parse(ctx.query.then);
    render(ctx, 'cash/_float_check.html', 'cash/_float_check.html', { needed: settings.requireDrawerSession && drawer !== null && !session, drawer, then });
  });

  router.get('/cash/open', need('order:sell'), async (ctx) => {
    render(ctx, 'cash/index.html', 'cash/_open_dialog.html', { ...(await drawerView(ctx)), then: Then.parse(ctx.query.then) });
  });

  router.post('/cash/open', need('order:sell'), formView(drawerForm), async (ctx) => {
    const body = ctx.request.body as Record<string, unknown>;
    if (body.then !== undefined) ctx.state.formView = dialogForm; // a refusal stays in the dialog
    const input = parseInput(OpenForm, body);
    const settings = await getSettings(deps.db);
    const { session, replayed } = await cash.openSession(deps, actor(ctx), { amount: amountField(input.float, settings.currency, 'float'), counts: countFields(body), idempotencyKey: input.idempotency_key });
    const message = replayed ? 'The drawer was already opened with this float.' : `Drawer open with a float of ${formatMoney(session.opening_float, settings.currency)}.`;
    if (input.then && isHtmx(ctx)) {
      // back to the pay dialog the float was asked from: it loads into the dialog host
      toast(ctx, message);
      render(ctx, 'cash/_then.html', 'cash/_then.html', { then: input.then });
      return;
    }
    if (input.then) return redirectAfterPost(ctx, input.then.replace(/\/pay$/, ''), { toast: message });
    toast(ctx, message);
    render(ctx, 'cash/index.html', 'cash/_drawer.html', await drawerView(ctx));
  });

  router.post('/cash/movements', need('order:sell'), formView(drawerForm), validate(MoveForm), async (ctx) => {
    const input = ctx.state.input as { kind: cash.MovementKind; amount: string; reason: string; idempotency_key: string };
    const settings = await getSettings(deps.db);
    const amount = amountField(input.amount, settings.currency, 'amount') ?? 0;
    await cash.moveCash(deps, actor(ctx), { kind: input.kind, amount, reason: input.reason, idempotencyKey: input.idempotency_key });
    toast(ctx, { paid_in: 'Paid in recorded.', paid_out: 'Paid out recorded.', drop: 'Cash drop recorded.' }[input.kind]);
    render(ctx, 'cash/index.html', 'cash/_drawer.html', await drawerView(ctx));
  });

  router.post('/cash/close', need('order:sell'), formView(drawerForm), async (ctx) => {
    const body = ctx.request.body as Record<string, unknown>;
    const input = parseInput(CloseForm, body);
    const settings = await getSettings(deps.db);
    const { session, figures } = await cash.closeSession(deps, actor(ctx), {
      amount: amountField(input.counted, settings.currency, 'counted'), counts: countFields(body), note: input.note, idempotencyKey: input.idempotency_key,
    });
    toast(ctx, 'Drawer closed.');
    render(ctx, 'cash/index.html', 'cash/_drawer.html', { ...(await drawerView(ctx)), closed: { session, figures } });
  });

  router.get('/backoffice/cash', need('reports:view'), async (ctx) => {
    const settings = await getSettings(deps.db);
    const before = Number(ctx.query.before);
    const rows = await cash.listSessions(deps.db, { limit: PAGE + 1, beforeId: Number.isSafeInteger(before) && before > 0 ? before : undefined });
    const page = rows.slice(0, PAGE);
    render(ctx, 'cash/sessions.html', null, {
      settings, sessions: page.map((s) => ({ ...s, opened: formatLocal(s.opened_at, settings.timezone), closed: s.closed_at ? formatLocal(s.closed_at, settings.timezone) : null })),
      nextBefore: rows.length > PAGE ? page[page.length - 1].id : null, path: '/backoffice/cash',
    });
  });

  router.get('/backoffice/cash/:id', need('reports:view'), async (ctx) => {
    const settings = await getSettings(deps.db);
    const d = await cash.sessionDetail(deps.db, idParam(ctx, 'id'));
    render(ctx, 'cash/session.html', null, {
      settings, ...d, opened: formatLocal(d.session.opened_at, settings.timezone), closed: d.session.closed_at ? formatLocal(d.session.closed_at, settings.timezone) : null,
      movementRows: d.movements.map((m) => ({ ...m, when: formatLocal(m.created_at, settings.timezone) })), path: '/backoffice/cash',
    });
  });

  return router;
}
