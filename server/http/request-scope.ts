import { AsyncLocalStorage } from 'node:async_hooks';
import type { Middleware } from 'koa';

/**
 * What one HTTP request may read once and reuse: the business settings are read by the auth
 * layer, the route and the services alike; within one request they are one query, not five.
 */
export interface RequestScope {
  memo: Map<string, Promise<unknown>>;
}

const scope = new AsyncLocalStorage<RequestScope>();

export function requestScope(): Middleware {
  return (_ctx, next) => scope.run({ memo: new Map() }, next);
}

/** `load()` once per request under `key`; outside a request it simply loads. */
export function memoPerRequest<T>(key: string, load: () => Promise<T>): Promise<T> {
  const s = scope.getStore();
  if (!s) return load();
  let p = s.memo.get(key) as Promise<T> | undefined;
  if (!p) {
    p = load();
    s.memo.set(key, p);
  }
  return p;
}

/** Sets what `memoPerRequest(key)` answers for the rest of this request (a value read alongside something else). */
export function primePerRequest<T>(key: string, value: Promise<T>): void {
  scope.getStore()?.memo.set(key, value);
}

/** Drops a memo after the request changed what it holds. */
export function forgetPerRequest(key: string): void {
  scope.getStore()?.memo.delete(key);
}
