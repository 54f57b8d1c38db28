import fs from 'node:fs/promises';
import path from 'node:path';
import { createPrinter, type PrinterSettings } from '../../drivers/printer/create-printer';
import { NetworkPrinter } from '../../drivers/printer/network-printer';
import type { Printer, PrinterStatus, SendResult } from '../../drivers/printer/printer';
import { profileOf, SIMULATOR, type PrinterRow } from './render';

export interface PoolOptions {
  /** DATA_DIR: the simulator writes what it received under DATA_DIR/prints/<printer id> */
  dataDir: string;
  /** for a job's `GS r 1` answer: long enough to print the longest job */
  ackTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** for DLE EOT, which a printer answers at once even when offline */
  statusTimeoutMs?: number;
}

export const printsDir = (dataDir: string, printerId?: number) => path.join(dataDir, 'prints', ...(printerId === undefined ? [] : [String(printerId)]));

/**
 * One driver object per configured printer, made on first use and made again when its settings
 * change. Sharing it matters: a network printer takes one connection at a time, and the driver
 * runs a printer's jobs and status requests one after the other.
 */
export class PrinterPool {
  private readonly printers = new Map<number, { key: string; printer: Printer }>();
  private closed = false;

  constructor(readonly options: PoolOptions) {}

  get ackTimeoutMs(): number {
    return this.options.ackTimeoutMs ?? 30_000;
  }
  get connectTimeoutMs(): number {
    return this.options.connectTimeoutMs ?? 3000;
  }
  get statusTimeoutMs(): number {
    return this.options.statusTimeoutMs ?? 3000;
  }

  send(p: PrinterRow, bytes: Buffer): Promise<SendResult> {
    return this.of(p).send(bytes);
  }

  status(p: PrinterRow): Promise<PrinterStatus> {
    return this.of(p).status();
  }

  /** Ends every connection; the pool makes no printer after this. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.printers.values()];
    this.printers.clear();
    await Promise.all(all.map((e) => e.printer.close()));
  }

  private of(p: PrinterRow): Printer {
    if (this.closed) throw new Error('the printer pool is closed');
    const settings = this.settingsOf(p);
    const key = JSON.stringify(settings);
    const known = this.printers.get(p.id);
    if (known?.key === key) return known.printer;
    if (known) void known.printer.close(); // its settings changed: what it was doing ends with it
    const printer = settings.kind === 'network'
      ? new NetworkPrinter({ address: settings.address, profile: settings.profile, ackTimeoutMs: this.ackTimeoutMs, connectTimeoutMs: this.connectTimeoutMs, statusTimeoutMs: this.statusTimeoutMs })
      : createPrinter(settings);
    this.printers.set(p.id, { key, printer });
    return printer;
  }

  private settingsOf(p: PrinterRow): PrinterSettings {
    const profile = profileOf(p);
    return p.address === SIMULATOR
      ? { kind: 'simulated', dir: printsDir(this.options.dataDir, p.id), profile }
      : { kind: 'network', address: p.address, profile, ackTimeoutMs: this.ackTimeoutMs };
  }
}

export interface SimulatedPrint {
  printerId: number;
  file: string;
  text: string;
}

/** The latest slips the simulator wrote, newest first (for the back office). */
export async function latestSimulatedPrints(dataDir: string, limit = 5): Promise<SimulatedPrint[]> {
  const root = printsDir(dataDir);
  let dirs: string[];
  try {
    dirs = await fs.readdir(root);
  } catch {
    return [];
  }
  const files: Array<{ printerId: number; file: string }> = [];
  for (const d of dirs.filter((x) => /^\d+$/.test(x))) {
    for (const f of await fs.readdir(path.join(root, d)).catch(() => [] as string[])) if (f.endsWith('.txt')) files.push({ printerId: Number(d), file: f });
  }
  files.sort((a, b) => (a.file < b.file ? 1 : a.file > b.file ? -1 : b.printerId - a.printerId));
  return Promise.all(files.slice(0, limit).map(async (f) => ({ ...f, text: await fs.readFile(path.join(root, String(f.printerId), f.file), 'utf8') })));
}
