import type { DbOrTrx } from '../db/knex';
import type { CardPaymentRow } from '../orders/service';

export interface ReaderRow {
  id: number;
  stripe_reader_id: string;
  label: string;
  device_type: string;
  serial_number: string | null;
  terminal_id: number | null;
  status: string | null;
  status_checked_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export const cardPayment = (db: DbOrTrx, id: number): Promise<CardPaymentRow | undefined> => db('payments').where({ id, method: 'card' }).first();
export const readerById = (db: DbOrTrx, id: number): Promise<ReaderRow | undefined> => db('card_readers').where({ id }).first();
export const readerOfTerminal = (db: DbOrTrx, terminalId: number): Promise<ReaderRow | undefined> => db('card_readers').where({ terminal_id: terminalId }).first();
export const listReaders = (db: DbOrTrx): Promise<Array<ReaderRow & { terminal_name: string | null }>> =>
  db('card_readers as r').leftJoin('terminals as t', 't.id', 'r.terminal_id').orderBy('r.id').select('r.*', 't.name as terminal_name');

/** Card payments still pending, oldest first: what the reconciler settles. */
export const pendingCardPayments = (db: DbOrTrx): Promise<CardPaymentRow[]> => db('payments').where({ method: 'card', status: 'pending' }).orderBy('id');

/** The pending card payment of an order, if one is running. */
export const pendingCardOf = (db: DbOrTrx, orderId: number): Promise<CardPaymentRow | undefined> => db('payments').where({ order_id: orderId, method: 'card', status: 'pending' }).first();

export const setCardState = (db: DbOrTrx, id: number, fields: Partial<Pick<CardPaymentRow, 'card_state' | 'stripe_payment_intent_id'>>) => db('payments').where({ id, status: 'pending' }).update(fields);
