import Router from '@koa/router';
import type { Context } from 'koa';
import type { Clock } from '../clock';
import type { Db, Trx } from '../db/knex';
import { invalid, notFound, unprocessable } from '../errors';
import { idParam, parseInput } from '../http/validate';
import { productModifierGroups } from '../catalog/service';
import { listEntries } from '../journal/service';
import * as orders from '../orders/service';
import type { OrderEvents, PaymentRow } from '../orders/service';
import { createSubscription, deleteSubscription, getSubscription, listDeliveries, listSubscriptions } from '../webhooks/service';
import type { RateLimiter } from '../auth/rate-limit';
import { sendOrder, type KitchenDeps } from '../kitchen/service';
import { bearer, idempotently, scope } from './middleware';
import { openApiDocument } from './openapi';
import * as schema from './schema';
import { orderJson, paymentJson, productJson } from './serialize';
import { ledgerApiRoutes } from '../ledger/api-routes';
import { backupApiRoutes } from '../backup/api-routes';
import type { Backups } from '../backup/nightly';
import { catalogApiRoutes } from '../catalog/api-routes';
import { inventoryApiRoutes } from '../inventory/api-routes';
import { reportApiRoutes } from '../reports/api-routes';
import type { LedgerShipper } from '../ledger/service';
import { scannerApiRoutes } from '../devices/scanner-routes';
import type { ScannerService } from '../devices/scanners';
import { printerApiRoutes } from '../devices/printer-api';
import type { PrinterPool } from '../printing/service';
import { cancelCardPayment, refundToCard, startCardTender, type CardDeps } from '../payments/service';

export interface ApiDeps {
  db: Db;
  clock: Clock;
  events: OrderEvents;
  limiter: RateLimiter;
  kitchen: KitchenDeps;
  /** the cloud ledger's shipper, for "ship now" (server/ledger/) */
  ledger: LedgerShipper;
  /** the scanner service, for the bindings' live state (server/devices/scanners.ts) */
  scanners?: ScannerService;
  /** the printers' drivers, for a printer's live status (server/printing/) */
  printers?: PrinterPool;
  /** card payments (server/payments/): card tenders, Cancel, card refunds */
  cards?: CardDeps;
  /** the backups (server/backup/): the ones kept, and one now */
  backups: Backups;
}

/**
 * /api/v1: JSON over the same services the terminal uses (no rule exists twice). Token-only:
 * no cookies, no CSRF. Every route declares its scope; the OpenAPI document lists them all.
 */
export function apiRoutes(deps: ApiDeps): Router {
  const router = new Router({ prefix: '/api/v1' });
  const auth = bearer(deps);
  const body = <S extends Parameters<typeof parseInput>[0]>(ctx: Context, s: S) => parseInput(s, ctx.request.body);
  const actor = (ctx: Context): orders.Actor => ({ terminal: `api:${ctx.state.api!.token.name}` });
  const orderDeps = (db: Db = deps.db): orders.OrderDeps => ({ db, clock: deps.clock, events: deps.events });
  /** the services' deps inside an idempotent write's transaction: what they publish waits for its COMMIT (and is dropped on rollback) */
  const inWrite = (trx: Trx, afterCommit: (f: () => void) => void): orders.OrderDeps => ({
    db: trx,
    clock: deps.clock,
    events: { publish: (name, payload) => afterCommit(() => deps.events.publish(name, payload)) },
  });
  const view = async (id: number) => orderJson(await orders.getOrderView(deps.db, id));

  router.get('/openapi.json', scope('public'), (ctx) => {
    ctx.body = openApiDocument;
  });

  router.get('/products', auth, scope('catalog:read'), async (ctx) => {
    const q = parseInput(schema.ProductQuery, ctx.query);
    const rows = deps.db('products as p').where('p.active', true).orderBy(['p.category_id', 'p.position', 'p.id']).select('p.*');
    if (q.category) rows.where('p.category_id', q.category);
    if (q.sku) rows.where('p.sku', q.sku);
    if (q.barcode) rows.whereExists((e) => e.select(1).from('product_barcodes as b').whereRaw('b.product_id = p.id').andWhere('b.barcode', q.barcode!));
    if (q.available) rows.where('p.available', q.available === 'true');
    const products = await rows;
    const codes = await deps.db('product_barcodes').whereIn('product_id', products.map((p: { id: number }) => p.id));
    ctx.body = { items: products.map((p: Parameters<typeof productJson>[0]) => productJson(p, codes.filter((c: { product_id: number }) => c.product_id === p.id).map((c: { barcode: string }) => c.barcode))) };
  });

  router.get('/products/:id', auth, scope('catalog:read'), async (ctx) => {
    const p = await deps.db('products').where({ id: idParam(ctx, 'id'), active: true }).first();
    if (!p) throw notFound('That product');
    const codes = await deps.db('product_barcodes').where({ product_id: p.id }).pluck('barcode');
    ctx.body = { ...productJson(p, codes), modifierGroups: await productModifierGroups(deps.db, p.id) };
  });

  const resolveLine = async (db: Db, l: schema.LineInput): Promise<orders.NewLine> => {
    let productId = l.productId;
    if (l.sku !== undefined) {
      const p = await db('products').where({ sku: l.sku, active: true }).first('id');
      if (!p) throw unprocessable(`There is no product with SKU ${l.sku}.`, 'unknown-product');
      productId = p.id;
    }
    return { productId: productId!, quantity: l.qty, modifierIds: l.modifierIds, note: l.note?.trim() || null };
  };

  router.post('/orders', auth, scope('orders:write'), async (ctx) => {
    const input = body(ctx, schema.CreateOrder);
    if (input.tableId && !(await deps.db('tables').where({ id: input.tableId, active: true }).first('id'))) {
      throw unprocessable(`There is no table ${input.tableId}.`, 'unknown-table');
    }
    // the lines' SKUs before a number is taken: an unknown one costs no order number
    const lines: orders.NewLine[] = [];
    for (const l of input.lines) lines.push(await resolveLine(deps.db, l));
    // the number first, on its own: the transaction below does not hold the day's order counter
    // (terminals opening orders would wait for it); a failed create skips its number
    const number = await orders.reserveOrderNumber(orderDeps());
    // one transaction, with the idempotency key's record: a bad line 3 leaves no half-made order behind
    await idempotently(deps, ctx, async (trx, afterCommit) => {
      const id = await orders.openOrderWithLines(inWrite(trx, afterCommit), { type: input.type, customerName: input.customerName, tableId: input.tableId }, lines, actor(ctx), number);
      return { status: 201, body: orderJson(await orders.getOrderView(trx, id)) };
    });
  });

  router.get('/orders/:id', auth, scope('orders:write'), async (ctx) => {
    ctx.body = await view(idParam(ctx, 'id'));
  });

  router.post('/orders/:id/lines', auth, scope('orders:write'), async (ctx) => {
    const id = idParam(ctx, 'id');
    const l = body(ctx, schema.LineInput);
    ctx.body = orderJson((await orders.addLineAndView(orderDeps(), id, await resolveLine(deps.db, l))).view);
  });

  router.post('/orders/:id/void', auth, scope('orders:write'), async (ctx) => {
    const id = idParam(ctx, 'id');
    await orders.voidOrder(orderDeps(), id, body(ctx, schema.VoidInput).reason, actor(ctx));
    ctx.body = await view(id);
  });

  router.post('/orders/:id/send', auth, scope('orders:write'), async (ctx) => {
    const id = idParam(ctx, 'id');
    const { tickets } = await sendOrder(deps.kitchen, id);
    ctx.body = { order: await view(id), tickets: tickets.map((t) => ({ id: t.ticketId, stationId: t.stationId })) };
  });

  router.post('/orders/:id/payments', auth, scope('payments:write'), async (ctx) => {
    const id = idParam(ctx, 'id');
    if ((ctx.request.body as { method?: unknown } | undefined)?.method === 'card') {
      // no transaction may stay open while Stripe is waited on: the payment row's key makes a retry answer that payment
      if (!deps.cards) throw unprocessable('Card payments are not set up on this store server.', 'card-not-set-up');
      const c = body(ctx, schema.CardPaymentInput);
      const started = await startCardTender(deps.cards, id, { amount: c.amount, tip: c.tip ?? 0, tipOnReader: c.tipOnReader ?? false, readerId: c.readerId, idempotencyKey: c.idempotencyKey }, actor(ctx));
      ctx.status = started.status === 'pending' ? 202 : 201;
      ctx.body = paymentJson(started, await deps.db('orders').where({ id }).first());
      return;
    }
    const input = body(ctx, schema.PaymentInput);
    // the tender, the answer (the order as the tender left it) and the key's record: one transaction
    await idempotently(deps, ctx, async (trx, afterCommit) => {
      const result = await orders.tenderCash(inWrite(trx, afterCommit), id, input.amount, input.idempotencyKey, actor(ctx), input.tip ?? 0);
      const payment: PaymentRow = await trx('payments').where({ id: result.paymentId }).first();
      if (payment.order_id !== id) throw new Error(`payment ${result.paymentId} is not order ${id}'s`);
      return { status: 201, body: paymentJson(payment, await trx('orders').where({ id }).first()) };
    });
  });

  router.get('/payments/:id', auth, scope('payments:write'), async (ctx) => {
    const payment: PaymentRow | undefined = await deps.db('payments').where({ id: idParam(ctx, 'id') }).first();
    if (!payment) throw notFound('That payment');
    ctx.body = paymentJson(payment, await deps.db('orders').where({ id: payment.order_id }).first());
  });

  router.post('/payments/:id/cancel', auth, scope('payments:write'), async (ctx) => {
    const found: PaymentRow | undefined = await deps.db('payments').where({ id: idParam(ctx, 'id') }).first();
    if (!found) throw notFound('That payment');
    if (found.method !== 'card' || !deps.cards) throw unprocessable('Only a card payment can be canceled: a cash payment is refunded instead.', 'not-cancelable');
    const payment = await cancelCardPayment(deps.cards, found.id);
    ctx.body = paymentJson(payment, await deps.db('orders').where({ id: payment.order_id }).first());
  });

  router.post('/payments/:id/refunds', auth, scope('payments:write'), async (ctx) => {
    const payment = await deps.db('payments').where({ id: idParam(ctx, 'id') }).first();
    if (!payment) throw notFound('That payment');
    const input = body(ctx, schema.RefundInput);
    const lines = input.lines ? new Map<number, number>() : undefined;
    for (const l of input.lines ?? []) {
      if (lines!.has(l.lineId)) throw invalid(`Line ${l.lineId} is listed twice.`, [{ field: 'lines', message: 'duplicate line' }]);
      lines!.set(l.lineId, l.qty);
    }
    if (payment.method === 'card' && deps.cards) {
      // back to that card through Stripe, outside any transaction; its key makes a retry answer the same refund
      const r = await refundToCard(deps.cards, payment.order_id, { reason: input.reason, idempotencyKey: input.idempotencyKey, lines, amount: input.amount, paymentId: payment.id }, actor(ctx));
      ctx.status = 201;
      ctx.body = { id: r.id, orderId: r.order_id, paymentId: payment.id, total: r.total, taxTotal: r.tax_total, receiptNo: r.receipt_no, reason: r.reason, status: r.status, createdAt: r.created_at.toISOString() };
      return;
    }
    await idempotently(deps, ctx, async (trx, afterCommit) => {
      const r = await orders.refundOrder(inWrite(trx, afterCommit), payment.order_id, { reason: input.reason, idempotencyKey: input.idempotencyKey, lines, amount: input.amount }, actor(ctx));
      const refund = await trx('refunds').where({ id: r.refundId }).first();
      return {
        status: 201,
        body: { id: refund.id, orderId: refund.order_id, paymentId: payment.id, total: refund.total, taxTotal: refund.tax_total, receiptNo: refund.receipt_no, reason: refund.reason, createdAt: refund.created_at.toISOString() },
      };
    });
  });

  router.get('/journal', auth, scope('journal:read'), async (ctx) => {
    const q = parseInput(schema.JournalQuery, ctx.query);
    const entries = await listEntries(deps.db, q.afterSeq, q.limit);
    ctx.body = { entries, nextAfterSeq: entries.length ? entries[entries.length - 1].seq : q.afterSeq };
  });

  router.get('/webhooks', auth, scope('webhooks:admin'), async (ctx) => {
    ctx.body = { items: (await listSubscriptions(deps.db)).map(subscriptionJson) };
  });

  router.post('/webhooks', auth, scope('webhooks:admin'), async (ctx) => {
    const input = body(ctx, schema.WebhookInput);
    const sub = await createSubscription(deps.db, deps.clock, input);
    ctx.status = 201;
    ctx.body = { ...subscriptionJson(sub), secret: sub.secret };
  });

  router.delete('/webhooks/:id', auth, scope('webhooks:admin'), async (ctx) => {
    await deleteSubscription(deps.db, idParam(ctx, 'id'));
    ctx.status = 204;
  });

  router.get('/webhooks/:id/deliveries', auth, scope('webhooks:admin'), async (ctx) => {
    const id = idParam(ctx, 'id');
    await getSubscription(deps.db, id);
    const rows = await listDeliveries(deps.db, id);
    ctx.body = {
      items: rows.map((d: { id: number; event_id: string; type: string; seq: number; state: string; attempts: number; next_attempt_at: Date; delivered_at: Date | null; last_status: number | null; last_error: string | null }) => ({
        id: d.id, eventId: d.event_id, type: d.type, sequence: d.seq, state: d.state, attempts: d.attempts,
        nextAttemptAt: d.next_attempt_at.toISOString(), deliveredAt: d.delivered_at ? d.delivered_at.toISOString() : null,
        lastStatus: d.last_status, lastError: d.last_error,
      })),
    };
  });

  scannerApiRoutes(router, { db: deps.db, clock: deps.clock, scanners: deps.scanners, auth, scope: scope('devices:admin') });
  printerApiRoutes(router, { db: deps.db, clock: deps.clock, events: deps.events, pool: deps.printers, auth, scope: scope('devices:admin') });

  ledgerApiRoutes(router, { db: deps.db, clock: deps.clock, ledger: deps.ledger, auth, scope: scope('ledger:admin') });
  catalogApiRoutes(router, { db: deps.db, clock: deps.clock, events: deps.events, auth, scope: scope('catalog:write') });
  inventoryApiRoutes(router, { db: deps.db, clock: deps.clock, events: deps.events, auth, scope: scope('inventory:write') });
  reportApiRoutes(router, { db: deps.db, clock: deps.clock, auth, scope: scope('reports:read') });
  backupApiRoutes(router, { db: deps.db, clock: deps.clock, backups: deps.backups, auth, scope: scope('backups:admin') });

  return router;
}

function subscriptionJson(s: { id: number; url: string; events: string[]; active: boolean; created_at: Date }) {
  return { id: s.id, url: s.url, events: s.events, active: s.active, createdAt: s.created_at.toISOString() };
}
