import { keyToChar, SHIFT_MASK } from './keymap';

/**
 * Turns a stream of HID keyboard boot reports (8 bytes: modifier byte, reserved byte, up to six
 * keycodes) into barcode strings. A key types once when it appears in a report and not in the
 * one before (so a key held across reports, or rolled over while the next is pressed, counts
 * once); Enter ends the code. Reports with the phantom keycode 0x01 (ErrorRollOver) are skipped.
 */
export class HidReportDecoder {
  private held = new Set<number>();
  private code = '';
  /** keys that typed nothing we know, for the logs */
  unknownKeys = 0;

  /** @param maxLength a burst longer than this without Enter is noise, dropped */
  constructor(private readonly maxLength = 128) {}

  /** Feeds one report; returns the codes it completed (usually none, at most a few). */
  push(report: Uint8Array): string[] {
    if (report.length !== 8) throw new Error(`a keyboard boot report has 8 bytes, not ${report.length}`);
    const keys = [...report.subarray(2)].filter((k) => k !== 0);
    if (keys.includes(0x01)) return []; // ErrorRollOver: too many keys at once, state unknown
    const shift = (report[0]! & SHIFT_MASK) !== 0;
    const done: string[] = [];
    for (const k of keys) {
      if (this.held.has(k)) continue;
      const c = keyToChar(k, shift);
      if (c === 'enter') {
        if (this.code.length > 0) done.push(this.code);
        this.code = '';
      } else if (c === undefined) {
        this.unknownKeys++;
      } else {
        this.code += c;
        if (this.code.length > this.maxLength) this.code = '';
      }
    }
    this.held = new Set(keys);
    return done;
  }
}
