import type { Context } from 'koa';
import type { Db } from '../db/knex';
import { version } from '../version';

/** 200 while a query answers, 503 while the database is unreachable; recovers by itself. */
export function healthz(db: Db, startedAt: number) {
  return async (ctx: Context) => {
    let dbOk = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        db.raw('select 1'),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), 2000))),
      ]);
      dbOk = true;
    } catch (err) {
      ctx.state.log?.warn({ err: (err as Error).message }, 'health check: database unreachable');
    } finally {
      clearTimeout(timer);
    }
    ctx.status = dbOk ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { db: dbOk ? 'ok' : 'unreachable', version, uptime: Math.round((Date.now() - startedAt) / 1000) };
  };
}
