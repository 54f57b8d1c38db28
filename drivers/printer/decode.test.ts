import assert from 'node:assert/strict';
import { EscposDecoder, type DecodedOp } from './decode';

const bytes = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const decode = (h: string) => new EscposDecoder().push(bytes(h));

// The decoder is what the fake printer and the simulator print with; it is pinned here to the
// ESC/POS reference with literal bytes, independently of the encoder.
describe('EscposDecoder: strict ESC/POS parsing for the fake printer and the simulator', () => {
  it('decodes init, PC858 selection and € é ü ñ ø from 1b 40 1b 74 13 d5 82 81 a4 9b 0a', () => {
    assert.deepEqual(decode('1b40 1b7413 d5 82 81 a4 9b 0a'), [
      { op: 'init' },
      { op: 'code-page', number: 19, encoding: 'CP858' },
      { op: 'line', text: '€éüñø', bold: false, width: 1, height: 1, align: 'left' },
    ] satisfies DecodedOp[]);
  });

  it('reads d5 as ╒ in PC437 (code page 0 after init), so a missing ESC t shows in the text', () => {
    assert.deepEqual(decode('1b40 d5 0a').at(-1), { op: 'line', text: '╒', bold: false, width: 1, height: 1, align: 'left' });
  });

  it('decodes the drawer pulse 1b 70 00 19 fa as pin 2, 50 ms on, 500 ms off', () => {
    assert.deepEqual(decode('1b 70 00 19 fa'), [{ op: 'drawer', pin: 0, onMs: 50, offMs: 500 }]);
  });

  it('decodes feed 1b 64 04, full cut 1d 56 00, feed-and-cut 1d 56 42 03, GS r 1 1d 72 01, DLE EOT 10 04 01', () => {
    assert.deepEqual(decode('1b6404 1d5600 1d564203 1d7201 100401 100404'), [
      { op: 'feed', lines: 4 },
      { op: 'cut', kind: 'full', feed: 0 },
      { op: 'cut', kind: 'feed-and-cut', feed: 3 },
      { op: 'paper-status' },
      { op: 'realtime-status', n: 1 },
      { op: 'realtime-status', n: 4 },
    ]);
  });

  it('decodes styles into the line they apply to', () => {
    const ops = decode('1b4501 1d2111 1b6101 41 0a 1b4500 1d2100 1b6102 42 0a');
    assert.deepEqual(ops, [
      { op: 'line', text: 'A', bold: true, width: 2, height: 2, align: 'center' },
      { op: 'line', text: 'B', bold: false, width: 1, height: 1, align: 'right' },
    ]);
  });

  it('decodes a QR code stored and printed with GS ( k', () => {
    const ops = decode('1d286b0400314132 00 1d286b030031430 5 1d286b0300314531 1d286b0700315030 52 2d 34 32 1d286b0300315130');
    assert.deepEqual(ops, [{ op: 'qr', data: 'R-42', moduleSize: 5, errorLevel: 'M' }]);
  });

  it('waits for the rest of a command split across chunks', () => {
    const d = new EscposDecoder();
    assert.deepEqual(d.push(bytes('1b')), []);
    assert.deepEqual(d.push(bytes('70 00')), []);
    assert.deepEqual(d.push(bytes('19 fa 41')), [{ op: 'drawer', pin: 0, onMs: 50, offMs: 500 }]);
    assert.equal(d.pending, 1);
    assert.deepEqual(d.push(bytes('0a')), [{ op: 'line', text: 'A', bold: false, width: 1, height: 1, align: 'left' }]);
  });

  it('refuses any sequence outside the set, and stays failed', () => {
    assert.throws(() => decode('1b 70 00 19'.replace('1b 70', '1b 71')), /unknown ESC command at byte 0: 1b 71 00/);
    assert.throws(() => decode('1d 56 01'), /GS V mode other than 0 or 66/); // partial cut is not ours
    assert.throws(() => decode('1b 74 63'), /code page 99 is not in this printer's table/);
    assert.throws(() => decode('41 42 07'), /unknown control byte at byte 2: 07/);
    assert.throws(() => decode('1d 72 02'), /GS r other than 1/);
    assert.throws(() => decode('1d 28 6b 03 00 30 43 05'), /symbol other than QR/);
    assert.throws(() => decode('1d 28 6b 03 00 31 51 30'), /QR print with no data stored/);
    assert.throws(() => decode('41 1b 45 01 42 0a'), /style or code page change in the middle of a line/);
    const d = new EscposDecoder();
    assert.throws(() => d.push(bytes('1b ff')));
    assert.throws(() => d.push(bytes('41 0a')), /unknown ESC command/);
  });
});
