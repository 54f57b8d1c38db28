import type { Clock } from '../clock';
import { inTransaction, type Db, type DbOrTrx, type Trx } from '../db/knex';
import { conflict, invalid, notFound, unprocessable } from '../errors';
import type { Publisher } from '../events';
import { audit } from '../audit/service';
import { appendEntry } from '../journal/service';
import { add, type Minor } from '../money';
import { getSettings } from '../settings/service';
import { getPrinter, PRINT_TOPIC, queueDrawerKick, queuePrinterDrawer, receiptPrinterOf } from '../printing/service';
import { sumCounts } from './denominations';
import { cashFlows, lockOpenSession, movementsOf, openSessionOf, sessionById, type MovementRow, type SessionRow } from './queries';

export { denominationsOf } from './denominations';
export { listSessions, sessionsDuring, type MovementRow, type SessionRow } from './queries';

/**
 * Cash drawers and their sessions (issue 23). A drawer is a receipt printer's (every terminal
 * printing there shares it) or, for a terminal with no printer, the terminal's own. A session
 * runs from its float to its blind count; cash payments, cash refunds, paid in / paid out and
 * drops in between make what the drawer should hold. Paid in, paid out and no sale are journal
 * entries of their own kinds; a drop moves cash to the safe and changes no takings.
 */
export interface CashDeps {
  db: Db;
  clock: Clock;
  events: Publisher;
}

export interface CashActor {
  staffId?: number | null;
  staffName?: string | null;
  terminalId?: number | null;
  terminal?: string | null;
  approvedBy?: number | null;
  approverName?: string | null;
}

export interface Drawer {
  key: string;
  name: string;
  printerId: number | null;
  terminalId: number;
}

export type MovementKind = MovementRow['kind'];

const DRAWER_NOT_OPEN = 'drawer-not-open';

export const drawerNotOpen = (name: string) =>
  conflict(`The cash drawer (${name}) has no float yet: open it with a float first.`, DRAWER_NOT_OPEN);

/** The drawer a terminal takes cash into; null for a caller with no terminal (an API client). */
export async function drawerOf(db: DbOrTrx, terminalId: number | null | undefined): Promise<Drawer | null> {
  if (!terminalId) return null;
  const printer = await receiptPrinterOf(db, terminalId);
  if (printer) return { key: `printer:${printer.id}`, name: printer.name, printerId: printer.id, terminalId };
  const t = await db('terminals').where({ id: terminalId }).first('name');
  if (!t) return null;
  return { key: `terminal:${terminalId}`, name: t.name as string, printerId: null, terminalId };
}

async function drawerOrRefuse(db: DbOrTrx, terminalId: number | null | undefined): Promise<Drawer> {
  const d = await drawerOf(db, terminalId);
  if (!d) throw unprocessable('Cash drawers are run from a paired terminal.', 'no-drawer');
  return d;
}

const staffOf = (a: CashActor) => (a.staffId ? { id: a.staffId, name: a.staffName ?? null } : null);

/** A float given as an amount or counted by denomination (value in minor units → how many). */
export interface CountInput {
  amount?: Minor;
  counts?: Record<string, number>;
}

function countedTotal(input: CountInput, currency: string, field: string): { total: Minor; counts: Record<string, number> | null } {
  if (input.counts && Object.values(input.counts).some((n) => n !== 0)) {
    const { total, bad } = sumCounts(input.counts, currency);
    if (bad.length) throw invalid('A count is not a whole number of notes or coins.', bad.map((b) => ({ field: `count_${b}`, message: 'a whole number, 0 or more' })));
    if (input.amount !== undefined && input.amount !== total) throw invalid('The amount and the count by note and coin differ.', [{ field, message: 'does not match the count' }]);
    return { total, counts: input.counts };
  }
  if (input.amount === undefined || !Number.isSafeInteger(input.amount) || input.amount < 0) throw invalid('Enter the amount, 0 or more.', [{ field, message: 'enter the amount' }]);
  return { total: input.amount, counts: null };
}

/** Opens a session on the terminal's drawer with its starting float; the drawer is kicked to put it in. */
export async function openSession(deps: CashDeps, actor: CashActor, input: CountInput & { idempotencyKey: string }): Promise<{ session: SessionRow; replayed: boolean }> {
  const out = await inTransaction(deps.db, async (trx) => {
    const prior: SessionRow | undefined = await trx('drawer_sessions').where({ open_key: input.idempotencyKey }).first();
    if (prior) return { session: prior, replayed: true };
    const drawer = await drawerOrRefuse(trx, actor.terminalId);
    const settings = await getSettings(trx);
    const { total, counts } = countedTotal(input, settings.currency, 'float');
    const open = await openSessionOf(trx, drawer.key);
    if (open) throw conflict(`The cash drawer (${drawer.name}) is already open: close it before opening it again.`, 'drawer-already-open');
    const [session]: SessionRow[] = await trx('drawer_sessions').insert({
      drawer_key: drawer.key, drawer_name: drawer.name, printer_id: drawer.printerId, terminal_id: drawer.terminalId,
      opening_float: total, float_counts: counts ? JSON.stringify(counts) : null, opened_by: actor.staffId ?? null,
      opened_at: deps.clock.now(), open_key: input.idempotencyKey,
    }).returning('*').catch((err: { code?: string }) => {
      // two terminals sharing one printer opened it at once: the unique open-session index said no
      if (err.code === '23505') throw conflict(`The cash drawer (${drawer.name}) is already open.`, 'drawer-already-open');
      throw err;
    });
    await queueDrawerKick(trx, deps.clock, actor.terminalId);
    return { session, replayed: false };
  });
  if (!out.replayed) deps.events.publish('outbox:written', { topic: PRINT_TOPIC });
  return out;
}

/** The open session of the terminal's drawer, or undefined (none, or no drawer). */
export async function currentSession(db: DbOrTrx, terminalId: number | null | undefined): Promise<{ drawer: Drawer | null; session: SessionRow | undefined }> {
  const drawer = await drawerOf(db, terminalId);
  return { drawer, session: drawer ? await openSessionOf(db, drawer.key) : undefined };
}

/**
 * The session a cash tender (or a cash refund) at this terminal goes into, inside the caller's
 * transaction, held against a close meanwhile (FOR SHARE). With the store's "ask for a float"
 * setting, a terminal whose drawer is not open is refused with `drawer-not-open`, and the pay
 * dialog offers the float (views/cash/_float_check.html). A caller with no terminal (an API
 * client) has no drawer: null.
 */
export async function sessionForCash(trx: Trx, terminalId: number | null | undefined, opts: { required: boolean }): Promise<number | null> {
  const drawer = await drawerOf(trx, terminalId);
  if (!drawer) return null;
  const session = await trx('drawer_sessions').where({ drawer_key: drawer.key, status: 'open' }).forShare().first('id');
  if (!session && opts.required) throw drawerNotOpen(drawer.name);
  return session ? (session.id as number) : null;
}

/** Paid in, paid out (journal entries of their own kinds) or a drop to the safe, in the open session. */
export async function moveCash(deps: CashDeps, actor: CashActor, input: { kind: MovementKind; amount: Minor; reason: string; idempotencyKey: string }): Promise<{ movement: MovementRow; replayed: boolean }> {
  if (!Number.isSafeInteger(input.amount) || input.amount <= 0) throw invalid('Enter an amount more than zero.', [{ field: 'amount', message: 'more than zero' }]);
  const reason = input.reason.trim();
  if (!reason) throw invalid('Say what the cash is for.', [{ field: 'reason', message: 'required' }]);
  const out = await inTransaction(deps.db, async (trx) => {
    const prior: MovementRow | undefined = await trx('cash_movements').where({ idempotency_key: input.idempotencyKey }).first();
    if (prior) {
      if (prior.kind !== input.kind || prior.amount !== input.amount) throw unprocessable('This idempotency key was already used for another cash movement.', 'idempotency-mismatch');
      return { movement: prior, replayed: true };
    }
    const drawer = await drawerOrRefuse(trx, actor.terminalId);
    const session = await lockOpenSession(trx, drawer.key);
    if (!session) throw drawerNotOpen(drawer.name);
    if (input.kind !== 'paid_in') {
      const { expected } = await expectedCash(trx, session);
      if (input.amount > expected) throw unprocessable(`The drawer should hold only ${expected} (minor units) in cash: that is more than it has.`, 'not-enough-cash');
    }
    const settings = await getSettings(trx);
    let seq: number | null = null;
    if (input.kind !== 'drop') {
      const entry = await appendEntry(trx, deps.clock, {
        kind: input.kind,
        record: {
          currency: settings.currency, amount: input.amount, reason, session_id: session.id,
          drawer: { key: drawer.key, name: drawer.name }, staff: staffOf(actor), terminal: actor.terminal ?? null,
        },
      });
      seq = entry.seq;
    }
    const [movement]: MovementRow[] = await trx('cash_movements').insert({
      session_id: session.id, kind: input.kind, amount: input.amount, reason, staff_id: actor.staffId ?? null,
      journal_seq: seq, idempotency_key: input.idempotencyKey, created_at: deps.clock.now(),
    }).returning('*');
    await queueDrawerKick(trx, deps.clock, actor.terminalId);
    return { movement, replayed: false };
  });
  if (!out.replayed) deps.events.publish('outbox:written', { topic: PRINT_TOPIC });
  return out;
}

export interface SessionFigures {
  openingFloat: Minor;
  cashIn: Minor;
  cashSales: number;
  refundsOut: Minor;
  paidIn: Minor;
  paidOut: Minor;
  drops: Minor;
  expected: Minor;
}

/** What the drawer should hold: float + cash taken − cash refunded + paid in − paid out − drops. */
export async function expectedCash(db: DbOrTrx, session: SessionRow): Promise<SessionFigures> {
  const [flows, moves] = [await cashFlows(db, session.id), await movementsOf(db, session.id)];
  const sum = (k: MovementKind) => add(...moves.filter((m) => m.kind === k).map((m) => m.amount));
  const f = { openingFloat: session.opening_float, ...flows, paidIn: sum('paid_in'), paidOut: sum('paid_out'), drops: sum('drop') };
  return { ...f, expected: add(f.openingFloat, f.cashIn, -f.refundsOut, f.paidIn, -f.paidOut, -f.drops) };
}

/**
 * Closes the drawer's session with a blind count: staff count before the expected amount is
 * shown; over/short (counted − expected) is recorded and never blocks the close.
 */
export async function closeSession(deps: CashDeps, actor: CashActor, input: CountInput & { sessionId?: number; note?: string; idempotencyKey: string }): Promise<{ session: SessionRow; figures: SessionFigures; replayed: boolean }> {
  return inTransaction(deps.db, async (trx) => {
    const prior: SessionRow | undefined = await trx('drawer_sessions').where({ close_key: input.idempotencyKey }).first();
    if (prior) return { session: prior, figures: await expectedCash(trx, prior), replayed: true };
    let session: SessionRow | undefined;
    if (input.sessionId !== undefined) {
      session = await trx('drawer_sessions').where({ id: input.sessionId }).forUpdate().first();
      if (!session) throw notFound('That drawer session');
      if (session.status !== 'open') throw conflict('That drawer session is already closed.', 'session-closed');
    } else {
      const drawer = await drawerOrRefuse(trx, actor.terminalId);
      session = await lockOpenSession(trx, drawer.key);
      if (!session) throw conflict(`The cash drawer (${drawer.name}) is not open.`, DRAWER_NOT_OPEN);
    }
    const settings = await getSettings(trx);
    const { total, counts } = countedTotal(input, settings.currency, 'counted');
    const figures = await expectedCash(trx, session);
    const [closed]: SessionRow[] = await trx('drawer_sessions').where({ id: session.id }).update({
      status: 'closed', counted: total, counted_counts: counts ? JSON.stringify(counts) : null, expected: figures.expected,
      over_short: add(total, -figures.expected), closed_by: actor.staffId ?? null, closed_at: deps.clock.now(),
      close_key: input.idempotencyKey, close_note: input.note?.trim() || null,
    }).returning('*');
    return { session: closed, figures, replayed: false };
  });
}

/** One session with its movements and figures (a closed one shows its count and over/short). */
export async function sessionDetail(db: DbOrTrx, id: number): Promise<{ session: SessionRow; movements: MovementRow[]; figures: SessionFigures }> {
  const session = await sessionById(db, id);
  if (!session) throw notFound('That drawer session');
  return { session, movements: await movementsOf(db, id), figures: await expectedCash(db, session) };
}

/**
 * No sale: a cash drawer opened without a sale, through its receipt printer: the terminal's, or
 * (from the back office's devices page) a printer named by id. A journal entry of its own kind
 * and an audit line, with the drawer pulse, in one transaction; with "ask for a float", only
 * while the drawer's session is open.
 */
export async function noSale(deps: CashDeps, actor: CashActor, reason?: string | null, printerId?: number): Promise<{ printer: string }> {
  const name = await inTransaction(deps.db, async (trx) => {
    const printer = printerId !== undefined ? await getPrinter(trx, printerId) : await receiptPrinterOf(trx, actor.terminalId);
    if (!printer) throw unprocessable('This terminal has no receipt printer, so no cash drawer to open.', 'no-receipt-printer');
    const key = `printer:${printer.id}`;
    const session = await trx('drawer_sessions').where({ drawer_key: key, status: 'open' }).forShare().first('id');
    const settings = await getSettings(trx);
    if (!session && settings.requireDrawerSession) throw drawerNotOpen(printer.name);
    await appendEntry(trx, deps.clock, {
      kind: 'no_sale',
      record: {
        drawer: { key, name: printer.name }, session_id: session?.id ?? null, reason: reason ?? null, staff: staffOf(actor),
        approved_by: actor.approvedBy ? { id: actor.approvedBy, name: actor.approverName ?? null } : null, terminal: actor.terminal ?? null,
      },
    });
    await queuePrinterDrawer(trx, deps.clock, printer);
    await audit(trx, deps.clock, { action: 'no_sale', staffId: actor.staffId, approvedBy: actor.approvedBy, terminalId: actor.terminalId, details: { printer: printer.name, ...(reason ? { reason } : {}) } });
    return printer.name;
  });
  deps.events.publish('outbox:written', { topic: PRINT_TOPIC });
  return { printer: name };
}
