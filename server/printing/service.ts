import type { Clock } from '../clock';
import { inTransaction, type Db, type Trx } from '../db/knex';
import { notFound, unprocessable } from '../errors';
import type { Publisher } from '../events';
import { audit } from '../audit/service';
import { getSettings } from '../settings/service';
import { PRINT_TOPIC, queueJob } from './jobs';
import { guestCheckInput, kitchenInputs, receiptInput, refundInput, type Who } from './inputs';
import { getPrinter, receiptPrinterOf, stationPrinters } from './printers';
import type { PrinterRow } from './render';
import type { DayReportInput } from './layouts';

/**
 * Printing, as the rest of the server asks for it. Jobs are queued inside the caller's business
 * transaction (./jobs.ts) and printed after its commit by the outbox worker (./topic.ts), so a
 * printer that is off or slow never delays a sale. Other modules: printers.ts (configuration),
 * layouts.ts (the slips), pool.ts (the drivers), topic.ts (delivery, failover, alerts).
 */
export { PRINT_TOPIC, getJob, moveQueue, printerQueue, reprintJob, waitingCounts, type PrintJobRow, type QueueView } from './jobs';
export { createPrinter, getPrinter, listPrinters, printerDetails, receiptPrinterOf, updatePrinter, type PrinterDetail } from './printers';
export { latestSimulatedPrints, PrinterPool, printsDir } from './pool';
export { printTopic } from './topic';
export { liveStatus, type LiveStatus } from './status';
export { SIMULATOR, type PrinterRow } from './render';

export interface PrintDeps {
  db: Db;
  clock: Clock;
  events: Publisher;
}

/**
 * A closed sale's receipt on the receipt printer of the terminal that closed it, with the drawer
 * pulse first when the closing tender was cash. A terminal without a receipt printer keeps the
 * browser's print (the receipt page): nothing is queued. Inside the sale's transaction.
 */
export async function queueSaleReceipt(trx: Trx, clock: Clock, sale: { orderId: number; terminalId?: number | null; staff?: string | null; terminal?: string | null; cash: boolean }, events?: Publisher): Promise<number | null> {
  const printer = await receiptPrinterOf(trx, sale.terminalId);
  if (!printer) return null;
  const input = await receiptInput(trx, sale.orderId, { duplicate: false, drawer: sale.cash, who: { staff: sale.staff, terminal: sale.terminal } });
  return queueJob(trx, clock, printer, input, { orderId: sale.orderId, events });
}

/** A drawer pulse through the terminal's receipt printer (a cash part payment). Nothing without a printer. */
/**
 * A refund's receipt on the terminal's receipt printer, inside the refund's transaction, the drawer
 * opened first (the cash goes back out of it). None: the refund page is printed in the browser.
 */
export async function queueRefundReceipt(trx: Trx, clock: Clock, refund: { refundId: number; orderId: number; terminalId?: number | null }): Promise<number | null> {
  const printer = await receiptPrinterOf(trx, refund.terminalId);
  if (!printer) return null;
  await queueJob(trx, clock, printer, { kind: 'drawer', at: clock.now().toISOString() }, {});
  return queueJob(trx, clock, printer, await refundInput(trx, refund.refundId, false), { orderId: refund.orderId });
}

export async function queueDrawerKick(trx: Trx, clock: Clock, terminalId: number | null | undefined, events?: Publisher): Promise<number | null> {
  const printer = await receiptPrinterOf(trx, terminalId);
  if (!printer) return null;
  return queueJob(trx, clock, printer, { kind: 'drawer', at: clock.now().toISOString() }, { events });
}

/**
 * The chits of a kitchen send, each on its station's printer (a station without one has only its
 * screen). Inside the send's transaction; returns the tickets it was given, so a send can pass
 * its result through.
 */
export async function queueKitchenChits<T extends { ticketId: number; stationId: number }>(trx: Trx, clock: Clock, tickets: T[], events?: Publisher): Promise<T[]> {
  const printers = await stationPrinters(trx, [...new Set(tickets.map((t) => t.stationId))]);
  const printed = tickets.filter((t) => printers.has(t.stationId));
  if (!printed.length) return tickets;
  for (const c of await kitchenInputs(trx, printed.map((t) => t.ticketId))) {
    const order = await trx('kitchen_tickets').where({ id: c.ticketId }).first('order_id');
    await queueJob(trx, clock, printers.get(c.stationId)!, c.input, { orderId: order?.order_id ?? null, events });
  }
  return tickets;
}

/** The terminal's receipt printer, or a refusal that says the browser's print is the way. */
async function terminalPrinter(db: Db | Trx, terminalId: number | null | undefined): Promise<PrinterRow> {
  const printer = await receiptPrinterOf(db, terminalId);
  if (!printer) throw unprocessable('This terminal has no receipt printer: use Print on the screen.', 'no-receipt-printer');
  return printer;
}

/** A closed sale's receipt printed again: it says DUPLICATE. */
export async function reprintReceipt(deps: PrintDeps, orderId: number, terminalId: number | null | undefined, by: { staffId?: number | null }): Promise<{ jobId: number; printer: PrinterRow }> {
  const r = await inTransaction(deps.db, async (trx) => {
    const printer = await terminalPrinter(trx, terminalId);
    const order = await trx('orders').where({ id: orderId }).first('id', 'status', 'receipt_no');
    if (!order) throw notFound('That order');
    if (order.receipt_no === null) throw unprocessable('This order has no receipt: it is not a closed sale.', 'no-receipt');
    const input = await receiptInput(trx, orderId, { duplicate: true, drawer: false });
    const jobId = await queueJob(trx, deps.clock, printer, input, { orderId });
    await audit(trx, deps.clock, { action: 'reprint', staffId: by.staffId, terminalId, details: { orderId, receiptNo: order.receipt_no, jobId, printer: printer.name } });
    return { jobId, printer };
  });
  deps.events.publish('outbox:written', { topic: PRINT_TOPIC });
  return r;
}

/** A refund's receipt, printed (again) on the terminal's printer. */
export async function printRefund(deps: PrintDeps, refundId: number, terminalId: number | null | undefined, duplicate: boolean): Promise<{ jobId: number; printer: PrinterRow }> {
  const r = await inTransaction(deps.db, async (trx) => {
    const printer = await terminalPrinter(trx, terminalId);
    const refund = await trx('refunds').where({ id: refundId }).first('order_id');
    if (!refund) throw notFound('That refund');
    return { jobId: await queueJob(trx, deps.clock, printer, await refundInput(trx, refundId, duplicate), { orderId: refund.order_id }), printer };
  });
  deps.events.publish('outbox:written', { topic: PRINT_TOPIC });
  return r;
}

/** The bill of an open order, before payment: "not a receipt". */
export async function printGuestCheck(deps: PrintDeps, orderId: number, terminalId: number | null | undefined, who: Who = {}): Promise<{ jobId: number; printer: PrinterRow }> {
  const r = await inTransaction(deps.db, async (trx) => {
    const printer = await terminalPrinter(trx, terminalId);
    const order = await trx('orders').where({ id: orderId }).first('status', 'number');
    if (!order) throw notFound('That order');
    if (order.status !== 'open') throw unprocessable(`Order #${order.number} is closed: print its receipt instead.`, 'order-closed');
    return { jobId: await queueJob(trx, deps.clock, printer, await guestCheckInput(trx, deps.clock, orderId, who), { orderId }), printer };
  });
  deps.events.publish('outbox:written', { topic: PRINT_TOPIC });
  return r;
}

/** A drawer pulse through this printer, inside the caller's transaction (a no sale: server/cash/). */
export function queuePrinterDrawer(trx: Trx, clock: Clock, printer: PrinterRow): Promise<number> {
  return queueJob(trx, clock, printer, { kind: 'drawer', at: clock.now().toISOString() });
}

/**
 * An X or Z report on the terminal's receipt printer, inside the caller's transaction (a Z's);
 * null when the terminal has none (the report page prints in the browser).
 */
export async function queueDayReport(trx: Trx, clock: Clock, terminalId: number | null | undefined, report: Omit<DayReportInput, 'kind' | 'store'>): Promise<number | null> {
  const printer = await receiptPrinterOf(trx, terminalId);
  if (!printer) return null;
  const s = await getSettings(trx);
  const store = { name: s.storeName, header: s.receiptHeader, footer: s.receiptFooter, currency: s.currency, timezone: s.timezone };
  return queueJob(trx, clock, printer, { kind: 'day-report', store, ...report });
}

/** A test page through the printer's queue: what its paper, code page and cutter make of it. */
export async function printTestPage(deps: PrintDeps, printerId: number): Promise<number> {
  const id = await inTransaction(deps.db, async (trx) => {
    const p = await getPrinter(trx, printerId);
    const { timezone } = await getSettings(trx);
    return queueJob(trx, deps.clock, p, { kind: 'test', printer: p.name, address: p.address, paperWidth: p.paper_width, at: deps.clock.now().toISOString(), timezone });
  });
  deps.events.publish('outbox:written', { topic: PRINT_TOPIC });
  return id;
}
