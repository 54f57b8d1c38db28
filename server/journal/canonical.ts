/**
 * RFC 8785 (JSON Canonicalization Scheme) serialisation: object keys sorted by their UTF-16
 * code units, no whitespace, strings and numbers as ECMAScript's JSON.stringify writes them.
 *
 * Written here rather than taken from the `canonicalize` package because every hash of the
 * journal goes through it (the append, every verifier, the ledger's catch-up) and the package
 * spends most of a catch-up's time in it (ARCHITECTURE, "Performance budget": ≥ 20 000 entries/s).
 * Its output is the package's, byte for byte: a property test compares the two on arbitrary
 * JSON values, and RFC 8785's published examples are pinned (server/journal/canonical.test.ts).
 */
export function canonicalJson(value: unknown): string {
  const s = serialize(value);
  if (s === undefined) throw new TypeError('value cannot be canonicalised');
  return s;
}

// a string needs JSON.stringify's escaping only when it holds one of these
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function str(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

function serialize(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return str(v);
    case 'number':
      if (!Number.isFinite(v)) throw new Error(Number.isNaN(v) ? 'NaN is not allowed' : 'Infinity is not allowed');
      return String(v); // ECMAScript's Number-to-string, as JSON.stringify and RFC 8785 write it (-0 as 0)
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      const toJSON = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return serialize(toJSON.call(v));
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) {
          if (i) out += ',';
          out += serialize(v[i]) ?? 'null';
        }
        return out + ']';
      }
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o).sort();
      let out = '{';
      for (const k of keys) {
        const x = serialize(o[k]);
        if (x === undefined) continue;
        if (out.length > 1) out += ',';
        out += str(k) + ':' + x;
      }
      return out + '}';
    }
    case 'bigint':
      throw new TypeError('a BigInt cannot be serialised as JSON');
    default:
      return undefined; // undefined, a function, a symbol: left out of objects, null in arrays
  }
}
