import type { Clock } from '../clock';

/**
 * A fixed-window counter per key, in memory (one process serves the store). The key is chosen
 * by the caller: per terminal for PIN login, so one tablet's typos never lock the others out.
 */
export class RateLimiter {
  private hits = new Map<string, { windowStart: number; count: number }>();
  constructor(private readonly clock: Clock, private readonly perMinute: number) {}

  /** Counts one attempt; false when the key is over its limit for this minute. */
  take(key: string): boolean {
    const now = this.clock.now().getTime();
    const h = this.hits.get(key);
    if (!h || now - h.windowStart >= 60_000) {
      this.hits.set(key, { windowStart: now, count: 1 });
      if (this.hits.size > 10_000) this.prune(now);
      return true;
    }
    h.count++;
    return h.count <= this.perMinute;
  }

  /**
   * Whole seconds until `key`'s window frees (at least 1): what a 429 sends as Retry-After.
   * For a key never seen, or whose window has passed, 1.
   */
  retryAfterSeconds(key: string): number {
    const h = this.hits.get(key);
    if (!h) return 1;
    const left = h.windowStart + 60_000 - this.clock.now().getTime();
    return Math.min(60, Math.max(1, Math.ceil(left / 1000)));
  }

  private prune(now: number) {
    for (const [k, v] of this.hits) if (now - v.windowStart >= 60_000) this.hits.delete(k);
  }
}
