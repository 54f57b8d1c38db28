import type { PrinterStatus } from './printer';

/**
 * The four answers to DLE EOT 1–4, one byte each. Every answer has bits 1 and 4 set and bits 0
 * and 7 clear (`b & 0x93 === 0x12`), which is how a status byte is told from anything else.
 */
export interface StatusBytes {
  /** DLE EOT 1, printer status: bit 2 drawer connector pin 3 high, bit 3 offline */
  printer: number;
  /** DLE EOT 2, offline cause: bit 2 cover open, bit 3 paper fed by the button, bit 5 stopped for paper end, bit 6 error */
  offline: number;
  /** DLE EOT 3, error cause: bit 2 mechanical, bit 3 autocutter, bit 5 unrecoverable, bit 6 auto-recoverable */
  error: number;
  /** DLE EOT 4, roll paper sensor: bits 2–3 near end, bits 5–6 paper end */
  paper: number;
}

export function isStatusByte(b: number): boolean {
  return (b & 0x93) === 0x12;
}

/** DLE EOT answers → named flags. Throws on a byte that is not a status answer. */
export function parseStatus(bytes: StatusBytes, drawerOpenWhenPin3: 'high' | 'low' = 'high'): PrinterStatus {
  for (const [name, b] of Object.entries(bytes)) {
    if (!Number.isInteger(b) || b < 0 || b > 255 || !isStatusByte(b)) {
      throw new Error(`DLE EOT ${name} answer 0x${Number(b).toString(16).padStart(2, '0')} is not a status byte`);
    }
  }
  const pin3High = (bytes.printer & 0x04) !== 0;
  return {
    online: (bytes.printer & 0x08) === 0,
    coverOpen: (bytes.offline & 0x04) !== 0,
    paperNearEnd: (bytes.paper & 0x0c) !== 0,
    paperOut: (bytes.paper & 0x60) !== 0 || (bytes.offline & 0x20) !== 0,
    drawerOpen: drawerOpenWhenPin3 === 'high' ? pin3High : !pin3High,
    error: (bytes.offline & 0x40) !== 0 || (bytes.error & 0x6c) !== 0,
  };
}

/** The answer to `GS r 1` (paper sensor status): bits 0–1 near end, bits 2–3 paper end; bits 4 and 7 are 0. */
export function parsePaperStatus(b: number): { nearEnd: boolean; out: boolean } {
  if (!Number.isInteger(b) || b < 0 || b > 255 || (b & 0x90) !== 0) {
    throw new Error(`GS r 1 answer 0x${Number(b).toString(16).padStart(2, '0')} is not a paper status byte`);
  }
  return { nearEnd: (b & 0x03) !== 0, out: (b & 0x0c) !== 0 };
}

/** The inverse, for the simulator and the fake: flags → the bytes a printer in that state sends. */
export function statusBytes(s: PrinterStatus, drawerOpenWhenPin3: 'high' | 'low' = 'high'): StatusBytes {
  const pin3High = drawerOpenWhenPin3 === 'high' ? s.drawerOpen : !s.drawerOpen;
  return {
    printer: 0x12 | (pin3High ? 0x04 : 0) | (s.online ? 0 : 0x08),
    offline: 0x12 | (s.coverOpen ? 0x04 : 0) | (s.paperOut ? 0x20 : 0) | (s.error ? 0x40 : 0),
    error: 0x12 | (s.error ? 0x40 : 0),
    paper: 0x12 | (s.paperNearEnd ? 0x0c : 0) | (s.paperOut ? 0x60 : 0),
  };
}

export function paperStatusByte(s: Pick<PrinterStatus, 'paperNearEnd' | 'paperOut'>): number {
  return (s.paperNearEnd ? 0x03 : 0) | (s.paperOut ? 0x0c : 0);
}
