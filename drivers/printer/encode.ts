import iconv from 'iconv-lite';
import * as cmd from './commands';
import { checkProfile, type PrinterProfile } from './profile';

/** One element of a print job, in printing order. */
export type PrintOp =
  | { op: 'text'; text: string; bold?: boolean; width?: 1 | 2; height?: 1 | 2; align?: 'left' | 'center' | 'right' }
  | { op: 'feed'; lines: number }
  | { op: 'qr'; data: string; moduleSize?: number }
  | { op: 'drawer' }
  | { op: 'cut' };

/** A job's layout output: what server/printing renders for a given profile. */
export interface PrintDoc {
  ops: PrintOp[];
}

interface Style {
  bold: boolean;
  width: 1 | 2;
  height: 1 | 2;
  align: 'left' | 'center' | 'right';
}
const INIT_STYLE: Style = { bold: false, width: 1, height: 1, align: 'left' };

/**
 * Renders a job to ESC/POS bytes for one printer profile. Pure: the same doc and profile give
 * the same bytes. The job starts with `ESC @` and `ESC t <profile code page>`; each text op is one
 * line (ended by LF), wrapped to the columns the profile and the character width leave, encoded
 * to the profile's code page with iconv-lite (a character the code page lacks prints as `?`);
 * styles are emitted only when they change. A cut feeds first, so the last lines clear the cutter.
 * The `GS r 1` acknowledgement request is not part of the job: the transport adds it.
 */
export function encodeJob(doc: PrintDoc, profile: PrinterProfile): Buffer {
  checkProfile(profile);
  const out: Buffer[] = [cmd.INIT, cmd.selectCodePage(profile.codePage.number)];
  let style: Style = INIT_STYLE;
  const setStyle = (next: Style) => {
    if (next.bold !== style.bold) out.push(cmd.bold(next.bold));
    if (next.width !== style.width || next.height !== style.height) out.push(cmd.size(next.width, next.height));
    if (next.align !== style.align) out.push(cmd.align(next.align));
    style = next;
  };
  for (const o of doc.ops) {
    switch (o.op) {
      case 'text': {
        const next: Style = { bold: o.bold ?? false, width: o.width ?? 1, height: o.height ?? 1, align: o.align ?? 'left' };
        setStyle(next);
        for (const line of wrap(o.text, Math.floor(profile.columns / next.width))) {
          out.push(iconv.encode(line, profile.codePage.encoding), Buffer.from([cmd.LF]));
        }
        break;
      }
      case 'feed':
        if (!Number.isInteger(o.lines) || o.lines < 0 || o.lines > 255) throw new Error(`feed of ${o.lines} lines is not 0–255`);
        out.push(cmd.feed(o.lines));
        break;
      case 'qr':
        // QR data is sent as UTF-8, which QR readers assume without an ECI marker
        out.push(cmd.qrCode(Buffer.from(o.data, 'utf8'), o.moduleSize ?? 6));
        break;
      case 'drawer':
        out.push(cmd.drawerPulse(profile.drawerPin));
        break;
      case 'cut':
        out.push(profile.cut === 'feed-then-cut' ? Buffer.concat([cmd.feed(profile.feedBeforeCut), cmd.FULL_CUT]) : cmd.feedAndCut(profile.feedBeforeCut));
        break;
      default:
        throw new Error(`unknown print op ${(o as { op: string }).op}`);
    }
  }
  return Buffer.concat(out);
}

/** Splits text into lines of at most `columns` characters, at spaces where a word fits, hard otherwise. */
export function wrap(text: string, columns: number): string[] {
  const lines: string[] = [];
  // control characters in a name or a note would be commands to the printer: they print as spaces
  // eslint-disable-next-line no-control-regex
  for (const para of text.replace(/[\x00-\x09\x0b-\x1f\x7f]/g, ' ').split('\n')) {
    let chars = [...para];
    while (chars.length > columns) {
      const space = chars.slice(0, columns + 1).lastIndexOf(' ');
      const cut = space > 0 ? space : columns;
      lines.push(chars.slice(0, cut).join('').trimEnd());
      chars = chars.slice(cut);
      if (chars[0] === ' ') chars = chars.slice(1);
    }
    lines.push(chars.join(''));
  }
  return lines;
}
