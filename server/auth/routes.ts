import Router from '@koa/router';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import { audit, auditActions, listAudit } from '../audit/service';
import { addDays, zonedMoment } from '../business-date';
import { formView, redirectAfterPost, render, type FormView } from '../http/render';
import { idParam, validate } from '../http/validate';
import { getSettings } from '../settings/service';
import { DEVICE_COOKIE, SESSION_COOKIE } from './cookies';
import { DEVICE_MAX_AGE, cookieOpts, limit, requires } from './middleware';
import type { Role } from './permissions';
import type { RateLimiter } from './rate-limit';
import * as schema from './schema';
import * as auth from './service';
import { pairWithCode } from './pairing';
import { checkLoginPin } from './pin-check';

export interface AuthRouteDeps {
  db: Db;
  clock: Clock;
  limits: { login: RateLimiter; pair: RateLimiter };
}


/** First run, pairing, PIN login / switch / lock, and the back office's security pages. */
export function authRoutes(deps: AuthRouteDeps): Router {
  const router = new Router();
  const need = (a: Parameters<typeof requires>[0]) => requires(a, deps);
  const staffPage = async () => ({ settings: await getSettings(deps.db), staff: await auth.listStaff(deps.db) });
  // the forms that re-render with what was typed when refused (docs/UI.md, "Form errors")
  const forms = {
    setup: { page: 'auth/setup.html', partial: 'auth/_setup_form.html', target: () => '#setup-form', data: async () => ({ settings: await getSettings(deps.db) }) },
    newStaff: { page: 'backoffice/staff.html', partial: 'backoffice/_new_staff.html', target: () => '#new-staff', formId: () => 'new-staff', data: staffPage },
    staffPin: {
      page: 'backoffice/staff.html', partial: 'backoffice/_staff_pin.html', target: (ctx) => `#pin-${ctx.params.id}`, formId: (ctx) => `pin-${ctx.params.id}`,
      data: async (ctx) => { const page = await staffPage(); return { ...page, s: page.staff.find((m) => String(m.id) === ctx.params.id) }; },
    },
  } satisfies Record<string, FormView>;

  router.get('/setup', need('public'), async (ctx) => {
    if (await auth.storeHasStaff(deps.db)) return ctx.redirect('/login');
    render(ctx, 'auth/setup.html', null, { settings: await getSettings(deps.db) });
  });

  router.post('/setup', need('public'), formView(forms.setup), validate(schema.Setup), async (ctx) => {
    const input = ctx.state.input as { owner_name: string; pin: string; terminal_name: string };
    const made = await auth.setupStore(deps, { ownerName: input.owner_name, pin: input.pin, terminalName: input.terminal_name });
    ctx.cookies.set(DEVICE_COOKIE, auth.encodeDevice(made.credential), cookieOpts(ctx, DEVICE_MAX_AGE));
    const sid = await auth.startSession(deps, made.terminal.id, made.owner.id);
    ctx.cookies.set(SESSION_COOKIE, sid, cookieOpts(ctx));
    redirectAfterPost(ctx, '/backoffice');
  });

  router.get('/pair', need('public'), async (ctx) => {
    if (ctx.state.auth.terminal) return ctx.redirect('/login');
    if (!(await auth.storeHasStaff(deps.db))) return ctx.redirect('/setup');
    render(ctx, 'auth/pair.html', null, { settings: await getSettings(deps.db) });
  });

  router.post('/pair', need('public'), limit(deps.limits.pair, (ctx) => `pair:${ctx.ip}`), validate(schema.Pair), async (ctx) => {
    const made = await pairWithCode(deps, (ctx.state.input as { code: string }).code);
    ctx.cookies.set(DEVICE_COOKIE, auth.encodeDevice(made.credential), cookieOpts(ctx, DEVICE_MAX_AGE));
    redirectAfterPost(ctx, made.terminal.kind === 'kitchen' ? '/kitchen' : '/login');
  });

  router.get('/login', need('device'), async (ctx) => {
    render(ctx, 'auth/login.html', null, { settings: await getSettings(deps.db), locked: ctx.query.locked === '1', expired: ctx.query.expired === '1' });
  });

  router.post(
    '/login',
    need('device'),
    limit(deps.limits.login, (ctx) => `login:${ctx.state.auth.terminal!.id}`),
    validate(schema.Login),
    async (ctx) => {
      const terminal = ctx.state.auth.terminal!;
      const staff = await checkLoginPin(deps, terminal.id, (ctx.state.input as { pin: string }).pin);
      const sid = await auth.startSession(deps, terminal.id, staff.id, ctx.state.auth.sessionId);
      ctx.cookies.set(SESSION_COOKIE, sid, cookieOpts(ctx));
      await audit(deps.db, deps.clock, { action: 'login', staffId: staff.id, terminalId: terminal.id });
      redirectAfterPost(ctx, terminal.kind === 'back_office' ? '/backoffice' : '/terminal');
    },
  );

  router.post('/logout', need('device'), async (ctx) => {
    const a = ctx.state.auth;
    if (a.sessionId) {
      await auth.endSession(deps, a.sessionId);
      await audit(deps.db, deps.clock, { action: 'logout', staffId: a.staff?.id, terminalId: a.terminal!.id });
    }
    ctx.cookies.set(SESSION_COOKIE, null, cookieOpts(ctx));
    redirectAfterPost(ctx, '/login');
  });

  // ---- back office ----
  router.get('/backoffice', need('backoffice:access'), async (ctx) => {
    render(ctx, 'backoffice/index.html', null, { settings: await getSettings(deps.db) });
  });

  // the terminals' pages and forms are on the devices page (server/devices/routes.ts)

  router.get('/backoffice/staff', need('staff:manage'), async (ctx) => {
    render(ctx, 'backoffice/staff.html', null, await staffPage());
  });

  router.post('/backoffice/staff', need('staff:manage'), formView(forms.newStaff), validate(schema.NewStaff), async (ctx) => {
    const input = ctx.state.input as { name: string; role: Role; pin: string };
    const a = ctx.state.auth;
    const made = await auth.createStaff(deps, input, { staff: a.staff!, terminalId: a.terminal!.id });
    redirectAfterPost(ctx, '/backoffice/staff', { toast: `${made.name} can now sign in with their PIN.` });
  });

  router.post('/backoffice/staff/:id/pin', need('staff:manage'), formView(forms.staffPin), validate(schema.StaffPin), async (ctx) => {
    const a = ctx.state.auth;
    await auth.setStaffPin(deps, idParam(ctx, 'id'), (ctx.state.input as { pin: string }).pin, { staff: a.staff!, terminalId: a.terminal!.id });
    redirectAfterPost(ctx, '/backoffice/staff', { toast: 'New PIN set. The old one no longer works.' });
  });

  // filters (issue 24): what (action), who (staff), when (store-local days from–to); 100 a page, "Older" goes on
  router.get('/backoffice/audit', need('audit:view'), async (ctx) => {
    const q = ctx.query;
    const pick = (v: unknown, re: RegExp) => (typeof v === 'string' && re.test(v) ? v : undefined);
    const action = pick(q.action, /^[a-z_]{1,40}$/);
    const staff = pick(q.staff, /^\d{1,15}$/);
    const from = pick(q.from, /^\d{4}-\d{2}-\d{2}$/);
    const to = pick(q.to, /^\d{4}-\d{2}-\d{2}$/);
    const before = pick(q.before, /^\d{1,15}$/);
    const settings = await getSettings(deps.db);
    const PAGE = 100;
    const rows = await listAudit(deps.db, {
      action, staffId: staff ? Number(staff) : undefined, beforeId: before ? Number(before) : undefined, limit: PAGE + 1,
      from: from ? zonedMoment(from, '00:00', settings.timezone) : undefined, to: to ? zonedMoment(addDays(to, 1), '00:00', settings.timezone) : undefined,
    });
    const fmt = new Intl.DateTimeFormat('en-GB', { timeZone: settings.timezone, dateStyle: 'short', timeStyle: 'medium' });
    const shown = rows.slice(0, PAGE);
    const keep = new URLSearchParams(Object.entries({ action, staff, from, to }).filter((e): e is [string, string] => e[1] !== undefined));
    const older = rows.length > PAGE ? `/backoffice/audit?${new URLSearchParams([...keep, ['before', String(shown[shown.length - 1].id)]])}` : undefined;
    render(ctx, 'backoffice/audit.html', null, {
      settings, action, filter: { action, staff, from, to }, filtered: keep.size > 0, older, paged: Boolean(before),
      actions: await auditActions(deps.db), staffList: await auth.listStaff(deps.db),
      rows: shown.map((r: { at: Date; details: unknown }) => ({ ...r, when: fmt.format(r.at), detailsText: JSON.stringify(r.details) })),
    });
  });

  return router;
}
