import { CardError } from '../../drivers/card-reader/card-terminal';
import { conflict, invalid, notFound, unavailable } from '../errors';
import { cardMessage, type CardDeps } from './card-deps';
import { listReaders, readerById, type ReaderRow } from './queries';

export interface ReaderView extends ReaderRow {
  terminal_name: string | null;
  /** what Stripe says now: online, offline, or why it cannot tell */
  live: 'online' | 'offline' | 'unknown';
  liveNote: string | null;
  busy: boolean;
}

/** Registers a reader with the code it shows (Stripe's registration code), optionally bound to a terminal. */
export async function registerReader(deps: CardDeps, input: { code: string; label: string; terminalId?: number | null }): Promise<ReaderRow> {
  if (!deps.terminal) throw unavailable('Card readers need Stripe: set STRIPE_SECRET_KEY in the server\'s config first.', 'card-not-set-up');
  let state;
  try {
    state = await deps.terminal.registerReader(input.code, input.label);
    deps.health.ok();
  } catch (err) {
    if (!(err instanceof CardError)) throw err;
    deps.health.failed(err);
    const message = err.kind === 'unreachable' ? cardMessage(err) : `Stripe did not accept it: ${err.message}`;
    throw invalid(message, [{ field: 'code', message }]);
  }
  const now = deps.clock.now();
  const existing = await deps.db('card_readers').where({ stripe_reader_id: state.id }).first();
  if (existing) return existing;
  const [row]: ReaderRow[] = await deps.db('card_readers')
    .insert({ stripe_reader_id: state.id, label: state.label, device_type: state.deviceType, serial_number: state.serialNumber, status: state.status, status_checked_at: now, created_at: now, updated_at: now })
    .returning('*');
  if (input.terminalId) await bindReader(deps, row.id, input.terminalId);
  return (await readerById(deps.db, row.id))!;
}

/** Binds a reader to a terminal (null: to none). A terminal has one reader; binding moves it. */
export async function bindReader(deps: CardDeps, readerId: number, terminalId: number | null): Promise<void> {
  const reader = await readerById(deps.db, readerId);
  if (!reader) throw notFound('That card reader');
  if (terminalId !== null) {
    const terminal = await deps.db('terminals').where({ id: terminalId }).whereNull('revoked_at').first('id');
    if (!terminal) throw invalid('That terminal was not found.', [{ field: 'terminal_id', message: 'not a terminal' }]);
    const pending = await deps.db('payments').where({ reader_id: readerId, status: 'pending' }).first('id');
    if (pending) throw conflict('The reader is taking a payment: bind it when that is done.', 'card-in-progress');
  }
  await deps.db.transaction(async (trx) => {
    if (terminalId !== null) await trx('card_readers').where({ terminal_id: terminalId }).whereNot({ id: readerId }).update({ terminal_id: null, updated_at: deps.clock.now() });
    await trx('card_readers').where({ id: readerId }).update({ terminal_id: terminalId, updated_at: deps.clock.now() });
  });
}

/** The readers with what Stripe says about each now (the devices page's live status). */
export async function listReadersWithStatus(deps: CardDeps): Promise<ReaderView[]> {
  const rows = await listReaders(deps.db);
  return Promise.all(
    rows.map(async (r): Promise<ReaderView> => {
      if (!deps.terminal) return { ...r, live: 'unknown', liveNote: 'Stripe is not set up', busy: false };
      try {
        const s = await deps.terminal.retrieveReader(r.stripe_reader_id);
        deps.health.ok();
        await deps.db('card_readers').where({ id: r.id }).update({ status: s.status, status_checked_at: deps.clock.now() });
        return { ...r, live: s.status, liveNote: null, busy: s.action?.status === 'in_progress' };
      } catch (err) {
        if (!(err instanceof CardError)) throw err;
        deps.health.failed(err);
        return { ...r, live: 'unknown', liveNote: err.kind === 'unreachable' ? 'Stripe cannot be reached' : err.message, busy: false };
      }
    }),
  );
}
