/**
 * The ESC/POS commands this driver emits, byte for byte, from Epson's ESC/POS command reference.
 * Only these: the fake printer and the decoder refuse anything else, so a new command is added
 * here, to the decoder and to the pinned tests together.
 */
export const ESC = 0x1b;
export const GS = 0x1d;
export const DLE = 0x10;
export const LF = 0x0a;

/** ESC @: initialise (clears the buffer, resets styles, selects code page 0) */
export const INIT = Buffer.from([ESC, 0x40]);
/** GS r 1: transmit paper sensor status — answered in order, after everything before it was processed */
export const TRANSMIT_PAPER_STATUS = Buffer.from([GS, 0x72, 0x01]);
/** DLE EOT n (n = 1…4): real-time status, answered at once, even while the printer is offline */
export const realtimeStatus = (n: 1 | 2 | 3 | 4) => Buffer.from([DLE, 0x04, n]);
/** ESC t n: select character code table n (model-specific numbering) */
export const selectCodePage = (n: number) => Buffer.from([ESC, 0x74, n]);
/** ESC E n: emphasis (bold) on/off */
export const bold = (on: boolean) => Buffer.from([ESC, 0x45, on ? 1 : 0]);
/** GS ! n: character size, width multiplier in the high nibble, height in the low nibble */
export const size = (width: 1 | 2, height: 1 | 2) => Buffer.from([GS, 0x21, ((width - 1) << 4) | (height - 1)]);
/** ESC a n: justification 0 left, 1 centre, 2 right */
export const ALIGN = { left: 0, center: 1, right: 2 } as const;
export const align = (a: keyof typeof ALIGN) => Buffer.from([ESC, 0x61, ALIGN[a]]);
/** ESC d n: print the buffer and feed n lines */
export const feed = (n: number) => Buffer.from([ESC, 0x64, n]);
/** GS V 0: full cut (no feed) */
export const FULL_CUT = Buffer.from([GS, 0x56, 0x00]);
/** GS V 66 n: feed n lines (dots × motion unit) to the cutting position plus n, then cut (function B) */
export const feedAndCut = (n: number) => Buffer.from([GS, 0x56, 0x42, n]);
/** ESC p m t1 t2: pulse drawer pin m (0 = pin 2, 1 = pin 5) on for t1 × 2 ms, off for t2 × 2 ms */
export const drawerPulse = (pin: 0 | 1, onUnits = 25, offUnits = 250) => Buffer.from([ESC, 0x70, pin, onUnits, offUnits]);

/** GS ( k with function cn = 49 (QR code): pL pH cn fn [params] */
const qrFunction = (fn: number, params: Buffer) => {
  const len = params.length + 2;
  return Buffer.concat([Buffer.from([GS, 0x28, 0x6b, len & 0xff, len >> 8, 0x31, fn]), params]);
};
/** QR code: model 2, module size, error correction M, store the data, print it */
export function qrCode(data: Buffer, moduleSize: number): Buffer {
  if (data.length < 1 || data.length > 7089) throw new Error(`a QR code holds 1 to 7089 bytes, not ${data.length}`);
  if (!Number.isInteger(moduleSize) || moduleSize < 1 || moduleSize > 16) throw new Error(`QR module size ${moduleSize} is not 1–16`);
  return Buffer.concat([
    qrFunction(0x41, Buffer.from([0x32, 0x00])), // fn 65: model 2
    qrFunction(0x43, Buffer.from([moduleSize])), // fn 67: module size in dots
    qrFunction(0x45, Buffer.from([0x31])), // fn 69: error correction level M (49)
    qrFunction(0x50, Buffer.concat([Buffer.from([0x30]), data])), // fn 80: store data (m = 48)
    qrFunction(0x51, Buffer.from([0x30])), // fn 81: print the stored symbol
  ]);
}
