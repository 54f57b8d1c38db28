import { wrap, type PrintOp } from '../../drivers/printer/encode';
import { formatMoney } from '../money';

/**
 * The few shapes every slip is made of, laid out for a number of columns (32 on 58 mm paper, 42
 * or 48 on 80 mm). Each helper returns whole lines that fit, so the encoder's own wrapping never
 * splits an amount from its label.
 */
export class Slip {
  readonly ops: PrintOp[] = [];
  constructor(readonly columns: number, readonly currency: string) {}

  text(text: string, style: Omit<Extract<PrintOp, { op: 'text' }>, 'op' | 'text'> = {}): this {
    this.ops.push({ op: 'text', text, ...style });
    return this;
  }

  /** a heading: bold, centred, double size when it fits on one line */
  title(text: string, opts: { big?: boolean } = {}): this {
    const big = opts.big !== false && [...text].length <= Math.floor(this.columns / 2);
    return this.text(text, { bold: true, align: 'center', ...(big ? { width: 2, height: 2 } : {}) });
  }

  /** a banner across the paper: `*** TEXT ***`, bold and centred */
  banner(text: string): this {
    const starred = `*** ${text} ***`;
    return this.text([...starred].length <= this.columns ? starred : text, { bold: true, align: 'center' });
  }

  centre(text: string): this {
    for (const line of text.split('\n')) this.text(line, { align: 'center' });
    return this;
  }

  rule(ch = '-'): this {
    return this.text(ch.repeat(this.columns));
  }

  /** a label on the left and a value flush right, on one line when they fit (the label wraps otherwise) */
  pair(left: string, right: string, style: { bold?: boolean; height?: 1 | 2 } = {}): this {
    const cols = this.columns;
    const r = [...right].length;
    if (r > cols / 2 && [...left].length + 1 + r > cols) {
      // two long texts (a time and names): each on its own lines, the right one flush right
      for (const l of wrap(left, cols)) this.text(l, style);
      for (const l of wrap(right, cols)) this.text(' '.repeat(Math.max(0, cols - [...l].length)) + l, style);
      return this;
    }
    const lines = wrap(left, Math.max(1, cols - (r ? r + 1 : 0)));
    const last = lines.pop() ?? '';
    for (const l of lines) this.text(l, style);
    const gap = cols - [...last].length - r;
    if (gap >= 1 || !r) this.text(last + ' '.repeat(Math.max(0, gap)) + right, style);
    else this.text(last, style).text(' '.repeat(Math.max(0, cols - r)) + right, style);
    return this;
  }

  /** a pair whose value is an amount of the slip's currency */
  amount(left: string, minor: number, style: { bold?: boolean; height?: 1 | 2 } = {}): this {
    return this.pair(left, this.money(minor), style);
  }

  /** indented detail lines under an item (modifiers, a note), wrapped within the indent */
  detail(text: string, indent = 3): this {
    for (const l of wrap(text, this.columns - indent)) this.text(' '.repeat(indent) + l);
    return this;
  }

  money(minor: number): string {
    return formatMoney(minor, this.currency);
  }

  feed(lines: number): this {
    this.ops.push({ op: 'feed', lines });
    return this;
  }

  qr(data: string): this {
    // 4-dot modules fit a short receipt number on 58 mm paper with room to spare
    this.ops.push({ op: 'qr', data, moduleSize: this.columns <= 32 ? 4 : 6 });
    return this;
  }

  drawer(): this {
    this.ops.push({ op: 'drawer' });
    return this;
  }

  cut(): this {
    this.ops.push({ op: 'cut' });
    return this;
  }
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();
/** An instant as the store's clock shows it: `14/03/2026, 10:30` (or the time alone). */
export function localTime(iso: string, timeZone: string, what: 'date-time' | 'time' = 'date-time'): string {
  const key = `${timeZone}|${what}`;
  let f = timeFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', what === 'time' ? { timeZone, timeStyle: 'short' } : { timeZone, dateStyle: 'short', timeStyle: 'short' });
    timeFormats.set(key, f);
  }
  return f.format(new Date(iso));
}

/** `#042`: the short order number as the kitchen and the customer say it. */
export const orderNo = (n: number) => `#${String(n).padStart(3, '0')}`;
