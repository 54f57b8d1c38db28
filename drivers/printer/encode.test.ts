import assert from 'node:assert/strict';
import { encodeJob, wrap } from './encode';
import { defaultProfile } from './profile';

/** bytes as spaced hex, so a failure shows where the streams part */
const hex = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
const ascii = (s: string) => hex(Buffer.from(s, 'latin1'));

// Every expected byte below is written out from Epson's ESC/POS reference, never from commands.ts,
// so the encoder and the fake printer (which shares the decoder) cannot agree on something wrong.
describe('encodeJob: ESC/POS bytes of a print job', () => {
  const p80 = defaultProfile(80);

  it('starts with ESC @ (1b 40) and the profile code page, ESC t 19 (1b 74 13) for PC858', () => {
    assert.equal(hex(encodeJob({ ops: [] }, p80)), '1b 40 1b 74 13');
  });

  it('takes the code page number from the profile (another model, another number)', () => {
    const p = defaultProfile(80, { codePage: { number: 16, encoding: 'CP1252' } });
    assert.equal(hex(encodeJob({ ops: [{ op: 'text', text: '€' }] }, p)), '1b 40 1b 74 10 80 0a');
  });

  it('encodes € é ü ñ ø in CP858 as d5 82 81 a4 9b, each line ended by LF', () => {
    assert.equal(hex(encodeJob({ ops: [{ op: 'text', text: '€ é ü ñ ø' }] }, p80)), '1b 40 1b 74 13 d5 20 82 20 81 20 a4 20 9b 0a');
  });

  it('prints a character the code page lacks as ?', () => {
    assert.equal(hex(encodeJob({ ops: [{ op: 'text', text: '→' }] }, p80)), '1b 40 1b 74 13 3f 0a');
  });

  it('turns control characters in text into spaces, so a product name cannot send a command', () => {
    assert.equal(hex(encodeJob({ ops: [{ op: 'text', text: 'a\x1bpb' }] }, p80)), `1b 40 1b 74 13 ${ascii('a pb')} 0a`);
  });

  it('feeds 4 lines before a full cut: ESC d 4 (1b 64 04) then GS V 0 (1d 56 00)', () => {
    assert.equal(hex(encodeJob({ ops: [{ op: 'cut' }] }, p80)), '1b 40 1b 74 13 1b 64 04 1d 56 00');
  });

  it('or cuts with GS V 66 n (1d 56 42 04) when the profile says feed-and-cut', () => {
    assert.equal(hex(encodeJob({ ops: [{ op: 'cut' }] }, defaultProfile(58, { cut: 'feed-and-cut' }))), '1b 40 1b 74 13 1d 56 42 04');
  });

  it('kicks the drawer with ESC p 0 25 250 (1b 70 00 19 fa), or pin 5 when the profile says so', () => {
    assert.equal(hex(encodeJob({ ops: [{ op: 'drawer' }] }, p80)), '1b 40 1b 74 13 1b 70 00 19 fa');
    assert.equal(hex(encodeJob({ ops: [{ op: 'drawer' }] }, defaultProfile(80, { drawerPin: 1 }))), '1b 40 1b 74 13 1b 70 01 19 fa');
  });

  it('emits bold (ESC E), size (GS !) and alignment (ESC a) only when they change, and resets them', () => {
    const bytes = encodeJob(
      {
        ops: [
          { op: 'text', text: 'A', bold: true, width: 2, height: 2, align: 'center' },
          { op: 'text', text: 'B', bold: true, width: 2, height: 2, align: 'center' },
          { op: 'text', text: 'C', height: 2, align: 'right' },
          { op: 'text', text: 'D' },
        ],
      },
      p80,
    );
    assert.equal(
      hex(bytes),
      [
        '1b 40 1b 74 13',
        '1b 45 01 1d 21 11 1b 61 01 41 0a', // bold on, double width+height, centre, A
        '42 0a', // B: same style, no commands
        '1b 45 00 1d 21 01 1b 61 02 43 0a', // bold off, double height only, right, C
        '1d 21 00 1b 61 00 44 0a', // normal size, left, D
      ].join(' '),
    );
  });

  it('feeds n lines with ESC d n', () => {
    assert.equal(hex(encodeJob({ ops: [{ op: 'feed', lines: 2 }] }, p80)), '1b 40 1b 74 13 1b 64 02');
  });

  it('prints a QR code of a text with GS ( k: model 2, module size, level M, store, print', () => {
    assert.equal(
      hex(encodeJob({ ops: [{ op: 'qr', data: 'R-42', moduleSize: 4 }] }, p80)),
      [
        '1b 40 1b 74 13',
        '1d 28 6b 04 00 31 41 32 00', // fn 65 model 2
        '1d 28 6b 03 00 31 43 04', // fn 67 module size 4
        '1d 28 6b 03 00 31 45 31', // fn 69 error correction M
        `1d 28 6b 07 00 31 50 30 ${ascii('R-42')}`, // fn 80 store: pL = 4 data bytes + 3
        '1d 28 6b 03 00 31 51 30', // fn 81 print
      ].join(' '),
    );
  });

  it('wraps a line to the columns of the paper, halved for double width', () => {
    const p58 = defaultProfile(58);
    const text = 'Cappuccino with oat milk and extra shot';
    const bytes = encodeJob({ ops: [{ op: 'text', text }] }, p58);
    assert.equal(hex(bytes), `1b 40 1b 74 13 ${ascii('Cappuccino with oat milk and')} 0a ${ascii('extra shot')} 0a`);
    assert.deepEqual(wrap('ABCDEFGHIJKLMNOPQRSTU', 16), ['ABCDEFGHIJKLMNOP', 'QRSTU']);
    assert.deepEqual(wrap('Table 12 Anna', 8), ['Table 12', 'Anna']);
    const big = encodeJob({ ops: [{ op: 'text', text: 'ORDER #042 FOR TABLE 7', width: 2 }] }, p58);
    assert.equal(hex(big), `1b 40 1b 74 13 1d 21 10 ${ascii('ORDER #042 FOR')} 0a ${ascii('TABLE 7')} 0a`);
  });

  it('refuses a profile whose columns do not fit its paper', () => {
    assert.throws(() => encodeJob({ ops: [] }, { ...defaultProfile(58), columns: 48 }), /58 mm printer has 32 columns/);
    assert.throws(() => defaultProfile(80, { columns: 32 }), /80 mm printer has 42 or 48 columns/);
  });
});
