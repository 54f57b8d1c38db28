import type Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import { invalid } from '../errors';
import { openBusinessDate } from '../journal/service';
import { daysIn, isDate, MAX_RANGE_DAYS, previousPeriod, salesSummary, type Range } from './service';

/** The range a query asks for: ?date=D, or ?from=&to=, or the open business day. */
export async function rangeOf(db: Db, clock: Clock, q: Record<string, unknown>): Promise<Range> {
  const bad = (field: string) => invalid('Give dates as YYYY-MM-DD, from no later than to, at most 400 days.', [{ field, message: 'YYYY-MM-DD' }]);
  if (q.date !== undefined) {
    if (!isDate(q.date)) throw bad('date');
    return { from: q.date, to: q.date };
  }
  if (q.from !== undefined || q.to !== undefined) {
    if (!isDate(q.from)) throw bad('from');
    if (!isDate(q.to)) throw bad('to');
    const r = { from: q.from, to: q.to };
    if (r.from > r.to || daysIn(r) > MAX_RANGE_DAYS) throw bad('to');
    return r;
  }
  const d = await openBusinessDate(db, clock.now());
  return { from: d, to: d };
}

/** /api/v1/reports/…, on the API's router (server/api/routes.ts) with its token check and the reports:read scope. */
export function reportApiRoutes(router: Router, deps: { db: Db; clock: Clock; auth: Middleware; scope: Middleware }): void {
  router.get('/reports/sales/daily', deps.auth, deps.scope, async (ctx) => {
    const r = await rangeOf(deps.db, deps.clock, ctx.query);
    ctx.body = { from: r.from, to: r.to, summary: await salesSummary(deps.db, r), previous: await salesSummary(deps.db, previousPeriod(r)) };
  });
}
