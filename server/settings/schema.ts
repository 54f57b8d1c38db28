import { z } from 'zod';
import { currencyExponent } from '../money';

/** Business settings: how the store runs, edited in the back office, stored in `settings`. */
export const BusinessSettings = z.object({
  storeName: z.string().trim().min(1).max(120),
  timezone: z.string().refine(isTimeZone, 'must be an IANA time zone'),
  currency: z.string().refine((c) => currencyExponent(c) !== undefined, 'must be an ISO 4217 code'),
  pricesIncludeTax: z.boolean(),
  cashRounding: z.number().int().min(1).max(100_000), // in minor units: 5 = round cash to 0.05
  businessDayStart: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM'),
  receiptHeader: z.string().max(500),
  receiptFooter: z.string().max(500),
  idleLockSeconds: z.number().int().min(15).max(86_400), // a terminal locks after this long untouched
  discountLimitPercent: z.number().min(0).max(100), // discounts above this need a manager
  kitchenWarnMinutes: z.number().int().min(1).max(240), // a ticket's timer turns amber
  kitchenLateMinutes: z.number().int().min(1).max(480), // and red
});
export type BusinessSettings = z.infer<typeof BusinessSettings>;

export const DEFAULT_SETTINGS: BusinessSettings = {
  storeName: 'My Store',
  timezone: 'UTC',
  currency: 'EUR',
  pricesIncludeTax: true,
  cashRounding: 1,
  businessDayStart: '04:00',
  receiptHeader: '',
  receiptFooter: 'Thank you!',
  idleLockSeconds: 300,
  discountLimitPercent: 10,
  kitchenWarnMinutes: 5,
  kitchenLateMinutes: 10,
};

const knownZones = new Set<string>();
/** Checking a zone builds an Intl formatter, which is slow: remember the good ones. */
function isTimeZone(tz: string): boolean {
  if (knownZones.has(tz)) return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    knownZones.add(tz);
    return true;
  } catch {
    return false;
  }
}
