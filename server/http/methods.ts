import type { Context, Next } from 'koa';
import { AppError } from '../errors';

/**
 * A known path called with a method it does not have. Each router's allowedMethods() answers it
 * with a bare 405 (501 for a method no router knows) and an Allow header naming the path's
 * methods; this turns that answer into an error for the one error middleware, which renders it
 * like every other (problem+json under /api/) and keeps the Allow header. Mounted inside
 * errorHandler(), outside the routers.
 */
export function methodNotAllowed() {
  return async (ctx: Context, next: Next) => {
    await next();
    if ((ctx.status !== 405 && ctx.status !== 501) || ctx.body != null) return;
    if (ctx.status === 501) throw new AppError(501, 'not-implemented', `${ctx.method} is not a method this server knows.`);
    throw new AppError(405, 'method-not-allowed', `${ctx.method} is not allowed on ${ctx.path}; it allows ${ctx.response.get('Allow')}.`);
  };
}
