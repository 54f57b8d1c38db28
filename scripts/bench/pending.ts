import { notBuilt, type Row } from './report';

/**
 * Rows for capabilities the server does not have yet. Each is its own function so that, when the
 * feature lands, its measurement replaces one function and nothing else.
 */

/** Scan to screen: a simulated HID report from a scanner bound to a terminal → the event at that terminal. */
export async function measureScanToScreen(): Promise<Row[]> {
  // To build: start the server with the scanner simulator, bind it to a paired terminal connected over
  // socket.io, inject a HID report for a known barcode, time report → the terminal's event (p50/p99).
  return [notBuilt('Scan to screen (p50 / p99)', 'p99 < 50 ms', 'no scanner driver or scan route yet')];
}

/** Ledger catch-up: entries per second shipped from a 100 000-entry backlog to the fake cloud ledger. */
export async function measureLedgerCatchUp(): Promise<Row[]> {
  // To build: make a 100 000-entry journal on a scratch store (through the server's public
  // surfaces or its seeding entry points), point the ledger URL at the fake ledger on loopback,
  // time until the ledger has acknowledged the last entry.
  return [notBuilt('Ledger catch-up, 100 000-entry backlog', '≥ 20 000 entries/s', 'no ledger shipper yet')];
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
