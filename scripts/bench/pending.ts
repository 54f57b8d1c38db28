import { measureLedgerCatchUp as catchUp } from './ledger';
import { notBuilt, type Row } from './report';

/**
 * Rows for capabilities the server does not have yet. Each is its own function so that, when the
 * feature lands, its measurement replaces one function and nothing else.
 */

/** Ledger catch-up: entries per second shipped from a 100 000-entry backlog to the fake cloud ledger (./ledger.ts). */
export async function measureLedgerCatchUp(entries: number): Promise<Row[]> {
  try {
    return await catchUp({ entries });
  } catch (err) {
    return [{ ...notBuilt('Ledger catch-up, 100 000-entry backlog', '≥ 20 000 entries/s', ''), now: 'failed', note: (err as Error).message.split('\n')[0] }];
  }
}

/** Reports: sales summary and product mix over 1 000 000 order lines. */
export async function measureReports(): Promise<Row[]> {
  // To build: generate 1 000 000 order lines (paid orders) on a scratch store, then time the
  // report routes for a business-date range covering them.
  return [
    notBuilt('Report: sales summary over 1 000 000 order lines', '< 1 s', 'no reports yet'),
    notBuilt('Report: product mix over 1 000 000 order lines', '< 1 s', 'no reports yet'),
  ];
}

/** Z closure: closing a business day of 10 000 orders. */
export async function measureZClosure(): Promise<Row[]> {
  // To build: 10 000 paid orders in one business day on a scratch store, then time the Z closure
  // (its route) from the request to the answer.
  return [notBuilt('Z closure of a day with 10 000 orders', '< 2 s', 'no Z closure yet')];
}
