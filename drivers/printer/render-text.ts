import type { DecodedOp } from './decode';

/**
 * What a job looks like on paper, as plain text for the simulator's files and the back office:
 * lines aligned within the columns (double-width lines have half as many), a QR code as
 * `[QR <data>]`, the drawer pulse and the cut as marker lines.
 */
export function renderText(ops: readonly DecodedOp[], columns: number): string {
  const out: string[] = [];
  const place = (text: string, align: 'left' | 'center' | 'right', cols: number) => {
    const pad = Math.max(0, cols - [...text].length);
    if (align === 'right') return ' '.repeat(pad) + text;
    if (align === 'center') return ' '.repeat(Math.floor(pad / 2)) + text;
    return text;
  };
  let align: 'left' | 'center' | 'right' = 'left';
  for (const o of ops) {
    switch (o.op) {
      case 'line':
        align = o.align;
        out.push(place(o.text, o.align, Math.floor(columns / o.width)).trimEnd());
        break;
      case 'feed':
        for (let i = 0; i < o.lines; i++) out.push('');
        break;
      case 'qr':
        out.push(place(`[QR ${o.data}]`, align, columns));
        break;
      case 'drawer':
        out.push(`[drawer pulse, pin ${o.pin === 0 ? 2 : 5}]`);
        break;
      case 'cut':
        for (let i = 0; i < o.feed; i++) out.push('');
        out.push('-'.repeat(columns));
        break;
      case 'init':
        align = 'left';
        break;
      default:
        break;
    }
  }
  return out.join('\n') + '\n';
}
