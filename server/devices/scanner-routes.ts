import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { audit } from '../audit/service';
import { listTerminals } from '../auth/service';
import { requires } from '../auth/middleware';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import { unprocessable } from '../errors';
import type { Publisher } from '../events';
import { isHtmx, redirectAfterPost, render, toast } from '../http/render';
import { idParam, parseInput, validate } from '../http/validate';
import * as orders from '../orders/service';
import { scanToOrder } from './scan-to-order';
import {
  addScanner, changeScanner, getScanner, listScanners, removeScanner, ScannerInput, ScannerPatch,
  type ScannerBinding, type ScannerService,
} from './scanners';

export interface ScannerRouteDeps {
  db: Db;
  clock: Clock;
  events: Publisher;
  /** the running scanner service (main.ts); absent, bindings can still be edited and wedge scans still work */
  scanners?: ScannerService;
}

const key = z.string().regex(/^[A-Za-z0-9_-]{8,100}$/);

/** A keyboard-wedge scan from a terminal page (static/js/wedge.js). */
const WedgeScan = z.object({
  code: z.string().trim().min(1).max(64),
  order_id: z.union([z.literal('').transform(() => undefined), z.coerce.number().int().positive()]).optional(),
  idempotency_key: key.optional(),
  sale_key: key.optional(),
  type: z.enum(['counter', 'takeaway', 'dine_in']).optional(),
});

/** "05e0", "0x05E0" → 1504: USB ids are written in hex */
const hexId = z.string().trim().transform((v, ctx) => {
  if (v === '') return null;
  const m = /^(?:0x)?([0-9a-f]{1,4})$/i.exec(v);
  if (!m) {
    ctx.addIssue({ code: 'custom', message: 'four hex digits, like 05e0' });
    return z.NEVER;
  }
  return parseInt(m[1], 16);
});
const terminalField = z.string().trim().transform((v) => (v === '' ? null : Number(v))).pipe(z.number().int().positive().nullable());

/** The back office's add form → ScannerInput. */
const AddForm = z.object({
  name: z.string(),
  kind: z.enum(['hid', 'simulated']).default('hid'),
  vendor_id: hexId.optional(),
  product_id: hexId.optional(),
  path: z.string().optional(),
  terminal_id: terminalField.optional(),
}).transform((f) => ({ name: f.name, kind: f.kind, vendorId: f.vendor_id ?? null, productId: f.product_id ?? null, path: f.path ?? null, terminalId: f.terminal_id ?? null }));

/** The back office's row forms: the terminal, or enabled on/off → ScannerPatch. */
const ChangeForm = z.object({
  terminal_id: terminalField.optional(),
  enabled: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
}).transform((f) => ({ ...(f.terminal_id !== undefined ? { terminalId: f.terminal_id } : {}), ...(f.enabled !== undefined ? { enabled: f.enabled } : {}) }));

const hex4 = (n: number | null) => (n === null ? '' : n.toString(16).padStart(4, '0'));

/** A binding as the API shows it, with its live state. */
export function scannerJson(b: ScannerBinding, scanners?: ScannerService) {
  return { ...b, state: scanners ? scanners.state(b) : b.enabled ? 'stopped' : 'disabled', detail: scanners?.detail(b) ?? null };
}

/**
 * Scanners: the back office's list (views/backoffice/_scanners.html, included by the devices
 * page, loads itself from GET /backoffice/scanners), and the terminal's keyboard-wedge scans.
 */
export function scannerRoutes(deps: ScannerRouteDeps): Router {
  const router = new Router();
  const need = requires('devices:manage', deps);
  const changed = () => deps.scanners?.reload();

  const section = async (ctx: Context) => {
    const [bindings, terminals, detected] = await Promise.all([listScanners(deps.db), listTerminals(deps.db), deps.scanners?.detect() ?? []]);
    const live = terminals.filter((t: { revoked_at: Date | null }) => !t.revoked_at);
    const bound = new Set(bindings.flatMap((b) => [b.path, `${b.vendorId}:${b.productId}`]));
    const perModel = new Map<string, number>();
    for (const d of detected) perModel.set(`${d.vendorId}:${d.productId}`, (perModel.get(`${d.vendorId}:${d.productId}`) ?? 0) + 1);
    render(ctx, 'backoffice/_scanners.html', 'backoffice/_scanners.html', {
      scannersLoaded: true,
      feature: deps.scanners?.feature ?? 'stopped',
      offReason: deps.scanners?.offReason,
      scanners: bindings.map((b) => ({
        ...scannerJson(b, deps.scanners), vendorHex: hex4(b.vendorId), productHex: hex4(b.productId),
        terminalName: live.find((t: { id: number }) => Number(t.id) === b.terminalId)?.name ?? null,
      })),
      detected: detected
        .filter((d) => !bound.has(d.path) && !bound.has(`${d.vendorId}:${d.productId}`))
        // two of one model: told apart by path
        .map((d) => ({ ...d, vendorHex: hex4(d.vendorId), productHex: hex4(d.productId), byPath: (perModel.get(`${d.vendorId}:${d.productId}`) ?? 0) > 1 })),
      terminals: live,
    });
  };
  /** after a change: the list again (htmx), or the devices page (a plain form) */
  const answer = async (ctx: Context, message: string) => {
    if (!isHtmx(ctx)) return redirectAfterPost(ctx, '/backoffice/devices', { toast: message });
    toast(ctx, message);
    await section(ctx);
  };
  const noted = (ctx: Context, details: Record<string, unknown>) =>
    audit(deps.db, deps.clock, { action: 'settings_changed', staffId: ctx.state.auth.staff?.id, approvedBy: ctx.state.auth.approver?.id, terminalId: ctx.state.auth.terminal?.id, details: { scanner: details } });

  router.get('/backoffice/scanners', need, async (ctx) => {
    if (!isHtmx(ctx)) return ctx.redirect('/backoffice/devices');
    await section(ctx);
  });

  router.post('/backoffice/scanners', need, async (ctx) => {
    const b = await addScanner(deps.db, deps.clock, parseInput(ScannerInput, parseInput(AddForm, ctx.request.body)));
    await noted(ctx, { added: b });
    await changed();
    await answer(ctx, `Scanner ${b.name} added.`);
  });

  router.post('/backoffice/scanners/:id', need, async (ctx) => {
    const b = await changeScanner(deps.db, deps.clock, idParam(ctx, 'id'), parseInput(ScannerPatch, parseInput(ChangeForm, ctx.request.body)));
    await noted(ctx, { changed: b });
    await changed();
    await answer(ctx, `Scanner ${b.name} saved.`);
  });

  router.post('/backoffice/scanners/:id/delete', need, async (ctx) => {
    const b = await getScanner(deps.db, idParam(ctx, 'id'));
    await removeScanner(deps.db, b.id);
    await noted(ctx, { removed: b });
    await changed();
    await answer(ctx, `Scanner ${b.name} removed.`);
  });

  // a simulated scanner types the code through the real HID decoder, as a USB scanner would
  router.post('/backoffice/scanners/:id/test-scan', need, validate(z.object({ code: z.string().trim().min(1).max(64) })), async (ctx) => {
    const b = await getScanner(deps.db, idParam(ctx, 'id'));
    const source = deps.scanners?.simulated(b.id);
    if (!source) throw unprocessable(`${b.name} is not a running simulated scanner.`, 'not-simulated');
    source.scan((ctx.state.input as { code: string }).code);
    await answer(ctx, `Scanned on ${b.name}.`);
  });

  // A keyboard-wedge scanner on the terminal (static/js/wedge.js): the same scan to order as a
  // USB scanner bound to this terminal; the order on the page, or a new sale shown at once.
  router.post('/terminal/scan', requires('order:sell', deps), validate(WedgeScan), async (ctx) => {
    const input = ctx.state.input as z.infer<typeof WedgeScan>;
    const a = ctx.state.auth;
    const { orderId, opened } = await scanToOrder(deps, {
      code: input.code, orderId: input.order_id ?? null, requestKey: input.idempotency_key, saleKey: input.sale_key, type: input.type,
      actor: { staffId: a.staff?.id, staffName: a.staff?.name, terminal: a.terminal?.name, terminalId: a.terminal?.id },
    });
    if (opened || !isHtmx(ctx)) return redirectAfterPost(ctx, `/orders/${orderId}`);
    render(ctx, 'orders/terminal.html', 'orders/_panel.html', { ...(await orders.getOrderView(deps.db, orderId)), closeModal: false });
  });

  return router;
}

/** Scanner bindings in the integration API (scope devices:admin), added to its router (server/api/routes.ts). */
export function scannerApiRoutes(router: Router, deps: { db: Db; clock: Clock; scanners?: ScannerService; auth: Middleware; scope: Middleware }): void {
  const { auth, scope } = deps;
  const changed = () => deps.scanners?.reload();
  router.get('/scanners', auth, scope, async (ctx) => {
    ctx.body = {
      items: (await listScanners(deps.db)).map((b) => scannerJson(b, deps.scanners)),
      detected: (await deps.scanners?.detect()) ?? [],
      feature: deps.scanners?.feature ?? 'stopped',
    };
  });
  router.post('/scanners', auth, scope, async (ctx) => {
    const b = await addScanner(deps.db, deps.clock, parseInput(ScannerInput, ctx.request.body));
    await changed();
    ctx.status = 201;
    ctx.body = scannerJson(b, deps.scanners);
  });
  router.get('/scanners/:id', auth, scope, async (ctx) => {
    ctx.body = scannerJson(await getScanner(deps.db, idParam(ctx, 'id')), deps.scanners);
  });
  router.patch('/scanners/:id', auth, scope, async (ctx) => {
    const b = await changeScanner(deps.db, deps.clock, idParam(ctx, 'id'), parseInput(ScannerPatch, ctx.request.body));
    await changed();
    ctx.body = scannerJson(b, deps.scanners);
  });
  router.delete('/scanners/:id', auth, scope, async (ctx) => {
    await removeScanner(deps.db, idParam(ctx, 'id'));
    await changed();
    ctx.status = 204;
  });
}
