/**
 * A receipt or kitchen printer as the rest of the server sees it: bytes in, an acknowledgement
 * out. Jobs are rendered to bytes first (encode.ts) and sent second, so a job can be stored as
 * bytes and sent again after a crash.
 */
export interface Printer {
  /**
   * Sends one job's bytes. Resolves only when the job counts as printed: the printer answered a
   * `GS r 1` sent after the bytes, or, for a profile with `acknowledgement: 'none'`, the bytes
   * were written. Rejects with a {@link PrinterError}.
   */
  send(bytes: Buffer): Promise<SendResult>;
  /** Asks the printer for its real-time status (DLE EOT 1–4). Rejects with a {@link PrinterError}. */
  status(): Promise<PrinterStatus>;
  /** Ends every connection; later calls reject with `printer-closed`. */
  close(): Promise<void>;
}

export interface SendResult {
  /** how the job was confirmed: the printer's answer to `GS r 1`, or the write alone */
  acknowledgedBy: 'gs-r' | 'write';
  /** the paper sensor bits of the `GS r 1` answer, when there was one */
  paper?: { nearEnd: boolean; out: boolean };
}

/** DLE EOT status as named flags. */
export interface PrinterStatus {
  online: boolean;
  coverOpen: boolean;
  paperNearEnd: boolean;
  paperOut: boolean;
  drawerOpen: boolean;
  /** a mechanical, autocutter, unrecoverable or auto-recoverable error is reported */
  error: boolean;
}

/**
 * The documented failures of a printer:
 * - `printer-unreachable`: no connection could be made, or the printer closed or reset it before
 *   acknowledging the job;
 * - `printer-timeout`: the printer took the connection but the acknowledgement (or the status
 *   answer) did not come in time — it never read, it is out of paper, its cover is open;
 * - `printer-closed`: `close()` was called on this printer object.
 * `mayHavePrinted` says whether any job byte left this process: when true, a retry must be marked
 * as a possible duplicate (ARCHITECTURE, "Failure rules").
 */
export type PrinterErrorCode = 'printer-unreachable' | 'printer-timeout' | 'printer-closed';

export class PrinterError extends Error {
  override name = 'PrinterError';
  constructor(
    readonly code: PrinterErrorCode,
    message: string,
    readonly mayHavePrinted: boolean,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}
