import assert from 'node:assert/strict';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { canonicalJson } from './canonical';

describe('canonicalJson (RFC 8785)', () => {
  it('writes RFC 8785 §3.2.2\'s example as the RFC prints it', () => {
    // the input of §3.2.2, parsed as JSON (so the numbers are read as the RFC reads them)
    const input = JSON.parse(String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`);
    assert.equal(canonicalJson(input), String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`);
  });

  it('sorts keys by UTF-16 code units as RFC 8785 §3.2.3 does', () => {
    const input = JSON.parse(String.raw`{
      "\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"
    }`);
    const keys = JSON.parse(canonicalJson(input)) as Record<string, string>;
    assert.deepEqual(Object.values(keys).length, 7);
    const order = [...canonicalJson(input).matchAll(/"([^"]*)":"([^"]*)"/g)].map((m) => m[2]);
    assert.deepEqual(order, ['Carriage Return', 'One', 'Control', 'Latin Small Letter O With Diaeresis', 'Euro Sign', 'Emoji: Grinning Face', 'Hebrew Letter Dalet With Dagesh']);
  });

  it('is the canonicalize package\'s output, byte for byte, for any JSON value (property)', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => canonicalJson(v) === canonicalize(v)), { numRuns: 500 });
    // strings with every kind of character that needs escaping, and lone surrogates
    fc.assert(fc.property(fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })), (v) => canonicalJson(v) === canonicalize(v)), { numRuns: 500 });
  });

  it('refuses what JSON cannot hold, as the package does', () => {
    assert.throws(() => canonicalJson(Number.NaN), /NaN/);
    assert.throws(() => canonicalJson({ a: Infinity }), /Infinity/);
    assert.throws(() => canonicalJson(undefined), /cannot be canonicalised/);
    assert.equal(canonicalJson({ a: undefined, b: [undefined], c: new Date(0) }), '{"b":[null],"c":"1970-01-01T00:00:00.000Z"}');
  });
});
