import crypto from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { requires } from '../auth/middleware';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import type { Publisher } from '../events';
import { formatLocal } from '../business-date';
import { audit } from '../audit/service';
import { formView, redirectAfterPost, render, toast, type FormView } from '../http/render';
import { parseInput } from '../http/validate';
import { getSettings } from '../settings/service';
import { BusinessSettings } from '../settings/schema';
import { exportRuns, toCsv, writeExport, zipExport } from '../export/service';
import type { Logger } from '../logger';
import { rangeOf } from './api-routes';
import * as reports from './service';

export interface ReportRouteDeps {
  db: Db;
  clock: Clock;
  events: Publisher;
  exportDir: string;
  ledger?: { shipNow(): Promise<void> };
  log?: Logger;
}

const PAGE = 50;
const TITLES: Record<reports.ReportName, string> = {
  summary: 'Sales summary', products: 'Product mix', hourly: 'Sales by hour', staff: 'Sales by staff', exceptions: 'Voids, comps, discounts, overrides, no sales', open: 'Open orders',
};
const ZForm = z.object({ idempotency_key: z.string().trim().min(8).max(100), business_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) });
const ExportForm = z.object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) });
const SettingsForm = z.object({
  exportTime: z.string().trim().default(''),
  exportBom: z.string().optional().transform((v) => v === 'on'),
  requireDrawerSession: z.string().optional().transform((v) => v === 'on'),
});

/**
 * The back office's reports (/backoffice/reports: each over a range of business days, compared
 * with the period before, paginated, each a CSV download) and the close of day
 * (/backoffice/close: the X so far, the Z, the exports and their zip, the close-of-day settings).
 */
export function reportRoutes(deps: ReportRouteDeps): Router {
  const router = new Router();
  const need = (p: Parameters<typeof requires>[0]) => requires(p, deps);
  const actor = (ctx: Context): reports.CloseActor => {
    const a = ctx.state.auth;
    return { staffId: a.staff?.id, staffName: a.staff?.name, terminal: a.terminal?.name, terminalId: a.terminal?.id };
  };
  const nameOf = (v: unknown): reports.ReportName => (reports.REPORTS.includes(v as reports.ReportName) ? (v as reports.ReportName) : 'summary');

  router.get('/backoffice/reports', need('reports:view'), async (ctx) => {
    const settings = await getSettings(deps.db);
    const range = await rangeOf(deps.db, deps.clock, ctx.query);
    const name = nameOf(ctx.query.report);
    const pageNo = Math.max(1, Math.min(10_000, Number(ctx.query.page) || 1));
    const page = { limit: PAGE + 1, offset: (pageNo - 1) * PAGE };
    const data: Record<string, unknown> = {};
    if (name === 'summary') Object.assign(data, await reports.summaryWithComparison(deps.db, range));
    if (name === 'products') Object.assign(data, { rows: await reports.productMix(deps.db, range, page), categories: await reports.categoryMix(deps.db, range) });
    if (name === 'hourly') Object.assign(data, await reports.hourlySales(deps.db, range));
    if (name === 'staff') data.rows = await reports.perStaff(deps.db, range);
    if (name === 'exceptions') data.rows = (await reports.exceptions(deps.db, range, page)).map((r) => ({ ...r, when: r.at ? formatLocal(new Date(r.at), settings.timezone) : '' }));
    if (name === 'open') data.rows = (await reports.openOrders(deps.db, page)).map((r) => ({ ...r, opened: formatLocal(r.openedAt, settings.timezone) }));
    const rows = data.rows as unknown[] | undefined;
    const more = !!rows && rows.length > PAGE && name !== 'staff';
    if (rows && more) data.rows = rows.slice(0, PAGE);
    const query = (extra: Record<string, string | number>) => new URLSearchParams({ report: name, from: range.from, to: range.to, ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, String(v)])) }).toString();
    render(ctx, 'reports/index.html', 'reports/_report.html', {
      settings, range, name, title: TITLES[name], titles: TITLES, reportsList: reports.REPORTS, previous: reports.previousPeriod(range), pageNo,
      nextPage: more ? query({ page: pageNo + 1 }) : null, prevPage: pageNo > 1 ? query({ page: pageNo - 1 }) : null,
      csv: `/backoffice/reports/csv/${name}?${new URLSearchParams({ from: range.from, to: range.to })}`, path: '/backoffice/reports', ...data,
    });
  });

  router.get('/backoffice/reports/csv/:name', need('reports:view'), async (ctx) => {
    const name = ctx.params.name as reports.ReportName;
    if (!reports.REPORTS.includes(name)) ctx.throw(404);
    const settings = await getSettings(deps.db);
    const range = await rangeOf(deps.db, deps.clock, ctx.query);
    const table = await reports.reportTable(deps.db, name, range);
    ctx.type = 'text/csv; charset=utf-8';
    ctx.set('Content-Disposition', `attachment; filename="${name}-${range.from}-${range.to}.csv"`);
    ctx.body = toCsv(table.header, table.rows, { bom: settings.exportBom });
  });

  const closePage = async (extra: object = {}) => {
    const settings = await getSettings(deps.db);
    const x = await reports.xReport(deps.db, deps.clock);
    const toClose = await reports.dayToClose(deps.db, deps.clock);
    const zs = await deps.db('journal').where({ kind: 'z_closure' }).orderBy('seq', 'desc').limit(10).select('entry');
    return {
      settings, x, xRows: reports.reportText(reports.reportRows(x.totals, x.carried), settings.currency), toClose, zKey: crypto.randomUUID(),
      zs: zs.map((r: { entry: Record<string, unknown> }) => ({ zNo: r.entry.z_no, date: r.entry.business_date, at: formatLocal(new Date(String(r.entry.at)), settings.timezone), net: r.entry.net, seq: r.entry.seq })),
      exports: (await exportRuns(deps.db, 30)).map((e) => ({ ...e, when: formatLocal(e.written_at, settings.timezone) })),
      form: { exportTime: settings.exportTime, exportBom: settings.exportBom, requireDrawerSession: settings.requireDrawerSession },
      path: '/backoffice/close', ...extra,
    };
  };
  const closeForm: FormView = { page: 'reports/close.html', data: () => closePage() };

  router.get('/backoffice/close', need('reports:view'), async (ctx) => {
    render(ctx, 'reports/close.html', null, await closePage());
  });

  router.post('/backoffice/close/z', need('reports:view'), formView(closeForm), async (ctx) => {
    const input = parseInput(ZForm, ctx.request.body);
    const { entry, replayed } = await reports.closeDay(deps, actor(ctx), { businessDate: input.business_date, idempotencyKey: input.idempotency_key });
    redirectAfterPost(ctx, '/backoffice/close', { toast: replayed ? `Business day ${entry.business_date} was already closed (Z ${entry.z_no}).` : `Business day ${entry.business_date} closed: Z ${entry.z_no}.` });
  });

  router.post('/backoffice/close/x/print', need('reports:view'), formView(closeForm), async (ctx) => {
    await reports.printX(deps, actor(ctx));
    redirectAfterPost(ctx, '/backoffice/close', { toast: 'X report sent to the receipt printer.' });
  });

  router.post('/backoffice/exports', need('reports:view'), formView(closeForm), async (ctx) => {
    const { date } = parseInput(ExportForm, ctx.request.body);
    await writeExport(deps, date, 'manual');
    redirectAfterPost(ctx, '/backoffice/close', { toast: `Export of ${date} written.` });
  });

  router.get('/backoffice/exports/:date/zip', need('reports:view'), async (ctx) => {
    const date = String(ctx.params.date);
    const zip = zipExport(deps.exportDir, date);
    ctx.type = 'application/zip';
    ctx.set('Content-Disposition', `attachment; filename="export-${date}.zip"`);
    ctx.body = zip;
  });

  router.post('/backoffice/close/settings', need('settings:edit'), formView({ ...closeForm, messages: { exportTime: 'Use a time as HH:MM, like 05:00, or leave it empty.' } }), async (ctx) => {
    const input = parseInput(SettingsForm, ctx.request.body);
    const next = parseInput(BusinessSettings.pick({ exportTime: true, exportBom: true, requireDrawerSession: true }), input);
    const a = ctx.state.auth;
    await deps.db.transaction(async (trx) => {
      const current = await getSettings(trx);
      const changed = (Object.keys(next) as Array<keyof typeof next>).filter((k) => next[k] !== current[k]);
      for (const key of changed) await trx('settings').insert({ key, value: JSON.stringify(next[key]), updated_at: deps.clock.now() }).onConflict('key').merge();
      if (changed.length) {
        await audit(trx, deps.clock, { action: 'settings_changed', staffId: a.staff?.id, approvedBy: a.approver?.id, terminalId: a.terminal?.id, details: Object.fromEntries(changed.map((k) => [k, { from: current[k], to: next[k] }])) });
      }
    });
    toast(ctx, 'Close-of-day settings saved.');
    render(ctx, 'reports/close.html', null, await closePage());
  });

  return router;
}
