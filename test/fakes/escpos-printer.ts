import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { EscposDecoder, type DecodedOp } from '../../drivers/printer/decode';
import type { PrinterStatus } from '../../drivers/printer/printer';
import { EPSON_CODE_PAGES } from '../../drivers/printer/profile';
import { paperStatusByte, statusBytes } from '../../drivers/printer/status';

type Line = Extract<DecodedOp, { op: 'line' }>;

/** One piece of paper: everything printed up to (and including) a cut. */
export interface Paper {
  lines: Omit<Line, 'op'>[];
  qr: { data: string; moduleSize: number; errorLevel: string }[];
  drawerPulses: { pin: 0 | 1; onMs: number; offMs: number }[];
  feeds: number[];
  codePages: number[];
  inits: number;
  cut?: { kind: 'full' | 'feed-and-cut'; feed: number };
}

const emptyPaper = (): Paper => ({ lines: [], qr: [], drawerPulses: [], feeds: [], codePages: [], inits: 0 });

/**
 * A network ESC/POS printer on loopback: a real protocol peer. It parses the stream with the
 * strict decoder (init, text in the selected code page, styles, code page, feed, cut, drawer
 * pulse, QR) into {@link Paper} records; on any byte sequence it cannot parse it records the error
 * and closes the connection, as garbage on paper would be a failed test. It answers `DLE EOT n`
 * at once with the status the test sets, and `GS r 1` in order, only while it is ready (online,
 * cover closed, paper in): a printer that is not ready holds the job, and its GS r, until it is.
 * Modes: 'never-read' accepts connections and never reads (the kernel buffers a small job);
 * 'never-answer-gs-r' reads and prints but never answers GS r.
 */
export class FakeEscposPrinter {
  mode: 'normal' | 'never-read' | 'never-answer-gs-r' = 'normal';
  /** when set, a line wider than this many columns (halved for double width) is an error */
  columns: number | undefined;
  codePages: Record<number, string> = { ...EPSON_CODE_PAGES };
  /** every paper that was cut */
  printed: Paper[] = [];
  /** what was printed since the last cut */
  current: Paper = emptyPaper();
  errors: string[] = [];
  /** GS r 1 requests answered */
  acknowledged = 0;
  connections = 0;
  /** the most connections busy at once (not yet acknowledged or ended); a real printer serves one at a time */
  maxOpen = 0;
  private done = new WeakSet<net.Socket>();
  private state: PrinterStatus = { online: true, coverOpen: false, paperNearEnd: false, paperOut: false, drawerOpen: false, error: false };
  private held: { ops: DecodedOp[]; socket: net.Socket }[] = [];
  private readonly sockets = new Set<net.Socket>();
  private readonly server = net.createServer((s) => this.accept(s));

  async start(host = '127.0.0.1', port = 0): Promise<string> {
    await new Promise<void>((r, reject) => this.server.once('error', reject).listen(port, host, () => r()));
    return `${host}:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  get status(): PrinterStatus {
    return { ...this.state };
  }

  /** Sets the status DLE EOT reports; a printer made ready again prints what it held and answers its GS r. */
  setStatus(s: Partial<PrinterStatus>): void {
    this.state = { ...this.state, ...s };
    while (this.ready && this.held.length > 0) {
      const { ops, socket } = this.held.shift()!;
      this.apply(ops, socket);
    }
  }

  private get ready(): boolean {
    return this.state.online && !this.state.coverOpen && !this.state.paperOut && !this.state.error;
  }

  private accept(socket: net.Socket) {
    this.connections++;
    this.sockets.add(socket);
    this.maxOpen = Math.max(this.maxOpen, [...this.sockets].filter((s) => !this.done.has(s)).length);
    socket.on('end', () => this.done.add(socket));
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    if (this.mode === 'never-read') {
      socket.pause();
      return;
    }
    const decoder = new EscposDecoder(this.codePages);
    socket.on('data', (chunk) => {
      let ops: DecodedOp[];
      try {
        ops = decoder.push(chunk);
      } catch (e) {
        this.errors.push((e as Error).message);
        socket.destroy();
        return;
      }
      // real-time requests are answered at once, whatever state the printer is in
      for (const o of ops) if (o.op === 'realtime-status') socket.write(Buffer.from([this.statusByte(o.n)]));
      const rest = ops.filter((o) => o.op !== 'realtime-status');
      if (rest.length === 0) return;
      if (this.ready && this.held.length === 0) this.apply(rest, socket);
      else this.held.push({ ops: rest, socket });
    });
  }

  private statusByte(n: 1 | 2 | 3 | 4): number {
    const b = statusBytes(this.state);
    return [b.printer, b.offline, b.error, b.paper][n - 1]!;
  }

  private apply(ops: DecodedOp[], socket: net.Socket): void {
    const p = this.current;
    for (const o of ops) {
      switch (o.op) {
        case 'init':
          p.inits++;
          break;
        case 'code-page':
          p.codePages.push(o.number);
          break;
        case 'line': {
          const { op: _op, ...line } = o;
          p.lines.push(line);
          const max = this.columns === undefined ? undefined : Math.floor(this.columns / o.width);
          if (max !== undefined && [...o.text].length > max) this.errors.push(`line wider than ${max} columns: "${o.text}"`);
          break;
        }
        case 'feed':
          p.feeds.push(o.lines);
          break;
        case 'qr':
          p.qr.push({ data: o.data, moduleSize: o.moduleSize, errorLevel: o.errorLevel });
          break;
        case 'drawer':
          p.drawerPulses.push({ pin: o.pin, onMs: o.onMs, offMs: o.offMs });
          break;
        case 'cut':
          p.cut = { kind: o.kind, feed: o.feed };
          this.printed.push(p);
          this.current = emptyPaper();
          this.apply(ops.slice(ops.indexOf(o) + 1), socket);
          return;
        case 'paper-status':
          if (this.mode === 'never-answer-gs-r') break;
          this.acknowledged++;
          this.done.add(socket);
          if (!socket.destroyed) socket.write(Buffer.from([paperStatusByte(this.state)]));
          break;
        default:
          break;
      }
    }
  }
}
