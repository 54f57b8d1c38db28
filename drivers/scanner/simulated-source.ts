import { HidReportDecoder } from './hid-decoder';
import { charToKey } from './keymap';
import type { ScannerSource, ScannerState } from './scanner';

/**
 * A scanner for tests and demos: feeds HID keyboard reports through the real decoder, either raw
 * (`feed`) or typed from a string the way a scanner types it (`scan`).
 */
export class SimulatedHidSource implements ScannerSource {
  state: ScannerState = 'stopped';
  private readonly decoder = new HidReportDecoder();
  private listeners: ((code: string) => void)[] = [];

  onScan(listener: (code: string) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    this.state = 'open';
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
  }

  /** Feeds raw 8-byte reports; ignored while stopped, like an unplugged device. */
  feed(reports: Uint8Array[]): void {
    if (this.state !== 'open') return;
    for (const r of reports) for (const c of this.decoder.push(r)) for (const l of this.listeners) l(c);
  }

  /** Types `code` then Enter. */
  scan(code: string): void {
    this.feed(reportsFor(`${code}\n`));
  }
}

/** The reports a scanner sends to type `text`: each key pressed (with shift when needed) then released. */
export function reportsFor(text: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const ch of text) {
    const { usage, shift } = charToKey(ch);
    out.push(Uint8Array.from([shift ? 0x02 : 0, 0, usage, 0, 0, 0, 0, 0]), new Uint8Array(8));
  }
  return out;
}
