/**
 * USB HID keyboard usages (HID Usage Tables, page 0x07) → characters, US layout, as a barcode
 * scanner in keyboard mode types them. Pure: usage + shift → the character, 'enter', or
 * undefined for a key that types nothing we use.
 */
const LETTERS = 'abcdefghijklmnopqrstuvwxyz'; // 0x04–0x1d
const DIGITS = '1234567890'; // 0x1e–0x27
const SHIFTED_DIGITS = '!@#$%^&*()';
/** 0x2c–0x38 (0x32, non-US #, is absent on a US keyboard) */
const PUNCT: Record<number, [string, string]> = {
  0x2c: [' ', ' '],
  0x2d: ['-', '_'],
  0x2e: ['=', '+'],
  0x2f: ['[', '{'],
  0x30: [']', '}'],
  0x31: ['\\', '|'],
  0x33: [';', ':'],
  0x34: ["'", '"'],
  0x35: ['`', '~'],
  0x36: [',', '<'],
  0x37: ['.', '>'],
  0x38: ['/', '?'],
};
/** keypad 0x54–0x63, which scanners use in "keypad" output mode; 0x58 is keypad Enter */
const KEYPAD: Record<number, string> = { 0x54: '/', 0x55: '*', 0x56: '-', 0x57: '+', 0x63: '.' };

export const KEY_ENTER = 0x28;
export const KEY_KEYPAD_ENTER = 0x58;
/** left shift (bit 1) or right shift (bit 5) of the modifier byte */
export const SHIFT_MASK = 0x02 | 0x20;

export function keyToChar(usage: number, shift: boolean): string | 'enter' | undefined {
  if (usage === KEY_ENTER || usage === KEY_KEYPAD_ENTER) return 'enter';
  if (usage >= 0x04 && usage <= 0x1d) {
    const c = LETTERS[usage - 0x04]!;
    return shift ? c.toUpperCase() : c;
  }
  if (usage >= 0x1e && usage <= 0x27) return (shift ? SHIFTED_DIGITS : DIGITS)[usage - 0x1e];
  const p = PUNCT[usage];
  if (p) return p[shift ? 1 : 0];
  if (usage >= 0x59 && usage <= 0x62) return DIGITS[usage - 0x59]; // keypad 1–9, 0
  return KEYPAD[usage];
}

/** The inverse, for the simulated source: a character → its usage and whether it needs shift. */
export function charToKey(ch: string): { usage: number; shift: boolean } {
  if (ch === '\n') return { usage: KEY_ENTER, shift: false };
  const lower = LETTERS.indexOf(ch);
  if (lower >= 0) return { usage: 0x04 + lower, shift: false };
  const upper = LETTERS.toUpperCase().indexOf(ch);
  if (upper >= 0) return { usage: 0x04 + upper, shift: true };
  const d = DIGITS.indexOf(ch);
  if (d >= 0) return { usage: 0x1e + d, shift: false };
  const sd = SHIFTED_DIGITS.indexOf(ch);
  if (sd >= 0) return { usage: 0x1e + sd, shift: true };
  for (const [usage, [plain, shifted]] of Object.entries(PUNCT)) {
    if (ch === plain) return { usage: Number(usage), shift: false };
    if (ch === shifted) return { usage: Number(usage), shift: true };
  }
  throw new Error(`no US key types ${JSON.stringify(ch)}`);
}
