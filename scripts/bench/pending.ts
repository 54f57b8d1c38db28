import { measureLedgerCatchUp as catchUp } from './ledger';
import { notBuilt, type Row } from './report';
import { measureReportFigures } from './reports';

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

/** Reports: sales summary and product mix over 1 000 000 order lines, and the Z closure of a day of 10 000 orders (./reports.ts). */
export async function measureReports(sizes: { lines?: number; zOrders?: number } = {}): Promise<Row[]> {
  try {
    return await measureReportFigures(sizes);
  } catch (err) {
    return [
      { ...notBuilt('Report: sales summary over 1 000 000 order lines', '< 1 s', ''), now: 'failed', note: (err as Error).message.split('\n')[0] },
      { ...notBuilt('Z closure of a day with 10 000 orders', '< 2 s', ''), now: 'failed', note: (err as Error).message.split('\n')[0] },
    ];
  }
}
