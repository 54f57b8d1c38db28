import assert from 'node:assert/strict';
import { HidReportDecoder } from './hid-decoder';
import { charToKey, keyToChar } from './keymap';

/** a report as a scanner sends it: "02 00 04 00 00 00 00 00" */
const r = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const RELEASE = '00 00 00 00 00 00 00 00';
const decode = (...reports: string[]) => {
  const d = new HidReportDecoder();
  return reports.flatMap((x) => d.push(r(x)));
};

describe('HID keyboard boot reports → barcode strings (US layout)', () => {
  it('types digits 1–9, 0 from usages 1e–27, and ends the code on Enter (28)', () => {
    const reports = ['1e', '1f', '20', '21', '22', '23', '24', '25', '26', '27', '28'].flatMap((k) => [`00 00 ${k} 00 00 00 00 00`, RELEASE]);
    assert.deepEqual(decode(...reports), ['1234567890']);
  });

  it('reads a full EAN-13 as a scanner sends it, ending in Enter', () => {
    // 4006381333931: key down / all keys up, for each digit, then Enter
    const usage = { '0': '27', '1': '1e', '3': '20', '4': '21', '6': '23', '8': '25', '9': '26' } as Record<string, string>;
    const reports = [...'4006381333931'].flatMap((c) => [`00 00 ${usage[c]} 00 00 00 00 00`, RELEASE]);
    assert.deepEqual(decode(...reports, '00 00 28 00 00 00 00 00', RELEASE), ['4006381333931']);
  });

  it('types capitals and symbols with left (02) or right (20) shift', () => {
    assert.deepEqual(
      decode(
        '02 00 04 00 00 00 00 00', RELEASE, // A
        '00 00 05 00 00 00 00 00', RELEASE, // b
        '20 00 06 00 00 00 00 00', RELEASE, // C (right shift)
        '02 00 2d 00 00 00 00 00', RELEASE, // _
        '02 00 1f 00 00 00 00 00', RELEASE, // @
        '00 00 2d 00 00 00 00 00', RELEASE, // -
        '02 00 38 00 00 00 00 00', RELEASE, // ?
        '00 00 37 00 00 00 00 00', RELEASE, // .
        '00 00 28 00 00 00 00 00', RELEASE,
      ),
      ['AbC_@-?.'],
    );
  });

  it('counts a held key once, and a rolled-over key once: a, then a+b, then b, then nothing', () => {
    assert.deepEqual(
      decode(
        '00 00 04 00 00 00 00 00',
        '00 00 04 00 00 00 00 00', // still held
        '00 00 04 05 00 00 00 00', // b pressed while a is held
        '00 00 05 00 00 00 00 00', // a released
        RELEASE,
        '00 00 04 00 00 00 00 00', // a again after release
        '00 00 28 00 00 00 00 00',
      ),
      ['aba'],
    );
  });

  it('reads an EAN-13 from a fast scanner that rolls from key to key, releasing only between repeats, Enter in the last report', () => {
    // 4 0 0 6 3 8 1 3 3 3 9 3 1 ⏎: a new key replaces the last one in slot 1; a repeated key needs an empty report first
    const reports = [
      '00 00 21 00 00 00 00 00', '00 00 27 00 00 00 00 00', RELEASE, '00 00 27 00 00 00 00 00', '00 00 23 00 00 00 00 00',
      '00 00 20 00 00 00 00 00', '00 00 25 00 00 00 00 00', '00 00 1e 00 00 00 00 00', '00 00 20 00 00 00 00 00', RELEASE,
      '00 00 20 00 00 00 00 00', RELEASE, '00 00 20 00 00 00 00 00', '00 00 26 00 00 00 00 00', '00 00 20 00 00 00 00 00',
      '00 00 1e 28 00 00 00 00', RELEASE,
    ];
    assert.deepEqual(decode(...reports), ['4006381333931']);
  });

  it('keeps two codes apart, and a shifted symbol between digits: "AB-12⏎" then "9⏎"', () => {
    assert.deepEqual(
      decode(
        '02 00 04 00 00 00 00 00', '02 00 05 00 00 00 00 00', RELEASE, '00 00 2d 00 00 00 00 00', '00 00 1e 00 00 00 00 00',
        '00 00 1f 00 00 00 00 00', '00 00 28 00 00 00 00 00', RELEASE, '00 00 26 00 00 00 00 00', '00 00 28 00 00 00 00 00', RELEASE,
      ),
      ['AB-12', '9'],
    );
  });

  it('skips ErrorRollOver reports (01 in every slot) and keys that type nothing', () => {
    const d = new HidReportDecoder();
    assert.deepEqual(d.push(r('00 00 01 01 01 01 01 01')), []);
    assert.deepEqual(d.push(r('00 00 3a 00 00 00 00 00')), []); // F1
    assert.equal(d.unknownKeys, 1);
    assert.deepEqual([...d.push(r('00 00 1e 00 00 00 00 00')), ...d.push(r('00 00 28 00 00 00 00 00'))], ['1']);
  });

  it('emits nothing for Enter with no code, and refuses a report that is not 8 bytes', () => {
    assert.deepEqual(decode('00 00 28 00 00 00 00 00', RELEASE), []);
    assert.throws(() => new HidReportDecoder().push(r('00 00 1e')), /8 bytes, not 3/);
  });

  it('keyToChar and charToKey are inverse over what a scanner types', () => {
    for (const ch of 'abcXYZ0123456789!@#$%^&*()-_=+[]{};:\'",.<>/?`~|\\ ') {
      const { usage, shift } = charToKey(ch);
      assert.equal(keyToChar(usage, shift), ch, `${ch} → ${usage.toString(16)}`);
    }
    assert.equal(keyToChar(0x59, false), '1'); // keypad 1
    assert.equal(keyToChar(0x58, false), 'enter'); // keypad Enter
  });
});
