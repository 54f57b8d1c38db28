import Router from '@koa/router';
import { z } from 'zod';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import { audit } from '../audit/service';
import { requires } from '../auth/middleware';
import { conflict, invalid } from '../errors';
import { hostAllowed, hostName } from '../http/allowed-hosts';
import { formView, render, toast, type FormView } from '../http/render';
import { parseInput } from '../http/validate';
import { BACKUP_SETTING_KEYS, BusinessSettings, CLOSE_SETTING_KEYS, LEDGER_SETTING_KEYS } from './schema';
import { getSettings } from './service';

const checkbox = z.union([z.literal('on'), z.literal('true')]).optional().transform((v) => v !== undefined);

/** The form's fields as strings → typed settings, validated by the same schema the store uses. */
const SettingsForm = z.object({
  storeName: z.string(),
  timezone: z.string(),
  currency: z.string().trim().toUpperCase(),
  pricesIncludeTax: checkbox,
  cashRounding: z.coerce.number(),
  businessDayStart: z.string(),
  receiptHeader: z.string().default(''),
  receiptFooter: z.string().default(''),
  idleLockSeconds: z.coerce.number(),
  sessionMaxHours: z.coerce.number(),
  discountLimitPercent: z.coerce.number(),
  kitchenWarnMinutes: z.coerce.number(),
  kitchenLateMinutes: z.coerce.number(),
  // one name or address per line (commas and spaces separate too); empty = any host
  allowedHosts: z.string().default('').transform((v) => v.split(/[\s,]+/).filter(Boolean)),
  webhooksAllowPrivateTargets: checkbox,
  embeddedPriceBarcodes: checkbox,
  // "send to the kitchen when paid", one checkbox per order type
  kitchenOnPayCounter: checkbox,
  kitchenOnPayTakeaway: checkbox,
  kitchenOnPayDineIn: checkbox,
  // stock (issue 24): overselling a counted product, and 86 at zero
  stockAllowOversell: checkbox,
  stockAutoUnavailable: checkbox,
}).transform(({ kitchenOnPayCounter, kitchenOnPayTakeaway, kitchenOnPayDineIn, ...rest }) => ({
  ...rest, kitchenOnPay: { counter: kitchenOnPayCounter, takeaway: kitchenOnPayTakeaway, dine_in: kitchenOnPayDineIn },
})).pipe(BusinessSettings);

/** The settings as the form shows them: what one would type. */
const asForm = (s: BusinessSettings) => ({
  ...s,
  allowedHosts: s.allowedHosts.join('\n'),
  kitchenOnPayCounter: s.kitchenOnPay.counter, kitchenOnPayTakeaway: s.kitchenOnPay.takeaway, kitchenOnPayDineIn: s.kitchenOnPay.dine_in,
});

/** A refused save shows the page again with what was typed, each problem beside its field, in these words. */
const settingsForm = (db: Db): FormView => ({
  page: 'backoffice/settings.html',
  data: async () => ({ settings: await getSettings(db), ...(await choices(db)) }),
  messages: {
    storeName: 'Give the store a name (up to 120 characters).',
    timezone: 'Not a time zone this server knows.',
    currency: 'Not a currency this server knows.',
    cashRounding: 'A whole number of steps, from 1 (no rounding) up.',
    businessDayStart: 'Use a time as HH:MM, like 04:00.',
    idleLockSeconds: 'A whole number of seconds, from 15 to 86400 (a day).',
    sessionMaxHours: 'A whole number of hours, from 1 to 72.',
    discountLimitPercent: 'A percent from 0 to 100.',
    kitchenWarnMinutes: 'A whole number of minutes, from 1 to 240.',
    kitchenLateMinutes: 'A whole number of minutes, from 1 to 480.',
    receiptHeader: 'At most 500 characters.',
    receiptFooter: 'At most 500 characters.',
  },
});

// time zones and currencies are chosen from lists, not typed (issue 24)
const ZONES = Intl.supportedValuesOf('timeZone');
const CURRENCIES = Intl.supportedValuesOf('currency');
/** The lists the form chooses from, and whether the currency is fixed (a sale exists). */
async function choices(db: Db) {
  return { zones: ZONES.includes('UTC') ? ZONES : ['UTC', ...ZONES], currencies: CURRENCIES, currencyLocked: Boolean(await db('journal').where({ kind: 'sale' }).first('seq')) };
}

export function settingsRoutes(deps: { db: Db; clock: Clock }): Router {
  const router = new Router();
  router.get('/backoffice/settings', requires('settings:edit', deps), async (ctx) => {
    const settings = await getSettings(deps.db);
    render(ctx, 'backoffice/settings.html', null, { settings, form: asForm(settings), ...(await choices(deps.db)) });
  });
  router.post('/backoffice/settings', requires('settings:edit', deps), formView(settingsForm(deps.db)), async (ctx) => {
    // time zone and currency come from lists; a form without them (a script's, a fixed currency) keeps them as they are
    const was = await getSettings(deps.db);
    const next = parseInput(SettingsForm, { timezone: was.timezone, currency: was.currency, ...(ctx.request.body as object) });
    if (!hostAllowed(ctx.host, next.allowedHosts)) {
      // saving would refuse this very browser's next request
      const msg = `This page was reached as "${hostName(ctx.host)}", which is not in Allowed hosts: add it, or saving would lock this browser out.`;
      throw invalid(msg, [{ field: 'allowedHosts', message: msg }]);
    }
    const a = ctx.state.auth;
    await deps.db.transaction(async (trx) => {
      const current = await getSettings(trx);
      if (next.currency !== current.currency && (await trx('journal').where({ kind: 'sale' }).first('seq'))) {
        throw conflict('The currency is fixed once a sale exists.', 'currency-fixed');
      }
      // the ledger's and the backups' settings have pages of their own: this form leaves them as they are
      const changed = (Object.keys(next) as Array<keyof BusinessSettings>).filter((k) => !LEDGER_SETTING_KEYS.has(k) && !BACKUP_SETTING_KEYS.has(k) && !CLOSE_SETTING_KEYS.has(k) && JSON.stringify(next[k]) !== JSON.stringify(current[k]));
      for (const key of changed) {
        await trx('settings').insert({ key, value: JSON.stringify(next[key]), updated_at: deps.clock.now() }).onConflict('key').merge();
      }
      if (changed.length) {
        await audit(trx, deps.clock, {
          action: 'settings_changed', staffId: a.staff!.id, approvedBy: a.approver?.id, terminalId: a.terminal!.id,
          details: Object.fromEntries(changed.map((k) => [k, { from: current[k], to: next[k] }])),
        });
      }
    });
    toast(ctx, 'Settings saved. Every terminal uses them from its next tap.');
    render(ctx, 'backoffice/settings.html', null, { settings: next, form: asForm(next), ...(await choices(deps.db)) });
  });
  return router;
}
