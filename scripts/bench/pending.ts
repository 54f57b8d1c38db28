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
  // To build: generate 100 000 journal entries through appendEntry on a scratch database, point the
  // ledger URL at the fake ledger on loopback, time until ackedThrough = 100 000.
  return [notBuilt('Ledger catch-up, 100 000-entry backlog', '', 'no ledger shipper yet')];
}

/** Reports: sales summary and product mix over 1 000 000 order lines. */
export async function measureReports(): Promise<Row[]> {
  // To build: generate 1 000 000 order lines (paid orders) on a scratch database, then time the report
  // service functions (or their routes) for a business-date range covering them.
  return [
    notBuilt('Report: sales summary over 1 000 000 order lines', '', 'no reports yet'),
    notBuilt('Report: product mix over 1 000 000 order lines', '', 'no reports yet'),
  ];
}
