import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  id: string;
  type: string;
  sequence: number;
  signatureOk: boolean;
  /** the Host header the request carried */
  host: string;
  body: { id: string; type: string; sequence: number; data: Record<string, unknown> };
}

/**
 * A webhook receiver on loopback: a real HTTP peer that checks signatures the way a customer's
 * endpoint would, and can be told to be down (503), to hang (never answer), to redirect (302 to
 * `redirectTo`), or to be up. It counts every TCP connection made to it, answered or not.
 */
export class WebhookSink {
  mode: 'up' | 'down' | 'hang' | 'redirect' = 'up';
  redirectTo = '';
  received: Received[] = [];
  attempts = 0;
  connections = 0;
  secret = '';
  private server = http.createServer((req, res) => this.handle(req, res)).on('connection', () => this.connections++);
  private hanging: http.ServerResponse[] = [];

  /** Listens on `host` (any loopback address), on `port` or one the system picks. */
  async start(host = '127.0.0.1', port = 0): Promise<string> {
    await new Promise<void>((r, reject) => this.server.once('error', reject).listen(port, host, () => r()));
    return `http://${host}:${this.port}/hooks`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      this.attempts++;
      if (this.mode === 'hang') {
        this.hanging.push(res);
        return;
      }
      if (this.mode === 'down') {
        res.writeHead(503).end('down');
        return;
      }
      if (this.mode === 'redirect') {
        res.writeHead(302, { Location: this.redirectTo }).end('moved');
        return;
      }
      const raw = Buffer.concat(chunks);
      const expected = 'sha256=' + crypto.createHmac('sha256', this.secret).update(raw).digest('hex');
      const body = JSON.parse(raw.toString('utf8'));
      this.received.push({
        id: String(req.headers['x-webhook-id']),
        type: String(req.headers['x-webhook-event']),
        sequence: Number(req.headers['x-webhook-sequence']),
        signatureOk: req.headers['x-webhook-signature'] === expected,
        host: String(req.headers.host),
        body,
      });
      res.writeHead(204).end();
    });
  }
}
