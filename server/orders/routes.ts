import crypto from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { listCategories, listProducts, productModifierGroups, sellableProduct } from '../catalog/service';
import { invalid, notFound, unprocessable } from '../errors';
import { formView, isHtmx, redirectAfterPost, render } from '../http/render';
import { idParam, parseInput, validate } from '../http/validate';
import { formatLocal } from '../business-date';
import { quickCash } from '../money';
import { settingsFor } from '../settings/service';
import * as schema from './schema';
import * as orders from './service';
import type { OrderDeps, Actor } from './service';
import { allowed, requires } from '../auth/middleware';
import type { Permission } from '../auth/permissions';
import { audit } from '../audit/service';
import * as kitchen from '../kitchen/service';
import type { KitchenDeps } from '../kitchen/service';
import { merged } from '../merge';
import { receiptPrinterOf } from '../printing/service';
import { findOrder } from './queries';
import { setLinePlace, setOrderType } from './placing';
import { startSale } from './start-sale';
import { checkStock } from '../inventory/service';
import { refundToCard, type CardDeps } from '../payments/service';

const newKey = () => crypto.randomUUID();

/** The counter terminal: product grid, order panel, dialogs. Thin handlers over the order service. */
export function orderRoutes(deps: OrderDeps & { kitchen: KitchenDeps; cards: CardDeps; catalogChanged(productId: number, available: boolean): void }): Router {
  const router = new Router();
  const need = (p: Permission | 'device') => requires(p, deps);
  const actor = (ctx: Context): Actor => {
    const a = ctx.state.auth;
    return {
      staffId: a.staff?.id, staffName: a.staff?.name, terminal: a.terminal?.name, terminalId: a.terminal?.id,
      approvedBy: a.approver?.id, approverName: a.approver?.name,
    };
  };
  /**
   * A permission a service finds it needs under the order's lock (a void of sent items, a large
   * discount): the staff member's own, or a manager's PIN sent with this request.
   */
  const authorize = (ctx: Context, a: Actor): orders.Authorize => async (permission) => {
    await allowed(ctx, permission, deps);
    Object.assign(a, actor(ctx)); // a manager's PIN fills in the approver
  };
  /** an edit's options: its permission answers, and the order's version the form was drawn at */
  const edit = (ctx: Context, a: Actor): orders.EditOptions => {
    const drawn = (ctx.request.body as Record<string, unknown> | undefined)?.version;
    const drawnAt = typeof drawn === 'string' && /^\d{1,15}$/.test(drawn) ? Number(drawn) : undefined;
    return { authorize: authorize(ctx, a), drawnAt };
  };

  /** the order panel; `known`: the view a service already answered, so it is not read again */
  const panel = async (ctx: Context, orderId: number, extra: object = {}, known?: orders.OrderView) => {
    const view = known ?? (await orders.getOrderView(deps.db, orderId));
    render(ctx, 'orders/terminal.html', 'orders/_panel.html', merged(view, { closeModal: true }, extra));
  };

  /** a change asked from the line editor (its forms send `editor=1`): answered with the editor, not the panel alone */
  const fromEditor = (ctx: Context) => (ctx.request.body as Record<string, unknown> | undefined)?.editor === '1';
  /** the line editor with the line as it now is, and the panel out of band (withPanel) */
  const editorData = async (ctx: Context) => {
    const view = await orders.getOrderView(deps.db, idParam(ctx, 'id'));
    return merged(view, { line: view.lines.find((l) => l.id === idParam(ctx, 'lineId')) ?? null, withPanel: true });
  };
  /**
   * After a change to a line: the panel; from the line editor, the editor again (it stays open
   * until Done) with the panel updated beside it, or, when the line is gone, the panel alone and
   * the editor closed.
   */
  const lineAnswer = async (ctx: Context, orderId: number) => {
    if (!fromEditor(ctx)) return panel(ctx, orderId);
    const data = await editorData(ctx);
    if (data.line && data.order.status === 'open') return render(ctx, 'orders/terminal.html', 'orders/_line_edit.html', data);
    if (isHtmx(ctx)) {
      ctx.set('HX-Retarget', '#order-panel');
      ctx.set('HX-Reswap', 'outerHTML');
    }
    await panel(ctx, orderId, {}, data);
  };
  /** a refused change from the line editor shows beside its field in the editor, with what was typed (docs/UI.md) */
  const editorForm = formView({
    page: 'orders/terminal.html',
    partial: 'orders/_line_edit.html',
    target: () => '#line-editor',
    formId: (ctx) => ctx.path.split('/').pop() ?? '',
    data: editorData,
  });
  const inEditor = (ctx: Context, next: () => Promise<unknown>) => (fromEditor(ctx) ? editorForm(ctx, next) : next());

  router.get('/', need('device'), (ctx) => ctx.redirect('/terminal'));

  // The idle terminal: no order until the first product is tapped (POST /terminal/lines). Its
  // sale key, drawn with the screen, makes every tap on it land in the one sale it starts.
  router.get('/terminal', need('order:sell'), validate(schema.SaleStart, 'query'), async (ctx) => {
    const { type, category } = ctx.state.input as { type: string; category?: number };
    const categories = await listCategories(deps.db);
    const settings = await settingsFor(ctx.state, deps.db);
    const open = await orders.openOrders(deps.db);
    // a terminal with a receipt printer has its cash drawer behind it: "No sale" opens it (server/printing/)
    const receiptPrinter = await receiptPrinterOf(deps.db, ctx.state.auth.terminal?.id);
    render(ctx, 'orders/terminal.html', null, { categories, settings, openOrders: open, order: null, saleType: type, saleKey: newKey(), category, receiptPrinter });
  });

  router.get('/terminal/products', need('order:sell'), validate(schema.ProductSearch, 'query'), async (ctx) => {
    const { category, q } = ctx.state.input as { category?: number; q?: string };
    const orderId = Number(ctx.query.order) || null;
    const settings = await settingsFor(ctx.state, deps.db);
    const products = await listProducts(deps.db, q ? { search: q } : { categoryId: category });
    render(ctx, 'orders/_grid.html', 'orders/_grid.html', { products, settings, orderId, search: q, category: q ? undefined : category, gridUrl: ctx.url });
  });

  // the options of a sale's first product; the dialog adds it through POST /terminal/lines
  router.get('/terminal/products/:productId/options', need('order:sell'), validate(schema.SaleStart, 'query'), async (ctx) => {
    const sale = ctx.state.input as { type: string; sale_key?: string; category?: number };
    const product = await sellableProduct(deps.db, idParam(ctx, 'productId'));
    const groups = await productModifierGroups(deps.db, product.id);
    const settings = await settingsFor(ctx.state, deps.db);
    render(ctx, 'orders/_options.html', 'orders/_options.html', { product, groups, orderId: null, orderType: sale.type, sale, settings });
  });

  // The first tap of a sale: the order is opened with its line, in one transaction, then shown.
  router.post('/terminal/lines', need('order:sell'), validate(schema.StartSale), async (ctx) => {
    const input = ctx.state.input as schema.StartSale;
    const id = await startSale(deps, {
      type: input.type, saleKey: input.sale_key, requestKey: input.idempotency_key,
      line: { productId: input.product_id, quantity: input.quantity, modifierIds: input.modifier_ids, note: input.note, openPrice: input.open_price, course: input.course, seat: input.seat },
    }, actor(ctx));
    redirectAfterPost(ctx, `/orders/${id}${input.category ? `?category=${input.category}` : ''}`);
  });

  router.post('/orders', need('order:sell'), validate(schema.OpenOrder), async (ctx) => {
    const input = ctx.state.input as { type: 'counter' | 'takeaway' | 'dine_in'; customer_name?: string };
    const order = await orders.openOrder(deps, { type: input.type, customerName: input.customer_name }, actor(ctx));
    redirectAfterPost(ctx, `/orders/${order.id}`);
  });

  router.get('/terminal/availability', need('order:sell'), async (ctx) => {
    const settings = await settingsFor(ctx.state, deps.db);
    const products = await listProducts(deps.db, {});
    render(ctx, 'orders/availability.html', null, { settings, products });
  });

  router.get('/orders', need('order:sell'), async (ctx) => {
    const settings = await settingsFor(ctx.state, deps.db);
    const open = await orders.openOrders(deps.db);
    render(ctx, 'orders/open-orders.html', null, { openOrders: open, settings });
  });

  router.get('/orders/:id', need('order:sell'), async (ctx) => {
    const view = await orders.getOrderView(deps.db, idParam(ctx, 'id'));
    const categories = await listCategories(deps.db);
    // the grid's category when the sale started (POST /terminal/lines), so the next tap is where the first was
    const category = /^\d{1,15}$/.test(String(ctx.query.category ?? '')) ? Number(ctx.query.category) : undefined;
    render(ctx, 'orders/terminal.html', null, { ...view, categories, category });
  });

  router.get('/orders/:id/panel', need('order:sell'), async (ctx) => panel(ctx, idParam(ctx, 'id'), { closeModal: false }));

  router.get('/orders/:id/products/:productId/options', need('order:sell'), async (ctx) => {
    const orderId = idParam(ctx, 'id');
    const order = await findOrder(deps.db, orderId);
    if (!order) throw notFound('That order');
    const product = await sellableProduct(deps.db, idParam(ctx, 'productId'));
    const groups = await productModifierGroups(deps.db, product.id);
    const settings = await settingsFor(ctx.state, deps.db);
    render(ctx, 'orders/_options.html', 'orders/_options.html', { product, groups, orderId, orderType: order.type, settings });
  });

  router.post('/orders/:id/type', need('order:sell'), validate(schema.SetOrderType), async (ctx) => {
    const id = idParam(ctx, 'id');
    await setOrderType(deps, id, (ctx.state.input as { type: 'counter' | 'takeaway' | 'dine_in' }).type, edit(ctx, actor(ctx)));
    await panel(ctx, id, { closeModal: false });
  });

  router.post('/orders/:id/lines', need('order:sell'), validate(schema.AddLine), async (ctx) => {
    const id = idParam(ctx, 'id');
    const input = ctx.state.input as schema.AddLine;
    const { view } = await orders.addLineAndView(deps, id, {
      productId: input.product_id, quantity: input.quantity, modifierIds: input.modifier_ids, note: input.note, openPrice: input.open_price,
      course: input.course, seat: input.seat,
    }, input.idempotency_key);
    await panel(ctx, id, {}, view);
  });

  router.get('/orders/:id/lines/:lineId/edit', need('order:sell'), async (ctx) => {
    const view = await orders.getOrderView(deps.db, idParam(ctx, 'id'));
    const line = view.lines.find((l) => l.id === idParam(ctx, 'lineId'));
    if (!line) ctx.throw(404);
    render(ctx, 'orders/_line_edit.html', 'orders/_line_edit.html', { ...view, line });
  });

  router.post('/orders/:id/lines/:lineId/place', need('order:sell'), inEditor, validate(schema.SetPlace), async (ctx) => {
    const id = idParam(ctx, 'id');
    await setLinePlace(deps, id, idParam(ctx, 'lineId'), ctx.state.input as { course: number; seat: number | null }, edit(ctx, actor(ctx)));
    await lineAnswer(ctx, id);
  });

  router.post('/orders/:id/lines/:lineId/quantity', need('order:sell'), inEditor, validate(schema.SetQuantity), async (ctx) => {
    const id = idParam(ctx, 'id');
    const lineId = idParam(ctx, 'lineId');
    const input = ctx.state.input as schema.SetQuantity;
    const a = actor(ctx);
    // "+" / "−" send a delta, the typed form an absolute quantity; taking back what the kitchen
    // already has is a void of a sent item, whose permission the service asks under the lock
    const change = input.delta !== undefined ? { delta: input.delta } : { quantity: input.quantity! };
    await orders.setQuantity(deps, id, lineId, change, a, input.reason, edit(ctx, a));
    await lineAnswer(ctx, id);
  });

  router.post('/orders/:id/lines/:lineId/comp', need('order:comp'), inEditor, validate(schema.Reason), async (ctx) => {
    const id = idParam(ctx, 'id');
    await orders.compLine(deps, id, idParam(ctx, 'lineId'), (ctx.state.input as { reason: string }).reason, actor(ctx));
    await lineAnswer(ctx, id);
  });

  router.post('/orders/:id/send', need('order:sell'), async (ctx) => {
    const id = idParam(ctx, 'id');
    const { view } = await kitchen.sendOrderAndView(deps.kitchen, id, { serverName: ctx.state.auth.staff?.name });
    await panel(ctx, id, {}, view);
  });

  router.post('/orders/:id/courses/:course/hold', need('order:sell'), async (ctx) => {
    const id = idParam(ctx, 'id');
    await kitchen.holdCourse(deps.kitchen, id, idParam(ctx, 'course'));
    await panel(ctx, id);
  });

  router.post('/orders/:id/courses/:course/fire', need('order:sell'), async (ctx) => {
    const id = idParam(ctx, 'id');
    const { view } = await kitchen.sendOrderAndView(deps.kitchen, id, { fireCourse: idParam(ctx, 'course'), serverName: ctx.state.auth.staff?.name });
    await panel(ctx, id, {}, view);
  });

  router.post('/products/:productId/availability', need('order:sell'), validate(schema.Availability), async (ctx) => {
    const productId = idParam(ctx, 'productId');
    const { available } = ctx.state.input as { available: boolean };
    await kitchen.setAvailability(deps.db, productId, available);
    await audit(deps.db, deps.clock, { action: 'product_availability', staffId: ctx.state.auth.staff?.id, terminalId: ctx.state.auth.terminal?.id, details: { productId, available } });
    deps.catalogChanged(productId, available);
    if (isHtmx(ctx)) ctx.set('HX-Refresh', 'true');
    ctx.status = 204;
  });

  router.post('/orders/:id/lines/:lineId/note', need('order:sell'), inEditor, validate(schema.SetNote), async (ctx) => {
    const id = idParam(ctx, 'id');
    await orders.setNote(deps, id, idParam(ctx, 'lineId'), (ctx.state.input as { note: string | null }).note, edit(ctx, actor(ctx)));
    await lineAnswer(ctx, id);
  });

  router.post('/orders/:id/lines/:lineId/price', need('order:price-override'), inEditor, validate(schema.OverridePrice), async (ctx) => {
    const id = idParam(ctx, 'id');
    const { price, reason } = ctx.state.input as { price: string; reason: string };
    const a = actor(ctx);
    await orders.overridePrice(deps, id, idParam(ctx, 'lineId'), price, reason, a, edit(ctx, a));
    await lineAnswer(ctx, id);
  });

  router.post('/orders/:id/lines/:lineId/discount', need('order:discount'), inEditor, validate(schema.DiscountInput), async (ctx) => {
    const id = idParam(ctx, 'id');
    const { kind, value } = ctx.state.input as { kind: 'percent' | 'amount' | 'none'; value?: string };
    const a = actor(ctx);
    await orders.setLineDiscount(deps, id, idParam(ctx, 'lineId'), kind, value, a, edit(ctx, a));
    await lineAnswer(ctx, id);
  });

  router.post('/orders/:id/lines/:lineId/remove', need('order:sell'), inEditor, async (ctx) => {
    const id = idParam(ctx, 'id');
    const lineId = idParam(ctx, 'lineId');
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const reason = typeof body.reason === 'string' && body.reason.trim() ? parseInput(schema.Reason, body).reason : undefined;
    const a = actor(ctx);
    await orders.removeLine(deps, id, lineId, a, reason, edit(ctx, a));
    await lineAnswer(ctx, id);
  });

  router.get('/orders/:id/discount', need('order:discount'), async (ctx) => {
    const view = await orders.getOrderView(deps.db, idParam(ctx, 'id'));
    render(ctx, 'orders/_order_discount.html', 'orders/_order_discount.html', view);
  });

  router.post('/orders/:id/discount', need('order:discount'), validate(schema.DiscountInput), async (ctx) => {
    const id = idParam(ctx, 'id');
    const { kind, value } = ctx.state.input as { kind: 'percent' | 'amount' | 'none'; value?: string };
    const a = actor(ctx);
    await orders.setOrderDiscount(deps, id, kind, value, a, edit(ctx, a));
    await panel(ctx, id);
  });

  router.post('/orders/:id/customer', need('order:sell'), validate(schema.CustomerName), async (ctx) => {
    const id = idParam(ctx, 'id');
    await orders.setCustomerName(deps, id, (ctx.state.input as { customer_name: string }).customer_name, edit(ctx, actor(ctx)));
    await panel(ctx, id);
  });

  router.post('/orders/:id/park', need('order:sell'), async (ctx) => {
    const id = idParam(ctx, 'id');
    await orders.setParked(deps, id, true);
    redirectAfterPost(ctx, '/terminal');
  });

  router.post('/orders/:id/resume', need('order:sell'), async (ctx) => {
    const id = idParam(ctx, 'id');
    await orders.setParked(deps, id, false);
    redirectAfterPost(ctx, `/orders/${id}`);
  });

  router.get('/orders/:id/void', need('order:sell'), async (ctx) => {
    const view = await orders.getOrderView(deps.db, idParam(ctx, 'id'));
    render(ctx, 'orders/_void.html', 'orders/_void.html', { ...view, idempotencyKey: newKey() });
  });

  router.post('/orders/:id/void', need('order:void'), validate(schema.VoidOrder), async (ctx) => {
    const id = idParam(ctx, 'id');
    const input = ctx.state.input as { reason: string; idempotency_key?: string };
    await orders.voidOrder(deps, id, input.reason, actor(ctx), input.idempotency_key);
    await panel(ctx, id);
  });

  router.get('/orders/:id/pay', need('order:sell'), async (ctx) => {
    const view = await orders.getOrderView(deps.db, idParam(ctx, 'id'));
    if (view.order.status !== 'open') throw unprocessable('This order is already closed.', 'order-closed');
    await checkStock(deps.db, view.lines, view.settings); // more than the stock, with overselling refused: said before any payment is asked for
    render(ctx, 'orders/_pay.html', 'orders/_pay.html', merged(view, { idempotencyKey: newKey(), quickCash: quickCash(view.cashDue, view.settings.currency) }));
  });

  router.post('/orders/:id/payments', need('order:sell'), validate(schema.CashTender), async (ctx) => {
    const id = idParam(ctx, 'id');
    const { tendered, idempotency_key } = ctx.state.input as { tendered: string; idempotency_key: string };
    const settings = await settingsFor(ctx.state, deps.db);
    const { result, view } = await orders.tenderCashAndView(deps, id, orders.toMinor(tendered, settings.currency, 'tendered'), idempotency_key, actor(ctx));
    if (result.closed) {
      render(ctx, 'orders/_paid.html', 'orders/_paid.html', merged(view, { result, printedAt: formatLocal(view.order.closed_at!, view.settings.timezone), duplicate: result.replayed }));
    } else {
      await panel(ctx, id, { result });
    }
  });

  router.get('/orders/:id/receipt', need('order:sell'), async (ctx) => {
    const view = await orders.getOrderView(deps.db, idParam(ctx, 'id'));
    if (view.order.status === 'open') throw unprocessable('An open order has no receipt yet.', 'no-receipt');
    // the original receipt was issued when the sale closed; every later print is a reprint
    render(ctx, 'orders/receipt.html', null, merged(view, { duplicate: true, printedAt: formatLocal(view.order.closed_at!, view.settings.timezone) }));
  });

  // the refund page: whole, by line or by an amount; a cashier's refund asks a manager's PIN (docs/UI.md)
  const refundData = async (ctx: Context) => merged(await orders.getOrderView(deps.db, idParam(ctx, 'id')), { idempotencyKey: newKey() });
  router.get('/orders/:id/refund', need('order:sell'), async (ctx) => {
    render(ctx, 'orders/refund.html', 'orders/_refund.html', await refundData(ctx));
  });

  const refundForm = formView({
    page: 'orders/refund.html',
    partial: 'orders/_refund.html',
    target: () => '#refund-panel',
    data: refundData,
    messages: { reason: 'Give a reason (at least 3 characters).' },
  });
  router.post('/orders/:id/refunds', need('order:refund'), refundForm, validate(schema.RefundInput), async (ctx) => {
    const id = idParam(ctx, 'id');
    const input = ctx.state.input as schema.RefundInput;
    let lines: Map<number, number> | undefined;
    let amount: number | undefined;
    if (input.scope === 'lines') {
      lines = new Map();
      const body = ctx.request.body as Record<string, string>;
      for (const [k, v] of Object.entries(body)) {
        const m = /^line_(\d{1,15})$/.exec(k);
        if (!m || v === '' || v === '0') continue;
        const q = parseInput(schema.SetQuantity, { quantity: v }).quantity!;
        lines.set(Number(m[1]), q);
      }
      if (!lines.size) throw invalid('Choose at least one item to refund.', [{ field: 'lines', message: 'Choose at least one item to refund.' }]);
    } else if (input.scope === 'amount') {
      const settings = await settingsFor(ctx.state, deps.db);
      amount = orders.toMinor(input.amount!, settings.currency, 'amount');
    }
    const asked = { reason: input.reason, idempotencyKey: input.idempotency_key, lines, amount };
    // back to the card through Stripe (server/payments/): recorded once Stripe takes it
    const refund = input.method === 'card' ? { refundId: (await refundToCard(deps.cards, id, asked, actor(ctx))).id } : await orders.refundOrder(deps, id, asked, actor(ctx));
    const view = await orders.getOrderView(deps.db, id);
    // the refund's receipt, shown as it goes through (the original; its page later is a reprint)
    render(ctx, 'orders/refund.html', 'orders/_refund.html', merged(view, { refund, refundMethod: input.method, done: view.refunds.find((r) => r.id === refund.refundId) ?? null, idempotencyKey: newKey() }));
  });

  return router;
}
