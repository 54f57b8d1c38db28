import fs from 'node:fs/promises';
import path from 'node:path';
import { EscposDecoder } from './decode';
import { PrinterError, type Printer, type PrinterStatus, type SendResult } from './printer';
import { EPSON_CODE_PAGES, type PrinterProfile } from './profile';
import { renderText } from './render-text';

export interface SimulatedPrinterOptions {
  /** where each job is written as text (DATA_DIR/prints/<printer> in the server) */
  dir: string;
  profile: PrinterProfile;
  /** how long a job waits for an acknowledgement the simulated printer will not give (not ready) */
  ackTimeoutMs?: number;
  now?: () => Date;
}

/**
 * A printer for demos and tests with no hardware: decodes each job with the same strict decoder
 * the fake printer uses, and writes it as text to `<dir>/<time>-<n>.txt`. Its status can be set
 * (paper out, cover open…); a printer that is not ready acknowledges nothing, like a real one.
 */
export class SimulatedPrinter implements Printer {
  private current: PrinterStatus = { online: true, coverOpen: false, paperNearEnd: false, paperOut: false, drawerOpen: false, error: false };
  private closed = false;
  private count = 0;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: SimulatedPrinterOptions) {}

  /** Sets what the next status() reports and whether jobs are acknowledged. */
  setStatus(s: Partial<PrinterStatus>): void {
    this.current = { ...this.current, ...s };
  }

  send(bytes: Buffer): Promise<SendResult> {
    if (this.closed) return Promise.reject(new PrinterError('printer-closed', 'simulated printer was closed', false));
    const run = this.chain.then(() => this.print(bytes));
    this.chain = run.catch(() => undefined);
    return run;
  }

  async status(): Promise<PrinterStatus> {
    if (this.closed) throw new PrinterError('printer-closed', 'simulated printer was closed', false);
    return { ...this.current };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async print(bytes: Buffer): Promise<SendResult> {
    const s = this.current;
    const ready = s.online && !s.coverOpen && !s.paperOut && !s.error;
    if (!ready) {
      if (this.options.profile.acknowledgement === 'none') return { acknowledgedBy: 'write' };
      const ms = this.options.ackTimeoutMs ?? 30_000;
      await new Promise((r) => setTimeout(r, ms));
      throw new PrinterError('printer-timeout', `simulated printer not ready, no answer within ${ms} ms`, true);
    }
    // a job the decoder refuses is a bug in the encoder: it throws here, loudly
    const { codePage } = this.options.profile;
    const ops = new EscposDecoder({ ...EPSON_CODE_PAGES, [codePage.number]: codePage.encoding }).push(bytes);
    await fs.mkdir(this.options.dir, { recursive: true });
    const stamp = (this.options.now?.() ?? new Date()).toISOString().replace(/[:.]/g, '-');
    const file = path.join(this.options.dir, `${stamp}-${String(++this.count).padStart(4, '0')}.txt`);
    await fs.writeFile(file, renderText(ops, this.options.profile.columns), { flag: 'wx' });
    return this.options.profile.acknowledgement === 'none'
      ? { acknowledgedBy: 'write' }
      : { acknowledgedBy: 'gs-r', paper: { nearEnd: s.paperNearEnd, out: false } };
  }
}
