import type Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import { ledgerStatus, type LedgerShipper, type LedgerStatus } from './service';

/** How long POST /ledger/ship waits for its cycle before it answers the status as it stands (the cycle goes on). */
const SHIP_WAIT_MS = 10_000;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The status as /api/v1 answers it (OpenAPI: LedgerStatus). */
export function ledgerStatusJson(s: LedgerStatus) {
  return {
    enabled: s.enabled, url: s.url, storeId: s.storeId, secretSet: s.secretSet,
    journalHead: s.journalHead, ackedThrough: s.ackedThrough, backlog: s.backlog,
    oldestUnshippedAt: iso(s.oldestUnshippedAt), oldestAgeSeconds: s.oldestAgeMs === null ? null : Math.floor(s.oldestAgeMs / 1000), backlogAlert: s.backlogAlert,
    lastSuccessAt: iso(s.lastSuccessAt), lastError: s.lastError, lastErrorAt: iso(s.lastErrorAt), failing: s.failing, failures: s.failures,
    nextAttemptAt: iso(s.nextAttemptAt), headCheckedAt: iso(s.headCheckedAt),
    fork: s.fork ? { atSeq: s.fork.atSeq, error: s.fork.error, at: s.fork.at.toISOString() } : null,
    restorePending: s.restorePending,
  };
}

/** /api/v1/ledger/…, on the API's router (server/api/routes.ts) with its token check and the scope it names. */
export function ledgerApiRoutes(router: Router, deps: { db: Db; clock: Clock; ledger: LedgerShipper; auth: Middleware; scope: Middleware }): void {
  const { auth, scope } = deps;
  router.get('/ledger/status', auth, scope, async (ctx) => {
    ctx.body = ledgerStatusJson(await ledgerStatus(deps.db, deps.clock));
  });
  router.post('/ledger/ship', auth, scope, async (ctx) => {
    await Promise.race([deps.ledger.shipNow(), new Promise((r) => setTimeout(r, SHIP_WAIT_MS).unref())]);
    ctx.body = ledgerStatusJson(await ledgerStatus(deps.db, deps.clock));
  });
}
