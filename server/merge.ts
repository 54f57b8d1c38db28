/**
 * `{ ...a, ...b }` (or `{ ...a, ...b, ...c }`) written as Object.assign onto a fresh object, for
 * code that runs on every request.
 *
 * On Node 20 (V8 11.3) an object literal that spreads an object and then adds properties of its
 * own, or spreads a second object, allocated several times what the copy needs (an order line
 * with five view fields: 5 KB instead of 0.4), and the young generation's collections promoted
 * much of it to the old generation. Through the sale's few such literals that was most of the
 * 100-160 KB a sale promoted, and a full collection every 2-3 s at a rush, where the slowest
 * percent of requests were (docs/PERFORMANCE.md, "spreads that add properties, off the hot path").
 * A plain copy `{ ...a }`, or one that only replaces properties `a` has, does not do it.
 */
export function merged<A extends object, B extends object>(a: A, b: B): Merged<A, B>;
export function merged<A extends object, B extends object, C extends object>(a: A, b: B, c: C): Merged<Merged<A, B>, C>;
export function merged(...parts: object[]): object {
  return Object.assign({}, ...parts);
}

/** What `{ ...A, ...B }` gives: B's properties over A's. */
export type Merged<A, B> = Omit<A, keyof B> & B;
