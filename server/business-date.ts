/**
 * The business date of a moment: the store-local date of (moment − business-day start). With a
 * 04:00 start, a sale at 01:30 on the 15th belongs to the 14th.
 */
export function businessDate(at: Date, timeZone: string, dayStart: string): string {
  const [h, m] = dayStart.split(':').map(Number);
  const shifted = new Date(at.getTime() - (h * 60 + m) * 60_000);
  return localDate(shifted, timeZone);
}

// Intl formatters are slow to build and immutable: one per time zone and style
const dayFormats = new Map<string, Intl.DateTimeFormat>();
const localFormats = new Map<string, Intl.DateTimeFormat>();

export function localDate(at: Date, timeZone: string): string {
  let f = dayFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, f);
  }
  const parts = f.formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

export function formatLocal(at: Date, timeZone: string): string {
  let f = localFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, dateStyle: 'medium', timeStyle: 'short' });
    localFormats.set(timeZone, f);
  }
  return f.format(at);
}
