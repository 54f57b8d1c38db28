import net from 'node:net';
import * as cmd from './commands';
import { PrinterError, type Printer, type PrinterStatus, type SendResult } from './printer';
import type { PrinterProfile } from './profile';
import { isStatusByte, parsePaperStatus, parseStatus } from './status';

export interface NetworkPrinterOptions {
  /** `host:port` (port 9100 when left out) */
  address: string;
  profile: PrinterProfile;
  /** for a connection to be made; past it the printer is unreachable and nothing was sent */
  connectTimeoutMs?: number;
  /** for the acknowledgement of a job once connected: long enough to print the longest job */
  ackTimeoutMs?: number;
  /** for the DLE EOT answers, which a printer sends at once even when offline */
  statusTimeoutMs?: number;
}

/**
 * An ESC/POS printer on TCP (port 9100), one connection per job or status request: a printer
 * that restarted between jobs costs nothing, and most network printers take one connection at a
 * time, so every operation on one printer waits for the one before it (jobs stay in order).
 * A plain socket, not escpos-network: we need the printer's answers and timeouts it does not give.
 */
export class NetworkPrinter implements Printer {
  private readonly host: string;
  private readonly port: number;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly options: NetworkPrinterOptions) {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(options.address);
    if (!m) throw new Error(`printer address "${options.address}" is not host:port`);
    this.host = m[1]!.replace(/^\[|\]$/g, '');
    this.port = m[2] ? Number(m[2]) : 9100;
  }

  send(bytes: Buffer): Promise<SendResult> {
    return this.serial(async () => {
      const ack = this.options.profile.acknowledgement === 'gs-r';
      const conn = await this.connect(this.options.ackTimeoutMs ?? 30_000);
      try {
        if (!ack) {
          await conn.write(bytes, 'the job');
          return { acknowledgedBy: 'write' as const };
        }
        const answer = conn.read(1, (b) => (b & 0x90) === 0);
        answer.catch(() => undefined); // awaited below; a failed write must not leave it unhandled
        await conn.write(Buffer.concat([bytes, cmd.TRANSMIT_PAPER_STATUS]), 'the job');
        const [b] = await answer;
        return { acknowledgedBy: 'gs-r' as const, paper: parsePaperStatus(b!) };
      } finally {
        conn.end();
      }
    });
  }

  status(): Promise<PrinterStatus> {
    return this.serial(async () => {
      const conn = await this.connect(this.options.statusTimeoutMs ?? 3000);
      try {
        const answers = conn.read(4, isStatusByte);
        answers.catch(() => undefined); // awaited below
        await conn.write(Buffer.concat([cmd.realtimeStatus(1), cmd.realtimeStatus(2), cmd.realtimeStatus(3), cmd.realtimeStatus(4)]), 'DLE EOT', false);
        const [printer, offline, error, paper] = await answers;
        return parseStatus({ printer: printer!, offline: offline!, error: error!, paper: paper! }, this.options.profile.drawerOpenWhenPin3);
      } finally {
        conn.end();
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    await this.chain.catch(() => undefined);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new PrinterError('printer-closed', `${this.options.address} was closed`, false));
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** A connection with a write that tracks whether job bytes left, and a read of n answer bytes. */
  private connect(answerMs: number): Promise<Connection> {
    const { address } = this.options;
    const connectMs = this.options.connectTimeoutMs ?? 3000;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port });
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.setNoDelay(true);
      let sent = false;
      let failure: PrinterError | undefined;
      const waiters = new Set<(e: PrinterError) => void>();
      const fail = (e: PrinterError) => {
        if (failure) return;
        failure = e;
        socket.destroy();
        for (const w of waiters) w(e);
      };
      const connectTimer = setTimeout(() => {
        socket.destroy();
        reject(new PrinterError('printer-unreachable', `${address}: no connection within ${connectMs} ms`, false));
      }, connectMs);
      socket.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(connectTimer);
        const e = new PrinterError('printer-unreachable', `${address}: ${err.code ?? err.message}`, sent, { cause: err });
        if (!socket.connecting && !failure) fail(e);
        reject(e);
      });
      socket.once('close', () => {
        const why = this.closed ? 'printer-closed' : 'printer-unreachable';
        fail(new PrinterError(why, `${address}: connection closed before the printer answered`, sent));
      });
      socket.once('connect', () => {
        clearTimeout(connectTimer);
        const deadline = setTimeout(
          () => fail(new PrinterError('printer-timeout', `${address}: no answer within ${answerMs} ms`, sent)),
          answerMs,
        );
        socket.once('close', () => clearTimeout(deadline));
        const received: number[] = [];
        socket.on('data', (d) => received.push(...d));
        resolve({
          write: (bytes, what, isJob = true) =>
            new Promise<void>((ok, ko) => {
              if (failure) return ko(failure);
              if (isJob) sent = true;
              waiters.add(ko);
              socket.write(bytes, (err) => {
                waiters.delete(ko);
                if (err) ko(failure ?? new PrinterError('printer-unreachable', `${address}: writing ${what}: ${err.message}`, sent, { cause: err }));
                else ok();
              });
            }),
          read: (n, accept) =>
            new Promise<number[]>((ok, ko) => {
              if (failure) return ko(failure);
              waiters.add(ko);
              const take = () => {
                const got = received.filter(accept);
                if (got.length >= n) {
                  socket.off('data', take);
                  waiters.delete(ko);
                  ok(got.slice(0, n));
                }
              };
              socket.on('data', take);
              take();
            }),
          end: () => {
            clearTimeout(deadline);
            socket.end();
            socket.destroy();
          },
        });
      });
    });
  }
}

interface Connection {
  write(bytes: Buffer, what: string, isJob?: boolean): Promise<void>;
  /** the first n received bytes that `accept` takes (ASB or XON/XOFF bytes are skipped) */
  read(n: number, accept: (b: number) => boolean): Promise<number[]>;
  end(): void;
}
