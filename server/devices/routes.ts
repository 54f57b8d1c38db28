import Router from '@koa/router';
import type { Context } from 'koa';
import { createPairingCode } from '../auth/pairing';
import { requires } from '../auth/middleware';
import * as auth from '../auth/service';
import * as authSchema from '../auth/schema';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import type { Publisher } from '../events';
import { formView, isHtmx, redirectAfterPost, render, toast, type FormView } from '../http/render';
import { idParam, validate } from '../http/validate';
import * as printing from '../printing/service';
import { noSale } from '../cash/service';
import { CODE_PAGES, MoveQueue, PrinterForm, type PrinterInput } from '../printing/schema';
import { getSettings } from '../settings/service';

export interface DeviceRouteDeps {
  db: Db;
  clock: Clock;
  events: Publisher;
  /** the printers' drivers, shared with the print queue (live status) */
  pool: printing.PrinterPool;
  /** DATA_DIR: the simulator's prints are under DATA_DIR/prints */
  dataDir: string;
  /** closes the sockets of a revoked terminal */
  disconnectTerminal(terminalId: number): void;
}

const PAGE = 'backoffice/devices.html';

/**
 * The back office's devices page (issue 21): terminals (pairing, revoking, their kitchen station
 * and receipt printer), printers (settings, routes, test print, live status, queue with reprint
 * and move), cash drawers, the simulator's latest prints, and the scanners' section
 * (views/backoffice/_scanners.html). /backoffice/terminals leads here; the terminal forms keep
 * their addresses.
 */
export function deviceRoutes(deps: DeviceRouteDeps): Router {
  const router = new Router();
  const need = (p: Parameters<typeof requires>[0]) => requires(p, deps);
  const by = (ctx: Context) => ({ staffId: ctx.state.auth.staff!.id, terminalId: ctx.state.auth.terminal!.id });

  const page = async () => {
    const [settings, terminals, stations, printers, waiting, prints] = await Promise.all([
      getSettings(deps.db), auth.listTerminals(deps.db), deps.db('stations').orderBy(['position', 'id']),
      printing.printerDetails(deps.db), printing.waitingCounts(deps.db), printing.latestSimulatedPrints(deps.dataDir),
    ]);
    const queues = new Map(await Promise.all(printers.map(async (p) => [p.id, await printing.printerQueue(deps.db, p.id, 5)] as const)));
    const names = new Map(printers.map((p) => [p.id, p.name]));
    const tz = new Intl.DateTimeFormat('en-GB', { timeZone: settings.timezone, dateStyle: 'short', timeStyle: 'medium' });
    const live = terminals.filter((t: { revoked_at: Date | null }) => !t.revoked_at);
    const shown = printers.map((p) => ({
      ...p,
      waiting: waiting.get(p.id) ?? 0,
      queue: queues.get(p.id)!,
      stationNames: stations.filter((s: { id: number }) => p.stationIds.includes(s.id)).map((s: { name: string }) => s.name),
      terminalNames: live.filter((t: { id: number }) => p.terminalIds.includes(t.id)).map((t: { name: string }) => t.name),
      downSince: p.down_since ? tz.format(p.down_since) : null,
    }));
    return {
      settings, terminals, kinds: auth.TERMINAL_KINDS, stations, codePages: CODE_PAGES, liveTerminals: live,
      printers: shown,
      printerName: (id: number | null) => (id ? names.get(id) ?? '' : ''),
      drawers: shown.filter((p) => p.terminalNames.length > 0),
      /** whether a form's list (a value, several, or none) holds an id */
      has: (list: unknown, id: number) => ([] as unknown[]).concat(list ?? []).map(String).includes(String(id)),
      when: (d: Date | null) => (d ? tz.format(d) : ''),
      prints: prints.map((x) => ({ ...x, printer: names.get(x.printerId) ?? `Printer ${x.printerId}` })),
    };
  };
  const printerOf = async (ctx: Context) => {
    const data = await page();
    return { ...data, p: data.printers.find((p) => String(p.id) === ctx.params.id) };
  };
  const forms = {
    pairing: { page: PAGE, partial: 'backoffice/_pairing.html', target: () => '#pairing', formId: () => 'pairing', data: page },
    defaults: {
      page: PAGE, partial: 'backoffice/_terminal_defaults.html', target: (ctx) => `#defaults-${ctx.params.id}`, formId: (ctx) => `defaults-${ctx.params.id}`,
      data: async (ctx) => { const d = await page(); return { ...d, t: d.terminals.find((t: { id: number }) => String(t.id) === ctx.params.id) }; },
    },
    newPrinter: { page: PAGE, partial: 'backoffice/_printer_form.html', target: () => '#printer-new', formId: () => 'printer-new', data: page, messages: MESSAGES },
    printer: {
      page: PAGE, partial: 'backoffice/_printer_form.html', target: (ctx) => `#printer-${ctx.params.id}-form`, formId: (ctx) => `printer-${ctx.params.id}-form`,
      data: printerOf, messages: MESSAGES,
    },
    move: {
      page: PAGE, partial: 'backoffice/_printer_move.html', target: (ctx) => `#printer-${ctx.params.id}-move`, formId: (ctx) => `printer-${ctx.params.id}-move`, data: printerOf,
    },
  } satisfies Record<string, FormView>;

  router.get('/backoffice/devices', need('devices:manage'), async (ctx) => {
    render(ctx, PAGE, null, await page());
  });
  // the old address: a redirect, asking nothing (the devices page asks, once, approvable)
  router.get('/backoffice/terminals', need('device'), (ctx) => ctx.redirect('/backoffice/devices'));

  // ---- terminals (moved here from the terminals page, at their old addresses) ----
  router.post('/backoffice/terminals/pairing-codes', need('terminals:pair'), formView(forms.pairing), validate(authSchema.NewPairingCode), async (ctx) => {
    const input = ctx.state.input as { name: string; kind: auth.TerminalKind };
    const { code, expiresAt } = await createPairingCode(deps, input, by(ctx));
    const data = await page();
    render(ctx, PAGE, 'backoffice/_pairing.html', {
      ...data, code, name: input.name, expiresAt: new Intl.DateTimeFormat('en-GB', { timeZone: data.settings.timezone, timeStyle: 'short' }).format(expiresAt),
    });
  });

  router.post('/backoffice/terminals/:id/revoke', need('terminals:pair'), async (ctx) => {
    const id = idParam(ctx, 'id');
    await auth.revokeTerminal(deps, id, by(ctx));
    deps.disconnectTerminal(id);
    redirectAfterPost(ctx, '/backoffice/devices', { toast: 'Terminal revoked: it needs a new pairing code to work again.' });
  });

  router.post('/backoffice/terminals/:id/defaults', need('terminals:pair'), formView(forms.defaults), validate(authSchema.TerminalDefaults), async (ctx) => {
    const id = idParam(ctx, 'id');
    const input = ctx.state.input as { station_id: number | null; receipt_printer_id: number | null };
    await auth.setTerminalDefaults(deps, id, { stationId: input.station_id, printerId: input.receipt_printer_id }, by(ctx));
    redirectAfterPost(ctx, '/backoffice/devices', { toast: 'Station and receipt printer saved.' });
  });

  // ---- printers ----
  router.post('/backoffice/devices/printers', need('devices:manage'), formView(forms.newPrinter), validate(PrinterForm), async (ctx) => {
    const p = await printing.createPrinter(deps, ctx.state.input as PrinterInput, by(ctx));
    redirectAfterPost(ctx, '/backoffice/devices', { toast: `${p.name} added. Print a test page to check it.` });
  });

  router.post('/backoffice/devices/printers/:id', need('devices:manage'), formView(forms.printer), validate(PrinterForm), async (ctx) => {
    const p = await printing.updatePrinter(deps, idParam(ctx, 'id'), ctx.state.input as PrinterInput, by(ctx));
    redirectAfterPost(ctx, '/backoffice/devices', { toast: `${p.name} saved.` });
  });

  router.post('/backoffice/devices/printers/:id/test', need('devices:manage'), async (ctx) => {
    const p = await printing.getPrinter(deps.db, idParam(ctx, 'id'));
    await printing.printTestPage(deps, p.id);
    answer(ctx, `Test page sent to ${p.name}.`);
  });

  router.get('/backoffice/devices/printers/:id/status', need('devices:manage'), async (ctx) => {
    const p = await printing.getPrinter(deps.db, idParam(ctx, 'id'));
    render(ctx, 'backoffice/_printer_status.html', 'backoffice/_printer_status.html', { p, status: await printing.liveStatus(deps.pool, p), waiting: (await printing.waitingCounts(deps.db)).get(p.id) ?? 0 });
  });

  router.post('/backoffice/devices/printers/:id/move', need('devices:manage'), formView(forms.move), validate(MoveQueue), async (ctx) => {
    const from = await printing.getPrinter(deps.db, idParam(ctx, 'id'));
    const to = await printing.getPrinter(deps.db, (ctx.state.input as { to_printer_id: number }).to_printer_id);
    const n = await printing.moveQueue(deps, from.id, to.id);
    redirectAfterPost(ctx, '/backoffice/devices', { toast: n ? `${n} job${n === 1 ? '' : 's'} moved from ${from.name} to ${to.name}.` : `Nothing was waiting on ${from.name}.` });
  });

  router.post('/backoffice/devices/jobs/:id/reprint', need('devices:manage'), async (ctx) => {
    const job = await printing.getJob(deps.db, idParam(ctx, 'id'));
    await printing.reprintJob(deps, job.id);
    const p = await printing.getPrinter(deps.db, job.printer_id);
    answer(ctx, `Printing again on ${p.name}.`);
  });

  // a cash drawer opened from the back office (no sale): the printer's drawer, journaled and audited
  router.post('/backoffice/devices/printers/:id/drawer', need('drawer:no-sale'), async (ctx) => {
    const p = await printing.getPrinter(deps.db, idParam(ctx, 'id'));
    const a = ctx.state.auth; // a journal entry of its own kind (server/cash/)
    await noSale(deps, { staffId: a.staff?.id, staffName: a.staff?.name, approvedBy: a.approver?.id, approverName: a.approver?.name, terminalId: a.terminal?.id, terminal: a.terminal?.name }, null, p.id);
    answer(ctx, `Drawer of ${p.name} opened.`);
  });

  return router;
}

/** A button's answer: a toast where it was pressed, or back to the page for a plain form. */
function answer(ctx: Context, message: string) {
  if (isHtmx(ctx)) {
    toast(ctx, message);
    ctx.set('HX-Reswap', 'none');
    ctx.status = 200;
    ctx.body = '';
  } else redirectAfterPost(ctx, '/backoffice/devices', { toast: message });
}

/** Field errors in the staff's words. */
const MESSAGES: Record<string, string> = {
  address: 'Type the printer\'s address as host:port (e.g. 192.168.1.50:9100), or simulator.',
  paper_width: 'Choose 58 or 80 mm.',
  columns: '58 mm paper has 32 characters per line; 80 mm has 42 or 48.',
  code_page: 'Choose a code page from the list.',
  failover_after_s: 'Type a number of seconds from 5 to 86400.',
};
