import iconv from 'iconv-lite';
import { EPSON_CODE_PAGES } from './profile';

/** What a printer did with a stream of bytes, in order. */
export type DecodedOp =
  | { op: 'init' }
  | { op: 'code-page'; number: number; encoding: string }
  | { op: 'line'; text: string; bold: boolean; width: 1 | 2; height: 1 | 2; align: 'left' | 'center' | 'right' }
  | { op: 'feed'; lines: number }
  | { op: 'cut'; kind: 'full' | 'feed-and-cut'; feed: number }
  | { op: 'drawer'; pin: 0 | 1; onMs: number; offMs: number }
  | { op: 'qr'; data: string; moduleSize: number; errorLevel: 'L' | 'M' | 'Q' | 'H' }
  | { op: 'realtime-status'; n: 1 | 2 | 3 | 4 }
  | { op: 'paper-status' };

export class EscposDecodeError extends Error {
  override name = 'EscposDecodeError';
  constructor(
    message: string,
    /** offset of the refused sequence from the start of the stream */
    readonly offset: number,
    /** the refused bytes (up to 8), hex */
    readonly bytes: string,
  ) {
    super(`${message} at byte ${offset}: ${bytes}`);
  }
}

const INCOMPLETE = Symbol('incomplete');
const ALIGNS = ['left', 'center', 'right'] as const;
const QR_LEVELS = { 48: 'L', 49: 'M', 50: 'Q', 51: 'H' } as const;

/**
 * A strict, incremental ESC/POS decoder for the commands in commands.ts: feed it the chunks a
 * socket delivers, get the decoded operations; a command split across chunks waits for the rest.
 * Any byte sequence outside that set throws an {@link EscposDecodeError} (and the decoder stays
 * failed), so a test cannot pass on bytes a real printer would print as garbage.
 */
export class EscposDecoder {
  private buf = Buffer.alloc(0);
  private offset = 0;
  private text: number[] = [];
  private failed: EscposDecodeError | undefined;
  private style = { bold: false, width: 1 as 1 | 2, height: 1 as 1 | 2, align: 'left' as 'left' | 'center' | 'right' };
  private lineStyle = this.style;
  private codePage = { number: 0, encoding: 'CP437' };
  private qr = { moduleSize: 3, errorLevel: 'L' as 'L' | 'M' | 'Q' | 'H', data: undefined as Buffer | undefined };

  constructor(private readonly codePages: Readonly<Record<number, string>> = EPSON_CODE_PAGES) {}

  push(chunk: Buffer): DecodedOp[] {
    if (this.failed) throw this.failed;
    this.buf = Buffer.concat([this.buf, chunk]);
    const ops: DecodedOp[] = [];
    try {
      while (this.buf.length > 0) {
        const used = this.step(this.buf, ops);
        if (used === INCOMPLETE) break;
        this.buf = this.buf.subarray(used);
        this.offset += used;
      }
    } catch (e) {
      if (e instanceof EscposDecodeError) this.failed = e;
      throw e;
    }
    return ops;
  }

  /** bytes waiting for the rest of a command, or text waiting for its LF */
  get pending(): number {
    return this.buf.length + this.text.length;
  }

  private refuse(message: string, b: Buffer, n = 8): never {
    throw new EscposDecodeError(message, this.offset, [...b.subarray(0, n)].map((x) => x.toString(16).padStart(2, '0')).join(' '));
  }

  /** ends the pending text as a printed line */
  private flush(ops: DecodedOp[]) {
    if (this.text.length === 0) return;
    ops.push({ op: 'line', text: iconv.decode(Buffer.from(this.text), this.codePage.encoding), ...this.lineStyle });
    this.text = [];
  }

  /** a change that would apply mid-line: this decoder only takes them between lines */
  private betweenLines(b: Buffer) {
    if (this.text.length > 0) this.refuse('style or code page change in the middle of a line', b);
  }

  private step(b: Buffer, ops: DecodedOp[]): number | typeof INCOMPLETE {
    const c = b[0]!;
    if (c === 0x0a) {
      if (this.text.length === 0) ops.push({ op: 'line', text: '', ...this.style });
      else this.flush(ops);
      return 1;
    }
    if (c >= 0x20 && c !== 0x7f) {
      if (this.text.length === 0) this.lineStyle = { ...this.style };
      this.text.push(c);
      return 1;
    }
    if (c !== 0x1b && c !== 0x1d && c !== 0x10) this.refuse('unknown control byte', b, 3);
    if (b.length < 2) return INCOMPLETE;
    const c1 = b[1]!;
    const need = (n: number) => b.length < n;
    if (c === 0x1b) {
      switch (c1) {
        case 0x40: // ESC @
          this.flush(ops);
          this.style = { bold: false, width: 1, height: 1, align: 'left' };
          this.codePage = { number: 0, encoding: this.codePages[0] ?? 'CP437' };
          ops.push({ op: 'init' });
          return 2;
        case 0x74: {
          // ESC t n
          if (need(3)) return INCOMPLETE;
          this.betweenLines(b);
          const encoding = this.codePages[b[2]!];
          if (!encoding) this.refuse(`code page ${b[2]} is not in this printer's table`, b, 3);
          this.codePage = { number: b[2]!, encoding };
          ops.push({ op: 'code-page', ...this.codePage });
          return 3;
        }
        case 0x45: // ESC E n
          if (need(3)) return INCOMPLETE;
          this.betweenLines(b);
          if (b[2]! > 1) this.refuse('ESC E takes 0 or 1', b, 3);
          this.style = { ...this.style, bold: b[2] === 1 };
          return 3;
        case 0x61: // ESC a n
          if (need(3)) return INCOMPLETE;
          this.betweenLines(b);
          if (b[2]! > 2) this.refuse('ESC a takes 0, 1 or 2', b, 3);
          this.style = { ...this.style, align: ALIGNS[b[2]!]! };
          return 3;
        case 0x64: // ESC d n
          if (need(3)) return INCOMPLETE;
          this.flush(ops);
          ops.push({ op: 'feed', lines: b[2]! });
          return 3;
        case 0x70: // ESC p m t1 t2
          if (need(5)) return INCOMPLETE;
          if (b[2]! > 1) this.refuse('ESC p pin must be 0 or 1', b, 5);
          ops.push({ op: 'drawer', pin: b[2] as 0 | 1, onMs: b[3]! * 2, offMs: b[4]! * 2 });
          return 5;
        default:
          this.refuse('unknown ESC command', b, 3);
      }
    }
    if (c === 0x1d) {
      switch (c1) {
        case 0x21: {
          // GS ! n
          if (need(3)) return INCOMPLETE;
          this.betweenLines(b);
          const w = (b[2]! >> 4) + 1;
          const h = (b[2]! & 0x0f) + 1;
          if (w > 2 || h > 2) this.refuse('GS ! beyond double width/height', b, 3);
          this.style = { ...this.style, width: w as 1 | 2, height: h as 1 | 2 };
          return 3;
        }
        case 0x56: // GS V 0 | GS V 66 n
          if (need(3)) return INCOMPLETE;
          if (b[2] === 0x00) {
            this.flush(ops);
            ops.push({ op: 'cut', kind: 'full', feed: 0 });
            return 3;
          }
          if (b[2] === 0x42) {
            if (need(4)) return INCOMPLETE;
            this.flush(ops);
            ops.push({ op: 'cut', kind: 'feed-and-cut', feed: b[3]! });
            return 4;
          }
          return this.refuse('GS V mode other than 0 or 66', b, 3);
        case 0x72: // GS r 1
          if (need(3)) return INCOMPLETE;
          if (b[2] !== 1) this.refuse('GS r other than 1 (paper sensor)', b, 3);
          ops.push({ op: 'paper-status' });
          return 3;
        case 0x28: // GS ( k pL pH cn fn …
          if (need(7)) return INCOMPLETE;
          if (b[2] !== 0x6b) this.refuse('GS ( other than k', b, 3);
          return this.qrFunction(b, ops);
        default:
          this.refuse('unknown GS command', b, 3);
      }
    }
    if (c === 0x10 && c1 === 0x04) {
      if (need(3)) return INCOMPLETE;
      const n = b[2]!;
      if (n < 1 || n > 4) this.refuse('DLE EOT n must be 1–4', b, 3);
      ops.push({ op: 'realtime-status', n: n as 1 | 2 | 3 | 4 });
      return 3;
    }
    return this.refuse('unknown control byte', b, 3);
  }

  private qrFunction(b: Buffer, ops: DecodedOp[]): number | typeof INCOMPLETE {
    const len = b[3]! | (b[4]! << 8);
    if (len < 2) this.refuse('GS ( k with pL pH < 2', b);
    if (b.length < 5 + len) return INCOMPLETE;
    const cn = b[5]!;
    const fn = b[6]!;
    const params = b.subarray(7, 5 + len);
    if (cn !== 0x31) this.refuse('GS ( k for a symbol other than QR (cn 49)', b);
    const exact = (n: number) => {
      if (params.length !== n) this.refuse(`GS ( k fn ${fn} with ${params.length} parameter bytes`, b);
    };
    switch (fn) {
      case 0x41: // model: n1 = 49 (model 1) or 50 (model 2), n2 = 0
        exact(2);
        if (params[0] !== 0x32 || params[1] !== 0) this.refuse('QR model other than 2', b);
        break;
      case 0x43:
        exact(1);
        if (params[0]! < 1 || params[0]! > 16) this.refuse('QR module size outside 1–16', b);
        this.qr.moduleSize = params[0]!;
        break;
      case 0x45: {
        exact(1);
        const level = QR_LEVELS[params[0] as keyof typeof QR_LEVELS];
        if (!level) this.refuse('QR error level other than 48–51', b);
        this.qr.errorLevel = level;
        break;
      }
      case 0x50:
        if (params[0] !== 0x30 || params.length < 2) this.refuse('QR store without m = 48 or data', b);
        this.qr.data = Buffer.from(params.subarray(1));
        break;
      case 0x51:
        exact(1);
        if (params[0] !== 0x30) this.refuse('QR print with m other than 48', b);
        if (!this.qr.data) this.refuse('QR print with no data stored', b);
        this.flush(ops);
        ops.push({ op: 'qr', data: this.qr.data.toString('utf8'), moduleSize: this.qr.moduleSize, errorLevel: this.qr.errorLevel });
        break;
      default:
        this.refuse(`QR function ${fn} not supported`, b);
    }
    return 5 + len;
  }
}
