import fs from 'node:fs';
import Router from '@koa/router';
import { requires } from '../auth/middleware';
import type { Config } from '../config';

/**
 * HTTPS on the store network (issue 27): the server serves HTTPS when TLS_CERT and TLS_KEY are set
 * (server/http/server.ts; cookies are then Secure, as Koa sees the request as secure). The store's
 * own CA (TLS_CA, made by installer/make-cert.sh) is offered at /ca.pem, linked from the pairing
 * page, so each terminal trusts it once and then every certificate the box gets from it.
 */
export const CA_PATH = '/ca.pem';

/** The certificate and key as https.createServer wants them, read once at start (a missing file stops the start, naming it). */
export function readTls(config: Pick<Config, 'TLS_CERT' | 'TLS_KEY'>): { cert: Buffer; key: Buffer } | undefined {
  if (!config.TLS_CERT || !config.TLS_KEY) return undefined;
  const read = (what: string, file: string) => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read ${what} ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): fix the path in the config or make it readable by the server's user`);
    }
  };
  return { cert: read('TLS_CERT', config.TLS_CERT), key: read('TLS_KEY', config.TLS_KEY) };
}

export function caRoutes(config: Pick<Config, 'TLS_CA'>): Router {
  const router = new Router();
  router.get(CA_PATH, requires('public'), async (ctx) => {
    if (!config.TLS_CA) return; // 404: no store CA configured
    let pem: Buffer;
    try {
      pem = fs.readFileSync(config.TLS_CA);
    } catch {
      return; // 404 as well; the start already said what is wrong with the config
    }
    ctx.type = 'application/x-pem-file';
    ctx.set('Content-Disposition', 'attachment; filename="store-ca.pem"');
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = pem;
  });
  return router;
}
