import Router from '@koa/router';
import type { Context } from 'koa';
import { readEntries, readHead, receiveBatch, type Answer, type ReceiveDeps } from './receive';

/**
 * The protocol's three routes (ARCHITECTURE, "The cloud ledger protocol"), thin: the headers
 * read and checked here, the answer from ./receive.ts. Every answer is JSON but `entries`.
 */
export const MAX_BATCH_BODY_BYTES = 64 * 1024 * 1024;
export const MAX_ENTRIES_PAGE = 10_000;

const SEQ = /^[1-9]\d{0,15}$/;
const KEY = /^[\x21-\x7e]{1,200}$/;

/** A body past the limit while it was read (a chunked one, or one longer than it said). */
class BodyTooLarge extends Error {}

function send(ctx: Context, a: Answer): void {
  ctx.status = a.status;
  if (a.retryAfter) ctx.set('Retry-After', String(a.retryAfter));
  ctx.set('Cache-Control', 'no-store');
  ctx.body = a.body;
}

/** The body's bytes as sent, refused past `limit` (413) without reading it all. */
async function readBody(ctx: Context, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      ctx.req.resume();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function protocolRoutes(deps: ReceiveDeps): Router {
  const router = new Router({ prefix: '/v1/stores/:id' });

  router.post('/batches', async (ctx) => {
    const h = ctx.req.headers;
    const refuse = (status: number, error: string) => send(ctx, { status, body: { error } });
    if (ctx.request.type !== 'application/x-ndjson' || h['content-encoding'] !== 'gzip') return refuse(415, 'A batch is gzip-compressed NDJSON (Content-Type: application/x-ndjson, Content-Encoding: gzip).');
    const key = String(h['idempotency-key'] ?? '');
    if (!KEY.test(key)) return refuse(400, 'Idempotency-Key: the batch id, 1 to 200 printable characters, is required.');
    const first = String(h['x-batch-first-seq'] ?? '');
    const last = String(h['x-batch-last-seq'] ?? '');
    if (!SEQ.test(first) || !SEQ.test(last) || Number(last) < Number(first) || !Number.isSafeInteger(Number(last))) {
      return refuse(400, 'X-Batch-First-Seq and X-Batch-Last-Seq: the batch\'s first and last seq, 1 or more, the last not before the first.');
    }
    if (Number(h['content-length'] ?? 0) > MAX_BATCH_BODY_BYTES) {
      ctx.req.resume();
      return refuse(413, `A batch is at most ${MAX_BATCH_BODY_BYTES} bytes as sent.`);
    }
    let read = false;
    const answer = await receiveBatch(deps, {
      storeId: ctx.params.id,
      batchId: key,
      firstSeq: Number(first),
      lastSeq: Number(last),
      signature: String(h['x-signature'] ?? ''),
      body: async () => {
        read = true;
        const b = await readBody(ctx, MAX_BATCH_BODY_BYTES);
        if (!b) throw new BodyTooLarge();
        return b;
      },
    }).catch((err: unknown) => {
      if (err instanceof BodyTooLarge) return { status: 413, body: { error: `A batch is at most ${MAX_BATCH_BODY_BYTES} bytes as sent.` } };
      throw err;
    });
    if (!read) ctx.req.resume(); // answered before its body mattered: let it drain
    send(ctx, answer);
  });

  router.get('/head', async (ctx) => send(ctx, await readHead(deps, ctx.params.id)));

  router.get('/entries', async (ctx) => {
    const after = String(ctx.query.afterSeq ?? '0');
    const limit = String(ctx.query.limit ?? '1000');
    if (!/^\d{1,16}$/.test(after) || !/^[1-9]\d{0,8}$/.test(limit)) return send(ctx, { status: 400, body: { error: 'afterSeq is 0 or more, limit 1 or more.' } });
    const got = await readEntries(deps, ctx.params.id, Number(after), Math.min(Number(limit), MAX_ENTRIES_PAGE));
    if (!Array.isArray(got)) return send(ctx, got);
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'application/x-ndjson';
    ctx.body = got.length ? got.join('\n') + '\n' : '';
  });

  return router;
}
