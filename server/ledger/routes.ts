import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import { requires } from '../auth/middleware';
import { formView, render, toast, type FormView } from '../http/render';
import { parseInput } from '../http/validate';
import { getSettings } from '../settings/service';
import { age, allowSalesBeforeComparing, clearFork, configureLedger, ledgerStatus, type LedgerActor, type LedgerShipper, type LedgerStatus } from './service';

export interface LedgerRouteDeps {
  db: Db;
  clock: Clock;
  secretKey: string;
  ledger: LedgerShipper;
}

/** The form's fields as strings; the numbers and the URL are checked by the settings' schema (configureLedger). */
const LedgerForm = z.object({
  ledgerUrl: z.string().default(''),
  ledgerStoreId: z.string().default(''),
  secret: z.string().default(''),
  ledgerIntervalSeconds: z.coerce.number(),
  ledgerBatchSize: z.coerce.number(),
  ledgerAlertHours: z.coerce.number(),
});

/** How long "Ship now" waits for the cycle before it shows the status as it stands (the cycle goes on). */
const SHIP_NOW_WAIT_MS = 5000;

/** The status as the page and the banner show it: times in the store's zone. */
async function statusView(deps: LedgerRouteDeps, status?: LedgerStatus) {
  const s = status ?? (await ledgerStatus(deps.db, deps.clock, { batches: 10 }));
  const settings = await getSettings(deps.db);
  const fmt = new Intl.DateTimeFormat('en-GB', { timeZone: settings.timezone, dateStyle: 'medium', timeStyle: 'medium' });
  const when = (d: Date | null) => (d ? fmt.format(d) : null);
  return {
    ...s,
    lastSuccess: when(s.lastSuccessAt),
    lastErrorWhen: when(s.lastErrorAt),
    nextAttempt: when(s.nextAttemptAt),
    oldestAge: s.oldestAgeMs !== null ? age(s.oldestAgeMs) : null,
    forkWhen: s.fork ? when(s.fork.at) : null,
    batchRows: s.batches.map((b) => ({ ...b, created: when(b.created_at), acked: when(b.acked_at) })),
  };
}

const actor = (ctx: Context): LedgerActor => ({ staffId: ctx.state.auth.staff?.id, approvedBy: ctx.state.auth.approver?.id, terminalId: ctx.state.auth.terminal?.id, via: 'backoffice' });

const asForm = (s: { ledgerUrl: string; ledgerStoreId: string; ledgerIntervalSeconds: number; ledgerBatchSize: number; ledgerAlertHours: number }) => ({
  ledgerUrl: s.ledgerUrl, ledgerStoreId: s.ledgerStoreId, ledgerIntervalSeconds: s.ledgerIntervalSeconds, ledgerBatchSize: s.ledgerBatchSize, ledgerAlertHours: s.ledgerAlertHours,
});

/**
 * The back office's Ledger page (owner: settings:edit): the settings with the write-only
 * secret, the status, "Ship now", the fork alert and the restore override; and the terminals'
 * banner (/ledger/banner, any paired device), empty unless something needs someone.
 */
export function ledgerRoutes(deps: LedgerRouteDeps): Router {
  const router = new Router();
  const need = requires('settings:edit', deps);
  const page = async (extra: object = {}) => {
    const settings = await getSettings(deps.db);
    return { settings, status: await statusView(deps), form: asForm(settings), ...extra };
  };
  const ledgerForm: FormView = {
    page: 'backoffice/ledger.html',
    data: async () => {
      const settings = await getSettings(deps.db);
      return { settings, status: await statusView(deps) };
    },
    messages: {
      ledgerUrl: 'An address starting with https:// (or http://), or empty to stop shipping.',
      ledgerStoreId: 'Letters, digits, dots, dashes and underscores, as the head office gave it.',
      secret: 'The store secret is 16 to 512 characters, with no spaces.',
      ledgerIntervalSeconds: 'A whole number of seconds, from 5 to 86400 (a day).',
      ledgerBatchSize: 'A whole number of entries, from 1 to 20000.',
      ledgerAlertHours: 'A whole number of hours, from 1 to 720 (30 days).',
    },
  };

  router.get('/backoffice/ledger', need, async (ctx) => render(ctx, 'backoffice/ledger.html', null, await page()));

  router.post('/backoffice/ledger', need, formView(ledgerForm), async (ctx) => {
    const input = parseInput(LedgerForm, ctx.request.body);
    const changed = await configureLedger(deps.db, deps.clock, deps.secretKey, input, actor(ctx));
    if (changed.length) void deps.ledger.reconfigured();
    toast(ctx, changed.length ? 'Ledger settings saved.' : 'Nothing changed.');
    render(ctx, 'backoffice/ledger.html', null, await page());
  });

  router.post('/backoffice/ledger/ship', need, async (ctx) => {
    await Promise.race([deps.ledger.shipNow(), new Promise((r) => setTimeout(r, SHIP_NOW_WAIT_MS).unref())]);
    const status = await statusView(deps);
    toast(ctx, status.backlog ? `Shipping: ${status.backlog} entries still to send.` : 'The ledger holds every entry.');
    render(ctx, 'backoffice/ledger.html', 'backoffice/_ledger_status.html', await page({ status }));
  });

  router.post('/backoffice/ledger/allow-sales', need, async (ctx) => {
    await allowSalesBeforeComparing(deps.db, deps.clock, actor(ctx));
    toast(ctx, 'Sales are allowed again. The journal is compared with the ledger as soon as it can be reached.');
    render(ctx, 'backoffice/ledger.html', 'backoffice/_ledger_status.html', await page());
  });

  router.post('/backoffice/ledger/clear-fork', need, async (ctx) => {
    await clearFork(deps.db, deps.clock, actor(ctx));
    await Promise.race([deps.ledger.reconfigured(), new Promise((r) => setTimeout(r, SHIP_NOW_WAIT_MS).unref())]);
    render(ctx, 'backoffice/ledger.html', 'backoffice/_ledger_status.html', await page());
  });

  router.get('/ledger/banner', requires('device'), async (ctx) => {
    const s = await ledgerStatus(deps.db, deps.clock);
    if (!s.enabled || !(s.backlogAlert || s.fork || s.restorePending)) {
      ctx.status = 204;
      return;
    }
    render(ctx, 'ledger/_banner.html', 'ledger/_banner.html', { banner: { ...s, oldestAge: s.oldestAgeMs !== null ? age(s.oldestAgeMs) : null } });
  });

  return router;
}
