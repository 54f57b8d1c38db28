import assert from 'node:assert/strict';
import { neutralise, toCsv } from './csv';

describe('export CSV', () => {
  it('neutralises text cells that start a formula and leaves numbers alone', () => {
    assert.equal(neutralise('=HYPERLINK("http://x","y")'), `'=HYPERLINK("http://x","y")`);
    for (const s of ['+1', '-2+3', '@SUM(A1)', '\tx']) assert.equal(neutralise(s), `'${s}`);
    assert.equal(neutralise(-150), -150);
    assert.equal(neutralise('Croissant'), 'Croissant');
  });

  it('quotes as RFC 4180 says, with CRLF, and a BOM only when asked', () => {
    const csv = toCsv(['name', 'amount'], [['a, "b"', 100], ['line\nbreak', -5]]);
    assert.equal(csv, 'name,amount\r\n"a, ""b""",100\r\n"line\nbreak",-5\r\n');
    assert.ok(toCsv(['x'], [], { bom: true }).startsWith('\ufeffx'));
    assert.ok(!toCsv(['x'], []).startsWith('\ufeff'));
  });
});
