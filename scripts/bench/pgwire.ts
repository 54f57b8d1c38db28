import net from 'node:net';

/**
 * A recording proxy for PostgreSQL's wire protocol (v3): a server pointed at it (DATABASE_URL)
 * talks to the real PostgreSQL through it unchanged, and while `recording` is on every statement
 * it runs is written down with its parameters and the rows it got back, in the order sent.
 *
 * This is how the bench learns the SQL of a sale without reading the server's code: whatever
 * the server's version, its statements are what goes over this socket. Only what the bench needs
 * is parsed: simple queries (Q), the extended protocol (Parse, Bind, Describe, Execute, Sync), and
 * the answers that pair with them (https://www.postgresql.org/docs/15/protocol-flow.html).
 * Everything is forwarded as it comes; the parsing works on a copy.
 */
export interface WireStatement {
  /** the proxy connection it ran on (one per server pool connection) */
  conn: number;
  sql: string;
  /** the prepared statement's name when the server named it; '' unnamed; undefined for a simple query */
  name?: string;
  /** text parameters as sent; binary ones as Buffers; null for NULL */
  params: Array<string | Buffer | null>;
  /** result columns, when known */
  fields: string[];
  /** result rows, text values (binary ones as Buffers) */
  rows: Array<Array<string | Buffer | null>>;
  /** CommandComplete's tag, e.g. "INSERT 0 1" */
  command?: string;
  error?: string;
}

type Expect =
  | { k: 'parse' | 'bind' | 'close' | 'sync' }
  | { k: 'describe'; portal?: string; stmt?: string }
  | { k: 'exec'; st?: WireStatement; stmt: string; binary: boolean[] }
  | { k: 'query'; st?: WireStatement };

interface Portal {
  sql: string;
  stmt: string;
  params: Array<string | Buffer | null>;
  /** result format per column (true: binary); empty: all text */
  binary: boolean[];
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

class Reader {
  at = 0;
  constructor(readonly b: Buffer) {}
  byte() {
    return this.b[this.at++];
  }
  int16() {
    const v = this.b.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  int32() {
    const v = this.b.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  cstr() {
    const end = this.b.indexOf(0, this.at);
    const s = this.b.toString('utf8', this.at, end);
    this.at = end + 1;
    return s;
  }
  bytes(n: number) {
    const v = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
}

/** Format codes as Bind sends them: none (all text), one (for all), or one per value. */
function formats(codes: number[], count: number): boolean[] {
  if (!codes.length) return new Array(count).fill(false);
  if (codes.length === 1) return new Array(count).fill(codes[0] === 1);
  return codes.map((c) => c === 1);
}

class Connection {
  private fbuf: Buffer = Buffer.alloc(0);
  private bbuf: Buffer = Buffer.alloc(0);
  private started = false;
  private sslAnswerPending = false;
  private readonly stmts = new Map<string, string>();
  private readonly stmtFields = new Map<string, string[]>();
  private readonly portals = new Map<string, Portal>();
  private readonly queue: Expect[] = [];
  startup: Record<string, string> = {};

  constructor(readonly id: number, private readonly rec: PgRecorder) {}

  fromClient(chunk: Buffer): void {
    this.fbuf = this.fbuf.length ? Buffer.concat([this.fbuf, chunk]) : chunk;
    for (;;) {
      if (!this.started) {
        if (this.fbuf.length < 8) return;
        const len = this.fbuf.readInt32BE(0);
        if (this.fbuf.length < len) return;
        const code = this.fbuf.readInt32BE(4);
        const body = this.fbuf.subarray(8, len);
        this.fbuf = this.fbuf.subarray(len);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          this.sslAnswerPending = true; // PostgreSQL answers with one byte, 'N' or 'S'
          continue;
        }
        if (code === CANCEL_REQUEST) continue;
        const r = new Reader(body);
        while (r.at < body.length && body[r.at] !== 0) {
          const k = r.cstr();
          this.startup[k] = r.cstr();
        }
        this.started = true;
        continue;
      }
      if (this.fbuf.length < 5) return;
      const len = this.fbuf.readInt32BE(1);
      if (this.fbuf.length < 1 + len) return;
      const type = String.fromCharCode(this.fbuf[0]);
      const r = new Reader(this.fbuf.subarray(5, 1 + len));
      this.fbuf = this.fbuf.subarray(1 + len);
      this.frontend(type, r);
    }
  }

  private frontend(type: string, r: Reader): void {
    switch (type) {
      case 'Q': {
        const sql = r.cstr();
        this.queue.push({ k: 'query', st: this.rec.recording ? this.rec.note({ conn: this.id, sql, params: [], fields: [], rows: [] }) : undefined });
        break;
      }
      case 'P': {
        const name = r.cstr();
        this.stmts.set(name, r.cstr());
        this.stmtFields.delete(name);
        this.queue.push({ k: 'parse' });
        break;
      }
      case 'B': {
        const portal = r.cstr();
        const stmt = r.cstr();
        const pf = Array.from({ length: r.int16() }, () => r.int16());
        const n = r.int16();
        const bin = formats(pf, n);
        const params: Portal['params'] = [];
        for (let i = 0; i < n; i++) {
          const len = r.int32();
          if (len < 0) params.push(null);
          else params.push(bin[i] ? Buffer.from(r.bytes(len)) : r.bytes(len).toString('utf8'));
        }
        const rf = Array.from({ length: r.int16() }, () => r.int16());
        this.portals.set(portal, { sql: this.stmts.get(stmt) ?? '', stmt, params, binary: rf.length === 1 ? [rf[0] === 1] : rf.map((c) => c === 1) });
        this.queue.push({ k: 'bind' });
        break;
      }
      case 'D': {
        const what = String.fromCharCode(r.byte());
        const name = r.cstr();
        this.queue.push(what === 'P' ? { k: 'describe', portal: name } : { k: 'describe', stmt: name });
        break;
      }
      case 'E': {
        const p = this.portals.get(r.cstr());
        if (!p) {
          this.queue.push({ k: 'exec', stmt: '', binary: [] });
          break;
        }
        const st = this.rec.recording
          ? this.rec.note({ conn: this.id, sql: p.sql, name: p.stmt, params: p.params, fields: this.stmtFields.get(p.stmt) ?? [], rows: [] })
          : undefined;
        this.queue.push({ k: 'exec', st, stmt: p.stmt, binary: p.binary });
        break;
      }
      case 'C':
        this.queue.push({ k: 'close' });
        break;
      case 'S':
        this.queue.push({ k: 'sync' });
        break;
      default:
        // H (flush), X (terminate), p (password), copy data: no answer of their own to pair
        break;
    }
  }

  fromServer(chunk: Buffer): void {
    this.bbuf = this.bbuf.length ? Buffer.concat([this.bbuf, chunk]) : chunk;
    if (this.sslAnswerPending && this.bbuf.length) {
      this.sslAnswerPending = false;
      this.bbuf = this.bbuf.subarray(1);
    }
    for (;;) {
      if (this.bbuf.length < 5) return;
      const len = this.bbuf.readInt32BE(1);
      if (this.bbuf.length < 1 + len) return;
      const type = String.fromCharCode(this.bbuf[0]);
      const r = new Reader(this.bbuf.subarray(5, 1 + len));
      this.bbuf = this.bbuf.subarray(1 + len);
      this.backend(type, r);
    }
  }

  private backend(type: string, r: Reader): void {
    const head = this.queue[0];
    switch (type) {
      case '1':
      case '2':
      case '3':
      case 'n':
        this.queue.shift();
        break;
      case 'T': {
        const fields: string[] = [];
        const binary: boolean[] = [];
        for (let i = r.int16(); i > 0; i--) {
          fields.push(r.cstr());
          r.bytes(16); // table oid, column, type oid, type size, type modifier
          binary.push(r.int16() === 1);
        }
        if (head?.k === 'describe') {
          this.queue.shift();
          const stmt = head.stmt ?? this.portals.get(head.portal ?? '')?.stmt;
          if (stmt !== undefined) this.stmtFields.set(stmt, fields);
          // the Execute this Describe belongs to is already queued behind it
          const exec = this.queue.find((e): e is Extract<Expect, { k: 'exec' }> => e.k === 'exec');
          if (head.portal !== undefined && exec?.st) exec.st.fields = fields;
        } else if (head?.k === 'query' && head.st) {
          head.st.fields = fields;
        }
        break;
      }
      case 'D': {
        if (head?.k !== 'exec' && head?.k !== 'query') break;
        const st = head.st;
        if (!st) break;
        const binary = head.k === 'exec' ? head.binary : [];
        const row: Array<string | Buffer | null> = [];
        const n = r.int16();
        for (let i = 0; i < n; i++) {
          const len = r.int32();
          if (len < 0) row.push(null);
          else row.push((binary.length === 1 ? binary[0] : binary[i]) ? Buffer.from(r.bytes(len)) : r.bytes(len).toString('utf8'));
        }
        st.rows.push(row);
        break;
      }
      case 'C':
      case 'I':
      case 's':
        if (head?.k === 'exec') {
          if (head.st) head.st.command = type === 'C' ? r.cstr() : '';
          this.queue.shift();
        } else if (head?.k === 'query' && head.st) {
          head.st.command = type === 'C' ? r.cstr() : '';
        }
        break;
      case 'E': {
        let message = 'error';
        for (let code = r.byte(); code; code = r.byte()) {
          const v = r.cstr();
          if (code === 'M'.charCodeAt(0)) message = v;
        }
        if (head?.k === 'query') {
          if (head.st) head.st.error = message;
          break;
        }
        if (head?.k === 'exec' && head.st) head.st.error = message;
        // after an error PostgreSQL skips everything up to the Sync
        while (this.queue.length && this.queue[0].k !== 'sync') this.queue.shift();
        break;
      }
      case 'Z':
        // ReadyForQuery ends a Sync or a simple query (and anything left unanswered before it)
        while (this.queue.length) {
          const e = this.queue.shift()!;
          if (e.k === 'sync' || e.k === 'query') break;
        }
        break;
      default:
        // authentication, parameter status, notices, notifications, 't' (parameter description)
        break;
    }
  }
}

export class PgRecorder {
  private server?: net.Server;
  private sockets = new Set<net.Socket>();
  private connections: Connection[] = [];
  /** statements are written down only while this is on */
  recording = false;
  readonly statements: WireStatement[] = [];

  /** `connect` opens a connection to the real PostgreSQL (TCP or its Unix socket). */
  constructor(private readonly connect: () => net.Socket) {}

  /** @internal */
  note(st: WireStatement): WireStatement {
    this.statements.push(st);
    return st;
  }

  /** The startup parameters (user, database, options, application_name…) of each connection made through the proxy. */
  startups(): Array<Record<string, string>> {
    return this.connections.map((c) => c.startup);
  }

  /** Listens on 127.0.0.1; resolves with the port. */
  listen(): Promise<number> {
    let next = 0;
    this.server = net.createServer((client) => {
      const conn = new Connection(++next, this);
      this.connections.push(conn);
      const upstream = this.connect();
      this.sockets.add(client);
      this.sockets.add(upstream);
      client.setNoDelay(true);
      upstream.setNoDelay(true);
      client.on('data', (d: Buffer) => {
        try {
          conn.fromClient(d);
        } catch {
          /* a message the bench cannot read: forwarded all the same */
        }
        upstream.write(d);
      });
      upstream.on('data', (d: Buffer) => {
        try {
          conn.fromServer(d);
        } catch {
          /* as above */
        }
        client.write(d);
      });
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('close', end);
      upstream.on('close', end);
      client.on('error', end);
      upstream.on('error', end);
    });
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve((this.server!.address() as net.AddressInfo).port));
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}
