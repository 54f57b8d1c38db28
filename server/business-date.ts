/**
 * The business date of a moment: the store-local date of (moment − business-day start), the
 * subtraction done on the store's wall clock, so it stays right on the days the clock jumps
 * (a 04:00 start means 04:00 on the wall, even the morning after a daylight-saving change). With
 * a 04:00 start, a sale at 01:30 on the 15th belongs to the 14th.
 */
export function businessDate(at: Date, timeZone: string, dayStart: string): string {
  const [h, m] = dayStart.split(':').map(Number);
  const local = localParts(at, timeZone);
  const date = `${local.year}-${local.month}-${local.day}`;
  return local.hour * 60 + local.minute < h * 60 + m ? addDays(date, -1) : date;
}

/** A calendar date (YYYY-MM-DD) moved by whole days. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

const partFormats = new Map<string, Intl.DateTimeFormat>();

/** The wall clock of a moment in a zone: date parts as written, hour 0–23. */
export function localParts(at: Date, timeZone: string): { year: string; month: string; day: string; hour: number; minute: number } {
  let f = partFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    partFormats.set(timeZone, f);
  }
  const parts = f.formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return { year: get('year'), month: get('month'), day: get('day'), hour: Number(get('hour')), minute: Number(get('minute')) };
}

/**
 * The moment a wall-clock time happens in a zone (the first, when the clock goes back over it;
 * a moment next to the gap, when the clock skips it): for "export at 02:30 store time".
 */
export function zonedMoment(date: string, time: string, timeZone: string): Date {
  const [h, m] = time.split(':').map(Number);
  const wanted = Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)), h, m);
  // the zone's offset is found by asking what the wall clock shows; twice, for the offset at the answer
  let guess = wanted;
  for (let i = 0; i < 3; i++) {
    const p = localParts(new Date(guess), timeZone);
    const shown = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), p.hour, p.minute);
    if (shown === wanted) break;
    guess += wanted - shown;
  }
  const earlier = guess - 3_600_000; // an ambiguous time (clocks back): its first occurrence
  const p = localParts(new Date(earlier), timeZone);
  if (Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), p.hour, p.minute) === wanted) return new Date(earlier);
  return new Date(guess);
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
