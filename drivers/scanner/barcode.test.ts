import assert from 'node:assert/strict';
import { checkBarcode, gtinCheckDigit, isValidEan13, isValidEan8, isValidUpcA, parseEmbeddedEan13 } from './barcode';

describe('barcode check digits', () => {
  it('accepts good EAN-13 codes and refuses a wrong digit, a swap, or a wrong length', () => {
    for (const good of ['4006381333931', '5901234123457', '9780306406157', '0012345678905']) assert.ok(isValidEan13(good), good);
    for (const bad of ['4006381333932', '4006381339331', '400638133393', '40063813339310', '400638133393a']) assert.ok(!isValidEan13(bad), bad);
  });

  it('accepts good EAN-8 codes and refuses bad ones', () => {
    for (const good of ['96385074', '73513537', '55123457']) assert.ok(isValidEan8(good), good);
    for (const bad of ['96385075', '73513573', '9638507']) assert.ok(!isValidEan8(bad), bad);
  });

  it('accepts good UPC-A codes and refuses bad ones', () => {
    for (const good of ['036000291452', '012345678905', '042100005264']) assert.ok(isValidUpcA(good), good);
    for (const bad of ['036000291453', '036000219452', '36000291452']) assert.ok(!isValidUpcA(bad), bad);
  });

  it('computes the check digit with weights 3,1,3… from the right', () => {
    assert.equal(gtinCheckDigit('400638133393'), 1);
    assert.equal(gtinCheckDigit('03600029145'), 2);
    assert.equal(gtinCheckDigit('9638507'), 4);
  });

  it('tells the symbology by length and leaves other codes unchecked', () => {
    assert.deepEqual(checkBarcode('4006381333931'), { kind: 'ean13', valid: true });
    assert.deepEqual(checkBarcode('036000291453'), { kind: 'upca', valid: false });
    assert.deepEqual(checkBarcode('96385074'), { kind: 'ean8', valid: true });
    assert.deepEqual(checkBarcode('ABC-123'), { kind: 'other', valid: true });
  });
});

describe('price- and weight-embedded EAN-13 (prefix 20–29)', () => {
  it('splits 22 12345 00450 C into item 12345 and 450 minor units (4.50)', () => {
    const code = `221234500450${gtinCheckDigit('221234500450')}`;
    assert.deepEqual(parseEmbeddedEan13(code), { prefix: '22', itemCode: '12345', value: 450 });
  });

  it('splits a 4-digit item layout, 28 0042 012345 C', () => {
    const code = `280042012345${gtinCheckDigit('280042012345')}`;
    assert.deepEqual(parseEmbeddedEan13(code, 4), { prefix: '28', itemCode: '0042', value: 12345 });
  });

  it('refuses a code with a bad check digit, and leaves codes outside prefix 2x alone', () => {
    const good = `221234500450${gtinCheckDigit('221234500450')}`;
    const bad = good.slice(0, 12) + String((Number(good[12]) + 1) % 10);
    assert.equal(parseEmbeddedEan13(bad), undefined);
    assert.equal(parseEmbeddedEan13('4006381333931'), undefined);
  });
});
