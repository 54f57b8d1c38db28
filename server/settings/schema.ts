import { isIP } from 'node:net';
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
  sessionMaxHours: z.number().int().min(1).max(72), // a staff login ends this long after it began, however busy
  discountLimitPercent: z.number().min(0).max(100), // discounts above this need a manager
  kitchenWarnMinutes: z.number().int().min(1).max(240), // a ticket's timer turns amber
  kitchenLateMinutes: z.number().int().min(1).max(480), // and red
  // per order type: a sale's unsent items go to the kitchen when it is paid, with no Send (server/orders/tender.ts)
  kitchenOnPay: z.object({ counter: z.boolean(), takeaway: z.boolean(), dine_in: z.boolean() }),
  // EAN-13 codes with prefix 20–29 carry a price (price labels from a scale or a label printer):
  // 2x IIIII PPPPP C = the item, found by its 5-digit code IIIII as one of its barcodes, and the
  // price PPPPP in minor units (server/devices/scan-to-order.ts); off: such codes are plain barcodes
  embeddedPriceBarcodes: z.boolean(),
  // webhooks may reach loopback, private and link-local addresses: for a lab, never a shop (server/webhooks/target.ts)
  webhooksAllowPrivateTargets: z.boolean(),
  // Host header names (no port) this server answers to; empty = any, since a store's box is
  // usually reached by its address. Against DNS rebinding (issue 18): server/http/allowed-hosts.ts
  allowedHosts: z.array(z.string().transform(normalizeHost).superRefine((v, ctx) => {
    if (!isHostEntry(v)) ctx.addIssue({ code: 'custom', message: `"${v}" is not a host name or IP address (no scheme, port, path or wildcard; e.g. pos.local or 192.168.1.10)` });
  })).max(50),
  // the cloud ledger the journal is shipped to (issue 25, server/ledger/): off while the URL is
  // empty; edited on its own page (LEDGER_SETTING_KEYS); its secret is kept apart, encrypted and
  // write-only (server/ledger/secret.ts), never in these settings
  ledgerUrl: z.string().trim().max(2000).refine((u) => u === '' || isHttpUrl(u), 'must be an http(s) URL, or empty').default(''),
  ledgerStoreId: z.string().trim().max(100).regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, dots, dashes and underscores').default(''),
  ledgerIntervalSeconds: z.number().int().min(5).max(86_400).default(60), // how often a batch is tried when nothing else asks
  ledgerBatchSize: z.number().int().min(1).max(20_000).default(5000), // entries per batch at most
  ledgerAlertHours: z.number().int().min(1).max(720).default(24), // terminals show a banner when the oldest unshipped entry is older
  // stock (issue 24, server/inventory/): a sale of a counted product beyond its stock is refused
  // unless overselling is allowed (the stock goes below zero); at zero it is marked 86 when asked
  stockAllowOversell: z.boolean(),
  stockAutoUnavailable: z.boolean(),
  // backups (issue 27, server/backup/): how many nightly backups DATA_DIR/backups keeps, and a
  // second folder (a mounted USB stick, a network share) each backup is copied to; edited on the
  // Backups page (BACKUP_SETTING_KEYS); the back office warns while no second folder is set
  backupRetention: z.number().int().min(1).max(365).default(14),
  backupCopyDir: z.string().trim().max(500).refine((d) => d === '' || d.startsWith('/'), 'must be an absolute folder path, or empty').default(''),
  // cash drawers (issue 23, server/cash/): a cash tender or a no sale asks for the drawer's float
  // first. Off by default, as in most tills: sessions, paid in/out and counts work either way
  requireDrawerSession: z.boolean().default(false),
  // the nightly export (server/export/): the store-local time it runs for the business day just
  // ended ('' = only on demand), and a byte-order mark in its CSV files for spreadsheet tools
  exportTime: z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d)?$/, 'must be HH:MM, or empty').default('05:00'),
  exportBom: z.boolean().default(false),
});
export type BusinessSettings = z.infer<typeof BusinessSettings>;

/** Settings edited on their own page (/backoffice/ledger), which the general settings form leaves as they are. */
export const LEDGER_SETTING_KEYS: ReadonlySet<string> = new Set(['ledgerUrl', 'ledgerStoreId', 'ledgerIntervalSeconds', 'ledgerBatchSize', 'ledgerAlertHours']);

/** Settings edited on the Close of day page (/backoffice/close), which the general settings form leaves as they are. */
export const CLOSE_SETTING_KEYS: ReadonlySet<string> = new Set(['requireDrawerSession', 'exportTime', 'exportBom']);

/** Settings edited on the Backups page (/backoffice/backups), which the general settings form leaves as they are. */
export const BACKUP_SETTING_KEYS: ReadonlySet<string> = new Set(['backupRetention', 'backupCopyDir']);

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
  sessionMaxHours: 16,
  discountLimitPercent: 10,
  kitchenWarnMinutes: 5,
  kitchenLateMinutes: 10,
  kitchenOnPay: { counter: true, takeaway: true, dine_in: false },
  embeddedPriceBarcodes: false,
  webhooksAllowPrivateTargets: false,
  allowedHosts: [],
  ledgerUrl: '',
  ledgerStoreId: '',
  ledgerIntervalSeconds: 60,
  ledgerBatchSize: 5000,
  ledgerAlertHours: 24,
  stockAllowOversell: true,
  stockAutoUnavailable: false,
  backupRetention: 14,
  backupCopyDir: '',
  requireDrawerSession: false,
  exportTime: '05:00',
  exportBom: false,
};

/** An http or https URL with a host and no credentials in it (the ledger's signature authenticates us). */
function isHttpUrl(u: string): boolean {
  try {
    const url = new URL(u);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && !url.username && !url.password;
  } catch {
    return false;
  }
}

/** An allowed-host entry or a Host header's name as compared: lower-case, no brackets round IPv6, no final dot. */
export function normalizeHost(h: string): string {
  const s = h.trim().toLowerCase();
  const unbracketed = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  return unbracketed.endsWith('.') ? unbracketed.slice(0, -1) : unbracketed;
}

/** A DNS name (letters, digits, hyphens; its last label not all digits) or an IPv4/IPv6 address. */
function isHostEntry(h: string): boolean {
  if (isIP(h)) return true;
  const labels = h.split('.');
  return h.length <= 253
    && labels.every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(l))
    && !/^\d+$/.test(labels[labels.length - 1]);
}

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
