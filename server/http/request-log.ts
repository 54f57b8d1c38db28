import type { Context, Next } from 'koa';
import type { Logger } from '../logger';

/** One structured line per request, and a request-scoped logger on ctx.state.log. */
export function requestLog(log: Logger) {
  let seq = 0;
  return async (ctx: Context, next: Next) => {
    const started = process.hrtime.bigint();
    const reqId = (++seq).toString(36);
    // made when first used: at LOG_LEVEL=warn most requests log nothing (a child per request
    // showed in the bench's profile)
    let child: Logger | undefined;
    Object.defineProperty(ctx.state, 'log', { get: () => (child ??= log.child({ reqId })), configurable: true, enumerable: true });
    try {
      await next();
    } finally {
      const level = ctx.status >= 500 ? 'error' : 'info';
      if (log.isLevelEnabled(level)) {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        ctx.state.log[level]({ method: ctx.method, url: ctx.url, status: ctx.status, ms: Math.round(ms * 10) / 10 }, 'request');
      }
    }
  };
}
