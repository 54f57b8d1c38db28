import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { requires } from '../auth/middleware';
import { ROLES, type Role } from '../auth/permissions';
import { redirectAfterPost, render, toast } from '../http/render';
import { idParam, parseInput } from '../http/validate';
import { getSettings } from '../settings/service';
import { addDays, localDate, zonedMoment } from '../business-date';
import { hoursWorked, setActive, setRole, toggleClock, type By, type StaffDeps } from './service';

/** Staff management beyond creation and PINs (server/auth/routes.ts): roles, deactivation, the time clock and hours. */

const by = (ctx: Context): By => ({ staff: ctx.state.auth.staff!, terminalId: ctx.state.auth.terminal?.id ?? null });
const RoleForm = z.object({ role: z.enum(ROLES as [Role, ...Role[]]) });
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional().catch(undefined);

const midnight = (date: string, timeZone: string) => zonedMoment(date, '00:00', timeZone);

export function staffRoutes(deps: StaffDeps): Router {
  const router = new Router();
  const manage = requires('staff:manage', deps);

  router.post('/backoffice/staff/:id/role', manage, async (ctx) => {
    const { role } = parseInput(RoleForm, ctx.request.body);
    await setRole(deps, idParam(ctx, 'id'), role, by(ctx));
    redirectAfterPost(ctx, '/backoffice/staff', { toast: `Role changed to ${role}: it applies from their next sign-in.` });
  });

  router.post('/backoffice/staff/:id/deactivate', manage, async (ctx) => {
    await setActive(deps, idParam(ctx, 'id'), false, by(ctx));
    redirectAfterPost(ctx, '/backoffice/staff', { toast: 'Deactivated: they can no longer sign in. Their sales and hours stay on record.' });
  });

  router.post('/backoffice/staff/:id/reactivate', manage, async (ctx) => {
    await setActive(deps, idParam(ctx, 'id'), true, by(ctx));
    redirectAfterPost(ctx, '/backoffice/staff', { toast: 'Active again: they can sign in with their PIN.' });
  });

  // the staff report: hours from the time clock, by day range in the store's time zone
  router.get('/backoffice/staff/hours', requires('reports:view', deps), async (ctx) => {
    const settings = await getSettings(deps.db);
    const q = parseInput(z.object({ from: day, to: day }), ctx.query);
    const today = localDate(deps.clock.now(), settings.timezone);
    const to = q.to ?? today;
    const from = q.from ?? addDays(to, -6);
    const rows = await hoursWorked(deps, midnight(from, settings.timezone), midnight(addDays(to, 1), settings.timezone));
    const total = rows.reduce((s, r) => s + r.minutes, 0);
    render(ctx, 'staff/hours.html', null, { settings, rows, from, to, total });
  });

  // the terminal's clock button: the signed-in staff member clocks in, or out
  router.post('/staff/clock', requires('order:sell', deps), async (ctx) => {
    const a = ctx.state.auth;
    const settings = await getSettings(deps.db);
    const state = await toggleClock(deps, a.staff!.id, a.terminal?.id ?? null);
    const time = new Intl.DateTimeFormat('en-GB', { timeZone: settings.timezone, timeStyle: 'short' }).format(deps.clock.now());
    toast(ctx, state.clockedIn ? `${a.staff!.name} clocked in at ${time}.` : `${a.staff!.name} clocked out at ${time}.`);
    ctx.status = 204;
  });

  return router;
}
